//! The write transaction the shared scripts run on ([`tessera_storage::scripts`]): each primitive is one or
//! two statements. Rows a script reads to decide are locked `FOR UPDATE` (or by the `UPDATE` that changes
//! them) until the transaction ends; the scripts take them in one order, so transactions cannot wait on each
//! other in a cycle, and what PostgreSQL still aborts (40001, 40P01) is reported retryable.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgConnection, Postgres, QueryBuilder, Transaction};
use tessera_core::booking::{Booking, BookingDetail, BookingStatus};
use tessera_core::codes::{AccountingPrefix, TicketNumber};
use tessera_core::ids::{AgencyId, BookingId, IssuanceId};
use tessera_core::invoice::Invoice;
use tessera_core::orders::{BookingOrder, BookingOrderId, LogisticStatus};
use tessera_core::search;
use tessera_core::ticket::{RelatedType, Ticket};
use tessera_core::user::Scope;
use tessera_storage::{
    Backend, ClaimMark, IssuanceRecord, NewAuditEntry, NewDocument, NewLedgerEntry, StoredClaim, WriteTx, FIRST_SERIAL,
};

use crate::error::{corrupt, unstorable, Error, Result};
use crate::issuance::{self, TICKET_COLUMNS};
use crate::orders::FROM_SCOPED;
use crate::rows::{self, ORDER_COLUMNS};
use crate::{audit, orders, PostgresDatabase, ScopeParams};

/// The columns a document is written with, in the order every write binds them.
const DOCUMENT_COLUMNS: &str =
    "id, owner_kind, owner_key, agency_id, storage_key, sha256, size, content_type, filename, created_at, order_id";

/// An open write transaction. Dropping it without committing rolls it back.
pub struct PgTx(Transaction<'static, Postgres>);

#[async_trait]
impl Backend for PostgresDatabase {
    type Tx = PgTx;

    async fn begin_write(&self) -> Result<PgTx> {
        Ok(PgTx(crate::begin(self.pool(), None).await?))
    }
}

impl PgTx {
    pub(crate) fn new(tx: Transaction<'static, Postgres>) -> Self {
        Self(tx)
    }

    fn conn(&mut self) -> &mut PgConnection {
        &mut self.0
    }
}

fn int(value: u64, what: &str) -> Result<i64> {
    i64::try_from(value).map_err(|_| unstorable(format!("{what} {value}")))
}

fn uint(value: i64, what: &str) -> Result<u64> {
    u64::try_from(value).map_err(|_| corrupt(format!("{what} {value}")))
}

#[async_trait]
impl WriteTx for PgTx {
    type Error = Error;

    fn is_retryable(error: &Error) -> bool {
        error.is_retryable()
    }

    async fn commit(self) -> Result<()> {
        Ok(self.0.commit().await?)
    }

    async fn savepoint(&mut self) -> Result<()> {
        sqlx::query("SAVEPOINT script").execute(self.conn()).await?;
        Ok(())
    }

    async fn rollback_to_savepoint(&mut self) -> Result<()> {
        // Also leaves an aborted transaction (a failed statement) usable again.
        sqlx::query("ROLLBACK TO SAVEPOINT script").execute(self.conn()).await?;
        sqlx::query("RELEASE SAVEPOINT script").execute(self.conn()).await?;
        Ok(())
    }

    async fn release_savepoint(&mut self) -> Result<()> {
        sqlx::query("RELEASE SAVEPOINT script").execute(self.conn()).await?;
        Ok(())
    }

    async fn insert_booking(&mut self, booking: &Booking, orders: &[BookingOrder]) -> Result<()> {
        sqlx::query(
            "INSERT INTO bookings (id, agency_id, kind, code, status, created_by, created_at, detail, search_names, \
             travel_date) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(booking.id.0)
        .bind(booking.agency_id.0)
        .bind(booking.kind())
        .bind(booking.code())
        .bind(booking.status.as_str())
        .bind(booking.created_by.map(|u| u.0))
        .bind(booking.created_at)
        .bind(Json(&booking.detail))
        .bind(search::names(&booking.detail))
        .bind(search::travel_date(&booking.detail))
        .execute(self.conn())
        .await?;
        orders::insert_orders(self.conn(), orders).await
    }

    async fn lock_booking(&mut self, agency: AgencyId, booking: BookingId) -> Result<Option<BookingStatus>> {
        let row = sqlx::query("SELECT status FROM bookings WHERE id = $1 AND agency_id = $2 FOR UPDATE")
            .bind(booking.0)
            .bind(agency.0)
            .fetch_optional(self.conn())
            .await?;
        Ok(row.as_ref().map(|r| tessera_storage::decode::booking_status(&rows::Stored(r))).transpose()?)
    }

    async fn set_booking_status(&mut self, booking: BookingId, status: BookingStatus) -> Result<()> {
        sqlx::query("UPDATE bookings SET status = $2 WHERE id = $1")
            .bind(booking.0)
            .bind(status.as_str())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn set_booking_detail(&mut self, booking: BookingId, detail: &BookingDetail) -> Result<()> {
        sqlx::query("UPDATE bookings SET detail = $2, search_names = $3, travel_date = $4 WHERE id = $1")
            .bind(booking.0)
            .bind(Json(detail))
            .bind(search::names(detail))
            .bind(search::travel_date(detail))
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn lock_order(&mut self, scope: Scope, order: &BookingOrderId) -> Result<Option<BookingOrder>> {
        let s = ScopeParams::of(scope);
        let row = sqlx::query(&format!("SELECT {ORDER_COLUMNS} {FROM_SCOPED} AND o.id = $3 FOR UPDATE OF o"))
            .bind(s.agency)
            .bind(s.customer)
            .bind(order.as_str())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(rows::booking_order).transpose()
    }

    async fn set_order_items(&mut self, order: &BookingOrder) -> Result<()> {
        sqlx::query("UPDATE booking_orders SET items = $2 WHERE id = $1")
            .bind(order.id.as_str())
            .bind(Json(&order.items))
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn complete_orders(&mut self, booking: BookingId) -> Result<()> {
        sqlx::query("UPDATE booking_orders SET logistic_status = $2 WHERE booking_id = $1")
            .bind(booking.0)
            .bind(LogisticStatus::Completed.as_str())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn order_is_agencys(&mut self, order: &BookingOrderId, agency: AgencyId) -> Result<bool> {
        Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM booking_orders WHERE id = $1 AND agency_id = $2)")
            .bind(order.as_str())
            .bind(agency.0)
            .fetch_one(self.conn())
            .await?)
    }

    async fn add_to_balance(
        &mut self,
        agency: AgencyId,
        amount_minor: i64,
    ) -> Result<Option<(i64, String, Option<i64>)>> {
        Ok(sqlx::query_as(
            "UPDATE agencies SET balance_minor = balance_minor + $2 \
             WHERE id = $1 AND balance_minor + $2 >= -credit_limit_minor \
             RETURNING balance_minor, currency, \
             (SELECT low_balance_minor FROM webhook_settings WHERE agency_id = agencies.id)",
        )
        .bind(agency.0)
        .bind(amount_minor)
        .fetch_optional(self.conn())
        .await?)
    }

    async fn agency_exists(&mut self, agency: AgencyId) -> Result<bool> {
        crate::agencies::exists(self.conn(), agency).await
    }

    async fn insert_ledger(&mut self, entry: &NewLedgerEntry, balance_after_minor: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO ledger (agency_id, kind, amount_minor, balance_after_minor, currency, issuance_id, note, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(entry.agency_id.0)
        .bind(entry.kind.as_str())
        .bind(entry.amount.minor())
        .bind(balance_after_minor)
        .bind(entry.amount.currency().code())
        .bind(entry.issuance_id.map(|i| i.0))
        .bind(entry.note.as_deref())
        .bind(entry.created_at)
        .fetch_one(self.conn())
        .await?)
    }

    async fn take_serials(&mut self, prefix: &AccountingPrefix, count: u64) -> Result<u64> {
        let n = int(count, "ticket count")?;
        let after: i64 = sqlx::query_scalar(
            "INSERT INTO ticket_serials (prefix, next_serial) VALUES ($1, $2) \
             ON CONFLICT (prefix) DO UPDATE SET next_serial = ticket_serials.next_serial + $3 \
             RETURNING next_serial",
        )
        .bind(prefix.as_str())
        .bind(int(FIRST_SERIAL, "first serial")?.saturating_add(n))
        .bind(n)
        .fetch_one(self.conn())
        .await?;
        uint(after - n, "serial counter")
    }

    async fn take_invoice_numbers(&mut self, agency: AgencyId, count: u64) -> Result<u64> {
        let n = int(count, "invoice count")?;
        let after: i64 = sqlx::query_scalar(
            "INSERT INTO invoice_serials (agency_id, next_number) VALUES ($1, $2) \
             ON CONFLICT (agency_id) DO UPDATE SET next_number = invoice_serials.next_number + $3 \
             RETURNING next_number",
        )
        .bind(agency.0)
        .bind(n + 1)
        .bind(n)
        .fetch_one(self.conn())
        .await?;
        uint(after - n, "invoice counter")
    }

    async fn insert_issuance(&mut self, issuance: &IssuanceRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO issuances (id, booking_id, agency_id, amount_minor, commission_minor, currency, issued_at, \
             issued_by, attributes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(issuance.id.0)
        .bind(issuance.booking_id.0)
        .bind(issuance.agency_id.0)
        .bind(issuance.amount_charged.minor())
        .bind(issuance.commission.minor())
        .bind(issuance.amount_charged.currency().code())
        .bind(issuance.issued_at)
        .bind(issuance.issued_by.map(|u| u.0))
        .bind(&issuance.attributes)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn insert_tickets(&mut self, tickets: &[Ticket], first_ordinal: u32) -> Result<()> {
        let first = i32::try_from(first_ordinal).map_err(|_| unstorable("ticket ordinal out of range"))?;
        issuance::insert_tickets(self.conn(), tickets, first).await
    }

    async fn insert_invoices(&mut self, invoices: &[Invoice]) -> Result<()> {
        orders::insert_invoices(self.conn(), invoices).await
    }

    async fn insert_documents(&mut self, agency: AgencyId, documents: &[NewDocument], at: DateTime<Utc>) -> Result<()> {
        if documents.is_empty() {
            return Ok(());
        }
        let mut insert = QueryBuilder::<Postgres>::new(format!("INSERT INTO documents ({DOCUMENT_COLUMNS}) "));
        insert.push_values(documents, |mut row, d| {
            row.push_bind(d.id.0)
                .push_bind(d.owner.kind())
                .push_bind(d.owner.key())
                .push_bind(agency.0)
                .push_bind(d.storage_key.clone())
                .push_bind(d.sha256.clone())
                .push_bind(d.size)
                .push_bind(d.content_type.clone())
                .push_bind(d.filename.clone())
                .push_bind(at)
                .push_bind(d.owner.order().map(|o| o.as_str().to_owned()));
        });
        insert.build().execute(self.conn()).await?;
        Ok(())
    }

    async fn fill_documents(&mut self, agency: AgencyId, documents: &[NewDocument]) -> Result<()> {
        if documents.is_empty() {
            return Ok(());
        }
        let mut fill = QueryBuilder::<Postgres>::new(
            "UPDATE documents AS d SET storage_key = v.storage_key, sha256 = v.sha256, size = v.size FROM (",
        );
        fill.push_values(documents, |mut row, doc| {
            row.push_bind(doc.owner.kind())
                .push_bind(doc.owner.key())
                .push_bind(doc.storage_key.clone())
                .push_bind(doc.sha256.clone())
                .push_bind(doc.size);
        });
        fill.push(
            ") AS v (owner_kind, owner_key, storage_key, sha256, size) \
             WHERE d.owner_kind = v.owner_kind AND d.owner_key = v.owner_key AND d.sha256 = '' AND d.agency_id = ",
        )
        .push_bind(agency.0);
        fill.build().execute(self.conn()).await?;
        Ok(())
    }

    async fn replace_document(&mut self, agency: AgencyId, document: &NewDocument, at: DateTime<Utc>) -> Result<bool> {
        // The new row takes the old one's place whole (id included), unless the old one is another agency's.
        let written = self
            .write_document(
                agency,
                document,
                at,
                "ON CONFLICT (owner_kind, owner_key) DO UPDATE SET id = EXCLUDED.id, \
                 storage_key = EXCLUDED.storage_key, sha256 = EXCLUDED.sha256, size = EXCLUDED.size, \
                 content_type = EXCLUDED.content_type, filename = EXCLUDED.filename, \
                 created_at = EXCLUDED.created_at, order_id = EXCLUDED.order_id \
                 WHERE documents.agency_id = EXCLUDED.agency_id",
            )
            .await?;
        Ok(written > 0)
    }

    async fn lock_ticket(
        &mut self,
        agency: AgencyId,
        booking: BookingId,
        number: &TicketNumber,
    ) -> Result<Option<Ticket>> {
        let row = sqlx::query(&format!(
            "SELECT {TICKET_COLUMNS} FROM tickets t WHERE t.number = $1 AND t.agency_id = $2 AND t.booking_id = $3 \
             FOR UPDATE"
        ))
        .bind(number.compact())
        .bind(agency.0)
        .bind(booking.0)
        .fetch_optional(self.conn())
        .await?;
        let Some(row) = row else { return Ok(None) };
        // Coupons change only under their ticket's lock, which this transaction now holds.
        Ok(issuance::with_coupons(self.conn(), &[row]).await?.pop())
    }

    async fn update_ticket(&mut self, ticket: &Ticket) -> Result<()> {
        let compact = ticket.number.compact();
        sqlx::query("UPDATE tickets SET status = $2, pending_penalty_minor = $3 WHERE number = $1")
            .bind(&compact)
            .bind(ticket.status.as_str())
            .bind(ticket.pending_penalty.map(|p| p.minor()))
            .execute(self.conn())
            .await?;
        for coupon in &ticket.coupons {
            let number = i32::try_from(coupon.number).map_err(|_| unstorable("coupon number out of range"))?;
            sqlx::query("UPDATE coupons SET status = $3, used_at = $4 WHERE ticket_number = $1 AND number = $2")
                .bind(&compact)
                .bind(number)
                .bind(coupon.status.as_str())
                .bind(coupon.used_at)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    async fn next_ticket_ordinal(&mut self, issuance: IssuanceId) -> Result<u32> {
        sqlx::query("SELECT 1 FROM issuances WHERE id = $1 FOR UPDATE").bind(issuance.0).execute(self.conn()).await?;
        let ordinal: i32 =
            sqlx::query_scalar("SELECT COALESCE(MAX(ordinal) + 1, 0) FROM tickets WHERE issuance_id = $1")
                .bind(issuance.0)
                .fetch_one(self.conn())
                .await?;
        u32::try_from(ordinal).map_err(|_| corrupt(format!("ticket ordinal {ordinal}")))
    }

    async fn link_exchange(&mut self, old: &TicketNumber, new: &TicketNumber) -> Result<()> {
        sqlx::query("UPDATE tickets SET related_number = $2, related_type = $3 WHERE number = $1")
            .bind(old.compact())
            .bind(new.compact())
            .bind(RelatedType::EXCH.as_str())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn insert_audit(&mut self, entry: &NewAuditEntry) -> Result<()> {
        audit::insert(self.conn(), entry).await
    }

    async fn insert_webhook_event(&mut self, event: &tessera_storage::NewWebhookEvent) -> Result<u64> {
        crate::webhooks::insert_event(self.conn(), event).await
    }

    async fn insert_claim(&mut self, mark: &ClaimMark, request_hash: &str, locked_until_ms: i64) -> Result<bool> {
        // A concurrent insert of the same key makes this one wait for it to commit, then do nothing.
        let inserted = sqlx::query(
            "INSERT INTO idempotency (scope_key, key, request_hash, status, body, created_at, locked_until, token) \
             VALUES ($1, $2, $3, NULL, NULL, $4, $5, $6) ON CONFLICT (scope_key, key) DO NOTHING",
        )
        .bind(&mark.scope_key)
        .bind(&mark.key)
        .bind(request_hash)
        .bind(Utc::now())
        .bind(locked_until_ms)
        .bind(&mark.token)
        .execute(self.conn())
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    async fn read_claim(&mut self, scope_key: &str, key: &str) -> Result<Option<StoredClaim>> {
        let row: Option<(String, Option<i32>, Option<Vec<u8>>, Option<i64>, Option<String>)> = sqlx::query_as(
            "SELECT request_hash, status, body, locked_until, effect FROM idempotency \
                 WHERE scope_key = $1 AND key = $2",
        )
        .bind(scope_key)
        .bind(key)
        .fetch_optional(self.conn())
        .await?;
        Ok(row.map(|(request_hash, status, body, locked_until_ms, effect)| StoredClaim {
            request_hash,
            status: status.map(i64::from),
            body,
            locked_until_ms,
            effect,
        }))
    }

    async fn take_over_claim(
        &mut self,
        mark: &ClaimMark,
        request_hash: &str,
        now_ms: i64,
        locked_until_ms: i64,
    ) -> Result<bool> {
        let taken = sqlx::query(
            "UPDATE idempotency SET token = $4, locked_until = $6 \
             WHERE scope_key = $1 AND key = $2 AND request_hash = $3 AND status IS NULL AND effect IS NULL \
             AND (locked_until IS NULL OR locked_until <= $5)",
        )
        .bind(&mark.scope_key)
        .bind(&mark.key)
        .bind(request_hash)
        .bind(&mark.token)
        .bind(now_ms)
        .bind(locked_until_ms)
        .execute(self.conn())
        .await?;
        Ok(taken.rows_affected() == 1)
    }

    async fn complete_claim(&mut self, scope_key: &str, key: &str, status: u16, body: &[u8]) -> Result<bool> {
        let done = sqlx::query("UPDATE idempotency SET status = $3, body = $4 WHERE scope_key = $1 AND key = $2")
            .bind(scope_key)
            .bind(key)
            .bind(i32::from(status))
            .bind(body)
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn record_claim_effect(&mut self, mark: &ClaimMark, effect: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE idempotency SET effect = $4 WHERE scope_key = $1 AND key = $2 AND token = $3 AND status IS NULL",
        )
        .bind(&mark.scope_key)
        .bind(&mark.key)
        .bind(&mark.token)
        .bind(effect)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

impl PgTx {
    /// Inserts the document, with `on_conflict` appended; returns the number of rows written.
    async fn write_document(
        &mut self,
        agency: AgencyId,
        d: &NewDocument,
        at: DateTime<Utc>,
        on_conflict: &str,
    ) -> Result<u64> {
        let done = sqlx::query(&format!(
            "INSERT INTO documents ({DOCUMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             {on_conflict}"
        ))
        .bind(d.id.0)
        .bind(d.owner.kind())
        .bind(d.owner.key())
        .bind(agency.0)
        .bind(&d.storage_key)
        .bind(&d.sha256)
        .bind(d.size)
        .bind(&d.content_type)
        .bind(&d.filename)
        .bind(at)
        .bind(d.owner.order().map(BookingOrderId::as_str))
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected())
    }
}

//! The write transaction the shared scripts run on ([`tessera_storage::scripts`]): each primitive is one or
//! two statements. It starts with `BEGIN IMMEDIATE` (see the crate docs), so from its first statement no other
//! writer runs and nothing it reads can change before it commits; locking a row is just reading it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, Transaction};
use tessera_core::booking::{Booking, BookingDetail, BookingStatus};
use tessera_core::codes::{AccountingPrefix, TicketNumber};
use tessera_core::ids::{AgencyId, BookingId, IssuanceId};
use tessera_core::invoice::Invoice;
use tessera_core::orders::{BookingOrder, BookingOrderId, LogisticStatus};
use tessera_core::search;
use tessera_core::ticket::{RelatedType, Ticket};
use tessera_core::user::Scope;
use tessera_storage::{
    Backend, ClaimMark, IssuanceRecord, NewAuditEntry, NewDocument, NewLedgerEntry, StorageError, StoredClaim, WriteTx,
    FIRST_SERIAL,
};

use crate::rows::{self, json_text, COUPON_COLUMNS, TICKET_COLUMNS};
use crate::{audit, write_error, Result, SqliteDatabase};
use tessera_storage::decode::corrupt;

/// A write transaction holding SQLite's write lock. Dropping it without committing rolls it back.
pub struct SqliteTx(Transaction<'static, Sqlite>);

impl SqliteTx {
    pub(crate) fn new(tx: Transaction<'static, Sqlite>) -> Self {
        Self(tx)
    }
}

#[async_trait]
impl Backend for SqliteDatabase {
    type Tx = SqliteTx;

    async fn begin_write(&self) -> Result<SqliteTx> {
        crate::begin_write(&self.pool).await.map(SqliteTx)
    }
}

impl SqliteTx {
    pub(crate) fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.0
    }
}

fn int(value: u64, what: &str) -> Result<i64> {
    Ok(i64::try_from(value).map_err(|_| StorageError::Backend(format!("cannot store {what} {value}")))?)
}

fn uint(value: i64, what: &str) -> Result<u64> {
    Ok(u64::try_from(value).map_err(|_| corrupt(what, value))?)
}

#[async_trait]
impl WriteTx for SqliteTx {
    type Error = crate::Error;

    async fn commit(self) -> Result<()> {
        Ok(self.0.commit().await?)
    }

    async fn savepoint(&mut self) -> Result<()> {
        sqlx::query("SAVEPOINT script").execute(self.conn()).await?;
        Ok(())
    }

    async fn rollback_to_savepoint(&mut self) -> Result<()> {
        // ROLLBACK TO keeps the savepoint open; release it too, so the next script starts a fresh one.
        sqlx::query("ROLLBACK TO script").execute(self.conn()).await?;
        sqlx::query("RELEASE script").execute(self.conn()).await?;
        Ok(())
    }

    async fn release_savepoint(&mut self) -> Result<()> {
        sqlx::query("RELEASE script").execute(self.conn()).await?;
        Ok(())
    }

    async fn insert_booking(&mut self, booking: &Booking, orders: &[BookingOrder]) -> Result<()> {
        sqlx::query(
            "INSERT INTO bookings (id, agency_id, kind, code, status, created_by, created_at, detail, search_names, \
             travel_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(booking.id.to_string())
        .bind(booking.agency_id.to_string())
        .bind(booking.kind())
        .bind(booking.code())
        .bind(booking.status.as_str())
        .bind(booking.created_by.map(|u| u.to_string()))
        .bind(booking.created_at)
        .bind(json_text(&booking.detail, "booking detail")?)
        .bind(search::names(&booking.detail))
        .bind(search::travel_date(&booking.detail).map(|d| d.to_string()))
        .execute(self.conn())
        .await
        .map_err(|e| {
            // Both the id and (agency, code) are unique; only the code is something a client can collide on.
            let id_taken =
                e.as_database_error().is_some_and(|d| d.is_unique_violation() && d.message().contains("bookings.id"));
            write_error(e, if id_taken { "booking" } else { "booking code" })
        })?;
        for order in orders {
            sqlx::query(
                "INSERT INTO booking_orders (id, booking_id, agency_id, position, event_id, logistic_status, \
                 created_at, event, items, currency) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(order.id.as_str())
            .bind(order.booking_id.to_string())
            .bind(order.agency_id.to_string())
            .bind(order.position)
            .bind(&order.event.id)
            .bind(order.logistic_status.as_str())
            .bind(order.created_at)
            .bind(json_text(&order.event, "order event")?)
            .bind(json_text(&order.items, "order items")?)
            .bind(order.currency.code())
            .execute(self.conn())
            .await
            .map_err(|e| write_error(e, "booking order"))?;
        }
        Ok(())
    }

    async fn lock_booking(&mut self, agency: AgencyId, booking: BookingId) -> Result<Option<BookingStatus>> {
        let row = sqlx::query("SELECT status FROM bookings WHERE id = ? AND agency_id = ?")
            .bind(booking.to_string())
            .bind(agency.to_string())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(rows::booking_status).transpose()
    }

    async fn set_booking_status(&mut self, booking: BookingId, status: BookingStatus) -> Result<()> {
        sqlx::query("UPDATE bookings SET status = ? WHERE id = ?")
            .bind(status.as_str())
            .bind(booking.to_string())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn set_booking_detail(&mut self, booking: BookingId, detail: &BookingDetail) -> Result<()> {
        sqlx::query("UPDATE bookings SET detail = ?, search_names = ?, travel_date = ? WHERE id = ?")
            .bind(json_text(detail, "booking detail")?)
            .bind(search::names(detail))
            .bind(search::travel_date(detail).map(|d| d.to_string()))
            .bind(booking.to_string())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn lock_order(&mut self, scope: Scope, order: &BookingOrderId) -> Result<Option<BookingOrder>> {
        let mut query = crate::orders::select(scope);
        query.push(" AND o.id = ").push_bind(order.to_string());
        let row = query.build().fetch_optional(self.conn()).await?;
        row.as_ref().map(rows::booking_order).transpose()
    }

    async fn set_order_items(&mut self, order: &BookingOrder) -> Result<()> {
        sqlx::query("UPDATE booking_orders SET items = ? WHERE id = ?")
            .bind(json_text(&order.items, "order items")?)
            .bind(order.id.as_str())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn complete_orders(&mut self, booking: BookingId) -> Result<()> {
        sqlx::query("UPDATE booking_orders SET logistic_status = ? WHERE booking_id = ?")
            .bind(LogisticStatus::Completed.as_str())
            .bind(booking.to_string())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn order_is_agencys(&mut self, order: &BookingOrderId, agency: AgencyId) -> Result<bool> {
        Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM booking_orders WHERE id = ? AND agency_id = ?)")
            .bind(order.as_str())
            .bind(agency.to_string())
            .fetch_one(self.conn())
            .await?)
    }

    async fn add_to_balance(
        &mut self,
        agency: AgencyId,
        amount_minor: i64,
    ) -> Result<Option<(i64, String, Option<i64>)>> {
        Ok(sqlx::query_as(
            "UPDATE agencies SET balance_minor = balance_minor + ?1 \
             WHERE id = ?2 AND balance_minor + ?1 >= -credit_limit_minor RETURNING balance_minor, currency, \
             (SELECT low_balance_minor FROM webhook_settings WHERE agency_id = agencies.id)",
        )
        .bind(amount_minor)
        .bind(agency.to_string())
        .fetch_optional(self.conn())
        .await?)
    }

    async fn agency_exists(&mut self, agency: AgencyId) -> Result<bool> {
        crate::agencies::agency_exists(self.conn(), agency).await
    }

    async fn insert_ledger(&mut self, entry: &NewLedgerEntry, balance_after_minor: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO ledger (agency_id, kind, amount_minor, balance_after_minor, currency, issuance_id, note, \
             created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(entry.agency_id.to_string())
        .bind(entry.kind.as_str())
        .bind(entry.amount.minor())
        .bind(balance_after_minor)
        .bind(entry.amount.currency().code())
        .bind(entry.issuance_id.map(|i| i.to_string()))
        .bind(&entry.note)
        .bind(entry.created_at)
        .fetch_one(self.conn())
        .await?)
    }

    async fn take_serials(&mut self, prefix: &AccountingPrefix, count: u64) -> Result<u64> {
        let n = int(count, "ticket count")?;
        let end: i64 = sqlx::query_scalar(
            "INSERT INTO ticket_serials (prefix, next_serial) VALUES (?1, ?2 + ?3) \
             ON CONFLICT (prefix) DO UPDATE SET next_serial = ticket_serials.next_serial + ?3 RETURNING next_serial",
        )
        .bind(prefix.as_str())
        .bind(int(FIRST_SERIAL, "first serial")?)
        .bind(n)
        .fetch_one(self.conn())
        .await?;
        uint(end - n, "serial counter")
    }

    async fn take_invoice_numbers(&mut self, agency: AgencyId, count: u64) -> Result<u64> {
        let n = int(count, "invoice count")?;
        let end: i64 = sqlx::query_scalar(
            "INSERT INTO invoice_serials (agency_id, next_number) VALUES (?1, 1 + ?2) \
             ON CONFLICT (agency_id) DO UPDATE SET next_number = invoice_serials.next_number + ?2 \
             RETURNING next_number",
        )
        .bind(agency.to_string())
        .bind(n)
        .fetch_one(self.conn())
        .await?;
        uint(end - n, "invoice counter")
    }

    async fn insert_issuance(&mut self, issuance: &IssuanceRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO issuances (id, booking_id, agency_id, amount_minor, commission_minor, currency, issued_at, \
             issued_by, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(issuance.id.to_string())
        .bind(issuance.booking_id.to_string())
        .bind(issuance.agency_id.to_string())
        .bind(issuance.amount_charged.minor())
        .bind(issuance.commission.minor())
        .bind(issuance.amount_charged.currency().code())
        .bind(issuance.issued_at)
        .bind(issuance.issued_by.map(|u| u.to_string()))
        .bind(json_text(&issuance.attributes, "issuance attributes")?)
        .execute(self.conn())
        .await
        .map_err(|e| write_error(e, "issuance"))?;
        Ok(())
    }

    async fn insert_tickets(&mut self, tickets: &[Ticket], first_ordinal: u32) -> Result<()> {
        for (ordinal, ticket) in (i64::from(first_ordinal)..).zip(tickets) {
            insert_ticket(self.conn(), ticket, ordinal).await?;
        }
        Ok(())
    }

    async fn insert_invoices(&mut self, invoices: &[Invoice]) -> Result<()> {
        for invoice in invoices {
            sqlx::query(
                "INSERT INTO invoices (agency_id, number, booking_id, order_id, kind, gross_minor, currency, \
                 issued_at, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(invoice.agency_id.to_string())
            .bind(int(invoice.number, "invoice number")?)
            .bind(invoice.draft.booking_id.to_string())
            .bind(invoice.draft.order_id.as_ref().map(BookingOrderId::as_str))
            .bind(invoice.draft.kind.as_str())
            .bind(invoice.draft.gross.minor())
            .bind(invoice.draft.currency.code())
            .bind(invoice.issued_at)
            .bind(json_text(&invoice.draft, "invoice")?)
            .execute(self.conn())
            .await
            .map_err(|e| write_error(e, "invoice"))?;
        }
        Ok(())
    }

    async fn insert_documents(&mut self, agency: AgencyId, documents: &[NewDocument], at: DateTime<Utc>) -> Result<()> {
        if documents.is_empty() {
            return Ok(());
        }
        let agency = agency.to_string();
        let mut insert = QueryBuilder::<Sqlite>::new(format!("INSERT INTO documents ({DOCUMENT_COLUMNS}) "));
        insert.push_values(documents, |mut row, d| {
            row.push_bind(d.id.to_string())
                .push_bind(d.owner.kind())
                .push_bind(d.owner.key())
                .push_bind(agency.clone())
                .push_bind(d.storage_key.clone())
                .push_bind(d.sha256.clone())
                .push_bind(d.size)
                .push_bind(d.content_type.clone())
                .push_bind(d.filename.clone())
                .push_bind(at)
                .push_bind(d.owner.order().map(|o| o.to_string()));
        });
        insert.build().execute(self.conn()).await.map_err(|e| write_error(e, "document"))?;
        Ok(())
    }

    async fn fill_documents(&mut self, agency: AgencyId, documents: &[NewDocument]) -> Result<()> {
        if documents.is_empty() {
            return Ok(());
        }
        // SQLite names the columns of a VALUES list column1, column2, ...
        let mut fill = QueryBuilder::<Sqlite>::new(
            "UPDATE documents SET storage_key = v.column3, sha256 = v.column4, size = v.column5 FROM (",
        );
        fill.push_values(documents, |mut row, d| {
            row.push_bind(d.owner.kind())
                .push_bind(d.owner.key())
                .push_bind(d.storage_key.clone())
                .push_bind(d.sha256.clone())
                .push_bind(d.size);
        });
        fill.push(
            ") AS v WHERE documents.owner_kind = v.column1 AND documents.owner_key = v.column2 \
             AND documents.sha256 = '' AND documents.agency_id = ",
        )
        .push_bind(agency.to_string());
        fill.build().execute(self.conn()).await?;
        Ok(())
    }

    async fn replace_document(&mut self, agency: AgencyId, document: &NewDocument, at: DateTime<Utc>) -> Result<bool> {
        let theirs: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM documents WHERE owner_kind = ? AND owner_key = ? AND agency_id <> ?)",
        )
        .bind(document.owner.kind())
        .bind(document.owner.key())
        .bind(agency.to_string())
        .fetch_one(self.conn())
        .await?;
        if !theirs {
            insert_document(self.conn(), agency, document, at, "INSERT OR REPLACE").await?;
        }
        Ok(!theirs)
    }

    async fn lock_ticket(
        &mut self,
        agency: AgencyId,
        booking: BookingId,
        number: &TicketNumber,
    ) -> Result<Option<Ticket>> {
        let compact = number.compact();
        let row = sqlx::query(&format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE number = ? AND agency_id = ? AND booking_id = ?"
        ))
        .bind(&compact)
        .bind(agency.to_string())
        .bind(booking.to_string())
        .fetch_optional(self.conn())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let coupons =
            sqlx::query(&format!("SELECT {COUPON_COLUMNS} FROM coupons WHERE ticket_number = ? ORDER BY number"))
                .bind(&compact)
                .fetch_all(self.conn())
                .await?;
        let coupons = coupons.iter().map(rows::coupon).collect::<Result<Vec<_>>>()?;
        rows::ticket(&row, coupons).map(Some)
    }

    async fn update_ticket(&mut self, ticket: &Ticket) -> Result<()> {
        let compact = ticket.number.compact();
        sqlx::query("UPDATE tickets SET status = ?, pending_penalty_minor = ? WHERE number = ?")
            .bind(ticket.status.as_str())
            .bind(ticket.pending_penalty.map(|p| p.minor()))
            .bind(&compact)
            .execute(self.conn())
            .await?;
        for coupon in &ticket.coupons {
            sqlx::query("UPDATE coupons SET status = ?, used_at = ? WHERE ticket_number = ? AND number = ?")
                .bind(coupon.status.as_str())
                .bind(coupon.used_at)
                .bind(&compact)
                .bind(i64::from(coupon.number))
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    async fn next_ticket_ordinal(&mut self, issuance: IssuanceId) -> Result<u32> {
        let ordinal: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(ordinal) + 1, 0) FROM tickets WHERE issuance_id = ?")
                .bind(issuance.to_string())
                .fetch_one(self.conn())
                .await?;
        Ok(u32::try_from(ordinal).map_err(|_| corrupt("ticket ordinal", ordinal))?)
    }

    async fn link_exchange(&mut self, old: &TicketNumber, new: &TicketNumber) -> Result<()> {
        sqlx::query("UPDATE tickets SET related_number = ?, related_type = ? WHERE number = ?")
            .bind(new.compact())
            .bind(RelatedType::EXCH.as_str())
            .bind(old.compact())
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
        let inserted = sqlx::query(
            "INSERT INTO idempotency (scope_key, key, request_hash, created_at, locked_until, token) \
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (scope_key, key) DO NOTHING",
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
        let row: Option<(String, Option<i64>, Option<Vec<u8>>, Option<i64>, Option<String>)> = sqlx::query_as(
            "SELECT request_hash, status, body, locked_until, effect FROM idempotency \
                 WHERE scope_key = ? AND key = ?",
        )
        .bind(scope_key)
        .bind(key)
        .fetch_optional(self.conn())
        .await?;
        Ok(row.map(|(request_hash, status, body, locked_until_ms, effect)| StoredClaim {
            request_hash,
            status,
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
            "UPDATE idempotency SET token = ?4, locked_until = ?6 \
             WHERE scope_key = ?1 AND key = ?2 AND request_hash = ?3 AND status IS NULL AND effect IS NULL \
             AND (locked_until IS NULL OR locked_until <= ?5)",
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
        let done = sqlx::query("UPDATE idempotency SET status = ?, body = ? WHERE scope_key = ? AND key = ?")
            .bind(i64::from(status))
            .bind(body)
            .bind(scope_key)
            .bind(key)
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn record_claim_effect(&mut self, mark: &ClaimMark, effect: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE idempotency SET effect = ?4 WHERE scope_key = ?1 AND key = ?2 AND token = ?3 AND status IS NULL",
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

/// Stores a ticket and its coupons; `ordinal` is its place among the tickets of its issuance.
async fn insert_ticket(conn: &mut SqliteConnection, ticket: &Ticket, ordinal: i64) -> Result<()> {
    let number = ticket.number.compact();
    sqlx::query(
        "INSERT INTO tickets (number, issuance_id, booking_id, agency_id, ordinal, passenger_id, kind, status, \
         base_minor, total_minor, currency, taxes, service, related_number, related_type, issued_at, charged_minor, \
         pending_penalty_minor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&number)
    .bind(ticket.issuance_id.to_string())
    .bind(ticket.booking_id.to_string())
    .bind(ticket.agency_id.to_string())
    .bind(ordinal)
    .bind(&ticket.passenger_id)
    .bind(ticket.kind.as_str())
    .bind(ticket.status.as_str())
    .bind(ticket.base.minor())
    .bind(ticket.total.minor())
    .bind(ticket.total.currency().code())
    .bind(json_text(&ticket.taxes, "ticket taxes")?)
    .bind(ticket.service.as_ref().map(|s| json_text(s, "ticket service")).transpose()?)
    .bind(ticket.related_number.as_ref().map(TicketNumber::compact))
    .bind(ticket.related_type.map(|r| r.as_str()))
    .bind(ticket.issued_at)
    .bind(ticket.charged.minor())
    .bind(ticket.pending_penalty.map(|p| p.minor()))
    .execute(&mut *conn)
    .await
    .map_err(|e| write_error(e, "ticket number"))?;
    for coupon in &ticket.coupons {
        sqlx::query(
            "INSERT INTO coupons (ticket_number, number, status, origin, destination, carrier, flight_number, \
             departure_date, booking_class, fare_basis, service_code, used_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&number)
        .bind(i64::from(coupon.number))
        .bind(coupon.status.as_str())
        .bind(&coupon.origin)
        .bind(&coupon.destination)
        .bind(&coupon.carrier)
        .bind(&coupon.flight_number)
        .bind(coupon.departure_date)
        .bind(&coupon.booking_class)
        .bind(&coupon.fare_basis)
        .bind(&coupon.service_code)
        .bind(coupon.used_at)
        .execute(&mut *conn)
        .await
        .map_err(|e| write_error(e, "coupon"))?;
    }
    Ok(())
}

/// The columns a document is written with, in the order both writes bind them.
const DOCUMENT_COLUMNS: &str =
    "id, owner_kind, owner_key, agency_id, storage_key, sha256, size, content_type, filename, created_at, order_id";

/// `verb` is `INSERT`, or `INSERT OR REPLACE` to take the place of the document with the same owner.
async fn insert_document(
    conn: &mut SqliteConnection,
    agency: AgencyId,
    document: &NewDocument,
    at: DateTime<Utc>,
    verb: &str,
) -> Result<()> {
    sqlx::query(&format!("{verb} INTO documents ({DOCUMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"))
        .bind(document.id.to_string())
        .bind(document.owner.kind())
        .bind(document.owner.key())
        .bind(agency.to_string())
        .bind(&document.storage_key)
        .bind(&document.sha256)
        .bind(document.size)
        .bind(&document.content_type)
        .bind(&document.filename)
        .bind(at)
        .bind(document.owner.order().map(|o| o.to_string()))
        .execute(conn)
        .await
        .map_err(|e| write_error(e, "document"))?;
    Ok(())
}

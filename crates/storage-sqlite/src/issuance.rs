//! Issuance: the one transaction that turns a confirmed booking into numbered tickets, and the reads of what
//! it created (issuances, tickets with their coupons, documents).
//!
//! [`issue`] runs under `BEGIN IMMEDIATE`, so it holds SQLite's only write lock from its first statement:
//! concurrent issuances run one after the other, and the booking status, the balance and the serial counters
//! it reads cannot change under it. Everything it writes commits together or not at all; in particular
//! ticket serials are only consumed by issuances that commit, so numbers have no gaps.

use std::collections::HashMap;

use serde_json::json;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use tessera_core::booking::BookingStatus;
use tessera_core::codes::{AccountingPrefix, TicketNumber, MAX_SERIAL};
use tessera_core::ids::{BookingId, IssuanceId};
use tessera_core::ledger::LedgerKind;
use tessera_core::ticket::{Coupon, Ticket, TicketDraft};
use tessera_core::user::Scope;
use tessera_storage::{
    covering_issued, DocumentOwner, DocumentRecord, DocumentSink, IssuanceRecord, IssuedTickets, NewAuditEntry,
    NewIssuance, StorageError, FIRST_SERIAL,
};

use crate::rows::{self, qualified, COUPON_COLUMNS, DOCUMENT_COLUMNS, ISSUANCE_COLUMNS, TICKET_COLUMNS};
use crate::{audit, backend, begin_read, begin_write, orders, push_scope, write_error, Result};

pub(crate) async fn issue(pool: &SqlitePool, new: &NewIssuance, sink: &dyn DocumentSink) -> Result<IssuanceRecord> {
    let draft = &new.draft;
    let booking_id = draft.booking_id.to_string();
    let agency_id = draft.agency_id.to_string();
    let issuance_id = new.id.to_string();
    let payable = draft.payable;

    // Every early return below drops `tx`, which rolls back whatever was done so far.
    let mut tx = begin_write(pool).await?;

    // 1. The booking must still be confirmed; the write lock keeps it so until we commit.
    let status: Option<SqliteRow> = sqlx::query("SELECT status FROM bookings WHERE id = ? AND agency_id = ?")
        .bind(&booking_id)
        .bind(&agency_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
    let status = rows::booking_status(&status.ok_or(StorageError::NotFound)?, "status")?;
    if status != BookingStatus::Confirmed {
        return Err(StorageError::BookingNotConfirmed(status));
    }

    // 2. Debit the agency within its credit limit.
    let debited: Option<(i64, String)> = sqlx::query_as(
        "UPDATE agencies SET balance_minor = balance_minor - ?1 \
         WHERE id = ?2 AND balance_minor - ?1 >= -credit_limit_minor RETURNING balance_minor, currency",
    )
    .bind(payable.minor())
    .bind(&agency_id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(backend)?;
    let Some((balance_after, agency_currency)) = debited else {
        return Err(StorageError::InsufficientBalance);
    };
    if agency_currency != payable.currency().code() {
        return Err(StorageError::Backend(format!(
            "issuance payable in {} for an agency keeping its account in {agency_currency}",
            payable.currency()
        )));
    }
    sqlx::query(
        "INSERT INTO ledger (agency_id, kind, amount_minor, balance_after_minor, currency, issuance_id, note, \
         created_at) VALUES (?, ?, ?, ?, ?, ?, NULL, ?)",
    )
    .bind(&agency_id)
    .bind(LedgerKind::IssuanceDebit.as_str())
    .bind(-payable.minor())
    .bind(balance_after)
    .bind(payable.currency().code())
    .bind(&issuance_id)
    .bind(new.issued_at)
    .execute(&mut *tx)
    .await
    .map_err(backend)?;

    // 3. Number the tickets.
    let numbers = allocate_numbers(&mut tx, &draft.tickets).await?;
    let tickets: Vec<Ticket> = draft
        .tickets
        .iter()
        .cloned()
        .zip(numbers)
        .map(|(t, number)| Ticket::from_draft(t, number, new.id, draft.booking_id, draft.agency_id, new.issued_at))
        .collect();
    // A flight invoice lists the numbers just drawn.
    let invoices = covering_issued(&draft.invoices, &tickets);
    let issued = IssuedTickets {
        issuance_id: new.id,
        booking_id: draft.booking_id,
        agency_id: draft.agency_id,
        issued_at: new.issued_at,
        tickets,
        invoices: orders::allocate_invoices(&mut tx, draft.agency_id, &invoices, new.issued_at).await?,
    };

    // 4. Render the documents while the numbers are still ours alone; a failure undoes everything above.
    let documents = sink.produce(&issued).await?;

    // 5. Record it all.
    sqlx::query(
        "INSERT INTO issuances (id, booking_id, agency_id, amount_minor, commission_minor, currency, issued_at, \
         issued_by, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&issuance_id)
    .bind(&booking_id)
    .bind(&agency_id)
    .bind(payable.minor())
    .bind(draft.commission.minor())
    .bind(draft.currency.code())
    .bind(new.issued_at)
    .bind(new.actor.user_id.map(|u| u.to_string()))
    .bind(rows::json_text(&new.attributes, "issuance attributes")?)
    .execute(&mut *tx)
    .await
    .map_err(|e| write_error(e, "issuance"))?;
    for (ordinal, ticket) in issued.tickets.iter().enumerate() {
        insert_ticket(&mut tx, ticket, ordinal).await?;
    }
    for document in &documents {
        orders::insert_document(&mut tx, draft.agency_id, document, new.issued_at, false).await?;
    }
    for invoice in &issued.invoices {
        orders::insert_invoice(&mut tx, invoice).await?;
    }
    // An event booking's orders are delivered with their invoices; a flight invoice has no order.
    if issued.invoices.iter().any(|i| i.draft.order_id.is_some()) {
        orders::complete_orders(&mut tx, draft.booking_id).await?;
    }
    sqlx::query("UPDATE bookings SET status = ? WHERE id = ?")
        .bind(BookingStatus::Ticketed.as_str())
        .bind(&booking_id)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    let entry = NewAuditEntry {
        agency_id: Some(draft.agency_id),
        actor: new.actor.clone(),
        action: "issuance.create".into(),
        booking_id: Some(draft.booking_id),
        ticket_number: None,
        issuance_id: Some(new.id),
        outcome: "success".into(),
        detail: json!({
            "tickets": issued.tickets.iter().map(|t| t.number.compact()).collect::<Vec<_>>(),
            "invoices": issued.invoices.iter().map(|i| i.number).collect::<Vec<_>>(),
            "amount": payable.amount_string(),
            "currency": payable.currency().code(),
            "attributes": new.attributes,
        }),
        created_at: new.issued_at,
    };
    audit::insert(&mut *tx, &entry).await?;

    // 6.
    tx.commit().await.map_err(backend)?;
    Ok(IssuanceRecord {
        id: new.id,
        booking_id: draft.booking_id,
        agency_id: draft.agency_id,
        amount_charged: payable,
        commission: draft.commission,
        issued_at: new.issued_at,
        issued_by: new.actor.user_id,
        attributes: new.attributes.clone(),
    })
}

/// Reserves one serial per ticket from each prefix's counter and returns the numbers in ticket order.
/// Within a prefix, tickets get consecutive serials in the order they appear in the draft.
pub(crate) async fn allocate_numbers(conn: &mut SqliteConnection, drafts: &[TicketDraft]) -> Result<Vec<TicketNumber>> {
    // Prefixes in order of first appearance, each with how many tickets it numbers.
    let mut counts: Vec<(&AccountingPrefix, i64)> = Vec::new();
    for draft in drafts {
        match counts.iter_mut().find(|(p, _)| *p == &draft.prefix) {
            Some((_, n)) => *n += 1,
            None => counts.push((&draft.prefix, 1)),
        }
    }
    let first = i64::try_from(FIRST_SERIAL).map_err(|e| StorageError::Backend(e.to_string()))?;
    let max = i64::try_from(MAX_SERIAL).map_err(|e| StorageError::Backend(e.to_string()))?;
    let mut next: HashMap<&AccountingPrefix, u64> = HashMap::new();
    for (prefix, n) in counts {
        let end: i64 = sqlx::query_scalar(
            "INSERT INTO ticket_serials (prefix, next_serial) VALUES (?1, ?2 + ?3) \
             ON CONFLICT (prefix) DO UPDATE SET next_serial = ticket_serials.next_serial + ?3 RETURNING next_serial",
        )
        .bind(prefix.as_str())
        .bind(first)
        .bind(n)
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)?;
        // `end` is the next serial to hand out, so this batch is [end - n, end).
        if end - 1 > max {
            return Err(StorageError::SerialsExhausted(prefix.to_string()));
        }
        let start = u64::try_from(end - n)
            .map_err(|_| StorageError::Backend(format!("stored serial counter for {prefix} is negative")))?;
        next.insert(prefix, start);
    }
    drafts
        .iter()
        .map(|draft| {
            let serial = next
                .get_mut(&draft.prefix)
                .ok_or_else(|| StorageError::Backend(format!("no serial allocated for prefix {}", draft.prefix)))?;
            let number = TicketNumber::new(draft.prefix.clone(), *serial)
                .map_err(|_| StorageError::SerialsExhausted(draft.prefix.to_string()))?;
            *serial += 1;
            Ok(number)
        })
        .collect()
}

/// Stores a ticket and its coupons; `ordinal` is its place among the tickets of its issuance.
pub(crate) async fn insert_ticket(conn: &mut SqliteConnection, ticket: &Ticket, ordinal: usize) -> Result<()> {
    let number = ticket.number.compact();
    let ordinal = i64::try_from(ordinal).map_err(|e| StorageError::Backend(e.to_string()))?;
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
    .bind(rows::json_text(&ticket.taxes, "ticket taxes")?)
    .bind(ticket.service.as_ref().map(|s| rows::json_text(s, "ticket service")).transpose()?)
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

pub(crate) async fn get_issuance(pool: &SqlitePool, scope: Scope, id: IssuanceId) -> Result<Option<IssuanceRecord>> {
    issuance_where(pool, scope, "i.id", id.to_string()).await
}

pub(crate) async fn find_issuance_by_booking(
    pool: &SqlitePool,
    scope: Scope,
    booking: BookingId,
) -> Result<Option<IssuanceRecord>> {
    issuance_where(pool, scope, "i.booking_id", booking.to_string()).await
}

/// One issuance by a unique column (`i.id` or `i.booking_id`, both ours, never input), within the scope.
async fn issuance_where(
    pool: &SqlitePool,
    scope: Scope,
    column: &str,
    value: String,
) -> Result<Option<IssuanceRecord>> {
    let mut query: QueryBuilder<'_, Sqlite> = QueryBuilder::new(format!(
        "SELECT {} FROM issuances i JOIN bookings b ON b.id = i.booking_id WHERE {column} = ",
        qualified(ISSUANCE_COLUMNS, "i")
    ));
    query.push_bind(value);
    push_scope(&mut query, scope, "b.agency_id", "b.created_by");
    let row = query.build().fetch_optional(pool).await.map_err(backend)?;
    row.as_ref().map(rows::issuance).transpose()
}

pub(crate) async fn get_ticket(pool: &SqlitePool, scope: Scope, number: &TicketNumber) -> Result<Option<Ticket>> {
    let number = number.compact();
    let mut query: QueryBuilder<'_, Sqlite> = QueryBuilder::new(format!(
        "SELECT {} FROM tickets t JOIN bookings b ON b.id = t.booking_id WHERE t.number = ",
        qualified(TICKET_COLUMNS, "t")
    ));
    query.push_bind(number.clone());
    push_scope(&mut query, scope, "b.agency_id", "b.created_by");
    // The ticket and its coupons from one snapshot.
    let mut tx = begin_read(pool).await?;
    let Some(row) = query.build().fetch_optional(&mut *tx).await.map_err(backend)? else {
        return Ok(None);
    };
    let coupons = sqlx::query(&format!("SELECT {COUPON_COLUMNS} FROM coupons WHERE ticket_number = ? ORDER BY number"))
        .bind(&number)
        .fetch_all(&mut *tx)
        .await
        .map_err(backend)?;
    tx.commit().await.map_err(backend)?;
    let coupons = coupons.iter().map(rows::coupon).collect::<Result<Vec<_>>>()?;
    rows::ticket(&row, coupons).map(Some)
}

pub(crate) async fn tickets_of_issuance(pool: &SqlitePool, scope: Scope, id: IssuanceId) -> Result<Vec<Ticket>> {
    let id = id.to_string();
    let mut query: QueryBuilder<'_, Sqlite> = QueryBuilder::new(format!(
        "SELECT {} FROM tickets t JOIN bookings b ON b.id = t.booking_id WHERE t.issuance_id = ",
        qualified(TICKET_COLUMNS, "t")
    ));
    query.push_bind(id.clone());
    push_scope(&mut query, scope, "b.agency_id", "b.created_by");
    query.push(" ORDER BY t.ordinal");
    let mut tx = begin_read(pool).await?;
    let tickets = query.build().fetch_all(&mut *tx).await.map_err(backend)?;
    if tickets.is_empty() {
        return Ok(Vec::new());
    }
    // Only coupons of tickets the scope let through above are attached below.
    let coupon_rows = sqlx::query(&format!(
        "SELECT {} FROM coupons c JOIN tickets t ON t.number = c.ticket_number WHERE t.issuance_id = ? \
         ORDER BY c.ticket_number, c.number",
        qualified(COUPON_COLUMNS, "c")
    ))
    .bind(&id)
    .fetch_all(&mut *tx)
    .await
    .map_err(backend)?;
    tx.commit().await.map_err(backend)?;
    let mut coupons: HashMap<String, Vec<Coupon>> = HashMap::new();
    for row in &coupon_rows {
        let ticket: String = rows::get(row, "ticket_number")?;
        coupons.entry(ticket).or_default().push(rows::coupon(row)?);
    }
    tickets
        .iter()
        .map(|row| {
            let number: String = rows::get(row, "number")?;
            rows::ticket(row, coupons.remove(&number).unwrap_or_default())
        })
        .collect()
}

pub(crate) async fn get_document(
    pool: &SqlitePool,
    scope: Scope,
    owner: &DocumentOwner,
) -> Result<Option<DocumentRecord>> {
    // The scope is checked on the booking the owner belongs to, reached through the owner's table.
    let join = match owner {
        DocumentOwner::Ticket(_) => "JOIN tickets o ON o.number = d.owner_key",
        DocumentOwner::Issuance(_) => "JOIN issuances o ON o.id = d.owner_key",
        DocumentOwner::Download(..) | DocumentOwner::OrderZip(_) | DocumentOwner::Invoice(..) => {
            "JOIN booking_orders o ON o.id = d.order_id"
        }
        DocumentOwner::BookingInvoice(..) => {
            "JOIN invoices o ON o.agency_id = d.agency_id AND d.owner_key = o.booking_id || ':' || o.number"
        }
    };
    let mut query: QueryBuilder<'_, Sqlite> = QueryBuilder::new(format!(
        "SELECT {} FROM documents d {join} JOIN bookings b ON b.id = o.booking_id WHERE d.owner_kind = ",
        qualified(DOCUMENT_COLUMNS, "d")
    ));
    query.push_bind(owner.kind()).push(" AND d.owner_key = ").push_bind(owner.key());
    // A download item's key alone does not name its order: the order asked for must be the document's.
    if let Some(order) = owner.order() {
        query.push(" AND d.order_id = ").push_bind(order.to_string());
    }
    push_scope(&mut query, scope, "b.agency_id", "b.created_by");
    let row = query.build().fetch_optional(pool).await.map_err(backend)?;
    row.as_ref().map(rows::document).transpose()
}

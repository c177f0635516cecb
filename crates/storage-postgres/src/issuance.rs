//! Reads of what issuance created (issuances, tickets with their coupons, documents), and the bulk insert of
//! tickets the issuance script uses. The issuance itself, with its lock order, is
//! [`tessera_storage::scripts::issue`], run on [`crate::tx`].

use std::collections::HashMap;

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use tessera_core::codes::TicketNumber;
use tessera_core::ids::{BookingId, IssuanceId};
use tessera_core::ticket::Ticket;
use tessera_core::user::Scope;
use tessera_storage::{DocumentOwner, DocumentRecord, IssuanceRecord};

use crate::error::{unstorable, Result};
use crate::orders::begin_snapshot;
use crate::rows::DOCUMENT_COLUMNS;
use crate::{rows, ScopeParams};

/// All tickets and all their coupons in two statements (arrays unnested), to keep the time the agency row
/// stays locked short. The tickets take the ordinals from `first_ordinal` on, among those of their issuance.
pub(crate) async fn insert_tickets(conn: &mut PgConnection, tickets: &[Ticket], first_ordinal: i32) -> Result<()> {
    let mut ordinal = Vec::new();
    let (mut number, mut passenger, mut kind, mut status) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut base, mut total, mut currency, mut taxes) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut service, mut related_number, mut related_type) = (Vec::new(), Vec::new(), Vec::new());
    let (mut charged, mut pending_penalty) = (Vec::new(), Vec::new());
    for (i, t) in tickets.iter().enumerate() {
        let i = i32::try_from(i).map_err(|_| unstorable("too many tickets"))?;
        ordinal.push(first_ordinal.checked_add(i).ok_or_else(|| unstorable("ticket ordinal out of range"))?);
        number.push(t.number.compact());
        passenger.push(t.passenger_id.clone());
        kind.push(t.kind.as_str());
        status.push(t.status.as_str());
        base.push(t.base.minor());
        total.push(t.total.minor());
        currency.push(t.total.currency().code().to_owned());
        taxes.push(serde_json::to_value(&t.taxes).map_err(|e| unstorable(format!("taxes: {e}")))?);
        service.push(
            t.service
                .as_ref()
                .map(serde_json::to_value)
                .transpose()
                .map_err(|e| unstorable(format!("service: {e}")))?,
        );
        related_number.push(t.related_number.as_ref().map(TicketNumber::compact));
        related_type.push(t.related_type.map(|r| r.as_str()));
        charged.push(t.charged.minor());
        pending_penalty.push(t.pending_penalty.map(|p| p.minor()));
    }
    let Some(first) = tickets.first() else { return Ok(()) };
    sqlx::query(
        "INSERT INTO tickets (number, issuance_id, booking_id, agency_id, ordinal, passenger_id, kind, status, \
         base_minor, total_minor, currency, taxes, service, related_number, related_type, issued_at, charged_minor, \
         pending_penalty_minor) \
         SELECT n, $1, $2, $3, o, p, k, s, b, t, c, x, sv, rn, rt, $4, ch, pp \
         FROM UNNEST($5::text[], $6::int[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::bigint[], \
                     $12::text[], $13::jsonb[], $14::jsonb[], $15::text[], $16::text[], $17::bigint[], $18::bigint[]) \
              AS u(n, o, p, k, s, b, t, c, x, sv, rn, rt, ch, pp)",
    )
    .bind(first.issuance_id.0)
    .bind(first.booking_id.0)
    .bind(first.agency_id.0)
    .bind(first.issued_at)
    .bind(&number)
    .bind(&ordinal)
    .bind(&passenger)
    .bind(&kind)
    .bind(&status)
    .bind(&base)
    .bind(&total)
    .bind(&currency)
    .bind(&taxes)
    .bind(&service)
    .bind(&related_number)
    .bind(&related_type)
    .bind(&charged)
    .bind(&pending_penalty)
    .execute(&mut *conn)
    .await?;

    let mut c = CouponColumns::default();
    for t in tickets {
        for coupon in &t.coupons {
            c.ticket.push(t.number.compact());
            c.number.push(i32::try_from(coupon.number).map_err(|_| unstorable("coupon number out of range"))?);
            c.status.push(coupon.status.as_str());
            c.origin.push(coupon.origin.as_deref());
            c.destination.push(coupon.destination.as_deref());
            c.carrier.push(coupon.carrier.as_deref());
            c.flight_number.push(coupon.flight_number.as_deref());
            c.departure_date.push(coupon.departure_date);
            c.booking_class.push(coupon.booking_class.as_deref());
            c.fare_basis.push(coupon.fare_basis.as_deref());
            c.service_code.push(coupon.service_code.as_deref());
            c.used_at.push(coupon.used_at);
        }
    }
    if c.ticket.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO coupons (ticket_number, number, status, origin, destination, carrier, flight_number, \
         departure_date, booking_class, fare_basis, service_code, used_at) \
         SELECT * FROM UNNEST($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
                              $8::date[], $9::text[], $10::text[], $11::text[], $12::timestamptz[])",
    )
    .bind(&c.ticket)
    .bind(&c.number)
    .bind(&c.status)
    .bind(&c.origin)
    .bind(&c.destination)
    .bind(&c.carrier)
    .bind(&c.flight_number)
    .bind(&c.departure_date)
    .bind(&c.booking_class)
    .bind(&c.fare_basis)
    .bind(&c.service_code)
    .bind(&c.used_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[derive(Default)]
struct CouponColumns<'a> {
    ticket: Vec<String>,
    number: Vec<i32>,
    status: Vec<&'static str>,
    origin: Vec<Option<&'a str>>,
    destination: Vec<Option<&'a str>>,
    carrier: Vec<Option<&'a str>>,
    flight_number: Vec<Option<&'a str>>,
    departure_date: Vec<Option<chrono::NaiveDate>>,
    booking_class: Vec<Option<&'a str>>,
    fare_basis: Vec<Option<&'a str>>,
    service_code: Vec<Option<&'a str>>,
    used_at: Vec<Option<chrono::DateTime<chrono::Utc>>>,
}

/// The columns [`rows::ticket`] reads, on a table aliased `t`.
pub(crate) const TICKET_COLUMNS: &str = "t.number, t.issuance_id, t.booking_id, t.agency_id, t.passenger_id, \
     t.kind, t.status, t.base_minor, t.total_minor, t.currency, t.taxes, t.service, t.related_number, \
     t.related_type, t.issued_at, t.charged_minor, t.pending_penalty_minor";
/// Scope on a table aliased `x` that has `agency_id` and `booking_id`: agency in `$1`, customer in `$2`
/// (customers see what belongs to bookings they created).
const IN_SCOPE: &str = "($1::uuid IS NULL OR x.agency_id = $1) AND ($2::uuid IS NULL OR EXISTS \
     (SELECT 1 FROM bookings b WHERE b.id = x.booking_id AND b.created_by = $2))";

fn in_scope(alias: &str) -> String {
    IN_SCOPE.replace("x.", &format!("{alias}."))
}

pub(crate) async fn get_issuance(pool: &PgPool, scope: Scope, id: IssuanceId) -> Result<Option<IssuanceRecord>> {
    issuance_where(pool, scope, "i.id", id.0).await
}

pub(crate) async fn find_issuance_by_booking(
    pool: &PgPool,
    scope: Scope,
    booking: BookingId,
) -> Result<Option<IssuanceRecord>> {
    issuance_where(pool, scope, "i.booking_id", booking.0).await
}

/// One issuance by a unique column (`i.id` or `i.booking_id`, both ours, never input), within the scope.
async fn issuance_where(
    pool: &PgPool,
    scope: Scope,
    column: &str,
    value: uuid::Uuid,
) -> Result<Option<IssuanceRecord>> {
    let s = ScopeParams::of(scope);
    let row = sqlx::query(&format!(
        "SELECT i.id, i.booking_id, i.agency_id, i.amount_minor, i.commission_minor, i.currency, i.issued_at, \
         i.issued_by, i.attributes FROM issuances i WHERE {} AND {column} = $3",
        in_scope("i")
    ))
    .bind(s.agency)
    .bind(s.customer)
    .bind(value)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(rows::issuance).transpose()
}

pub(crate) async fn get_ticket(pool: &PgPool, scope: Scope, number: &TicketNumber) -> Result<Option<Ticket>> {
    let s = ScopeParams::of(scope);
    // The ticket and its coupons from one snapshot, so a concurrent transition is seen whole or not at all.
    let mut tx = begin_snapshot(pool).await?;
    let row = sqlx::query(&format!("SELECT {TICKET_COLUMNS} FROM tickets t WHERE {} AND t.number = $3", in_scope("t")))
        .bind(s.agency)
        .bind(s.customer)
        .bind(number.compact())
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(with_coupons(&mut tx, &[row]).await?.pop())
}

pub(crate) async fn tickets_of_issuance(pool: &PgPool, scope: Scope, id: IssuanceId) -> Result<Vec<Ticket>> {
    let s = ScopeParams::of(scope);
    let mut tx = begin_snapshot(pool).await?;
    let rows = sqlx::query(&format!(
        "SELECT {TICKET_COLUMNS} FROM tickets t WHERE {} AND t.issuance_id = $3 ORDER BY t.ordinal",
        in_scope("t")
    ))
    .bind(s.agency)
    .bind(s.customer)
    .bind(id.0)
    .fetch_all(&mut *tx)
    .await?;
    with_coupons(&mut tx, &rows).await
}

/// Decodes ticket rows and attaches their coupons (fetched in one query), keeping the rows' order.
pub(crate) async fn with_coupons(conn: &mut PgConnection, rows: &[PgRow]) -> Result<Vec<Ticket>> {
    let mut tickets: Vec<Ticket> = rows.iter().map(rows::ticket).collect::<Result<_>>()?;
    if tickets.is_empty() {
        return Ok(tickets);
    }
    let numbers: Vec<String> = tickets.iter().map(|t| t.number.compact()).collect();
    let coupon_rows = sqlx::query(
        "SELECT ticket_number, number, status, origin, destination, carrier, flight_number, departure_date, \
         booking_class, fare_basis, service_code, used_at FROM coupons WHERE ticket_number = ANY($1) \
         ORDER BY ticket_number, number",
    )
    .bind(&numbers)
    .fetch_all(conn)
    .await?;
    let position: HashMap<&str, usize> = numbers.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
    let mut coupons: Vec<Vec<_>> = vec![Vec::new(); tickets.len()];
    for row in &coupon_rows {
        let owner: &str = row.try_get("ticket_number")?;
        if let Some(&i) = position.get(owner) {
            coupons[i].push(rows::coupon(row)?);
        }
    }
    for (ticket, coupons) in tickets.iter_mut().zip(coupons) {
        ticket.coupons = coupons;
    }
    Ok(tickets)
}

pub(crate) async fn get_document(pool: &PgPool, scope: Scope, owner: &DocumentOwner) -> Result<Option<DocumentRecord>> {
    let s = ScopeParams::of(scope);
    // Documents of a booking order are reached through it, and the scope applies to the order's booking. The
    // order is matched too: a download item's key alone does not name its order.
    if let Some(order) = owner.order() {
        let row = sqlx::query(&format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents d \
             JOIN booking_orders o ON o.id = d.order_id JOIN bookings b ON b.id = o.booking_id \
             WHERE d.owner_kind = $3 AND d.owner_key = $4 AND d.order_id = $5 \
               AND ($1::uuid IS NULL OR b.agency_id = $1) AND ($2::uuid IS NULL OR b.created_by = $2)"
        ))
        .bind(s.agency)
        .bind(s.customer)
        .bind(owner.kind())
        .bind(owner.key())
        .bind(order.as_str())
        .fetch_optional(pool)
        .await?;
        return row.as_ref().map(rows::document).transpose();
    }
    // Other documents carry no booking id: a customer's claim on one goes through its ticket, issuance or
    // invoice.
    let row = sqlx::query(&format!(
        "SELECT {DOCUMENT_COLUMNS} \
         FROM documents d \
         WHERE d.owner_kind = $3 AND d.owner_key = $4 \
           AND ($1::uuid IS NULL OR d.agency_id = $1) \
           AND ($2::uuid IS NULL OR EXISTS ( \
                SELECT 1 FROM bookings b WHERE b.created_by = $2 AND b.id IN ( \
                    SELECT t.booking_id FROM tickets t WHERE d.owner_kind = 'ticket' AND t.number = d.owner_key \
                    UNION ALL \
                    SELECT i.booking_id FROM issuances i \
                    WHERE d.owner_kind = 'issuance' AND i.id::text = d.owner_key \
                    UNION ALL \
                    SELECT iv.booking_id FROM invoices iv WHERE d.owner_kind = 'booking_invoice' \
                      AND iv.agency_id = d.agency_id AND d.owner_key = iv.booking_id::text || ':' || iv.number::text)))"
    ))
    .bind(s.agency)
    .bind(s.customer)
    .bind(owner.kind())
    .bind(owner.key())
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(rows::document).transpose()
}

//! Turning stored rows back into domain types.
//!
//! The column lists the queries select live next to the decoders that read them, so the two cannot drift.
//! Stored data is never trusted: every id, code, enum and JSON document is parsed, and anything that does not
//! parse becomes [`StorageError::Backend`] naming the column, never a panic.

use std::fmt::Display;
use std::str::FromStr;

use serde::de::DeserializeOwned;
use sqlx::sqlite::SqliteRow;
use sqlx::{Decode, Row, Sqlite, Type};
use tessera_core::agency::Agency;
use tessera_core::booking::{Booking, BookingStatus};
use tessera_core::codes::{IataNumber, OfficeId, TicketNumber};
use tessera_core::invoice::Invoice;
use tessera_core::ledger::{LedgerEntry, LedgerKind};
use tessera_core::money::{Currency, Money};
use tessera_core::orders::{BookingOrder, BookingOrderId, LogisticStatus};
use tessera_core::ticket::{Coupon, CouponStatus, RelatedType, Ticket, TicketStatus, TicketType};
use tessera_core::user::{Role, User};
use tessera_storage::{
    invoice_draft_from_stored, ApiKeyRecord, AuditEntry, DocumentOwner, DocumentRecord, IssuanceRecord, MessageStatus,
    OutboxMessage, StorageError,
};

use crate::Result;

pub(crate) const AGENCY_COLUMNS: &str =
    "id, name, currency, balance_minor, credit_limit_minor, office_id, iata_number, timezone, vat_percent, \
     refund_approval";

pub(crate) const USER_COLUMNS: &str = "id, username, role, agency_id";

pub(crate) const API_KEY_COLUMNS: &str = "id, user_id, prefix, created_at, revoked_at";

pub(crate) const LEDGER_COLUMNS: &str =
    "id, agency_id, kind, amount_minor, balance_after_minor, currency, issuance_id, note, created_at";

pub(crate) const BOOKING_COLUMNS: &str = "id, agency_id, status, created_by, created_at, detail";

pub(crate) const ISSUANCE_COLUMNS: &str =
    "id, booking_id, agency_id, amount_minor, commission_minor, currency, issued_at, issued_by, attributes";

pub(crate) const TICKET_COLUMNS: &str = "number, issuance_id, booking_id, agency_id, passenger_id, kind, status, \
     base_minor, total_minor, currency, taxes, service, related_number, related_type, issued_at, charged_minor, \
     pending_penalty_minor";

pub(crate) const COUPON_COLUMNS: &str = "ticket_number, number, status, origin, destination, carrier, \
     flight_number, departure_date, booking_class, fare_basis, service_code, used_at";

pub(crate) const DOCUMENT_COLUMNS: &str =
    "id, owner_kind, owner_key, agency_id, storage_key, sha256, size, content_type, filename, created_at, order_id";

pub(crate) const ORDER_COLUMNS: &str =
    "id, booking_id, agency_id, position, event_id, logistic_status, created_at, event, items, currency";

pub(crate) const INVOICE_COLUMNS: &str = "agency_id, number, booking_id, order_id, issued_at, detail";

pub(crate) const AUDIT_COLUMNS: &str = "id, agency_id, user_id, username, client_addr, tracking_id, action, \
     booking_id, ticket_number, issuance_id, outcome, detail, created_at";

pub(crate) const OUTBOX_COLUMNS: &str = "id, agency_id, booking_id, recipient, subject, text_body, html_body, \
     attachments, status, attempts, last_error, next_attempt_at, created_at, sent_at";

/// The same column list with every name qualified by `alias`, for queries that join.
pub(crate) fn qualified(columns: &str, alias: &str) -> String {
    columns.split(',').map(|c| format!("{alias}.{}", c.trim())).collect::<Vec<_>>().join(", ")
}

fn corrupt(column: &str, detail: impl Display) -> StorageError {
    StorageError::Backend(format!("stored {column} is invalid: {detail}"))
}

pub(crate) fn get<'r, T>(row: &'r SqliteRow, column: &str) -> Result<T>
where
    T: Decode<'r, Sqlite> + Type<Sqlite>,
{
    row.try_get(column).map_err(|e| corrupt(column, e))
}

/// Parses a text column with `T`'s `FromStr` (ids, codes).
pub(crate) fn parsed<T>(row: &SqliteRow, column: &str) -> Result<T>
where
    T: FromStr,
    T::Err: Display,
{
    let text: String = get(row, column)?;
    text.parse().map_err(|e| corrupt(column, e))
}

pub(crate) fn parsed_opt<T>(row: &SqliteRow, column: &str) -> Result<Option<T>>
where
    T: FromStr,
    T::Err: Display,
{
    let text: Option<String> = get(row, column)?;
    text.map(|t| t.parse().map_err(|e| corrupt(column, e))).transpose()
}

/// Parses a text column with one of the domain's `parse(&str) -> Option<_>` functions (enums).
fn enumerated<T>(row: &SqliteRow, column: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    let text: String = get(row, column)?;
    parse(&text).ok_or_else(|| corrupt(column, format!("`{text}`")))
}

fn json<T: DeserializeOwned>(row: &SqliteRow, column: &str) -> Result<T> {
    let text: String = get(row, column)?;
    serde_json::from_str(&text).map_err(|e| corrupt(column, e))
}

fn json_opt<T: DeserializeOwned>(row: &SqliteRow, column: &str) -> Result<Option<T>> {
    let text: Option<String> = get(row, column)?;
    text.map(|t| serde_json::from_str(&t).map_err(|e| corrupt(column, e))).transpose()
}

fn currency(row: &SqliteRow, column: &str) -> Result<Currency> {
    let text: String = get(row, column)?;
    Currency::parse(&text).map_err(|e| corrupt(column, e))
}

fn code<T>(
    row: &SqliteRow,
    column: &str,
    parse: fn(&str) -> Result<T, tessera_core::codes::CodeError>,
) -> Result<Option<T>> {
    let text: Option<String> = get(row, column)?;
    text.map(|t| parse(&t).map_err(|e| corrupt(column, e))).transpose()
}

pub(crate) fn agency(row: &SqliteRow) -> Result<Agency> {
    let currency = currency(row, "currency")?;
    Ok(Agency {
        id: parsed(row, "id")?,
        name: get(row, "name")?,
        currency,
        balance: Money::from_minor(get(row, "balance_minor")?, currency),
        credit_limit: Money::from_minor(get(row, "credit_limit_minor")?, currency),
        office_id: code(row, "office_id", OfficeId::parse)?,
        iata_number: code(row, "iata_number", IataNumber::parse)?,
        timezone: parsed(row, "timezone")?,
        vat_percent: parsed(row, "vat_percent")?,
        refund_approval: get(row, "refund_approval")?,
    })
}

pub(crate) fn user(row: &SqliteRow) -> Result<User> {
    user_with_id(row, "id")
}

/// A user whose id was selected under another name, because the query also selects another table's `id`.
pub(crate) fn user_with_id(row: &SqliteRow, id_column: &str) -> Result<User> {
    Ok(User {
        id: parsed(row, id_column)?,
        username: get(row, "username")?,
        role: enumerated(row, "role", Role::parse)?,
        agency_id: parsed_opt(row, "agency_id")?,
    })
}

pub(crate) fn api_key(row: &SqliteRow) -> Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: parsed(row, "id")?,
        user_id: parsed(row, "user_id")?,
        prefix: get(row, "prefix")?,
        created_at: get(row, "created_at")?,
        revoked_at: get(row, "revoked_at")?,
    })
}

pub(crate) fn ledger_entry(row: &SqliteRow) -> Result<LedgerEntry> {
    let currency = currency(row, "currency")?;
    Ok(LedgerEntry {
        id: get(row, "id")?,
        agency_id: parsed(row, "agency_id")?,
        kind: enumerated(row, "kind", LedgerKind::parse)?,
        amount: Money::from_minor(get(row, "amount_minor")?, currency),
        balance_after: Money::from_minor(get(row, "balance_after_minor")?, currency),
        issuance_id: parsed_opt(row, "issuance_id")?,
        note: get(row, "note")?,
        created_at: get(row, "created_at")?,
    })
}

/// The detail JSON carries the booking's content; id, owner and status come from their columns, which are
/// the ones the database keeps current.
pub(crate) fn booking(row: &SqliteRow) -> Result<Booking> {
    Ok(Booking {
        id: parsed(row, "id")?,
        agency_id: parsed(row, "agency_id")?,
        created_by: parsed_opt(row, "created_by")?,
        status: booking_status(row, "status")?,
        created_at: get(row, "created_at")?,
        detail: json(row, "detail")?,
    })
}

pub(crate) fn booking_status(row: &SqliteRow, column: &str) -> Result<BookingStatus> {
    enumerated(row, column, BookingStatus::parse)
}

pub(crate) fn issuance(row: &SqliteRow) -> Result<IssuanceRecord> {
    let currency = currency(row, "currency")?;
    Ok(IssuanceRecord {
        id: parsed(row, "id")?,
        booking_id: parsed(row, "booking_id")?,
        agency_id: parsed(row, "agency_id")?,
        amount_charged: Money::from_minor(get(row, "amount_minor")?, currency),
        commission: Money::from_minor(get(row, "commission_minor")?, currency),
        issued_at: get(row, "issued_at")?,
        issued_by: parsed_opt(row, "issued_by")?,
        attributes: json(row, "attributes")?,
    })
}

pub(crate) fn ticket(row: &SqliteRow, coupons: Vec<Coupon>) -> Result<Ticket> {
    let currency = currency(row, "currency")?;
    let total = Money::from_minor(get(row, "total_minor")?, currency);
    // Tickets issued before `charged_minor` existed were charged their total.
    let charged = get::<Option<i64>>(row, "charged_minor")?.map_or(total, |m| Money::from_minor(m, currency));
    Ok(Ticket {
        number: ticket_number(row, "number")?,
        kind: enumerated(row, "kind", TicketType::parse)?,
        status: enumerated(row, "status", TicketStatus::parse)?,
        issuance_id: parsed(row, "issuance_id")?,
        booking_id: parsed(row, "booking_id")?,
        agency_id: parsed(row, "agency_id")?,
        passenger_id: get(row, "passenger_id")?,
        base: Money::from_minor(get(row, "base_minor")?, currency),
        taxes: json(row, "taxes")?,
        total,
        charged,
        service: json_opt(row, "service")?,
        related_number: code(row, "related_number", TicketNumber::parse)?,
        related_type: get::<Option<String>>(row, "related_type")?
            .map(|t| RelatedType::parse(&t).ok_or_else(|| corrupt("related_type", format!("`{t}`"))))
            .transpose()?,
        coupons,
        issued_at: get(row, "issued_at")?,
        pending_penalty: get::<Option<i64>>(row, "pending_penalty_minor")?.map(|m| Money::from_minor(m, currency)),
    })
}

pub(crate) fn ticket_number(row: &SqliteRow, column: &str) -> Result<TicketNumber> {
    let text: String = get(row, column)?;
    TicketNumber::parse(&text).map_err(|e| corrupt(column, e))
}

pub(crate) fn coupon(row: &SqliteRow) -> Result<Coupon> {
    let number: i64 = get(row, "number")?;
    Ok(Coupon {
        number: u32::try_from(number).map_err(|e| corrupt("coupon number", e))?,
        status: enumerated(row, "status", CouponStatus::parse)?,
        origin: get(row, "origin")?,
        destination: get(row, "destination")?,
        carrier: get(row, "carrier")?,
        flight_number: get(row, "flight_number")?,
        departure_date: get(row, "departure_date")?,
        booking_class: get(row, "booking_class")?,
        fare_basis: get(row, "fare_basis")?,
        service_code: get(row, "service_code")?,
        used_at: get(row, "used_at")?,
    })
}

pub(crate) fn document(row: &SqliteRow) -> Result<DocumentRecord> {
    let kind: String = get(row, "owner_kind")?;
    let key: String = get(row, "owner_key")?;
    let order: Option<String> = get(row, "order_id")?;
    let owner = DocumentOwner::from_stored(&kind, &key, order.as_deref())
        .ok_or_else(|| corrupt("owner_kind/owner_key", format!("`{kind}` `{key}`")))?;
    Ok(DocumentRecord {
        id: parsed(row, "id")?,
        owner,
        agency_id: parsed(row, "agency_id")?,
        storage_key: get(row, "storage_key")?,
        sha256: get(row, "sha256")?,
        size: get(row, "size")?,
        content_type: get(row, "content_type")?,
        filename: get(row, "filename")?,
        created_at: get(row, "created_at")?,
    })
}

pub(crate) fn audit_entry(row: &SqliteRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: get(row, "id")?,
        agency_id: parsed_opt(row, "agency_id")?,
        user_id: parsed_opt(row, "user_id")?,
        username: get(row, "username")?,
        client_addr: get(row, "client_addr")?,
        tracking_id: get(row, "tracking_id")?,
        action: get(row, "action")?,
        booking_id: parsed_opt(row, "booking_id")?,
        ticket_number: get(row, "ticket_number")?,
        issuance_id: parsed_opt(row, "issuance_id")?,
        outcome: get(row, "outcome")?,
        detail: json(row, "detail")?,
        created_at: get(row, "created_at")?,
    })
}

pub(crate) fn outbox_message(row: &SqliteRow) -> Result<OutboxMessage> {
    let attempts: i64 = get(row, "attempts")?;
    Ok(OutboxMessage {
        id: parsed(row, "id")?,
        agency_id: parsed_opt(row, "agency_id")?,
        booking_id: parsed_opt(row, "booking_id")?,
        recipient: get(row, "recipient")?,
        subject: get(row, "subject")?,
        text_body: get(row, "text_body")?,
        html_body: get(row, "html_body")?,
        attachments: json(row, "attachments")?,
        status: enumerated(row, "status", MessageStatus::parse)?,
        attempts: u32::try_from(attempts).map_err(|e| corrupt("attempts", e))?,
        last_error: get(row, "last_error")?,
        next_attempt_at: get(row, "next_attempt_at")?,
        created_at: get(row, "created_at")?,
        sent_at: get(row, "sent_at")?,
    })
}

/// Serializes a value for a JSON TEXT column.
pub(crate) fn json_text<T: serde::Serialize + ?Sized>(value: &T, column: &str) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StorageError::Backend(format!("encoding {column}: {e}")))
}

pub(crate) fn booking_order(row: &SqliteRow) -> Result<BookingOrder> {
    Ok(BookingOrder {
        id: parsed(row, "id")?,
        booking_id: parsed(row, "booking_id")?,
        agency_id: parsed(row, "agency_id")?,
        position: get(row, "position")?,
        event: json(row, "event")?,
        currency: currency(row, "currency")?,
        logistic_status: enumerated(row, "logistic_status", LogisticStatus::parse)?,
        items: json(row, "items")?,
        created_at: get(row, "created_at")?,
    })
}

/// An invoice row ([`INVOICE_COLUMNS`]): the draft from `detail`, its booking and order from their columns.
pub(crate) fn invoice(row: &SqliteRow) -> Result<Invoice> {
    let number: i64 = get(row, "number")?;
    let order: Option<BookingOrderId> = parsed_opt(row, "order_id")?;
    let draft = invoice_draft_from_stored(json(row, "detail")?, parsed(row, "booking_id")?, order.as_ref())
        .map_err(|e| corrupt("detail", e))?;
    Ok(Invoice {
        number: u64::try_from(number).map_err(|e| corrupt("number", e))?,
        agency_id: parsed(row, "agency_id")?,
        issued_at: get(row, "issued_at")?,
        draft,
    })
}

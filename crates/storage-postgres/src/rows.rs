//! Decoding stored rows back into domain types.
//!
//! Everything read from the database is parsed through the same constructors the rest of the system uses
//! (`Currency::parse`, `TicketNumber::parse`, ...), so a corrupted or hand-edited row surfaces as
//! [`tessera_storage::StorageError::Backend`] instead of an invalid value travelling further or a panic.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::Row;
use tessera_core::agency::{Agency, CarrierAgreement, TourCode};
use tessera_core::booking::{Booking, BookingDetail, BookingStatus, Event, Tax};
use tessera_core::codes::{CarrierCode, IataNumber, OfficeId, TicketNumber};
use tessera_core::ids::{AgencyId, ApiKeyId, BookingId, DocumentId, IssuanceId, MessageId, UserId};
use tessera_core::invoice::Invoice;
use tessera_core::ledger::{LedgerEntry, LedgerKind};
use tessera_core::money::{Currency, Money};
use tessera_core::orders::{BookingOrder, BookingOrderId, LogisticStatus, OrderItem};
use tessera_core::ticket::{Coupon, CouponStatus, RelatedType, ServiceInfo, Ticket, TicketStatus, TicketType};
use tessera_core::user::{Role, User};
use tessera_storage::{
    invoice_draft_from_stored, ApiKeyRecord, AuditEntry, DocumentOwner, DocumentRecord, IssuanceRecord,
    MessageAttachment, MessageStatus, OutboxMessage,
};
use uuid::Uuid;

use crate::error::{corrupt, Result};

pub(crate) fn currency(code: &str) -> Result<Currency> {
    Currency::parse(code).map_err(corrupt)
}

fn money(row: &PgRow, column: &str, currency: Currency) -> Result<Money> {
    Ok(Money::from_minor(row.try_get::<i64, _>(column)?, currency))
}

fn parsed<T>(value: &str, parse: impl FnOnce(&str) -> Option<T>, what: &str) -> Result<T> {
    parse(value).ok_or_else(|| corrupt(format!("`{value}` is not a {what}")))
}

pub(crate) fn agency(row: &PgRow) -> Result<Agency> {
    let currency = currency(row.try_get("currency")?)?;
    let office_id: Option<String> = row.try_get("office_id")?;
    let iata_number: Option<String> = row.try_get("iata_number")?;
    Ok(Agency {
        id: AgencyId(row.try_get("id")?),
        name: row.try_get("name")?,
        currency,
        balance: money(row, "balance_minor", currency)?,
        credit_limit: money(row, "credit_limit_minor", currency)?,
        office_id: office_id.as_deref().map(OfficeId::parse).transpose().map_err(corrupt)?,
        iata_number: iata_number.as_deref().map(IataNumber::parse).transpose().map_err(corrupt)?,
        timezone: parsed(row.try_get::<&str, _>("timezone")?, |t| t.parse().ok(), "time zone")?,
        vat_percent: decimal(row.try_get("vat_percent")?, "VAT percent")?,
        refund_approval: row.try_get("refund_approval")?,
    })
}

/// A decimal stored as text (both backends keep decimals that way, so they compare exactly).
fn decimal(value: &str, what: &str) -> Result<Decimal> {
    Decimal::from_str(value).map_err(|e| corrupt(format!("{what} `{value}`: {e}")))
}

pub(crate) fn carrier_agreement(row: &PgRow) -> Result<CarrierAgreement> {
    let cap: Option<String> = row.try_get("commission_cap_percent")?;
    Ok(CarrierAgreement {
        carrier: CarrierCode::parse(row.try_get("carrier")?).map_err(corrupt)?,
        authorized: row.try_get("authorized")?,
        commission_cap_percent: cap.as_deref().map(|c| decimal(c, "commission cap")).transpose()?,
    })
}

pub(crate) fn tour_code(row: &PgRow) -> Result<TourCode> {
    Ok(TourCode {
        code: row.try_get("code")?,
        carrier: CarrierCode::parse(row.try_get("carrier")?).map_err(corrupt)?,
        valid_from: row.try_get::<Option<NaiveDate>, _>("valid_from")?,
        valid_to: row.try_get::<Option<NaiveDate>, _>("valid_to")?,
    })
}

pub(crate) fn ledger_entry(row: &PgRow) -> Result<LedgerEntry> {
    let currency = currency(row.try_get("currency")?)?;
    let kind: String = row.try_get("kind")?;
    Ok(LedgerEntry {
        id: row.try_get("id")?,
        agency_id: AgencyId(row.try_get("agency_id")?),
        kind: parsed(&kind, LedgerKind::parse, "ledger kind")?,
        amount: money(row, "amount_minor", currency)?,
        balance_after: money(row, "balance_after_minor", currency)?,
        issuance_id: row.try_get::<Option<Uuid>, _>("issuance_id")?.map(IssuanceId),
        note: row.try_get("note")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(crate) fn user(row: &PgRow) -> Result<User> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: UserId(row.try_get("id")?),
        username: row.try_get("username")?,
        role: parsed(&role, Role::parse, "role")?,
        agency_id: row.try_get::<Option<Uuid>, _>("agency_id")?.map(AgencyId),
    })
}

/// An API key row; `id_column` lets a join rename the key's id away from the user's.
pub(crate) fn api_key(row: &PgRow, id_column: &str) -> Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: ApiKeyId(row.try_get(id_column)?),
        user_id: UserId(row.try_get("user_id")?),
        prefix: row.try_get("prefix")?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get::<Option<DateTime<Utc>>, _>("revoked_at")?,
    })
}

pub(crate) fn booking_status(s: &str) -> Result<BookingStatus> {
    parsed(s, BookingStatus::parse, "booking status")
}

pub(crate) fn booking(row: &PgRow) -> Result<Booking> {
    let status: String = row.try_get("status")?;
    let Json(detail) = row.try_get::<Json<BookingDetail>, _>("detail")?;
    Ok(Booking {
        id: BookingId(row.try_get("id")?),
        agency_id: AgencyId(row.try_get("agency_id")?),
        created_by: row.try_get::<Option<Uuid>, _>("created_by")?.map(UserId),
        status: booking_status(&status)?,
        created_at: row.try_get("created_at")?,
        detail,
    })
}

pub(crate) fn issuance(row: &PgRow) -> Result<IssuanceRecord> {
    let currency = currency(row.try_get("currency")?)?;
    Ok(IssuanceRecord {
        id: IssuanceId(row.try_get("id")?),
        booking_id: BookingId(row.try_get("booking_id")?),
        agency_id: AgencyId(row.try_get("agency_id")?),
        amount_charged: money(row, "amount_minor", currency)?,
        commission: money(row, "commission_minor", currency)?,
        issued_at: row.try_get("issued_at")?,
        issued_by: row.try_get::<Option<Uuid>, _>("issued_by")?.map(UserId),
        attributes: row.try_get("attributes")?,
    })
}

pub(crate) fn ticket_number(s: &str) -> Result<TicketNumber> {
    TicketNumber::parse(s).map_err(corrupt)
}

/// A ticket without its coupons; the caller attaches them from the `coupons` table.
pub(crate) fn ticket(row: &PgRow) -> Result<Ticket> {
    let currency = currency(row.try_get("currency")?)?;
    let kind: String = row.try_get("kind")?;
    let status: String = row.try_get("status")?;
    let related_number: Option<String> = row.try_get("related_number")?;
    let related_type: Option<String> = row.try_get("related_type")?;
    let Json(taxes) = row.try_get::<Json<Vec<Tax>>, _>("taxes")?;
    let service = row.try_get::<Option<Json<ServiceInfo>>, _>("service")?.map(|Json(s)| s);
    let total = money(row, "total_minor", currency)?;
    // Tickets issued before `charged_minor` existed were charged their total.
    let charged = row.try_get::<Option<i64>, _>("charged_minor")?.map_or(total, |m| Money::from_minor(m, currency));
    let pending_penalty =
        row.try_get::<Option<i64>, _>("pending_penalty_minor")?.map(|m| Money::from_minor(m, currency));
    Ok(Ticket {
        number: ticket_number(row.try_get("number")?)?,
        kind: parsed(&kind, TicketType::parse, "ticket type")?,
        status: parsed(&status, TicketStatus::parse, "ticket status")?,
        issuance_id: IssuanceId(row.try_get("issuance_id")?),
        booking_id: BookingId(row.try_get("booking_id")?),
        agency_id: AgencyId(row.try_get("agency_id")?),
        passenger_id: row.try_get("passenger_id")?,
        base: money(row, "base_minor", currency)?,
        taxes,
        total,
        charged,
        service,
        related_number: related_number.as_deref().map(ticket_number).transpose()?,
        related_type: related_type
            .as_deref()
            .map(|t| parsed(t, RelatedType::parse, "related ticket type"))
            .transpose()?,
        coupons: Vec::new(),
        issued_at: row.try_get("issued_at")?,
        pending_penalty,
    })
}

pub(crate) fn coupon(row: &PgRow) -> Result<Coupon> {
    let number: i32 = row.try_get("number")?;
    let status: String = row.try_get("status")?;
    Ok(Coupon {
        number: u32::try_from(number).map_err(|_| corrupt(format!("coupon number {number}")))?,
        status: parsed(&status, CouponStatus::parse, "coupon status")?,
        origin: row.try_get("origin")?,
        destination: row.try_get("destination")?,
        carrier: row.try_get("carrier")?,
        flight_number: row.try_get("flight_number")?,
        departure_date: row.try_get::<Option<NaiveDate>, _>("departure_date")?,
        booking_class: row.try_get("booking_class")?,
        fare_basis: row.try_get("fare_basis")?,
        service_code: row.try_get("service_code")?,
        used_at: row.try_get::<Option<DateTime<Utc>>, _>("used_at")?,
    })
}

pub(crate) fn document(row: &PgRow) -> Result<DocumentRecord> {
    let kind: String = row.try_get("owner_kind")?;
    let key: String = row.try_get("owner_key")?;
    let order: Option<String> = row.try_get("order_id")?;
    let owner = DocumentOwner::from_stored(&kind, &key, order.as_deref())
        .ok_or_else(|| corrupt(format!("`{kind}` `{key}` is not a document owner")))?;
    Ok(DocumentRecord {
        id: DocumentId(row.try_get("id")?),
        owner,
        agency_id: AgencyId(row.try_get("agency_id")?),
        storage_key: row.try_get("storage_key")?,
        sha256: row.try_get("sha256")?,
        size: row.try_get("size")?,
        content_type: row.try_get("content_type")?,
        filename: row.try_get("filename")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(crate) fn audit_entry(row: &PgRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: row.try_get("id")?,
        agency_id: row.try_get::<Option<Uuid>, _>("agency_id")?.map(AgencyId),
        user_id: row.try_get::<Option<Uuid>, _>("user_id")?.map(UserId),
        username: row.try_get("username")?,
        client_addr: row.try_get("client_addr")?,
        tracking_id: row.try_get("tracking_id")?,
        action: row.try_get("action")?,
        booking_id: row.try_get::<Option<Uuid>, _>("booking_id")?.map(BookingId),
        ticket_number: row.try_get("ticket_number")?,
        issuance_id: row.try_get::<Option<Uuid>, _>("issuance_id")?.map(IssuanceId),
        outcome: row.try_get("outcome")?,
        detail: row.try_get("detail")?,
        created_at: row.try_get("created_at")?,
    })
}

/// The columns [`document`] reads, on a table aliased `d`.
pub(crate) const DOCUMENT_COLUMNS: &str = "d.id, d.owner_kind, d.owner_key, d.agency_id, d.storage_key, d.sha256, \
     d.size, d.content_type, d.filename, d.created_at, d.order_id";

/// The columns [`booking_order`] reads, on a table aliased `o`.
pub(crate) const ORDER_COLUMNS: &str =
    "o.id, o.booking_id, o.agency_id, o.position, o.logistic_status, o.currency, o.created_at, o.event, o.items";

pub(crate) fn booking_order(row: &PgRow) -> Result<BookingOrder> {
    let id: String = row.try_get("id")?;
    let position: i32 = row.try_get("position")?;
    let status: String = row.try_get("logistic_status")?;
    let Json(event) = row.try_get::<Json<Event>, _>("event")?;
    let Json(items) = row.try_get::<Json<Vec<OrderItem>>, _>("items")?;
    Ok(BookingOrder {
        id: BookingOrderId::parse(&id).map_err(corrupt)?,
        booking_id: BookingId(row.try_get("booking_id")?),
        agency_id: AgencyId(row.try_get("agency_id")?),
        position: u32::try_from(position).map_err(|_| corrupt(format!("order position {position}")))?,
        event,
        currency: currency(row.try_get("currency")?)?,
        logistic_status: parsed(&status, LogisticStatus::parse, "logistic status")?,
        items,
        created_at: row.try_get("created_at")?,
    })
}

/// The columns [`invoice`] reads, on a table aliased `i`.
pub(crate) const INVOICE_COLUMNS: &str = "i.agency_id, i.number, i.booking_id, i.order_id, i.issued_at, i.detail";

/// An invoice row: the draft from `detail`, its booking and order from their columns.
pub(crate) fn invoice(row: &PgRow) -> Result<Invoice> {
    let number: i64 = row.try_get("number")?;
    let order: Option<String> = row.try_get("order_id")?;
    let order = order.as_deref().map(BookingOrderId::parse).transpose().map_err(corrupt)?;
    let detail: serde_json::Value = row.try_get("detail")?;
    let draft = invoice_draft_from_stored(detail, BookingId(row.try_get("booking_id")?), order.as_ref())
        .map_err(|e| corrupt(format!("invoice detail: {e}")))?;
    Ok(Invoice {
        number: u64::try_from(number).map_err(|_| corrupt(format!("invoice number {number}")))?,
        agency_id: AgencyId(row.try_get("agency_id")?),
        issued_at: row.try_get("issued_at")?,
        draft,
    })
}

/// The columns [`outbox_message`] reads.
pub(crate) const OUTBOX_COLUMNS: &str = "id, agency_id, booking_id, recipient, subject, text_body, html_body, \
     attachments, status, attempts, last_error, next_attempt_at, created_at, sent_at";

pub(crate) fn outbox_message(row: &PgRow) -> Result<OutboxMessage> {
    let Json(attachments) = row.try_get::<Json<Vec<MessageAttachment>>, _>("attachments")?;
    let status: String = row.try_get("status")?;
    let attempts: i32 = row.try_get("attempts")?;
    Ok(OutboxMessage {
        id: MessageId(row.try_get("id")?),
        agency_id: row.try_get::<Option<Uuid>, _>("agency_id")?.map(AgencyId),
        booking_id: row.try_get::<Option<Uuid>, _>("booking_id")?.map(BookingId),
        recipient: row.try_get("recipient")?,
        subject: row.try_get("subject")?,
        text_body: row.try_get("text_body")?,
        html_body: row.try_get("html_body")?,
        attachments,
        status: parsed(&status, MessageStatus::parse, "message status")?,
        attempts: u32::try_from(attempts).map_err(|e| corrupt(format!("message attempts {attempts}: {e}")))?,
        last_error: row.try_get("last_error")?,
        next_attempt_at: row.try_get::<DateTime<Utc>, _>("next_attempt_at")?,
        created_at: row.try_get::<DateTime<Utc>, _>("created_at")?,
        sent_at: row.try_get::<Option<DateTime<Utc>>, _>("sent_at")?,
    })
}

//! Turning stored rows back into domain types, for every backend. A backend reads a column as one of the few
//! plain types of [`StoredRow`]; the decoders here parse those through the domain's own constructors, so a
//! corrupted or hand-edited row surfaces as [`StorageError::Backend`] naming the column, never as an invalid
//! value travelling further or a panic.

use chrono::{DateTime, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use tessera_core::agency::{Agency, CarrierAgreement, TourCode};
use tessera_core::booking::{Booking, BookingStatus};
use tessera_core::codes::{CarrierCode, IataNumber, OfficeId, TicketNumber};
use tessera_core::ids::{AgencyId, ApiKeyId, BookingId, DocumentId, IssuanceId, MessageId, UserId};
use tessera_core::invoice::Invoice;
use tessera_core::ledger::{LedgerEntry, LedgerKind};
use tessera_core::money::{Currency, Money};
use tessera_core::orders::{BookingOrder, BookingOrderId, LogisticStatus};
use tessera_core::ticket::{Coupon, CouponStatus, RelatedType, Ticket, TicketStatus, TicketType};
use tessera_core::user::{Role, User};
use uuid::Uuid;

use crate::{
    invoice_draft_from_stored, ApiKeyRecord, AuditEntry, DocumentOwner, DocumentRecord, IssuanceRecord, MessageStatus,
    OutboxMessage, Result, StorageError,
};

/// One stored row, its columns read as plain values: `None` for NULL, an error for a column of another type.
pub trait StoredRow {
    fn text(&self, column: &str) -> Result<Option<String>>;
    fn int(&self, column: &str) -> Result<Option<i64>>;
    fn uuid(&self, column: &str) -> Result<Option<Uuid>>;
    fn json(&self, column: &str) -> Result<Option<serde_json::Value>>;
    fn time(&self, column: &str) -> Result<Option<DateTime<Utc>>>;
    fn date(&self, column: &str) -> Result<Option<NaiveDate>>;
    fn flag(&self, column: &str) -> Result<Option<bool>>;
}

/// Stored data that is not what we write.
pub fn corrupt(column: &str, detail: impl std::fmt::Display) -> StorageError {
    StorageError::Backend(format!("stored {column} is invalid: {detail}"))
}

fn some<T>(value: Option<T>, column: &str) -> Result<T> {
    value.ok_or_else(|| corrupt(column, "NULL"))
}

fn text(row: &impl StoredRow, column: &str) -> Result<String> {
    some(row.text(column)?, column)
}

fn int(row: &impl StoredRow, column: &str) -> Result<i64> {
    some(row.int(column)?, column)
}

fn time(row: &impl StoredRow, column: &str) -> Result<DateTime<Utc>> {
    some(row.time(column)?, column)
}

fn flag(row: &impl StoredRow, column: &str) -> Result<bool> {
    some(row.flag(column)?, column)
}

fn id<T>(row: &impl StoredRow, column: &str, make: fn(Uuid) -> T) -> Result<T> {
    Ok(make(some(row.uuid(column)?, column)?))
}

fn id_opt<T>(row: &impl StoredRow, column: &str, make: fn(Uuid) -> T) -> Result<Option<T>> {
    Ok(row.uuid(column)?.map(make))
}

fn unsigned<T: TryFrom<i64>>(row: &impl StoredRow, column: &str) -> Result<T> {
    let value = int(row, column)?;
    T::try_from(value).map_err(|_| corrupt(column, value))
}

/// Parses a text column with one of the domain's `parse(&str) -> Option<_>` functions (enums).
fn enumerated<T>(row: &impl StoredRow, column: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    let value = text(row, column)?;
    parse(&value).ok_or_else(|| corrupt(column, format!("`{value}`")))
}

/// Parses a nullable text column with a constructor that says why it refuses.
fn parsed_opt<T, E: std::fmt::Display>(
    row: &impl StoredRow,
    column: &str,
    parse: impl Fn(&str) -> std::result::Result<T, E>,
) -> Result<Option<T>> {
    row.text(column)?.map(|value| parse(&value).map_err(|e| corrupt(column, e))).transpose()
}

fn parsed<T, E: std::fmt::Display>(
    row: &impl StoredRow,
    column: &str,
    parse: impl Fn(&str) -> std::result::Result<T, E>,
) -> Result<T> {
    some(parsed_opt(row, column, parse)?, column)
}

fn json<T: DeserializeOwned>(row: &impl StoredRow, column: &str) -> Result<T> {
    serde_json::from_value(some(row.json(column)?, column)?).map_err(|e| corrupt(column, e))
}

fn json_opt<T: DeserializeOwned>(row: &impl StoredRow, column: &str) -> Result<Option<T>> {
    row.json(column)?.map(|v| serde_json::from_value(v).map_err(|e| corrupt(column, e))).transpose()
}

fn currency(row: &impl StoredRow) -> Result<Currency> {
    parsed(row, "currency", Currency::parse)
}

fn money(row: &impl StoredRow, column: &str, currency: Currency) -> Result<Money> {
    Ok(Money::from_minor(int(row, column)?, currency))
}

fn money_opt(row: &impl StoredRow, column: &str, currency: Currency) -> Result<Option<Money>> {
    Ok(row.int(column)?.map(|m| Money::from_minor(m, currency)))
}

/// Decimals are stored as text on both backends, so they compare exactly.
fn decimal_opt(row: &impl StoredRow, column: &str) -> Result<Option<rust_decimal::Decimal>> {
    parsed_opt(row, column, str::parse)
}

pub fn agency(row: &impl StoredRow) -> Result<Agency> {
    let currency = currency(row)?;
    Ok(Agency {
        id: id(row, "id", AgencyId)?,
        name: text(row, "name")?,
        currency,
        balance: money(row, "balance_minor", currency)?,
        credit_limit: money(row, "credit_limit_minor", currency)?,
        office_id: parsed_opt(row, "office_id", OfficeId::parse)?,
        iata_number: parsed_opt(row, "iata_number", IataNumber::parse)?,
        timezone: parsed(row, "timezone", str::parse)?,
        vat_percent: some(decimal_opt(row, "vat_percent")?, "vat_percent")?,
        refund_approval: flag(row, "refund_approval")?,
        default_language: parsed(row, "default_language", str::parse)?,
    })
}

pub fn carrier_agreement(row: &impl StoredRow) -> Result<CarrierAgreement> {
    Ok(CarrierAgreement {
        carrier: parsed(row, "carrier", CarrierCode::parse)?,
        authorized: flag(row, "authorized")?,
        commission_cap_percent: decimal_opt(row, "commission_cap_percent")?,
    })
}

pub fn tour_code(row: &impl StoredRow) -> Result<TourCode> {
    Ok(TourCode {
        code: text(row, "code")?,
        carrier: parsed(row, "carrier", CarrierCode::parse)?,
        valid_from: row.date("valid_from")?,
        valid_to: row.date("valid_to")?,
    })
}

pub fn ledger_entry(row: &impl StoredRow) -> Result<LedgerEntry> {
    let currency = currency(row)?;
    Ok(LedgerEntry {
        id: int(row, "id")?,
        agency_id: id(row, "agency_id", AgencyId)?,
        kind: enumerated(row, "kind", LedgerKind::parse)?,
        amount: money(row, "amount_minor", currency)?,
        balance_after: money(row, "balance_after_minor", currency)?,
        issuance_id: id_opt(row, "issuance_id", IssuanceId)?,
        note: row.text("note")?,
        created_at: time(row, "created_at")?,
    })
}

/// A user; `id_column` lets a join select the user's id under another name than the other table's `id`.
pub fn user(row: &impl StoredRow, id_column: &str) -> Result<User> {
    Ok(User {
        id: id(row, id_column, UserId)?,
        username: text(row, "username")?,
        role: enumerated(row, "role", Role::parse)?,
        agency_id: id_opt(row, "agency_id", AgencyId)?,
        session_epoch: int(row, "session_epoch")?,
    })
}

/// An API key; `id_column` lets a join select the key's id under another name than the user's `id`.
pub fn api_key(row: &impl StoredRow, id_column: &str) -> Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: id(row, id_column, ApiKeyId)?,
        user_id: id(row, "user_id", UserId)?,
        prefix: text(row, "prefix")?,
        created_at: time(row, "created_at")?,
        revoked_at: row.time("revoked_at")?,
    })
}

pub fn booking_status(row: &impl StoredRow) -> Result<BookingStatus> {
    enumerated(row, "status", BookingStatus::parse)
}

/// The detail JSON carries the booking's content; id, owner and status come from their columns, which are
/// the ones the database keeps current.
pub fn booking(row: &impl StoredRow) -> Result<Booking> {
    Ok(Booking {
        id: id(row, "id", BookingId)?,
        agency_id: id(row, "agency_id", AgencyId)?,
        created_by: id_opt(row, "created_by", UserId)?,
        status: booking_status(row)?,
        created_at: time(row, "created_at")?,
        detail: json(row, "detail")?,
    })
}

pub fn issuance(row: &impl StoredRow) -> Result<IssuanceRecord> {
    let currency = currency(row)?;
    Ok(IssuanceRecord {
        id: id(row, "id", IssuanceId)?,
        booking_id: id(row, "booking_id", BookingId)?,
        agency_id: id(row, "agency_id", AgencyId)?,
        amount_charged: money(row, "amount_minor", currency)?,
        commission: money(row, "commission_minor", currency)?,
        issued_at: time(row, "issued_at")?,
        issued_by: id_opt(row, "issued_by", UserId)?,
        attributes: some(row.json("attributes")?, "attributes")?,
    })
}

/// A ticket with the coupons the caller read from the `coupons` table.
pub fn ticket(row: &impl StoredRow, coupons: Vec<Coupon>) -> Result<Ticket> {
    let currency = currency(row)?;
    let total = money(row, "total_minor", currency)?;
    Ok(Ticket {
        number: parsed(row, "number", TicketNumber::parse)?,
        kind: enumerated(row, "kind", TicketType::parse)?,
        status: enumerated(row, "status", TicketStatus::parse)?,
        issuance_id: id(row, "issuance_id", IssuanceId)?,
        booking_id: id(row, "booking_id", BookingId)?,
        agency_id: id(row, "agency_id", AgencyId)?,
        passenger_id: text(row, "passenger_id")?,
        base: money(row, "base_minor", currency)?,
        taxes: json(row, "taxes")?,
        total,
        // Tickets issued before `charged_minor` existed were charged their total.
        charged: money_opt(row, "charged_minor", currency)?.unwrap_or(total),
        service: json_opt(row, "service")?,
        related_number: parsed_opt(row, "related_number", TicketNumber::parse)?,
        related_type: row
            .text("related_type")?
            .map(|t| RelatedType::parse(&t).ok_or_else(|| corrupt("related_type", format!("`{t}`"))))
            .transpose()?,
        coupons,
        issued_at: time(row, "issued_at")?,
        pending_penalty: money_opt(row, "pending_penalty_minor", currency)?,
    })
}

pub fn coupon(row: &impl StoredRow) -> Result<Coupon> {
    Ok(Coupon {
        number: unsigned(row, "number")?,
        status: enumerated(row, "status", CouponStatus::parse)?,
        origin: row.text("origin")?,
        destination: row.text("destination")?,
        carrier: row.text("carrier")?,
        flight_number: row.text("flight_number")?,
        departure_date: row.date("departure_date")?,
        booking_class: row.text("booking_class")?,
        fare_basis: row.text("fare_basis")?,
        service_code: row.text("service_code")?,
        used_at: row.time("used_at")?,
    })
}

pub fn document(row: &impl StoredRow) -> Result<DocumentRecord> {
    let (kind, key) = (text(row, "owner_kind")?, text(row, "owner_key")?);
    let owner = DocumentOwner::from_stored(&kind, &key, row.text("order_id")?.as_deref())
        .ok_or_else(|| corrupt("owner_kind/owner_key", format!("`{kind}` `{key}`")))?;
    Ok(DocumentRecord {
        id: id(row, "id", DocumentId)?,
        owner,
        agency_id: id(row, "agency_id", AgencyId)?,
        storage_key: text(row, "storage_key")?,
        sha256: text(row, "sha256")?,
        size: int(row, "size")?,
        content_type: text(row, "content_type")?,
        filename: text(row, "filename")?,
        created_at: time(row, "created_at")?,
    })
}

pub fn audit_entry(row: &impl StoredRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: int(row, "id")?,
        agency_id: id_opt(row, "agency_id", AgencyId)?,
        user_id: id_opt(row, "user_id", UserId)?,
        username: text(row, "username")?,
        client_addr: row.text("client_addr")?,
        tracking_id: row.text("tracking_id")?,
        action: text(row, "action")?,
        booking_id: id_opt(row, "booking_id", BookingId)?,
        ticket_number: row.text("ticket_number")?,
        issuance_id: id_opt(row, "issuance_id", IssuanceId)?,
        outcome: text(row, "outcome")?,
        detail: some(row.json("detail")?, "detail")?,
        created_at: time(row, "created_at")?,
    })
}

pub fn booking_order(row: &impl StoredRow) -> Result<BookingOrder> {
    Ok(BookingOrder {
        id: parsed(row, "id", BookingOrderId::parse)?,
        booking_id: id(row, "booking_id", BookingId)?,
        agency_id: id(row, "agency_id", AgencyId)?,
        position: unsigned(row, "position")?,
        event: json(row, "event")?,
        currency: currency(row)?,
        logistic_status: enumerated(row, "logistic_status", LogisticStatus::parse)?,
        items: json(row, "items")?,
        created_at: time(row, "created_at")?,
    })
}

/// An invoice row: the draft from `detail`, its booking and order from their columns.
pub fn invoice(row: &impl StoredRow) -> Result<Invoice> {
    let order = parsed_opt(row, "order_id", BookingOrderId::parse)?;
    let detail = some(row.json("detail")?, "detail")?;
    let draft = invoice_draft_from_stored(detail, id(row, "booking_id", BookingId)?, order.as_ref())
        .map_err(|e| corrupt("detail", e))?;
    Ok(Invoice {
        number: unsigned(row, "number")?,
        agency_id: id(row, "agency_id", AgencyId)?,
        issued_at: time(row, "issued_at")?,
        draft,
    })
}

pub fn outbox_message(row: &impl StoredRow) -> Result<OutboxMessage> {
    Ok(OutboxMessage {
        id: id(row, "id", MessageId)?,
        agency_id: id_opt(row, "agency_id", AgencyId)?,
        booking_id: id_opt(row, "booking_id", BookingId)?,
        recipient: text(row, "recipient")?,
        subject: text(row, "subject")?,
        text_body: text(row, "text_body")?,
        html_body: text(row, "html_body")?,
        attachments: json(row, "attachments")?,
        status: enumerated(row, "status", MessageStatus::parse)?,
        attempts: unsigned(row, "attempts")?,
        last_error: row.text("last_error")?,
        next_attempt_at: time(row, "next_attempt_at")?,
        created_at: time(row, "created_at")?,
        sent_at: row.time("sent_at")?,
    })
}

pub fn webhook(row: &impl StoredRow) -> Result<crate::Webhook> {
    Ok(crate::Webhook {
        id: id(row, "id", tessera_core::ids::WebhookId)?,
        agency_id: id(row, "agency_id", AgencyId)?,
        url: text(row, "url")?,
        description: row.text("description")?,
        events: json(row, "events")?,
        secret: text(row, "secret")?,
        status: enumerated(row, "status", crate::WebhookStatus::parse)?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

/// A delivery joined with its event (see the backends' `WEBHOOK_DELIVERY_COLUMNS`).
pub fn webhook_delivery(row: &impl StoredRow) -> Result<crate::WebhookDelivery> {
    let code = row.int("last_response_code")?;
    Ok(crate::WebhookDelivery {
        id: id(row, "id", tessera_core::ids::WebhookDeliveryId)?,
        webhook_id: id(row, "webhook_id", tessera_core::ids::WebhookId)?,
        agency_id: id(row, "agency_id", AgencyId)?,
        event_id: id(row, "event_id", tessera_core::ids::WebhookEventId)?,
        event_type: text(row, "event_type")?,
        data: some(row.json("data")?, "data")?,
        event_at: time(row, "event_at")?,
        status: enumerated(row, "status", crate::DeliveryStatus::parse)?,
        attempts: unsigned(row, "attempts")?,
        next_attempt_at: time(row, "next_attempt_at")?,
        last_response_code: code.map(|c| u16::try_from(c).map_err(|_| corrupt("last_response_code", c))).transpose()?,
        last_error: row.text("last_error")?,
        delivered_at: row.time("delivered_at")?,
    })
}

pub fn webhook_attempt(row: &impl StoredRow) -> Result<crate::WebhookAttempt> {
    let code = row.int("response_code")?;
    Ok(crate::WebhookAttempt {
        number: unsigned(row, "number")?,
        at: time(row, "at")?,
        outcome: enumerated(row, "outcome", crate::AttemptOutcome::parse)?,
        response_code: code.map(|c| u16::try_from(c).map_err(|_| corrupt("response_code", c))).transpose()?,
        latency_ms: unsigned(row, "latency_ms")?,
        error: row.text("error")?,
    })
}

//! Reading stored rows: [`Stored`] reads PostgreSQL's columns for the shared decoders of
//! [`tessera_storage::decode`], which parse everything through the domain's own constructors.

use sqlx::postgres::PgRow;
use sqlx::Row;
use tessera_storage::decode::{self, corrupt, StoredRow};
use tessera_storage::Result;
use uuid::Uuid;

/// A PostgreSQL row as the shared decoders read it.
pub(crate) struct Stored<'r>(pub &'r PgRow);

impl Stored<'_> {
    fn get<'r, T>(&'r self, column: &str) -> Result<Option<T>>
    where
        T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    {
        self.0.try_get(column).map_err(|e| corrupt(column, e))
    }
}

impl StoredRow for Stored<'_> {
    fn text(&self, column: &str) -> Result<Option<String>> {
        self.get(column)
    }
    /// BIGINT, or INT for the small counts (positions, coupon numbers, attempts).
    fn int(&self, column: &str) -> Result<Option<i64>> {
        self.get(column).or_else(|_| Ok(self.get::<i32>(column)?.map(i64::from)))
    }
    fn uuid(&self, column: &str) -> Result<Option<Uuid>> {
        self.get(column)
    }
    fn json(&self, column: &str) -> Result<Option<serde_json::Value>> {
        self.get(column)
    }
    fn time(&self, column: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
        self.get(column)
    }
    fn date(&self, column: &str) -> Result<Option<chrono::NaiveDate>> {
        self.get(column)
    }
    fn flag(&self, column: &str) -> Result<Option<bool>> {
        self.get(column)
    }
}

/// `rows::name(&row)` for each shared decoder `decode::name`, in this crate's error type.
macro_rules! decoders {
    ($($name:ident -> $out:ty),* $(,)?) => {
        $(pub(crate) fn $name(row: &PgRow) -> crate::error::Result<$out> {
            Ok(decode::$name(&Stored(row))?)
        })*
    };
}

decoders! {
    agency -> tessera_core::agency::Agency,
    carrier_agreement -> tessera_core::agency::CarrierAgreement,
    tour_code -> tessera_core::agency::TourCode,
    ledger_entry -> tessera_core::ledger::LedgerEntry,
    booking -> tessera_core::booking::Booking,
    issuance -> tessera_storage::IssuanceRecord,
    coupon -> tessera_core::ticket::Coupon,
    document -> tessera_storage::DocumentRecord,
    audit_entry -> tessera_storage::AuditEntry,
    outbox_message -> tessera_storage::OutboxMessage,
    booking_order -> tessera_core::orders::BookingOrder,
    invoice -> tessera_core::invoice::Invoice,
    webhook -> tessera_storage::Webhook,
    webhook_delivery -> tessera_storage::WebhookDelivery,
    webhook_attempt -> tessera_storage::WebhookAttempt,
}

pub(crate) fn signing_key(row: &PgRow) -> crate::error::Result<tessera_storage::SigningKeyRecord> {
    Ok(tessera_storage::signing_key(&Stored(row))?)
}

pub(crate) fn user(row: &PgRow) -> crate::error::Result<tessera_core::user::User> {
    Ok(decode::user(&Stored(row), "id")?)
}

/// An API key row; `id_column` lets a join rename the key's id away from the user's.
pub(crate) fn api_key(row: &PgRow, id_column: &str) -> crate::error::Result<tessera_storage::ApiKeyRecord> {
    Ok(decode::api_key(&Stored(row), id_column)?)
}

/// A ticket without its coupons; the caller attaches them from the `coupons` table.
pub(crate) fn ticket(row: &PgRow) -> crate::error::Result<tessera_core::ticket::Ticket> {
    Ok(decode::ticket(&Stored(row), Vec::new())?)
}

/// The columns [`document`] reads, on a table aliased `d`.
pub(crate) const DOCUMENT_COLUMNS: &str = "d.id, d.owner_kind, d.owner_key, d.agency_id, d.storage_key, d.sha256, \
     d.size, d.content_type, d.filename, d.created_at, d.order_id";

/// The columns [`booking_order`] reads, on a table aliased `o`.
pub(crate) const ORDER_COLUMNS: &str =
    "o.id, o.booking_id, o.agency_id, o.position, o.logistic_status, o.currency, o.created_at, o.event, o.items";

/// The columns [`invoice`] reads, on a table aliased `i`.
pub(crate) const INVOICE_COLUMNS: &str = "i.agency_id, i.number, i.booking_id, i.order_id, i.issued_at, i.detail";

/// The columns [`outbox_message`] reads.
pub(crate) const OUTBOX_COLUMNS: &str = "id, agency_id, booking_id, recipient, subject, text_body, html_body, \
     attachments, status, attempts, last_error, next_attempt_at, created_at, sent_at";

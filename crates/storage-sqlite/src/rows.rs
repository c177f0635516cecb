//! Reading stored rows: the column lists the queries select (next to where they are decoded, so the two
//! cannot drift) and [`Stored`], which reads SQLite's columns for the shared decoders of
//! [`tessera_storage::decode`]. Ids, decimals and JSON are TEXT here and are parsed, never trusted.

use sqlx::sqlite::SqliteRow;
use sqlx::{Decode, Row, Sqlite, Type};
use tessera_storage::decode::{self, corrupt, StoredRow};
use tessera_storage::StorageError;
use uuid::Uuid;

use tessera_storage::Result;

pub(crate) const AGENCY_COLUMNS: &str =
    "id, name, currency, balance_minor, credit_limit_minor, office_id, iata_number, timezone, vat_percent, \
     refund_approval, default_language";

pub(crate) const USER_COLUMNS: &str = "id, username, role, agency_id, session_epoch";

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

pub(crate) fn get<'r, T>(row: &'r SqliteRow, column: &str) -> Result<T>
where
    T: Decode<'r, Sqlite> + Type<Sqlite>,
{
    row.try_get(column).map_err(|e| corrupt(column, e))
}

/// A SQLite row as the shared decoders read it.
pub(crate) struct Stored<'r>(pub &'r SqliteRow);

impl StoredRow for Stored<'_> {
    fn text(&self, column: &str) -> Result<Option<String>> {
        get(self.0, column)
    }
    fn int(&self, column: &str) -> Result<Option<i64>> {
        get(self.0, column)
    }
    fn uuid(&self, column: &str) -> Result<Option<Uuid>> {
        let text: Option<String> = get(self.0, column)?;
        text.map(|t| Uuid::parse_str(&t).map_err(|e| corrupt(column, e))).transpose()
    }
    fn json(&self, column: &str) -> Result<Option<serde_json::Value>> {
        let text: Option<String> = get(self.0, column)?;
        text.map(|t| serde_json::from_str(&t).map_err(|e| corrupt(column, e))).transpose()
    }
    fn time(&self, column: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
        get(self.0, column)
    }
    fn date(&self, column: &str) -> Result<Option<chrono::NaiveDate>> {
        get(self.0, column)
    }
    fn flag(&self, column: &str) -> Result<Option<bool>> {
        get(self.0, column)
    }
}

/// `rows::name(&row)` for each shared decoder `decode::name`.
macro_rules! decoders {
    ($($name:ident -> $out:ty),* $(,)?) => {
        $(pub(crate) fn $name(row: &SqliteRow) -> crate::Result<$out> {
            Ok(decode::$name(&Stored(row))?)
        })*
    };
}

decoders! {
    agency -> tessera_core::agency::Agency,
    ledger_entry -> tessera_core::ledger::LedgerEntry,
    booking -> tessera_core::booking::Booking,
    booking_status -> tessera_core::booking::BookingStatus,
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

pub(crate) fn signing_key(row: &SqliteRow) -> crate::Result<tessera_storage::SigningKeyRecord> {
    Ok(tessera_storage::signing_key(&Stored(row))?)
}

pub(crate) fn user(row: &SqliteRow) -> crate::Result<tessera_core::user::User> {
    Ok(decode::user(&Stored(row), "id")?)
}

pub(crate) fn api_key(row: &SqliteRow) -> crate::Result<tessera_storage::ApiKeyRecord> {
    Ok(decode::api_key(&Stored(row), "id")?)
}

/// A user whose id was selected under another name, because the query also selects another table's `id`.
pub(crate) fn user_with_id(row: &SqliteRow, id_column: &str) -> crate::Result<tessera_core::user::User> {
    Ok(decode::user(&Stored(row), id_column)?)
}

pub(crate) fn ticket(
    row: &SqliteRow,
    coupons: Vec<tessera_core::ticket::Coupon>,
) -> crate::Result<tessera_core::ticket::Ticket> {
    Ok(decode::ticket(&Stored(row), coupons)?)
}

/// Serializes a value for a JSON TEXT column.
pub(crate) fn json_text<T: serde::Serialize + ?Sized>(value: &T, column: &str) -> crate::Result<String> {
    Ok(serde_json::to_string(value).map_err(|e| StorageError::Backend(format!("encoding {column}: {e}")))?)
}

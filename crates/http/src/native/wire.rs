//! Response bodies of the native API: amounts as decimal strings, ticket numbers dashed, ids as UUIDs.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tessera_app::issuing::Issued;
use tessera_core::agency::Agency;
use tessera_core::booking::Booking;
use tessera_core::invoice::Invoice;
use tessera_core::ledger::LedgerEntry;
use tessera_core::ticket::Ticket;
use tessera_core::user::User;
use tessera_storage::{ApiKeyRecord, IssuanceRecord};
use utoipa::ToSchema;
use uuid::Uuid;

/// A booking: its identity and status, then the intake document's fields (names resolved, amounts exact).
#[derive(Serialize, ToSchema)]
pub struct BookingBody {
    pub id: Uuid,
    pub agency_id: Uuid,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<Uuid>,
    /// `type` and the rest of the intake document.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

impl From<&Booking> for BookingBody {
    fn from(b: &Booking) -> Self {
        Self {
            id: b.id.as_uuid(),
            agency_id: b.agency_id.as_uuid(),
            status: b.status.as_str().to_owned(),
            created_at: b.created_at,
            created_by: b.created_by.map(|u| u.as_uuid()),
            detail: serde_json::to_value(&b.detail).unwrap_or_default(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct BookingList {
    pub bookings: Vec<BookingBody>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TaxBody {
    pub code: String,
    pub amount: String,
}

#[derive(Serialize, ToSchema)]
pub struct TicketBody {
    /// `157-6752209683`
    pub number: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    #[serde(rename = "ticketReferenceID")]
    pub issuance_id: Uuid,
    pub booking_id: Uuid,
    pub passenger_id: String,
    pub base_fare: String,
    pub taxes: Vec<TaxBody>,
    pub total: String,
    /// What the agency paid for it: the total less its share of the commission.
    pub charged: String,
    pub currency: String,
    #[schema(value_type = Option<Object>)]
    pub service: Option<serde_json::Value>,
    pub related_number: Option<String>,
    pub related_type: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub coupons: Vec<serde_json::Value>,
    pub issued_at: DateTime<Utc>,
    /// With a refund awaiting approval: the penalty asked for.
    pub pending_penalty: Option<String>,
    /// Invoices and credit invoices covering the ticket, oldest first (only on `GET /api/v1/tickets/{number}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoices: Option<Vec<InvoiceBody>>,
}

/// An invoice or credit invoice with its lines; credit amounts are negative.
#[derive(Serialize, ToSchema)]
pub struct InvoiceBody {
    pub number: u64,
    /// `invoice` or `credit`
    pub kind: String,
    /// For a credit invoice: the number of the invoice it credits.
    pub credits: Option<u64>,
    pub issued_at: DateTime<Utc>,
    pub currency: String,
    /// Ticket numbers or order item ids it bills or credits.
    pub covers: Vec<String>,
    #[schema(value_type = Vec<Object>)]
    pub lines: Vec<serde_json::Value>,
    pub net: String,
    pub vat: String,
    pub gross: String,
}

impl From<&Invoice> for InvoiceBody {
    fn from(i: &Invoice) -> Self {
        let d = &i.draft;
        Self {
            number: i.number,
            kind: d.kind.as_str().to_owned(),
            credits: d.credits,
            issued_at: i.issued_at,
            currency: d.currency.to_string(),
            covers: d.covers.clone(),
            lines: d
                .lines
                .iter()
                .map(|l| {
                    serde_json::json!({
                        "description": l.description,
                        "quantity": l.quantity,
                        "unit_price": l.unit_price.amount_string(),
                        "vat_percent": l.vat_percent.normalize().to_string(),
                        "net": l.net.amount_string(),
                        "vat": l.vat.amount_string(),
                        "gross": l.gross.amount_string(),
                    })
                })
                .collect(),
            net: d.net.amount_string(),
            vat: d.vat.amount_string(),
            gross: d.gross.amount_string(),
        }
    }
}

impl From<&Ticket> for TicketBody {
    fn from(t: &Ticket) -> Self {
        Self {
            number: t.number.to_string(),
            kind: t.kind.as_str().to_owned(),
            status: t.status.as_str().to_owned(),
            issuance_id: t.issuance_id.as_uuid(),
            booking_id: t.booking_id.as_uuid(),
            passenger_id: t.passenger_id.clone(),
            base_fare: t.base.amount_string(),
            taxes: t.taxes.iter().map(|x| TaxBody { code: x.code.clone(), amount: x.amount.amount_string() }).collect(),
            total: t.total.amount_string(),
            charged: t.charged.amount_string(),
            currency: t.total.currency().to_string(),
            service: t.service.as_ref().and_then(|s| serde_json::to_value(s).ok()),
            related_number: t.related_number.as_ref().map(ToString::to_string),
            related_type: t.related_type.map(|r| r.as_str().to_owned()),
            coupons: t.coupons.iter().filter_map(|c| serde_json::to_value(c).ok()).collect(),
            issued_at: t.issued_at,
            pending_penalty: t.pending_penalty.map(|p| p.amount_string()),
            invoices: None,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct IssuanceBody {
    #[serde(rename = "ticketReferenceID")]
    pub id: Uuid,
    pub booking_id: Uuid,
    pub amount_charged: String,
    pub commission: String,
    pub currency: String,
    pub issued_at: DateTime<Utc>,
    pub tickets: Vec<TicketBody>,
}

impl IssuanceBody {
    pub fn new(record: &IssuanceRecord, tickets: &[Ticket]) -> Self {
        Self {
            id: record.id.as_uuid(),
            booking_id: record.booking_id.as_uuid(),
            amount_charged: record.amount_charged.amount_string(),
            commission: record.commission.amount_string(),
            currency: record.amount_charged.currency().to_string(),
            issued_at: record.issued_at,
            tickets: tickets.iter().map(TicketBody::from).collect(),
        }
    }
}

impl From<&Issued> for IssuanceBody {
    fn from(i: &Issued) -> Self {
        Self::new(&i.record, &i.tickets)
    }
}

#[derive(Serialize, ToSchema)]
pub struct AgencyBody {
    pub id: Uuid,
    pub name: String,
    pub currency: String,
    pub balance: String,
    pub credit_limit: String,
    /// Balance plus credit limit: what can still be spent.
    pub available: String,
    pub office_id: Option<String>,
    pub iata_number: Option<String>,
    pub timezone: String,
    /// VAT included in event ticket prices, in percent.
    pub vat_percent: String,
    /// Refunds wait for an admin's approval (`TORFND`).
    pub refund_approval: bool,
    /// The language (`en`, `vi`) of documents of bookings that do not choose one.
    pub default_language: String,
}

impl From<&Agency> for AgencyBody {
    fn from(a: &Agency) -> Self {
        Self {
            id: a.id.as_uuid(),
            name: a.name.clone(),
            currency: a.currency.to_string(),
            balance: a.balance.amount_string(),
            credit_limit: a.credit_limit.amount_string(),
            available: a.available().amount_string(),
            office_id: a.office_id.as_ref().map(ToString::to_string),
            iata_number: a.iata_number.as_ref().map(ToString::to_string),
            timezone: a.timezone.name().to_owned(),
            vat_percent: a.vat_percent.normalize().to_string(),
            refund_approval: a.refund_approval,
            default_language: a.default_language.code().to_owned(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct LedgerBody {
    pub id: i64,
    pub kind: String,
    pub amount: String,
    pub balance_after: String,
    pub currency: String,
    #[serde(rename = "ticketReferenceID")]
    pub issuance_id: Option<Uuid>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<&LedgerEntry> for LedgerBody {
    fn from(e: &LedgerEntry) -> Self {
        Self {
            id: e.id,
            kind: e.kind.as_str().to_owned(),
            amount: e.amount.amount_string(),
            balance_after: e.balance_after.amount_string(),
            currency: e.amount.currency().to_string(),
            issuance_id: e.issuance_id.map(|i| i.as_uuid()),
            note: e.note.clone(),
            created_at: e.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UserBody {
    pub id: Uuid,
    pub username: String,
    pub role: String,
    pub agency_id: Option<Uuid>,
}

impl From<&User> for UserBody {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.as_uuid(),
            username: u.username.clone(),
            role: u.role.as_str().to_owned(),
            agency_id: u.agency_id.map(|a| a.as_uuid()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ApiKeyBody {
    pub id: Uuid,
    pub user_id: Uuid,
    /// The first characters, to tell keys apart.
    pub prefix: String,
    /// The key itself: present only in the response that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKeyBody {
    pub fn new(r: &ApiKeyRecord, key: Option<String>) -> Self {
        Self {
            id: r.id.as_uuid(),
            user_id: r.user_id.as_uuid(),
            prefix: r.prefix.clone(),
            key,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct LinkBody {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// A PDF file, answered as `application/pdf` (documents the download responses; handlers stream the bytes).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct PdfFile(Vec<u8>);

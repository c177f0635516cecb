//! Records that cross the storage interface: what goes in to create things, and what comes back.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tessera_core::agency::TimeZone;
use tessera_core::booking::{BookingDetail, BookingStatus};
use tessera_core::codes::{IataNumber, OfficeId, TicketNumber};
use tessera_core::ids::{AgencyId, ApiKeyId, BookingId, DocumentId, IssuanceId, MessageId, UserId};
use tessera_core::invoice::{Invoice, InvoiceDraft};
use tessera_core::issuance::IssuanceDraft;
use tessera_core::language::Language;
use tessera_core::ledger::{LedgerEntry, LedgerKind};
use tessera_core::lifecycle::CouponState;
use tessera_core::money::{Currency, Money};
use tessera_core::orders::{BookingOrder, BookingOrderId, DownloadItemId, OrderItemId};
use tessera_core::search::{BookingCursor, BookingSort};
use tessera_core::ticket::{RelatedType, Ticket, TicketDraft, TicketStatus};
use tessera_core::user::{Role, User};

#[derive(Debug, Clone)]
pub struct NewAgency {
    pub id: AgencyId,
    pub name: String,
    pub currency: Currency,
    pub credit_limit_minor: i64,
    pub office_id: Option<OfficeId>,
    pub iata_number: Option<IataNumber>,
    pub timezone: TimeZone,
    /// VAT included in event ticket prices, in percent.
    pub vat_percent: Decimal,
    /// Refunds wait for an admin's approval (`TORFND`).
    pub refund_approval: bool,
    /// The language of documents of bookings that do not choose one.
    pub default_language: Language,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewLedgerEntry {
    pub agency_id: AgencyId,
    pub kind: LedgerKind,
    /// Signed, in the agency's currency.
    pub amount: Money,
    pub issuance_id: Option<IssuanceId>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub username: String,
    /// An argon2id PHC string; never the password.
    pub password_hash: String,
    pub role: Role,
    pub agency_id: Option<AgencyId>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub id: ApiKeyId,
    pub user_id: UserId,
    /// SHA-256 (hex) of the key; the key itself is shown once and never stored.
    pub key_hash: String,
    /// The first characters of the key, so people can tell keys apart.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub user_id: UserId,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct BookingFilter {
    pub pnr: Option<String>,
    pub status: Option<BookingStatus>,
    /// Part of a person's name, already folded ([`tessera_core::search::fold`]): bookings where it occurs in
    /// the stored names of one passenger or guest.
    pub name: Option<String>,
    /// Bookings travelling on or after / on or before these days ([`tessera_core::search::travel_date`]).
    pub travel_from: Option<NaiveDate>,
    pub travel_to: Option<NaiveDate>,
    pub sort: BookingSort,
    /// Keyset paging: only bookings after this one in `sort`'s order (ids are time-ordered UUIDv7).
    pub after: Option<BookingCursor>,
    pub limit: u32,
}

/// Who acted, for the audit trail.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Actor {
    pub user_id: Option<UserId>,
    pub username: String,
    pub client_addr: Option<String>,
    pub tracking_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewIssuance {
    pub id: IssuanceId,
    pub draft: IssuanceDraft,
    pub issued_at: DateTime<Utc>,
    pub actor: Actor,
    /// Free-form facts stored with the issuance (reference code, tour code, booker code, ...).
    pub attributes: serde_json::Value,
}

/// Handed to the [`crate::DocumentSink`]: the tickets with their numbers, before commit.
#[derive(Debug, Clone)]
pub struct IssuedTickets {
    pub issuance_id: IssuanceId,
    pub booking_id: BookingId,
    pub agency_id: AgencyId,
    pub issued_at: DateTime<Utc>,
    pub tickets: Vec<Ticket>,
    /// Event bookings: the invoices of the draft with the numbers storage assigned.
    pub invoices: Vec<Invoice>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IssuanceRecord {
    pub id: IssuanceId,
    pub booking_id: BookingId,
    pub agency_id: AgencyId,
    pub amount_charged: Money,
    pub commission: Money,
    pub issued_at: DateTime<Utc>,
    pub issued_by: Option<UserId>,
    pub attributes: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum DocumentOwner {
    Ticket(TicketNumber),
    Issuance(IssuanceId),
    /// One PDF of an event ticket.
    Download(BookingOrderId, DownloadItemId),
    /// The zip bundle of a booking order.
    OrderZip(BookingOrderId),
    /// An invoice (or credit invoice) of a booking order, by its number.
    Invoice(BookingOrderId, u64),
    /// An invoice of a flight booking (its issuance invoice, a credit or exchange invoice), by its number.
    BookingInvoice(BookingId, u64),
}

impl DocumentOwner {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Ticket(_) => "ticket",
            Self::Issuance(_) => "issuance",
            Self::Download(..) => "download",
            Self::OrderZip(_) => "order_zip",
            Self::Invoice(..) => "invoice",
            Self::BookingInvoice(..) => "booking_invoice",
        }
    }

    /// The owner's id as stored, unique within its kind: the 13-digit ticket number, the issuance UUID, the
    /// download item or order id, or `{order}:{number}` for an invoice (numbers are unique per agency only).
    pub fn key(&self) -> String {
        match self {
            Self::Ticket(n) => n.compact(),
            Self::Issuance(i) => i.to_string(),
            Self::Download(_, d) => d.to_string(),
            Self::OrderZip(o) => o.to_string(),
            Self::Invoice(o, n) => format!("{o}:{n}"),
            Self::BookingInvoice(b, n) => format!("{b}:{n}"),
        }
    }

    /// The booking order a document belongs to, stored alongside so an order's documents load in one query.
    pub fn order(&self) -> Option<&BookingOrderId> {
        match self {
            Self::Ticket(_) | Self::Issuance(_) | Self::BookingInvoice(..) => None,
            Self::Download(o, _) | Self::OrderZip(o) | Self::Invoice(o, _) => Some(o),
        }
    }

    /// Rebuilds an owner from its stored columns.
    pub fn from_stored(kind: &str, key: &str, order: Option<&str>) -> Option<Self> {
        let order = || order.and_then(|o| BookingOrderId::parse(o).ok());
        match kind {
            "ticket" => TicketNumber::parse(key).ok().map(Self::Ticket),
            "issuance" => key.parse().ok().map(Self::Issuance),
            "download" => Some(Self::Download(order()?, DownloadItemId::parse(key).ok()?)),
            "order_zip" => Some(Self::OrderZip(BookingOrderId::parse(key).ok()?)),
            "invoice" => {
                let (o, n) = key.split_once(':')?;
                Some(Self::Invoice(BookingOrderId::parse(o).ok()?, n.parse().ok()?))
            }
            "booking_invoice" => {
                let (b, n) = key.split_once(':')?;
                Some(Self::BookingInvoice(b.parse().ok()?, n.parse().ok()?))
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewDocument {
    pub id: DocumentId,
    pub owner: DocumentOwner,
    /// Key in the document store.
    pub storage_key: String,
    pub sha256: String,
    pub size: i64,
    pub content_type: String,
    pub filename: String,
}

impl NewDocument {
    /// A document named by an issuance and rendered after its commit: no file yet (empty key and hash).
    pub fn pending(id: DocumentId, owner: DocumentOwner, filename: String, content_type: &str) -> Self {
        Self {
            id,
            owner,
            storage_key: String::new(),
            sha256: String::new(),
            size: 0,
            content_type: content_type.into(),
            filename,
        }
    }

    pub fn is_pending(&self) -> bool {
        self.sha256.is_empty()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DocumentRecord {
    pub id: DocumentId,
    pub owner: DocumentOwner,
    pub agency_id: AgencyId,
    pub storage_key: String,
    pub sha256: String,
    pub size: i64,
    pub content_type: String,
    pub filename: String,
    pub created_at: DateTime<Utc>,
}

impl DocumentRecord {
    /// Recorded by an issuance whose files were not rendered yet (see [`NewDocument::pending`]): its bytes are
    /// rendered from the database by whoever reads it first.
    pub fn is_pending(&self) -> bool {
        self.sha256.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    pub agency_id: Option<AgencyId>,
    pub actor: Actor,
    /// e.g. `booking.create`, `issuance.create`, `document.download`
    pub action: String,
    pub booking_id: Option<BookingId>,
    pub ticket_number: Option<String>,
    pub issuance_id: Option<IssuanceId>,
    /// `success` or `refused:<code>`
    pub outcome: String,
    pub detail: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub agency_id: Option<AgencyId>,
    pub user_id: Option<UserId>,
    pub username: String,
    pub client_addr: Option<String>,
    pub tracking_id: Option<String>,
    pub action: String,
    pub booking_id: Option<BookingId>,
    pub ticket_number: Option<String>,
    pub issuance_id: Option<IssuanceId>,
    pub outcome: String,
    pub detail: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// e.g. `document.download` for the access log.
    pub action: Option<String>,
    pub booking_id: Option<BookingId>,
    pub ticket_number: Option<String>,
    pub tracking_id: Option<String>,
    pub limit: u32,
}

/// A holder of an idempotency claim: the key, and the token of this holding (a takeover after an expired
/// lease issues a new token, so the previous holder can no longer record an effect or release the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimMark {
    pub scope_key: String,
    pub key: String,
    pub token: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// First time, or a takeover of a claim whose lease expired with nothing done: go ahead, then complete
    /// or release.
    Claimed,
    /// Same key, same request, already answered: replay this.
    Completed {
        status: u16,
        body: Vec<u8>,
    },
    /// Same key, same request: its effect committed (this JSON, written by the script that did it) but its
    /// answer was never stored (the process died in between); rebuild the answer from the effect.
    Done {
        effect: String,
    },
    /// Another copy holds a live lease until then.
    InProgress {
        until: DateTime<Utc>,
    },
    Mismatch,
}

/// A rate limit as a generic cell rate: one token per `interval`, at most `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateQuota {
    pub interval: std::time::Duration,
    pub burst: u32,
}

impl RateQuota {
    /// `per_second` tokens a second (at least 1), `burst` at once (at least 1).
    pub fn per_second(per_second: u32, burst: u32) -> Self {
        let interval = std::time::Duration::from_secs(1) / per_second.max(1);
        Self { interval, burst: burst.max(1) }
    }

    /// The interval and the whole bucket's span in microseconds, as the backends store time.
    pub fn micros(&self) -> (i64, i64) {
        let interval = i64::try_from(self.interval.as_micros()).unwrap_or(i64::MAX).max(1);
        (interval, interval.saturating_mul(i64::from(self.burst)))
    }
}

/// What a rate limit decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    Allowed,
    /// Refused; a token is free after this long.
    Wait(std::time::Duration),
}

impl RateDecision {
    /// The decision for a refused request, from the bucket's theoretical arrival time (`tat_us`): the next
    /// token is free once `tat + interval - burst span` has passed.
    pub fn refused(tat_us: i64, now_us: i64, quota: &RateQuota) -> Self {
        let (interval, span) = quota.micros();
        let wait = tat_us.saturating_add(interval).saturating_sub(span).saturating_sub(now_us).max(1);
        Self::Wait(std::time::Duration::from_micros(u64::try_from(wait).unwrap_or(1)))
    }
}

/// Microseconds since the Unix epoch, as rate limits store time.
pub fn epoch_micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// An e-mail waiting in the outbox.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub id: MessageId,
    /// The agency the message concerns, if any; it decides who sees it in [`crate::Database::list_outbox`].
    pub agency_id: Option<AgencyId>,
    pub booking_id: Option<BookingId>,
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub attachments: Vec<MessageAttachment>,
    pub created_at: DateTime<Utc>,
}

/// A file sent with an e-mail: a reference to the document store, not the bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageAttachment {
    pub filename: String,
    /// Key in the document store.
    pub storage_key: String,
    pub sha256: String,
    pub content_type: String,
    /// The document it is a version of, so a file the store lost can be re-rendered (absent in messages queued
    /// before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<DocumentOwner>,
}

/// Where an outbox message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    /// Waiting to be sent: the first try or a retry, due at `next_attempt_at`.
    Queued,
    Sent,
    /// Given up on.
    Failed,
}

impl MessageStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "queued" => Some(Self::Queued),
            "sent" => Some(Self::Sent),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// An e-mail in the outbox, with its delivery state.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxMessage {
    pub id: MessageId,
    pub agency_id: Option<AgencyId>,
    pub booking_id: Option<BookingId>,
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub attachments: Vec<MessageAttachment>,
    pub status: MessageStatus,
    /// Sending attempts made so far (successful or not).
    pub attempts: u32,
    /// The error of the latest failed attempt, at most [`MAX_MESSAGE_ERROR_CHARS`] characters.
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The most characters of an error [`crate::Database::mark_message_failed`] keeps; the rest is cut.
pub const MAX_MESSAGE_ERROR_CHARS: usize = 1000;

/// `error` cut to its first [`MAX_MESSAGE_ERROR_CHARS`] characters (never inside a character).
pub fn truncate_message_error(error: &str) -> &str {
    match error.char_indices().nth(MAX_MESSAGE_ERROR_CHARS) {
        Some((end, _)) => &error[..end],
        None => error,
    }
}

/// The end of a lease taken at `now`.
pub fn lease_end(now: DateTime<Utc>, lease: chrono::TimeDelta) -> Result<DateTime<Utc>, crate::StorageError> {
    now.checked_add_signed(lease)
        .ok_or_else(|| crate::StorageError::Backend(format!("a lease of {lease} from {now} is out of range")))
}

/// Claimed messages oldest first (by `created_at`, then id): `RETURNING` gives no order.
pub fn oldest_first(mut messages: Vec<OutboxMessage>) -> Vec<OutboxMessage> {
    messages.sort_by_key(|m| (m.created_at, m.id));
    messages
}

pub use tessera_core::ledger::LedgerEntry as LedgerRecord;

/// The first serial handed out for an accounting prefix. Serials then grow by one per ticket, never reused.
pub const FIRST_SERIAL: u64 = 2_100_000_001;

/// A booking order with what was produced for it: its documents (PDFs, zip, invoice PDFs) and invoices.
#[derive(Debug, Clone)]
pub struct OrderRecord {
    pub order: BookingOrder,
    /// The booking's code, which the events API filters by.
    pub booking_code: String,
    pub documents: Vec<DocumentRecord>,
    /// Oldest first.
    pub invoices: Vec<Invoice>,
}

impl OrderRecord {
    pub fn document(&self, owner: &DocumentOwner) -> Option<&DocumentRecord> {
        self.documents.iter().find(|d| &d.owner == owner)
    }
}

/// One page of booking orders and how many match in all.
#[derive(Debug, Clone)]
pub struct OrderPage {
    pub orders: Vec<OrderRecord>,
    pub total: u64,
}

/// What a lifecycle action applies to: a flight ticket or EMD, or an event ticket (an order item).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Subject {
    Ticket { number: TicketNumber },
    Item { order: BookingOrderId, item: OrderItemId },
}

impl Subject {
    /// The ticket number or order item id, as invoices list what they cover and the audit names it.
    pub fn key(&self) -> String {
        match self {
            Self::Ticket { number } => number.compact(),
            Self::Item { item, .. } => item.to_string(),
        }
    }
}

/// An exchange's new ticket: numbered by storage from its draft's prefix, put under the old ticket's issuance
/// with `relatedType` `ORGN`, while the old one gets `EXCH` and the new number.
#[derive(Debug, Clone)]
pub struct Reissue {
    pub draft: TicketDraft,
    /// The booking with the exchange's amendment recorded, stored in place of the old detail.
    pub booking: BookingDetail,
}

/// A lifecycle action planned by the core, executed by [`crate::Database::transition`] atomically.
#[derive(Debug, Clone)]
pub struct NewTransition {
    pub agency_id: AgencyId,
    pub booking_id: BookingId,
    pub subject: Subject,
    /// The state the plan was made from. If the subject is no longer in it, nothing changes and the call
    /// fails with [`crate::StorageError::Stale`], so the caller plans again from the fresh state.
    pub from: TicketStatus,
    pub from_coupons: Vec<CouponState>,
    pub to: TicketStatus,
    /// Every coupon's new state, in coupon order (an item's coupons are its download items).
    pub coupons: Vec<CouponState>,
    pub pending_penalty: Option<Money>,
    /// At most one ledger entry: signed (credits positive). A debit beyond the credit limit fails with
    /// [`crate::StorageError::InsufficientBalance`].
    pub ledger: Option<(LedgerKind, Money)>,
    /// Recorded on the ledger entry: the issuance the subject belongs to.
    pub issuance_id: Option<IssuanceId>,
    /// Numbered like every invoice (gapless per agency); a reissue's number is added to its `covers`.
    pub invoice: Option<InvoiceDraft>,
    pub reissue: Option<Reissue>,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    /// The audit action, e.g. `ticket.void`.
    pub action: String,
    pub detail: serde_json::Value,
}

/// What a transition did, handed to the [`crate::TransitionSink`] before commit and returned after.
#[derive(Debug, Clone)]
pub struct TransitionOutcome {
    pub subject: Subject,
    /// The exchange's new ticket, numbered.
    pub reissued: Option<Ticket>,
    pub invoice: Option<Invoice>,
    pub ledger: Option<LedgerEntry>,
}

// What follows is shared by the backends, so both number, check and record a transition the same way.

impl Reissue {
    /// The exchange's new ticket, numbered `number`: under the old ticket's issuance, booking and agency,
    /// issued at `at` and related to the old ticket as its origin (`ORGN`).
    pub fn ticket(&self, old: &Ticket, number: TicketNumber, at: DateTime<Utc>) -> Ticket {
        let mut ticket =
            Ticket::from_draft(self.draft.clone(), number, old.issuance_id, old.booking_id, old.agency_id, at);
        ticket.related_number = Some(old.number.clone());
        ticket.related_type = Some(RelatedType::ORGN);
        ticket
    }
}

impl NewTransition {
    /// Whether a subject found in `status` with `coupons` is still in the state the plan was made from. Both
    /// the coupons' statuses and their use times count: a coupon scanned meanwhile makes the plan stale.
    pub fn is_current(&self, status: TicketStatus, coupons: &[CouponState]) -> bool {
        status == self.from && coupons == self.from_coupons.as_slice()
    }

    /// The invoice draft to number, covering the reissued ticket too when there is one.
    pub fn invoice_draft(&self, reissued: Option<&Ticket>) -> Option<InvoiceDraft> {
        let mut draft = self.invoice.clone()?;
        if let Some(ticket) = reissued {
            add_cover(&mut draft, ticket.number.compact());
        }
        Some(draft)
    }

    /// The audit entry of the committed transition: the caller's detail with the change's facts added (the
    /// statuses, the invoice number, the ledger amount and the reissued number, each `null` when absent).
    pub fn audit_entry(&self, outcome: &TransitionOutcome) -> NewAuditEntry {
        let mut detail = match &self.detail {
            serde_json::Value::Object(map) => map.clone(),
            serde_json::Value::Null => serde_json::Map::new(),
            // Not an object: kept whole under its own key rather than dropped.
            other => serde_json::Map::from_iter([("detail".to_owned(), other.clone())]),
        };
        let facts = [
            ("from", serde_json::json!(self.from.as_str())),
            ("to", serde_json::json!(self.to.as_str())),
            ("invoice", serde_json::json!(outcome.invoice.as_ref().map(|i| i.number))),
            ("ledger", serde_json::json!(outcome.ledger.as_ref().map(|e| e.amount.amount_string()))),
            ("reissued", serde_json::json!(outcome.reissued.as_ref().map(|t| t.number.compact()))),
        ];
        for (key, value) in facts {
            detail.insert(key.to_owned(), value);
        }
        NewAuditEntry {
            agency_id: Some(self.agency_id),
            actor: self.actor.clone(),
            action: self.action.clone(),
            booking_id: Some(self.booking_id),
            ticket_number: Some(self.subject.key()),
            issuance_id: self.issuance_id,
            outcome: "success".into(),
            detail: serde_json::Value::Object(detail),
            created_at: self.at,
        }
    }
}

/// The invoices of an issuance as storage records them: a flight invoice (one without a booking order) covers
/// every ticket the issuance numbered, in ticket order; event invoices already name their order items.
pub fn covering_issued(drafts: &[InvoiceDraft], tickets: &[Ticket]) -> Vec<InvoiceDraft> {
    drafts
        .iter()
        .cloned()
        .map(|mut draft| {
            if draft.order_id.is_none() {
                for ticket in tickets {
                    add_cover(&mut draft, ticket.number.compact());
                }
            }
            draft
        })
        .collect()
}

fn add_cover(draft: &mut InvoiceDraft, key: String) {
    if !draft.covers.contains(&key) {
        draft.covers.push(key);
    }
}

/// An invoice's stored detail (the draft as JSON) read back, with its booking and order taken from their
/// columns: the columns are what the database keeps, and invoices stored before flight invoices existed have
/// no booking id (nor `covers`, which reads as empty) in their detail.
pub fn invoice_draft_from_stored(
    mut detail: serde_json::Value,
    booking: BookingId,
    order: Option<&BookingOrderId>,
) -> serde_json::Result<InvoiceDraft> {
    if let serde_json::Value::Object(map) = &mut detail {
        map.insert("booking_id".into(), serde_json::to_value(booking)?);
        map.insert("order_id".into(), serde_json::to_value(order)?);
    }
    serde_json::from_value(detail)
}

/// A snapshot of a backend's connection pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open now (idle or in use).
    pub size: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}

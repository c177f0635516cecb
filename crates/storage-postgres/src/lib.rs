//! PostgreSQL implementation of [`tessera_storage::Database`].
//!
//! This crate holds SQL and the reading of PostgreSQL's column types only. The write transactions (issuance,
//! lifecycle transitions, ledger postings, bookings with their orders, documents, distribution channels) are
//! the shared scripts of [`tessera_storage::scripts`], which keep their lock order and retry what PostgreSQL
//! aborts, run on the primitives of `tx`. Reads go to the module of their area: `agencies` (money, ledger,
//! agreements), `identity` (users, API keys), `bookings`, `orders` (booking orders of event bookings, their
//! invoices and documents), `issuance` (issuances, tickets, documents), `lifecycle` (a booking's invoices, the
//! order of a download), `audit`, `idempotency` and `outbox` (e-mails waiting to be sent). Rows are read in
//! `rows` for [`tessera_storage::decode`], and driver errors mapped in `error`. Queries are plain runtime SQL
//! (no compile-time checked macros), so building the crate never needs a database.
//!
//! `testing` (behind the `testing` feature, for tests only) creates throwaway databases from a migrated template
//! for tests of this and other crates.
#![forbid(unsafe_code)]

mod agencies;
mod audit;
mod bookings;
mod error;
mod idempotency;
mod identity;
mod issuance;
mod lifecycle;
mod orders;
mod outbox;
mod rows;
mod shared;
#[cfg(feature = "testing")]
pub mod testing;
mod tx;
mod webhooks;

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use tessera_core::agency::{Agency, AgencySettings, AgreementEntry, Agreements, CarrierAgreement, TourCode};
use tessera_core::booking::{Booking, DistributionChannel};
use tessera_core::codes::TicketNumber;
use tessera_core::ids::{AgencyId, ApiKeyId, BookingId, IssuanceId, MessageId, UserId, WebhookDeliveryId, WebhookId};
use tessera_core::invoice::Invoice;
use tessera_core::language::Language;
use tessera_core::ledger::LedgerEntry;
use tessera_core::orders::{BookingOrder, BookingOrderId, DownloadItemId, OrderFilter, OrderItemId};
use tessera_core::ticket::Ticket;
use tessera_core::user::{Scope, User};
use tessera_storage::group::Writer;
use tessera_storage::scripts;
use tessera_storage::{
    ApiKeyRecord, AuditEntry, AuditFilter, BookingFilter, ClaimMark, Credentials, DocumentOwner, DocumentRecord,
    DocumentSink, IdempotencyClaim, IssuanceRecord, NewAgency, NewApiKey, NewAuditEntry, NewDocument, NewIssuance,
    NewLedgerEntry, NewMessage, NewTransition, NewUser, OrderPage, OrderRecord, OutboxMessage, PoolStats, RateDecision,
    RateQuota, Result, StorageError, TransitionOutcome, TransitionSink,
};
use tessera_storage::{
    NewAttempt, NewWebhook, NewWebhookEvent, SigningKeyRecord, Webhook, WebhookAttempt, WebhookChange, WebhookDelivery,
};
use uuid::Uuid;

/// The schema, embedded at build time from `migrations/`.
pub(crate) static MIGRATOR: Migrator = sqlx::migrate!();

/// The Tessera store on PostgreSQL. Cheap to clone: clones share the pool.
#[derive(Debug, Clone)]
pub struct PostgresDatabase {
    pool: PgPool,
    /// Group commit of the hot writes ([`tessera_storage::group`]).
    writer: Writer<tx::PgTx>,
}

impl PostgresDatabase {
    /// Connects a pool of at most `max_connections` to `url` (`postgres://user@host:port/db`) and brings the
    /// schema up to date. Running migrations from several processes at once is safe: sqlx serializes them
    /// with an advisory lock.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .connect(url)
            .await
            .map_err(|e| StorageError::Backend(format!("connecting to PostgreSQL: {e}")))?;
        MIGRATOR.run(&pool).await.map_err(|e| StorageError::Backend(format!("migrating: {e}")))?;
        let filled = bookings::fill_search_columns(&pool).await?;
        if filled > 0 {
            tracing::info!(filled, "search columns of bookings stored before them filled in");
        }
        let writer_pool = pool.clone();
        let writer = Writer::start(Arc::new(move || {
            let pool = writer_pool.clone();
            Box::pin(async move { begin(&pool, None).await.map(tx::PgTx::new) })
        }));
        Ok(Self { pool, writer })
    }

    /// The underlying pool, for health checks and tools that need raw SQL.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection of the pool; later calls fail. Lets a test drop its database afterwards.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Begins a transaction (`statement`, or a plain `BEGIN`) in a task of its own. sqlx 0.8 leaves the transaction
/// open on the connection when the future running `BEGIN` is dropped before it returns (its guard rolls back only
/// what it has already counted), and the pool then lends that connection out with a stray transaction that
/// swallows, or aborts, the next user's statements. A spawned task is not cancelled with the request: it hands the
/// transaction over, or, when nobody waits for it any more, drops it the ordinary way, rolled back.
pub(crate) async fn begin(
    pool: &PgPool,
    statement: Option<&'static str>,
) -> error::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
    let pool = pool.clone();
    let begun = tokio::spawn(async move {
        match statement {
            Some(statement) => pool.begin_with(statement).await,
            None => pool.begin().await,
        }
    });
    let begun = begun.await.map_err(|e| StorageError::Backend(format!("beginning a transaction: {e}")))?;
    Ok(begun?)
}

/// A [`Scope`] as the two nullable parameters every scoped query takes: `agency_id = $agency` unless NULL,
/// and the booking's `created_by = $customer` unless NULL.
pub(crate) struct ScopeParams {
    pub agency: Option<Uuid>,
    pub customer: Option<Uuid>,
}

impl ScopeParams {
    pub fn of(scope: Scope) -> Self {
        Self { agency: scope.agency().map(|a| a.0), customer: scope.customer().map(|u| u.0) }
    }
}

async fn ping(pool: &PgPool) -> error::Result<()> {
    sqlx::query("SELECT 1").execute(pool).await?;
    Ok(())
}

/// Read from the pool itself: no query, so a scrape never waits for a connection.
async fn pool_stats(pool: &PgPool) -> error::Result<PoolStats> {
    Ok(PoolStats {
        size: pool.size(),
        idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
        max: pool.options().get_max_connections(),
    })
}

tessera_storage::route_database! { PostgresDatabase, "postgres", pool;
    fn ping() -> () = pool ping;
    fn create_agency(agency: &NewAgency) -> Agency = pool agencies::create;
    fn get_agency(id: AgencyId) -> Option<Agency> = pool agencies::get;
    fn list_agencies() -> Vec<Agency> = pool agencies::list;
    fn post_ledger(entry: &NewLedgerEntry) -> LedgerEntry = db scripts::post_ledger;
    fn ledger(agency: AgencyId) -> Vec<LedgerEntry> = pool agencies::ledger;
    fn set_credit_limit(agency: AgencyId, credit_limit_minor: i64) -> Agency = pool agencies::set_credit_limit;
    fn set_agreement(agency: AgencyId, agreement: &CarrierAgreement) -> () = pool agencies::set_agreement;
    fn add_tour_code(agency: AgencyId, tour_code: &TourCode) -> () = pool agencies::add_tour_code;
    fn add_corporate_account(agency: AgencyId, code: &str) -> () = pool agencies::add_corporate_account;
    fn add_booker_code(agency: AgencyId, code: &str) -> () = pool agencies::add_booker_code;
    fn agreements(agency: AgencyId) -> Agreements = pool agencies::agreements;
    fn remove_agreement_entry(agency: AgencyId, entry: &AgreementEntry) -> bool = pool agencies::remove_agreement_entry;
    fn create_user(user: &NewUser) -> User = pool identity::create_user;
    fn get_user(id: UserId) -> Option<User> = pool identity::get_user;
    fn find_credentials(username: &str) -> Option<Credentials> = pool identity::find_credentials;
    fn list_users(agency: Option<AgencyId>) -> Vec<User> = pool identity::list_users;
    fn create_api_key(key: &NewApiKey) -> ApiKeyRecord = pool identity::create_api_key;
    fn find_api_key(key_hash: &str) -> Option<(ApiKeyRecord, User)> = pool identity::find_api_key;
    fn list_api_keys(user: UserId) -> Vec<ApiKeyRecord> = pool identity::list_api_keys;
    fn revoke_api_key(id: ApiKeyId) -> bool = pool identity::revoke_api_key;
    fn end_sessions(user: UserId) -> Option<User> = pool identity::end_sessions;
    fn insert_booking(booking: &Booking, orders: &[BookingOrder], audit: Option<&NewAuditEntry>) -> ()
        = writer scripts::insert_booking;
    fn get_booking(scope: Scope, id: BookingId) -> Option<Booking> = pool bookings::get;
    fn find_booking_by_code(scope: Scope, code: &str) -> Option<Booking> = pool bookings::find_by_code;
    fn list_bookings(scope: Scope, filter: &BookingFilter) -> Vec<Booking> = pool bookings::list;
    fn issue(issuance: &NewIssuance, sink: Arc<dyn DocumentSink>) -> IssuanceRecord = writer scripts::issue;
    fn fill_documents(agency: AgencyId, documents: &[NewDocument]) -> () = writer scripts::fill_documents;
    fn get_issuance(scope: Scope, id: IssuanceId) -> Option<IssuanceRecord> = pool issuance::get_issuance;
    fn find_issuance_by_booking(scope: Scope, booking: BookingId) -> Option<IssuanceRecord>
        = pool issuance::find_issuance_by_booking;
    fn get_ticket(scope: Scope, number: &TicketNumber) -> Option<Ticket> = pool issuance::get_ticket;
    fn tickets_of_issuance(scope: Scope, id: IssuanceId) -> Vec<Ticket> = pool issuance::tickets_of_issuance;
    fn get_document(scope: Scope, owner: &DocumentOwner) -> Option<DocumentRecord> = pool issuance::get_document;
    fn transition(change: &NewTransition, sink: &dyn TransitionSink) -> TransitionOutcome = db scripts::transition;
    fn invoices_of_booking(scope: Scope, booking: BookingId) -> Vec<Invoice> = pool lifecycle::invoices_of_booking;
    fn order_of_download(scope: Scope, download: &DownloadItemId) -> Option<BookingOrderId>
        = pool lifecycle::order_of_download;
    fn set_refund_approval(agency: AgencyId, required: bool) -> Agency = pool agencies::set_refund_approval;
    fn set_default_language(agency: AgencyId, language: Language) -> Agency = pool agencies::set_default_language;
    fn update_agency_settings(agency: AgencyId, settings: &AgencySettings) -> Agency = pool agencies::update_agency_settings;
    fn orders_of_booking(scope: Scope, booking: BookingId) -> Vec<BookingOrder> = pool orders::orders_of_booking;
    fn list_booking_orders(scope: Scope, filter: &OrderFilter, offset: u64, limit: u32) -> OrderPage
        = pool orders::list_booking_orders;
    fn get_booking_order(scope: Scope, id: &BookingOrderId) -> Option<OrderRecord> = pool orders::get_booking_order;
    fn set_distribution_channel(
        scope: Scope,
        order: &BookingOrderId,
        item: &OrderItemId,
        channel: DistributionChannel,
    ) -> Option<BookingOrder>
        = db scripts::set_distribution_channel;
    fn replace_document(agency: AgencyId, document: &NewDocument, at: DateTime<Utc>) -> ()
        = db scripts::replace_document;
    fn append_audit(entry: &NewAuditEntry) -> () = writer scripts::append_audit;
    fn append_audit_batch(entries: &[NewAuditEntry]) -> () = pool audit::append_batch;
    fn list_audit(scope: Scope, filter: &AuditFilter) -> Vec<AuditEntry> = pool audit::list;
    fn shared_secret(name: &str, candidate: &[u8]) -> Vec<u8> = pool shared::shared_secret;
    fn take_rate_token(key: &str, now: DateTime<Utc>, quota: RateQuota) -> RateDecision = pool shared::take_rate_token;
    fn signing_keys() -> Vec<SigningKeyRecord> = pool shared::signing_keys;
    fn add_signing_key(key: &SigningKeyRecord) -> () = pool shared::add_signing_key;
    fn retire_signing_key(kid: &str, at: DateTime<Utc>) -> bool = pool shared::retire_signing_key;
    fn claim_idempotency(mark: &ClaimMark, request_hash: &str, now: DateTime<Utc>, lease: TimeDelta) -> IdempotencyClaim = writer scripts::claim_idempotency;
    fn complete_idempotency(scope_key: &str, key: &str, status: u16, body: &[u8]) -> () = writer scripts::complete_idempotency;
    fn release_idempotency(mark: &ClaimMark) -> () = pool idempotency::release;
    fn enqueue_message(message: &NewMessage) -> () = pool outbox::enqueue;
    fn claim_due_messages(now: DateTime<Utc>, lease: TimeDelta, limit: u32) -> Vec<OutboxMessage>
        = pool outbox::claim_due;
    fn claim_message(id: MessageId, now: DateTime<Utc>, lease: TimeDelta) -> Option<OutboxMessage> = pool outbox::claim;
    fn mark_message_sent(id: MessageId, now: DateTime<Utc>) -> () = pool outbox::mark_sent;
    fn mark_message_failed(id: MessageId, error: &str, retry_at: Option<DateTime<Utc>>) -> ()
        = pool outbox::mark_failed;
    fn get_message(id: MessageId) -> Option<OutboxMessage> = pool outbox::get;
    fn list_outbox(scope: Scope, limit: u32) -> Vec<OutboxMessage> = pool outbox::list;
    fn create_webhook(webhook: &NewWebhook) -> Webhook = pool webhooks::create;
    fn get_webhook(scope: Scope, id: WebhookId) -> Option<Webhook> = pool webhooks::get;
    fn list_webhooks(scope: Scope) -> Vec<Webhook> = pool webhooks::list;
    fn update_webhook(scope: Scope, id: WebhookId, change: &WebhookChange, at: DateTime<Utc>) -> Option<Webhook>
        = pool webhooks::update;
    fn delete_webhook(scope: Scope, id: WebhookId) -> bool = pool webhooks::delete;
    fn record_webhook_event(event: &NewWebhookEvent) -> u64 = db scripts::webhooks::record;
    fn low_balance_threshold(agency: AgencyId) -> Option<i64> = pool webhooks::low_balance_threshold;
    fn set_low_balance_threshold(agency: AgencyId, threshold_minor: Option<i64>) -> ()
        = pool webhooks::set_low_balance_threshold;
    fn claim_due_webhook_deliveries(now: DateTime<Utc>, lease: TimeDelta, limit: u32) -> Vec<WebhookDelivery>
        = pool webhooks::claim_due;
    fn record_webhook_attempt(attempt: &NewAttempt) -> () = pool webhooks::record_attempt;
    fn list_webhook_deliveries(scope: Scope, webhook: WebhookId, limit: u32)
        -> Vec<(WebhookDelivery, Vec<WebhookAttempt>)> = pool webhooks::list_deliveries;
    fn retry_webhook_delivery(scope: Scope, webhook: WebhookId, delivery: WebhookDeliveryId, now: DateTime<Utc>)
        -> Option<WebhookDelivery> = pool webhooks::retry;
    fn count_pending_messages() -> u64 = pool outbox::count_pending;
    fn retry_message(id: MessageId, now: DateTime<Utc>) -> bool = pool outbox::retry;
    fn pool_stats() -> PoolStats = pool pool_stats;
}

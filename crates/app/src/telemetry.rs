//! Tessera's own metrics, named once here: the binary describes them to its Prometheus exporter
//! ([`describe`]), and the services record through the small functions below.
//!
//! Recording goes through the `metrics` facade: without an installed recorder (metrics off, the default) each
//! call is a no-op; with one it is a hashed lookup and an atomic add, cheap enough for issuance at thousands a
//! second. Label values are always from a fixed set (never user input), so series cannot multiply.

use std::time::Instant;

pub const HTTP_REQUESTS: &str = "http_requests_total";
pub const HTTP_DURATION: &str = "http_request_duration_seconds";
pub const ISSUANCES: &str = "tessera_issuances_total";
pub const TICKETS_ISSUED: &str = "tessera_tickets_issued_total";
pub const RENDER_SECONDS: &str = "tessera_document_render_seconds";
pub const OUTBOX_PENDING: &str = "tessera_outbox_pending";
pub const WEBHOOK_DELIVERIES: &str = "tessera_webhook_deliveries_total";
pub const DB_POOL_CONNECTIONS: &str = "tessera_db_pool_connections";
pub const DB_POOL_IDLE: &str = "tessera_db_pool_idle_connections";
pub const DB_POOL_MAX: &str = "tessera_db_pool_max_connections";
pub const BUILD_INFO: &str = "tessera_build_info";
pub const DOCUMENTS_DEFERRED: &str = "tessera_documents_deferred_total";

/// The outcomes of a webhook delivery attempt, the only values of `tessera_webhook_deliveries_total{outcome}`.
pub const WEBHOOK_OUTCOMES: [&str; 2] = ["success", "failure"];

/// Which API (or tool) asked for an issuance: the `profile` label of `tessera_issuances_total`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Profile {
    /// The native API (`POST /api/v1/bookings/{id}/issue`), also used by the events API's clients.
    #[default]
    Native,
    /// The agent API (`POST /issue-ticket`).
    Agent,
    /// The GDS API (`POST /api/v1/flight/issueticket`).
    Gds,
    /// The group API (`POST /tickets`).
    Group,
    /// `tessera import --issue`.
    Import,
}

impl Profile {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Native => "native",
            Self::Agent => "agent",
            Self::Gds => "gds",
            Self::Group => "group",
            Self::Import => "import",
        }
    }
}

/// Registers the help text (and units) of every metric with the installed recorder, sets the build info and
/// creates the webhook delivery series at zero, so dashboards see them before the first event.
pub fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(HTTP_REQUESTS, "HTTP requests answered, by method, route template and status");
    describe_histogram!(HTTP_DURATION, Unit::Seconds, "Time to answer an HTTP request, by method, route and status");
    describe_counter!(ISSUANCES, "Issuance attempts, by API profile and outcome (success or the refusal's code)");
    describe_counter!(TICKETS_ISSUED, "Flight tickets issued, by type (TKT, EMD)");
    describe_histogram!(RENDER_SECONDS, Unit::Seconds, "Time to render one document, by kind");
    describe_counter!(
        DOCUMENTS_DEFERRED,
        "Issuances whose documents were left to their first read because every background render was busy"
    );
    describe_gauge!(OUTBOX_PENDING, "E-mail messages waiting in the outbox (queued, due or not)");
    describe_counter!(WEBHOOK_DELIVERIES, "Webhook delivery attempts, by outcome (success, failure)");
    describe_gauge!(DB_POOL_CONNECTIONS, "Open database connections of this process's pool");
    describe_gauge!(DB_POOL_IDLE, "Idle database connections of this process's pool");
    describe_gauge!(DB_POOL_MAX, "The most database connections this process's pool opens");
    describe_gauge!(BUILD_INFO, "Always 1; the version label says which build runs");
    metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    for outcome in WEBHOOK_OUTCOMES {
        metrics::counter!(WEBHOOK_DELIVERIES, "outcome" => outcome).increment(0);
    }
}

/// One issuance attempt: `outcome` is `success`, a refusal's stable code, or `error`.
pub fn issuance(profile: Profile, outcome: &'static str) {
    metrics::counter!(ISSUANCES, "profile" => profile.as_str(), "outcome" => outcome).increment(1);
}

/// `count` tickets of one type issued.
pub fn tickets_issued(kind: &'static str, count: u64) {
    metrics::counter!(TICKETS_ISSUED, "type" => kind).increment(count);
}

/// One webhook delivery attempt (for the webhook worker): `success` for a 2xx answer, `failure` otherwise.
pub fn webhook_delivery(success: bool) {
    let outcome = if success { WEBHOOK_OUTCOMES[0] } else { WEBHOOK_OUTCOMES[1] };
    metrics::counter!(WEBHOOK_DELIVERIES, "outcome" => outcome).increment(1);
}

/// A new issuance's documents left to be rendered on first read: the background renders were all busy.
pub(crate) fn documents_deferred() {
    metrics::counter!(DOCUMENTS_DEFERRED).increment(1);
}

/// Runs one document rendering and records how long it took under `kind`.
pub(crate) fn timed<T>(kind: &'static str, render: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = render();
    metrics::histogram!(RENDER_SECONDS, "kind" => kind).record(start.elapsed().as_secs_f64());
    out
}

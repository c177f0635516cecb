//! The conformance suite every storage backend must pass, so all backends behave the same.
//!
//! Each check is a `pub async fn` taking a fresh, empty database; it panics (through `assert!`) when the
//! backend misbehaves. [`database_tests!`](crate::database_tests) turns them into one `#[tokio::test]` each,
//! so a failure names the behaviour that broke. In a backend crate's `tests/conformance.rs`:
//!
//! ```text
//! tessera_storage::database_tests!(async {
//!     let dir = tempfile::TempDir::new().expect("temp dir");
//!     let db = SqliteDatabase::open(&dir.path().join("tessera.db")).await.expect("open");
//!     // The second element lives until the check ends: a temp dir, a throwaway schema, ...
//!     (std::sync::Arc::new(db), dir)
//! });
//! ```
//!
//! The expansion uses `#[tokio::test]`, so the calling crate needs `tokio` (with `macros` and
//! `rt-multi-thread`) among its dev-dependencies.
//!
//! The data is realistic but built by hand (a one-way Kathmandu–London flight via Doha for two adults with
//! one paid bag, and the issuance draft for it), so the suite does not depend on reference data or intake.
//! Timestamps are truncated to microseconds, the finest precision every backend keeps.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, SubsecRound, Utc};
use rust_decimal::Decimal;
use tessera_core::agency::{Agency, Agreements, CarrierAgreement, TourCode};
use tessera_core::booking::{
    Amendment, Baggage, Booking, BookingDetail, BookingStatus, Contact, Distribution, DistributionChannel, Event,
    EventBooking, EventItem, EventOrder, Fare, FlightBooking, Guest, Journey, Passenger, PassengerType, Place, Seat,
    Segment, Service, ServiceType, Tax, TripType,
};
use tessera_core::codes::{
    AccountingPrefix, AirportCode, BookingCode, CarrierCode, IataNumber, OfficeId, Pnr, SystemCode, TicketNumber,
};
use tessera_core::ids::{AgencyId, ApiKeyId, BookingId, DocumentId, IssuanceId, MessageId, UserId};
use tessera_core::invoice::{credit_for, exchange_invoice, invoice_for_flight, Credit, Invoice, InvoiceDraft};
use tessera_core::issuance::{flight_coupons, plan_event, IssuanceDraft, IssueOptions};
use tessera_core::ledger::{LedgerEntry, LedgerKind};
use tessera_core::lifecycle::{self, Action, CouponState};
use tessera_core::money::{Currency, Money};
use tessera_core::orders::{
    booking_orders, BookingOrder, BookingOrderId, DownloadItemId, LogisticStatus, OrderFilter, OrderItem, OrderItemId,
};
use tessera_core::ticket::{
    Coupon, CouponStatus, RelatedType, ServiceInfo, Ticket, TicketDraft, TicketStatus, TicketType,
};
use tessera_core::user::{Role, Scope, User};
use uuid::Uuid;

use crate::{
    Actor, AuditFilter, BookingFilter, Database, DocumentOwner, DocumentRecord, DocumentSink, IdempotencyClaim,
    IssuanceRecord, IssuedTickets, MessageAttachment, MessageStatus, NewAgency, NewApiKey, NewAuditEntry, NewDocument,
    NewIssuance, NewLedgerEntry, NewMessage, NewTransition, NewUser, OrderPage, OrderRecord, OutboxMessage, Reissue,
    SinkError, StorageError, Subject, TransitionOutcome, TransitionSink, FIRST_SERIAL, MAX_MESSAGE_ERROR_CHARS,
};

/// Expands to one `#[tokio::test]` per check of [`crate::testsuite`]. `$make` is an expression evaluating to
/// a future of `(Arc<impl Database>, guard)`: a fresh empty database for one check, and whatever must stay
/// alive while the check runs (dropped after it).
#[macro_export]
macro_rules! database_tests {
    ($make:expr) => {
        $crate::database_tests!(@checks $make;
            ping,
            agencies_create_get_list,
            ledger_credits_and_debits,
            ledger_refuses_debit_past_credit_limit,
            ledger_refuses_unknown_agency_and_other_currency,
            credit_limit_changes,
            agreements_upsert_and_read,
            users_create_find_list,
            api_keys_lifecycle,
            bookings_insert_and_conflict,
            bookings_scoped_reads,
            bookings_list_filters_and_paging,
            issue_happy_path,
            issue_numbers_per_prefix_in_ticket_order,
            issue_sink_failure_leaves_nothing,
            issue_twice_is_refused,
            issue_refuses_unconfirmed_and_unknown_bookings,
            issue_insufficient_balance_changes_nothing,
            issue_concurrent_same_booking,
            issue_concurrent_balance_race,
            issuance_scope_isolation,
            audit_filters_and_scope,
            orders_insert_and_read,
            orders_list_filters_and_paging,
            issue_event_invoices_and_documents,
            issue_event_concurrent_invoice_numbers,
            issue_event_sink_failure_consumes_no_invoice_number,
            orders_set_distribution_channel,
            orders_concurrent_channel_changes_are_not_lost,
            orders_replace_document,
            idempotency_lifecycle,
            outbox_enqueue_and_get,
            outbox_claim_due_selects_orders_and_leases,
            outbox_claim_message,
            outbox_mark_sent_and_failed,
            outbox_list_scope_and_order,
            outbox_concurrent_claims_never_overlap,
            lifecycle_void_ticket,
            lifecycle_stale_plan_changes_nothing,
            lifecycle_sink_failure_changes_nothing,
            lifecycle_insufficient_balance_changes_nothing,
            lifecycle_use_coupons_and_await_approval,
            lifecycle_exchange_reissues_ticket,
            lifecycle_event_items,
            lifecycle_concurrent_transitions_one_wins,
            lifecycle_invoices_and_downloads_in_scope,
            agencies_refund_approval,
        );
    };
    (@checks $make:expr; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() {
                let (db, _guard) = $make.await;
                $crate::testsuite::$check(db).await;
            }
        )*
    };
}

// ---------------------------------------------------------------------------------------------------------
// Test data
// ---------------------------------------------------------------------------------------------------------

/// What [`draft_for`] debits for a [`flight_booking`]: two adult fares of 460.00 and a 60.00 bag.
pub const PAYABLE_MINOR: i64 = 2 * 46_000 + 6_000;

/// The accounting prefix of the validating carrier (Qatar Airways) used throughout.
pub const PREFIX: &str = "157";

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn usd() -> Currency {
    Currency::parse("USD").expect("USD")
}

fn usd_minor(minor: i64) -> Money {
    Money::from_minor(minor, usd())
}

fn prefix(code: &str) -> AccountingPrefix {
    AccountingPrefix::parse(code).expect("accounting prefix")
}

fn number(prefix_code: &str, serial: u64) -> TicketNumber {
    TicketNumber::new(prefix(prefix_code), serial).expect("ticket number")
}

/// Upper-case letters and digits, fresh each call, for PNRs and names that must not collide.
fn unique(len: usize) -> String {
    Uuid::new_v4().simple().to_string()[..len].to_uppercase()
}

fn new_agency_record(credit_limit_minor: i64) -> NewAgency {
    NewAgency {
        id: AgencyId::generate(),
        name: format!("Himalayan Wings {}", unique(4)),
        currency: usd(),
        credit_limit_minor,
        office_id: Some(OfficeId::parse("KTMNP2100").expect("office id")),
        iata_number: Some(IataNumber::parse("35301234").expect("iata number")),
        timezone: "Asia/Kathmandu".parse().expect("a time zone"),
        vat_percent: Decimal::new(13, 0),
        refund_approval: false,
        created_at: now(),
    }
}

async fn new_agency(db: &dyn Database, credit_limit_minor: i64) -> Agency {
    db.create_agency(&new_agency_record(credit_limit_minor)).await.expect("create agency")
}

async fn new_user(db: &dyn Database, agency: Option<AgencyId>, role: Role) -> User {
    let user = NewUser {
        id: UserId::generate(),
        username: format!("{}-{}", role.as_str(), unique(8).to_lowercase()),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".into(),
        role,
        agency_id: agency,
        created_at: now(),
    };
    db.create_user(&user).await.expect("create user")
}

async fn post(db: &dyn Database, agency: AgencyId, kind: LedgerKind, minor: i64) -> LedgerEntry {
    db.post_ledger(&NewLedgerEntry {
        agency_id: agency,
        kind,
        amount: usd_minor(minor),
        issuance_id: None,
        note: Some(format!("{} {minor}", kind.as_str())),
        created_at: now(),
    })
    .await
    .expect("post ledger")
}

async fn top_up(db: &dyn Database, agency: AgencyId, minor: i64) -> LedgerEntry {
    post(db, agency, LedgerKind::TopUp, minor).await
}

async fn balance(db: &dyn Database, agency: AgencyId) -> i64 {
    db.get_agency(agency).await.expect("get agency").expect("agency exists").balance.minor()
}

/// Asserts the ledger invariant and returns the ledger.
async fn ledger_matches_balance(db: &dyn Database, agency: AgencyId) -> Vec<LedgerEntry> {
    let ledger = db.ledger(agency).await.expect("ledger");
    let sum: i64 = ledger.iter().map(|e| e.amount.minor()).sum();
    assert_eq!(sum, balance(db, agency).await, "the balance must equal the sum of the ledger");
    ledger
}

fn place(airport: &str, name: &str, city: &str, country: &str, time: DateTime<Utc>, offset_minutes: i32) -> Place {
    let offset = FixedOffset::east_opt(offset_minutes * 60).expect("offset");
    Place {
        airport: AirportCode::parse(airport).expect("airport"),
        airport_name: name.into(),
        city: city.into(),
        country: country.into(),
        terminal: "1".into(),
        time: time.with_timezone(&offset),
    }
}

/// A confirmed one-way KTM–DOH–LHR flight on QR for two adults, with one paid bag for the first.
pub fn flight_booking(agency: AgencyId, created_by: Option<UserId>) -> Booking {
    let departure = now() + Duration::days(30);
    let fare = Fare {
        passenger_type: PassengerType::ADT,
        base: usd_minor(40_000),
        taxes: vec![
            Tax { code: "YQ".into(), amount: usd_minor(5_000) },
            Tax { code: "NP".into(), amount: usd_minor(1_000) },
        ],
        total: usd_minor(46_000),
    };
    let passenger = |id: &str, given: &str| Passenger {
        id: id.into(),
        kind: PassengerType::ADT,
        title: Some("MR".into()),
        surname: "SHERPA".into(),
        given_name: Some(given.into()),
        date_of_birth: NaiveDate::from_ymd_opt(1988, 4, 12),
        accompanied_by: None,
    };
    let segment = |flight: &str, from: Place, to: Place| Segment {
        carrier: CarrierCode::parse("QR").expect("carrier"),
        carrier_name: "Qatar Airways".into(),
        flight_number: flight.into(),
        equipment: Some("359".into()),
        booking_class: "Q".into(),
        fare_basis: "QLR1R1NP".into(),
        departure: from,
        arrival: to,
    };
    let flight = FlightBooking {
        pnr: Pnr::parse(&unique(6)).expect("pnr"),
        system: SystemCode::parse("1A").expect("system"),
        validating_carrier: CarrierCode::parse("QR").expect("carrier"),
        validating_carrier_name: "Qatar Airways".into(),
        trip_type: TripType::Oneway,
        currency: usd(),
        ticketing_deadline: now() + Duration::days(2),
        contact: Contact { email: "travel@example.com".into(), phone: Some("+977 1 4410000".into()) },
        passengers: vec![passenger("P1", "PEMBA"), passenger("P2", "DAWA")],
        journeys: vec![Journey {
            airline_confirmation_code: Some("QR7X2K".into()),
            baggage: Baggage { cabin: Some("7kg".into()), checked: Some("30kg".into()) },
            segments: vec![
                segment(
                    "QR647",
                    place("KTM", "Tribhuvan International", "Kathmandu", "NP", departure, 345),
                    place("DOH", "Hamad International", "Doha", "QA", departure + Duration::hours(5), 180),
                ),
                segment(
                    "QR3",
                    place("DOH", "Hamad International", "Doha", "QA", departure + Duration::hours(8), 180),
                    place("LHR", "Heathrow", "London", "GB", departure + Duration::hours(15), 60),
                ),
            ],
        }],
        fares: vec![fare],
        cashback: usd_minor(0),
        services: vec![Service {
            passenger_id: "P1".into(),
            kind: ServiceType::Baggage,
            code: "XBAG".into(),
            description: "Extra bag 23kg".into(),
            amount: usd_minor(6_000),
        }],
        endorsement: Some("NON-END".into()),
        refundable: false,
        distribution: Distribution::Gds,
        payment: None,
        amendments: Vec::new(),
    };
    Booking {
        id: BookingId::generate(),
        agency_id: agency,
        created_by,
        status: BookingStatus::Confirmed,
        created_at: now(),
        detail: BookingDetail::Flight(flight),
    }
}

/// The event of the first order of an [`event_booking`].
pub const EVENT_MATCH: &str = "lfc-ars-2027";
/// The event of the second order of an [`event_booking`]: a three-day pass.
pub const EVENT_PASS: &str = "f1-zandvoort-2027";
/// What an [`event_booking`] costs: 2 × 189.00 + 649.50 + 4200.00.
pub const EVENT_PAYABLE_MINOR: i64 = 2 * 18_900 + 64_950 + 420_000;

/// A confirmed event booking shaped like `examples/bookings/event.json`, in dollars and in the future: a match
/// (two seats, one PDF each) and a three-day race weekend (a grandstand pass with one PDF per day, and a
/// hospitality ticket the end client distributes). [`orders_for`] makes its booking orders.
pub fn event_booking(agency: AgencyId, created_by: Option<UserId>) -> Booking {
    let utc = FixedOffset::east_opt(0).expect("offset");
    let cest = FixedOffset::east_opt(2 * 3600).expect("offset");
    let kickoff = (now() + Duration::days(60)).with_timezone(&utc);
    let gates = (now() + Duration::days(120)).with_timezone(&cest);
    let guest =
        |first: &str, last: &str, lead_guest| Guest { first_name: first.into(), last_name: last.into(), lead_guest };
    let seat = |seat: &str| Seat { section: Some("Main Stand".into()), row: Some("A".into()), seat: Some(seat.into()) };
    Booking {
        id: BookingId::generate(),
        agency_id: agency,
        created_by,
        status: BookingStatus::Confirmed,
        created_at: now(),
        detail: BookingDetail::Event(EventBooking {
            booking_code: BookingCode::parse(&format!("s-{}-t-1", unique(6).to_lowercase())).expect("booking code"),
            currency: usd(),
            contact: Contact { email: "client@example.com".into(), phone: Some("+31123456789".into()) },
            invoice_reference: Some("PO-7781".into()),
            orders: vec![
                EventOrder {
                    event: Event {
                        id: EVENT_MATCH.into(),
                        name: "Liverpool FC vs Arsenal".into(),
                        venue: "Anfield, Liverpool".into(),
                        starts_at: kickoff,
                        ends_at: Some(kickoff + Duration::hours(2)),
                    },
                    items: vec![EventItem {
                        ticket_name: "Main Stand Cat 1".into(),
                        category: "Cat 1".into(),
                        quantity: 2,
                        unit_price: usd_minor(18_900),
                        distribution_channel: DistributionChannel::Xs2event,
                        pdfs_per_ticket: 1,
                        guests: vec![guest("John", "Doe", true), guest("Jane", "Doe", false)],
                        seats: vec![seat("12"), seat("13")],
                    }],
                },
                EventOrder {
                    event: Event {
                        id: EVENT_PASS.into(),
                        name: "Formula 1 Dutch Grand Prix — 3-day pass".into(),
                        venue: "Circuit Zandvoort".into(),
                        starts_at: gates,
                        // Three calendar days, so the pass's PDFs are labelled by day.
                        ends_at: Some(gates + Duration::days(2)),
                    },
                    items: vec![
                        EventItem {
                            ticket_name: "Grandstand 3 — weekend".into(),
                            category: "Grandstand".into(),
                            quantity: 1,
                            unit_price: usd_minor(64_950),
                            distribution_channel: DistributionChannel::Xs2event,
                            pdfs_per_ticket: 3,
                            guests: vec![guest("Ömer", "Çelik", true)],
                            seats: vec![],
                        },
                        EventItem {
                            ticket_name: "Paddock Club".into(),
                            category: "Hospitality".into(),
                            quantity: 1,
                            unit_price: usd_minor(420_000),
                            distribution_channel: DistributionChannel::ExternalEndClient,
                            pdfs_per_ticket: 1,
                            guests: vec![guest("Ömer", "Çelik", false)],
                            seats: vec![],
                        },
                    ],
                },
            ],
        }),
    }
}

/// The booking orders intake makes of `booking` (none for a flight), with fresh ids.
pub fn orders_for(booking: &Booking) -> Vec<BookingOrder> {
    booking_orders(booking, &mut Uuid::new_v4)
}

/// The draft [`tessera_core::issuance::plan`] would make for a [`flight_booking`]: one TKT per passenger with
/// a coupon per segment, then one EMD per service, all on [`PREFIX`], no commission (so each is charged its
/// total), and the flight invoice billing them.
pub fn draft_for(booking: &Booking) -> IssuanceDraft {
    let flight = booking.as_flight().expect("a flight booking");
    let currency = flight.currency;
    let coupons: Vec<Coupon> = flight
        .segments()
        .enumerate()
        .map(|(i, s)| Coupon {
            number: u32::try_from(i + 1).expect("coupon number"),
            status: CouponStatus::Open,
            origin: Some(s.departure.airport.to_string()),
            destination: Some(s.arrival.airport.to_string()),
            carrier: Some(s.carrier.to_string()),
            flight_number: Some(s.flight_number.clone()),
            departure_date: Some(s.departure.time.date_naive()),
            booking_class: Some(s.booking_class.clone()),
            fare_basis: Some(s.fare_basis.clone()),
            service_code: None,
            used_at: None,
        })
        .collect();
    let mut tickets = Vec::new();
    let mut fares_total = Money::zero(currency);
    for p in &flight.passengers {
        let fare = flight.fare_for(p.kind).expect("fare");
        fares_total = fares_total.checked_add(fare.total).expect("sum");
        tickets.push(TicketDraft {
            kind: TicketType::TKT,
            prefix: prefix(PREFIX),
            passenger_id: p.id.clone(),
            base: fare.base,
            taxes: fare.taxes.clone(),
            total: fare.total,
            charged: fare.total,
            service: None,
            coupons: coupons.clone(),
        });
    }
    for s in &flight.services {
        tickets.push(TicketDraft {
            kind: TicketType::EMD,
            prefix: prefix(PREFIX),
            passenger_id: s.passenger_id.clone(),
            base: s.amount,
            taxes: Vec::new(),
            total: s.amount,
            charged: s.amount,
            service: Some(ServiceInfo { kind: s.kind, code: s.code.clone(), description: s.description.clone() }),
            coupons: vec![Coupon {
                number: 1,
                status: CouponStatus::Open,
                origin: None,
                destination: None,
                carrier: Some(flight.validating_carrier.to_string()),
                flight_number: None,
                departure_date: flight.first_departure().map(|d| d.date_naive()),
                booking_class: None,
                fare_basis: None,
                service_code: Some(s.code.clone()),
                used_at: None,
            }],
        });
    }
    let services_total = Money::sum(flight.services.iter().map(|s| s.amount), currency).expect("sum");
    let commission = Money::zero(currency);
    let payable = fares_total.checked_add(services_total).expect("sum");
    let lines: Vec<(String, Money)> =
        tickets.iter().map(|t| (format!("{} {}", t.kind.as_str(), t.passenger_id), t.charged)).collect();
    let invoice = invoice_for_flight(booking.id, currency, &lines).expect("the flight invoice");
    IssuanceDraft {
        booking_id: booking.id,
        agency_id: booking.agency_id,
        currency,
        fares_total,
        services_total,
        commission,
        payable,
        tickets,
        invoices: vec![invoice],
    }
}

fn issuance_of(draft: IssuanceDraft, by: Option<&User>) -> NewIssuance {
    NewIssuance {
        id: IssuanceId::generate(),
        draft,
        issued_at: now(),
        actor: Actor {
            user_id: by.map(|u| u.id),
            username: by.map_or_else(|| "system".into(), |u| u.username.clone()),
            client_addr: Some("203.0.113.7".into()),
            tracking_id: Some(format!("trk-{}", unique(12).to_lowercase())),
        },
        attributes: serde_json::json!({ "referenceCode": "REF-1", "tourCode": null, "bookerCode": "BK-7" }),
    }
}

/// A booking inserted as confirmed, with the issuance that would ticket it.
async fn booked(db: &dyn Database, agency: AgencyId, created_by: Option<&User>) -> (Booking, NewIssuance) {
    let booking = flight_booking(agency, created_by.map(|u| u.id));
    db.insert_booking(&booking, &[]).await.expect("insert booking");
    let issuance = issuance_of(draft_for(&booking), created_by);
    (booking, issuance)
}

/// A document sink that records what it was handed and returns one document per ticket and one for the
/// whole issuance, without rendering anything.
#[derive(Default)]
pub struct RecordingSink {
    calls: Mutex<Vec<(IssuedTickets, Vec<NewDocument>)>>,
}

impl RecordingSink {
    /// Every call so far: what it was handed and what it returned.
    pub fn calls(&self) -> Vec<(IssuedTickets, Vec<NewDocument>)> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

fn fake_document(owner: DocumentOwner, filename: String, content_type: &str) -> NewDocument {
    let id = DocumentId::generate();
    NewDocument {
        id,
        storage_key: format!("documents/{}/{filename}", id),
        owner,
        sha256: format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple()),
        size: 4_096,
        content_type: content_type.into(),
        filename,
    }
}

#[async_trait]
impl DocumentSink for RecordingSink {
    async fn produce(&self, issued: &IssuedTickets) -> Result<Vec<NewDocument>, SinkError> {
        let mut documents: Vec<NewDocument> = issued
            .tickets
            .iter()
            .map(|t| {
                fake_document(
                    DocumentOwner::Ticket(t.number.clone()),
                    format!("{}.pdf", t.number.dashed()),
                    "application/pdf",
                )
            })
            .collect();
        documents.push(fake_document(
            DocumentOwner::Issuance(issued.issuance_id),
            format!("issuance-{}.zip", issued.issuance_id),
            "application/zip",
        ));
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).push((issued.clone(), documents.clone()));
        Ok(documents)
    }
}

/// An event booking inserted as confirmed, with its orders.
async fn event_booked(db: &dyn Database, agency: AgencyId, created_by: Option<&User>) -> (Booking, Vec<BookingOrder>) {
    let booking = event_booking(agency, created_by.map(|u| u.id));
    let orders = orders_for(&booking);
    db.insert_booking(&booking, &orders).await.expect("insert event booking");
    (booking, orders)
}

/// The issuance [`tessera_core::issuance::plan_event`] makes for an event booking, as the agency stands now.
async fn event_issuance(
    db: &dyn Database,
    booking: &Booking,
    orders: &[BookingOrder],
    by: Option<&User>,
) -> NewIssuance {
    let agency = db.get_agency(booking.agency_id).await.expect("get agency").expect("agency exists");
    let draft = plan_event(booking, orders, &agency, &Agreements::default(), &IssueOptions::default(), now())
        .expect("plan the event issuance");
    issuance_of(draft, by)
}

/// The invoices an event issuance must record, numbered from `first`.
fn expected_invoices(issuance: &NewIssuance, first: u64) -> Vec<Invoice> {
    issuance
        .draft
        .invoices
        .iter()
        .zip(first..)
        .map(|(draft, number)| Invoice {
            number,
            agency_id: issuance.draft.agency_id,
            issued_at: issuance.issued_at,
            draft: draft.clone(),
        })
        .collect()
}

/// A document sink for event bookings, like the real one without rendering: a PDF per download item, a zip
/// per order and a PDF per invoice (by the number it was handed). It knows the orders of the bookings it
/// serves, since issuance hands it only their invoices. [`EventSink::failing`] records the call, then fails.
pub struct EventSink {
    orders: Vec<BookingOrder>,
    fail: bool,
    calls: Mutex<Vec<(IssuedTickets, Vec<NewDocument>)>>,
}

impl EventSink {
    pub fn new(orders: Vec<BookingOrder>) -> Self {
        Self { orders, fail: false, calls: Mutex::default() }
    }

    pub fn failing(orders: Vec<BookingOrder>) -> Self {
        Self { fail: true, ..Self::new(orders) }
    }

    /// Every call so far: what it was handed and what it returned (or would have).
    pub fn calls(&self) -> Vec<(IssuedTickets, Vec<NewDocument>)> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[async_trait]
impl DocumentSink for EventSink {
    async fn produce(&self, issued: &IssuedTickets) -> Result<Vec<NewDocument>, SinkError> {
        let mut documents = Vec::new();
        for order in self.orders.iter().filter(|o| o.booking_id == issued.booking_id) {
            for download in order.items.iter().flat_map(|i| &i.downloads) {
                documents.push(fake_document(
                    DocumentOwner::Download(order.id.clone(), download.id.clone()),
                    download.link.as_str().to_owned(),
                    "application/pdf",
                ));
            }
            documents.push(fake_document(
                DocumentOwner::OrderZip(order.id.clone()),
                format!("tickets-{}.zip", order.id),
                "application/zip",
            ));
        }
        for invoice in &issued.invoices {
            let Some(order) = &invoice.draft.order_id else { continue };
            documents.push(fake_document(
                DocumentOwner::Invoice(order.clone(), invoice.number),
                format!("invoice-{}.pdf", invoice.number),
                "application/pdf",
            ));
        }
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).push((issued.clone(), documents.clone()));
        if self.fail {
            return Err(SinkError("document store unavailable".into()));
        }
        Ok(documents)
    }
}

/// A document sink that always fails, as a renderer or a document store might.
pub struct FailingSink;

#[async_trait]
impl DocumentSink for FailingSink {
    async fn produce(&self, _issued: &IssuedTickets) -> Result<Vec<NewDocument>, SinkError> {
        Err(SinkError("document store unavailable".into()))
    }
}

fn assert_issuance_eq(found: &IssuanceRecord, expected: &IssuanceRecord) {
    assert_eq!(found.id, expected.id);
    assert_eq!(found.booking_id, expected.booking_id);
    assert_eq!(found.agency_id, expected.agency_id);
    assert_eq!(found.amount_charged, expected.amount_charged);
    assert_eq!(found.commission, expected.commission);
    assert_eq!(found.issued_at, expected.issued_at);
    assert_eq!(found.issued_by, expected.issued_by);
    assert_eq!(found.attributes, expected.attributes);
}

fn assert_document_eq(found: &DocumentRecord, expected: &NewDocument, agency: AgencyId, created_at: DateTime<Utc>) {
    assert_eq!(found.id, expected.id);
    assert_eq!(found.owner, expected.owner);
    assert_eq!(found.agency_id, agency);
    assert_eq!(found.storage_key, expected.storage_key);
    assert_eq!(found.sha256, expected.sha256);
    assert_eq!(found.size, expected.size);
    assert_eq!(found.content_type, expected.content_type);
    assert_eq!(found.filename, expected.filename);
    assert_eq!(found.created_at, created_at);
}

/// The tickets an issuance must produce, numbered from `first` on [`PREFIX`].
fn expected_tickets(issuance: &NewIssuance, first: u64) -> Vec<Ticket> {
    issuance
        .draft
        .tickets
        .iter()
        .cloned()
        .zip(first..)
        .map(|(draft, serial)| {
            Ticket::from_draft(
                draft,
                number(PREFIX, serial),
                issuance.id,
                issuance.draft.booking_id,
                issuance.draft.agency_id,
                issuance.issued_at,
            )
        })
        .collect()
}

/// Asserts that an issuance left no trace (for checks where it was refused).
async fn assert_nothing_issued(db: &dyn Database, issuance: &NewIssuance) {
    assert!(db.get_issuance(Scope::All, issuance.id).await.expect("get issuance").is_none());
    assert!(db.tickets_of_issuance(Scope::All, issuance.id).await.expect("tickets").is_empty());
    assert!(db.get_document(Scope::All, &DocumentOwner::Issuance(issuance.id)).await.expect("get document").is_none());
    let ledger = db.ledger(issuance.draft.agency_id).await.expect("ledger");
    assert!(ledger.iter().all(|e| e.issuance_id != Some(issuance.id)), "no ledger entry for a refused issuance");
    let audit = db
        .list_audit(Scope::All, &AuditFilter { booking_id: Some(issuance.draft.booking_id), ..AuditFilter::default() })
        .await
        .expect("audit");
    assert!(audit.iter().all(|e| e.issuance_id != Some(issuance.id)), "no audit entry for a refused issuance");
}

// ---------------------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------------------

pub async fn ping(db: Arc<dyn Database>) {
    db.ping().await.expect("ping");
    assert!(!db.backend().is_empty());
}

pub async fn agencies_create_get_list(db: Arc<dyn Database>) {
    let db = &*db;
    let record = new_agency_record(25_000);
    let created = db.create_agency(&record).await.expect("create agency");
    let expected = Agency {
        id: record.id,
        name: record.name.clone(),
        currency: usd(),
        balance: usd_minor(0),
        credit_limit: usd_minor(25_000),
        office_id: record.office_id.clone(),
        iata_number: record.iata_number.clone(),
        timezone: "Asia/Kathmandu".parse().expect("a time zone"),
        vat_percent: Decimal::new(13, 0),
        refund_approval: false,
    };
    assert_eq!(created, expected);
    assert_eq!(db.get_agency(record.id).await.expect("get agency"), Some(expected.clone()));

    // Optional codes may be absent.
    let mut bare = new_agency_record(0);
    bare.office_id = None;
    bare.iata_number = None;
    // A fractional rate comes back exactly, and so does the refund approval.
    bare.vat_percent = Decimal::new(81, 1);
    bare.refund_approval = true;
    let bare = db.create_agency(&bare).await.expect("create agency");
    assert_eq!(db.get_agency(bare.id).await.expect("get agency"), Some(bare.clone()));

    let mut listed = db.list_agencies().await.expect("list agencies");
    listed.sort_by_key(|a| a.id);
    let mut both = vec![expected, bare];
    both.sort_by_key(|a| a.id);
    assert_eq!(listed, both);

    assert_eq!(db.get_agency(AgencyId::generate()).await.expect("get agency"), None);
    assert!(matches!(db.create_agency(&record).await, Err(StorageError::Conflict(_))), "duplicate agency id");
}

pub async fn ledger_credits_and_debits(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 50_000).await;
    let other = new_agency(db, 50_000).await;

    let credit = top_up(db, agency.id, 100_000).await;
    assert_eq!(credit.agency_id, agency.id);
    assert_eq!(credit.kind, LedgerKind::TopUp);
    assert_eq!(credit.amount, usd_minor(100_000));
    assert_eq!(credit.balance_after, usd_minor(100_000));
    assert_eq!(credit.issuance_id, None);
    assert_eq!(credit.note.as_deref(), Some("top_up 100000"));

    let adjustment = post(db, agency.id, LedgerKind::Adjustment, -30_000).await;
    assert_eq!(adjustment.amount, usd_minor(-30_000));
    assert_eq!(adjustment.balance_after, usd_minor(70_000));
    // Below zero but within the credit limit.
    let debit = post(db, agency.id, LedgerKind::Adjustment, -110_000).await;
    assert_eq!(debit.balance_after, usd_minor(-40_000));
    let refund = post(db, agency.id, LedgerKind::RefundCredit, 5_000).await;
    assert_eq!(refund.balance_after, usd_minor(-35_000));

    let ledger = ledger_matches_balance(db, agency.id).await;
    assert_eq!(ledger, vec![credit, adjustment, debit, refund], "entries in the order they were posted");
    assert!(ledger.windows(2).all(|w| w[0].id < w[1].id), "ledger ids grow");
    assert_eq!(balance(db, agency.id).await, -35_000);

    assert!(db.ledger(other.id).await.expect("ledger").is_empty(), "ledgers are per agency");
    assert_eq!(balance(db, other.id).await, 0);
}

pub async fn ledger_refuses_debit_past_credit_limit(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 10_000).await;
    top_up(db, agency.id, 5_000).await;
    // Exactly down to -credit_limit is allowed.
    let at_limit = post(db, agency.id, LedgerKind::Adjustment, -15_000).await;
    assert_eq!(at_limit.balance_after, usd_minor(-10_000));

    let refused = db
        .post_ledger(&NewLedgerEntry {
            agency_id: agency.id,
            kind: LedgerKind::Adjustment,
            amount: usd_minor(-1),
            issuance_id: None,
            note: None,
            created_at: now(),
        })
        .await;
    assert!(matches!(refused, Err(StorageError::InsufficientBalance)), "got {refused:?}");
    assert_eq!(balance(db, agency.id).await, -10_000, "a refused debit leaves the balance alone");
    assert_eq!(ledger_matches_balance(db, agency.id).await.len(), 2, "and writes no entry");

    // Credits are always accepted.
    let credit = top_up(db, agency.id, 1).await;
    assert_eq!(credit.balance_after, usd_minor(-9_999));
}

pub async fn ledger_refuses_unknown_agency_and_other_currency(db: Arc<dyn Database>) {
    let db = &*db;
    let unknown = db
        .post_ledger(&NewLedgerEntry {
            agency_id: AgencyId::generate(),
            kind: LedgerKind::TopUp,
            amount: usd_minor(100),
            issuance_id: None,
            note: None,
            created_at: now(),
        })
        .await;
    assert!(matches!(unknown, Err(StorageError::NotFound)), "got {unknown:?}");

    let agency = new_agency(db, 0).await;
    top_up(db, agency.id, 1_000).await;
    let euros = db
        .post_ledger(&NewLedgerEntry {
            agency_id: agency.id,
            kind: LedgerKind::TopUp,
            amount: Money::from_minor(500, Currency::parse("EUR").expect("EUR")),
            issuance_id: None,
            note: None,
            created_at: now(),
        })
        .await;
    assert!(matches!(euros, Err(StorageError::Backend(_))), "got {euros:?}");
    assert_eq!(balance(db, agency.id).await, 1_000);
    assert_eq!(ledger_matches_balance(db, agency.id).await.len(), 1);
}

pub async fn credit_limit_changes(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 0).await;
    let raised = db.set_credit_limit(agency.id, 20_000).await.expect("set credit limit");
    assert_eq!(raised.credit_limit, usd_minor(20_000));
    assert_eq!(raised.balance, usd_minor(0));
    assert_eq!(db.get_agency(agency.id).await.expect("get").expect("exists").credit_limit, usd_minor(20_000));

    post(db, agency.id, LedgerKind::Adjustment, -15_000).await;
    let refused = db.set_credit_limit(agency.id, 10_000).await;
    assert!(matches!(refused, Err(StorageError::InsufficientBalance)), "got {refused:?}");
    let unchanged = db.get_agency(agency.id).await.expect("get").expect("exists");
    assert_eq!(unchanged.credit_limit, usd_minor(20_000));
    assert_eq!(unchanged.balance, usd_minor(-15_000));

    let lowered = db.set_credit_limit(agency.id, 15_000).await.expect("lower to exactly the debt");
    assert_eq!(lowered.credit_limit, usd_minor(15_000));
    assert_eq!(lowered.balance, usd_minor(-15_000));

    let unknown = db.set_credit_limit(AgencyId::generate(), 1_000).await;
    assert!(matches!(unknown, Err(StorageError::NotFound)), "got {unknown:?}");
}

pub async fn agreements_upsert_and_read(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 0).await;
    let other = new_agency(db, 0).await;
    let qr = CarrierCode::parse("QR").expect("carrier");
    let vn = CarrierCode::parse("VN").expect("carrier");
    let day = |m, d| NaiveDate::from_ymd_opt(2025, m, d);

    db.set_agreement(
        agency.id,
        &CarrierAgreement { carrier: qr.clone(), authorized: true, commission_cap_percent: Some(Decimal::new(75, 1)) },
    )
    .await
    .expect("set agreement");
    db.set_agreement(
        agency.id,
        &CarrierAgreement { carrier: vn.clone(), authorized: false, commission_cap_percent: None },
    )
    .await
    .expect("set agreement");
    // Upsert: the second write for QR replaces the first.
    let qr_now =
        CarrierAgreement { carrier: qr.clone(), authorized: false, commission_cap_percent: Some(Decimal::new(3, 0)) };
    db.set_agreement(agency.id, &qr_now).await.expect("set agreement");

    db.add_tour_code(
        agency.id,
        &TourCode { code: "IT24QR".into(), carrier: qr.clone(), valid_from: day(1, 1), valid_to: day(6, 30) },
    )
    .await
    .expect("add tour code");
    db.add_tour_code(
        agency.id,
        &TourCode { code: "IT24QR".into(), carrier: vn.clone(), valid_from: None, valid_to: None },
    )
    .await
    .expect("add tour code");
    // Same (code, carrier): the dates are replaced.
    let qr_code = TourCode { code: "IT24QR".into(), carrier: qr.clone(), valid_from: day(3, 1), valid_to: None };
    db.add_tour_code(agency.id, &qr_code).await.expect("add tour code");

    db.add_corporate_account(agency.id, "CORP-ACME").await.expect("add corporate account");
    db.add_corporate_account(agency.id, "CORP-ACME").await.expect("adding again is not an error");
    db.add_corporate_account(agency.id, "CORP-GLOBEX").await.expect("add corporate account");
    db.add_booker_code(agency.id, "AGENT001").await.expect("add booker code");
    db.add_booker_code(agency.id, "AGENT001").await.expect("adding again is not an error");

    let mut found = db.agreements(agency.id).await.expect("agreements");
    found.carriers.sort_by(|a, b| a.carrier.cmp(&b.carrier));
    found.tour_codes.sort_by(|a, b| (&a.code, &a.carrier).cmp(&(&b.code, &b.carrier)));
    found.corporate_accounts.sort();
    assert_eq!(
        found.carriers,
        vec![qr_now, CarrierAgreement { carrier: vn.clone(), authorized: false, commission_cap_percent: None }]
    );
    assert_eq!(
        found.tour_codes,
        vec![qr_code, TourCode { code: "IT24QR".into(), carrier: vn, valid_from: None, valid_to: None }]
    );
    assert_eq!(found.corporate_accounts, vec!["CORP-ACME".to_owned(), "CORP-GLOBEX".to_owned()]);
    assert_eq!(found.booker_codes, vec!["AGENT001".to_owned()]);
    assert_eq!(found.for_carrier(&qr).and_then(|a| a.commission_cap_percent), Some(Decimal::new(3, 0)));

    assert_eq!(db.agreements(other.id).await.expect("agreements"), Default::default(), "agreements are per agency");
}

pub async fn users_create_find_list(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 0).await;
    let other = new_agency(db, 0).await;
    let admin = new_user(db, None, Role::Admin).await;
    assert_eq!(admin.role, Role::Admin);
    assert_eq!(admin.agency_id, None);
    let agent = new_user(db, Some(agency.id), Role::Agent).await;
    let customer = new_user(db, Some(agency.id), Role::Customer).await;
    let other_agent = new_user(db, Some(other.id), Role::Agent).await;
    assert_eq!(agent.agency_id, Some(agency.id));

    let duplicate = db
        .create_user(&NewUser {
            id: UserId::generate(),
            username: agent.username.clone(),
            password_hash: "x".into(),
            role: Role::Customer,
            agency_id: Some(other.id),
            created_at: now(),
        })
        .await;
    assert!(matches!(duplicate, Err(StorageError::Conflict("username"))), "got {duplicate:?}");

    let credentials = db.find_credentials(&agent.username).await.expect("find credentials").expect("found");
    assert_eq!(credentials.user, agent);
    assert!(credentials.password_hash.starts_with("$argon2id$"));
    assert!(db.find_credentials("nobody").await.expect("find credentials").is_none());

    assert_eq!(db.get_user(customer.id).await.expect("get user"), Some(customer.clone()));
    assert_eq!(db.get_user(UserId::generate()).await.expect("get user"), None);

    let sorted = |mut users: Vec<User>| {
        users.sort_by_key(|u| u.id);
        users
    };
    assert_eq!(
        sorted(db.list_users(Some(agency.id)).await.expect("list users")),
        sorted(vec![agent.clone(), customer.clone()])
    );
    assert_eq!(sorted(db.list_users(Some(other.id)).await.expect("list users")), vec![other_agent.clone()]);
    assert_eq!(
        sorted(db.list_users(None).await.expect("list users")),
        sorted(vec![admin, agent, customer, other_agent])
    );
}

pub async fn api_keys_lifecycle(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 0).await;
    let agent = new_user(db, Some(agency.id), Role::Agent).await;
    let other = new_user(db, Some(agency.id), Role::Customer).await;
    let key = |user: &User, hash: &str| NewApiKey {
        id: ApiKeyId::generate(),
        user_id: user.id,
        key_hash: hash.into(),
        prefix: format!("tk_{}", &hash[..6]),
        created_at: now(),
    };
    let first = key(&agent, "a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2");
    let second = key(&agent, "ffeeddccbbaaffeeddccbbaaffeeddccbbaaffeeddccbbaaffeeddccbbaaffee");
    let created = db.create_api_key(&first).await.expect("create api key");
    assert_eq!(created.id, first.id);
    assert_eq!(created.user_id, agent.id);
    assert_eq!(created.prefix, first.prefix);
    assert_eq!(created.created_at, first.created_at);
    assert_eq!(created.revoked_at, None);
    db.create_api_key(&second).await.expect("create api key");
    db.create_api_key(&key(&other, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"))
        .await
        .expect("create api key");

    let (found, owner) = db.find_api_key(&first.key_hash).await.expect("find api key").expect("found");
    assert_eq!(found.id, first.id);
    assert_eq!(found.prefix, first.prefix);
    assert_eq!(found.revoked_at, None);
    assert_eq!(owner, agent);
    assert!(db.find_api_key("0000").await.expect("find api key").is_none());

    let duplicate = db.create_api_key(&key(&other, &first.key_hash)).await;
    assert!(matches!(duplicate, Err(StorageError::Conflict(_))), "got {duplicate:?}");

    let ids: HashSet<ApiKeyId> = db.list_api_keys(agent.id).await.expect("list").iter().map(|k| k.id).collect();
    assert_eq!(ids, HashSet::from([first.id, second.id]));

    assert!(db.revoke_api_key(first.id).await.expect("revoke"));
    assert!(!db.revoke_api_key(first.id).await.expect("revoke again"), "already revoked");
    assert!(!db.revoke_api_key(ApiKeyId::generate()).await.expect("revoke unknown"));
    assert!(db.find_api_key(&first.key_hash).await.expect("find api key").is_none(), "a revoked key is not found");
    assert!(db.find_api_key(&second.key_hash).await.expect("find api key").is_some(), "others still work");

    let listed = db.list_api_keys(agent.id).await.expect("list");
    let revoked = listed.iter().find(|k| k.id == first.id).expect("revoked keys are still listed");
    assert!(revoked.revoked_at.is_some());
    assert!(listed.iter().find(|k| k.id == second.id).is_some_and(|k| k.revoked_at.is_none()));
}

pub async fn bookings_insert_and_conflict(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 0).await;
    let other = new_agency(db, 0).await;
    let agent = new_user(db, Some(agency.id), Role::Agent).await;

    let flight = flight_booking(agency.id, Some(agent.id));
    db.insert_booking(&flight, &[]).await.expect("insert flight booking");
    assert_eq!(db.get_booking(Scope::All, flight.id).await.expect("get"), Some(flight.clone()), "round trip");

    let event = event_booking(agency.id, None);
    db.insert_booking(&event, &orders_for(&event)).await.expect("insert event booking");
    assert_eq!(db.get_booking(Scope::All, event.id).await.expect("get"), Some(event.clone()), "round trip");
    assert_eq!(db.find_booking_by_code(Scope::Agency(agency.id), event.code()).await.expect("find"), Some(event));

    let mut same_code = flight_booking(agency.id, None);
    same_code.detail = flight.detail.clone();
    let refused = db.insert_booking(&same_code, &[]).await;
    assert!(matches!(refused, Err(StorageError::Conflict("booking code"))), "got {refused:?}");
    assert!(db.get_booking(Scope::All, same_code.id).await.expect("get").is_none());

    // Codes are unique per agency only.
    let mut elsewhere = flight_booking(other.id, None);
    elsewhere.detail = flight.detail.clone();
    db.insert_booking(&elsewhere, &[]).await.expect("the same PNR in another agency");

    let cancelled = Booking { status: BookingStatus::Cancelled, ..flight_booking(agency.id, None) };
    db.insert_booking(&cancelled, &[]).await.expect("insert cancelled booking");
    assert_eq!(
        db.get_booking(Scope::All, cancelled.id).await.expect("get").map(|b| b.status),
        Some(BookingStatus::Cancelled)
    );
}

pub async fn bookings_scoped_reads(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 0).await;
    let other = new_agency(db, 0).await;
    let customer = new_user(db, Some(agency.id), Role::Customer).await;
    let other_customer = new_user(db, Some(agency.id), Role::Customer).await;
    let agent = new_user(db, Some(agency.id), Role::Agent).await;

    let mine = flight_booking(agency.id, Some(customer.id));
    let agents = flight_booking(agency.id, Some(agent.id));
    let anonymous = flight_booking(agency.id, None);
    for b in [&mine, &agents, &anonymous] {
        db.insert_booking(b, &[]).await.expect("insert booking");
    }

    let sees = [Scope::All, Scope::Agency(agency.id), Scope::Customer { agency: agency.id, user: customer.id }];
    let blind = [
        Scope::Agency(other.id),
        Scope::Customer { agency: agency.id, user: other_customer.id },
        Scope::Customer { agency: other.id, user: customer.id },
    ];
    for scope in sees {
        assert_eq!(db.get_booking(scope, mine.id).await.expect("get"), Some(mine.clone()), "{scope:?}");
        assert_eq!(db.find_booking_by_code(scope, mine.code()).await.expect("find"), Some(mine.clone()), "{scope:?}");
    }
    for scope in blind {
        assert_eq!(db.get_booking(scope, mine.id).await.expect("get"), None, "{scope:?}");
        assert_eq!(db.find_booking_by_code(scope, mine.code()).await.expect("find"), None, "{scope:?}");
    }
    // A customer sees neither the agent's bookings nor those without a creator; the agency sees all.
    let customer_scope = Scope::Customer { agency: agency.id, user: customer.id };
    for b in [&agents, &anonymous] {
        assert_eq!(db.get_booking(customer_scope, b.id).await.expect("get"), None);
        assert_eq!(db.find_booking_by_code(customer_scope, b.code()).await.expect("find"), None);
        assert_eq!(db.get_booking(Scope::Agency(agency.id), b.id).await.expect("get"), Some(b.clone()));
    }
    assert_eq!(db.get_booking(Scope::All, BookingId::generate()).await.expect("get"), None);
    assert_eq!(db.find_booking_by_code(Scope::All, "NOSUCH").await.expect("find"), None);
}

pub async fn bookings_list_filters_and_paging(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 0).await;
    let other = new_agency(db, 0).await;
    let customer = new_user(db, Some(agency.id), Role::Customer).await;
    let agent = new_user(db, Some(agency.id), Role::Agent).await;

    let mut ours = Vec::new();
    for i in 0..5 {
        let creator = if i < 2 { customer.id } else { agent.id };
        let mut booking = flight_booking(agency.id, Some(creator));
        if i == 3 {
            booking.status = BookingStatus::Cancelled;
        }
        db.insert_booking(&booking, &[]).await.expect("insert booking");
        ours.push(booking);
    }
    let mut theirs = Vec::new();
    for _ in 0..2 {
        let booking = flight_booking(other.id, None);
        db.insert_booking(&booking, &[]).await.expect("insert booking");
        theirs.push(booking);
    }
    let ids = |bookings: &[Booking]| bookings.iter().map(|b| b.id).collect::<Vec<_>>();
    let sorted = |bookings: &[&Booking]| {
        let mut ids: Vec<BookingId> = bookings.iter().map(|b| b.id).collect();
        ids.sort();
        ids
    };
    let list =
        |scope: Scope, filter: BookingFilter| async move { db.list_bookings(scope, &filter).await.expect("list") };

    let all_ours = list(Scope::Agency(agency.id), BookingFilter::default()).await;
    assert_eq!(ids(&all_ours), sorted(&ours.iter().collect::<Vec<_>>()), "limit 0 lists a default page, by id");
    assert_eq!(all_ours.iter().find(|b| b.id == ours[0].id), Some(&ours[0]), "full bookings come back");
    assert_eq!(list(Scope::All, BookingFilter::default()).await.len(), 7);
    assert_eq!(
        ids(&list(Scope::Agency(other.id), BookingFilter::default()).await),
        sorted(&theirs.iter().collect::<Vec<_>>())
    );
    assert_eq!(
        ids(&list(Scope::Customer { agency: agency.id, user: customer.id }, BookingFilter::default()).await),
        sorted(&[&ours[0], &ours[1]])
    );

    // Keyset paging walks every booking exactly once, in id order.
    let mut paged = Vec::new();
    let mut after = None;
    // Bounded, so a backend that ignores `after` fails instead of hanging.
    for _ in 0..=ours.len() {
        let page = list(Scope::Agency(agency.id), BookingFilter { after, limit: 2, ..BookingFilter::default() }).await;
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        paged.extend(ids(&page));
    }
    assert_eq!(paged, ids(&all_ours), "pages cover every booking once, then an empty page");

    let cancelled = list(
        Scope::Agency(agency.id),
        BookingFilter { status: Some(BookingStatus::Cancelled), ..BookingFilter::default() },
    )
    .await;
    assert_eq!(ids(&cancelled), vec![ours[3].id]);
    let confirmed = list(
        Scope::Agency(agency.id),
        BookingFilter { status: Some(BookingStatus::Confirmed), ..BookingFilter::default() },
    )
    .await;
    assert_eq!(confirmed.len(), 4);

    let by_pnr =
        list(Scope::All, BookingFilter { pnr: Some(ours[2].code().to_owned()), ..BookingFilter::default() }).await;
    assert_eq!(ids(&by_pnr), vec![ours[2].id]);
    let foreign_pnr = list(
        Scope::Agency(agency.id),
        BookingFilter { pnr: Some(theirs[0].code().to_owned()), ..BookingFilter::default() },
    )
    .await;
    assert!(foreign_pnr.is_empty(), "filters never widen the scope");
    let customer_pnr = list(
        Scope::Customer { agency: agency.id, user: customer.id },
        BookingFilter { pnr: Some(ours[2].code().to_owned()), ..BookingFilter::default() },
    )
    .await;
    assert!(customer_pnr.is_empty());
}

pub async fn issue_happy_path(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 0).await;
    let agent = new_user(db, Some(agency.id), Role::Agent).await;
    top_up(db, agency.id, 200_000).await;
    let (booking, issuance) = booked(db, agency.id, Some(&agent)).await;
    let sink = RecordingSink::default();

    let record = db.issue(&issuance, &sink).await.expect("issue");
    let expected_record = IssuanceRecord {
        id: issuance.id,
        booking_id: booking.id,
        agency_id: agency.id,
        amount_charged: usd_minor(PAYABLE_MINOR),
        commission: usd_minor(0),
        issued_at: issuance.issued_at,
        issued_by: Some(agent.id),
        attributes: issuance.attributes.clone(),
    };
    assert_issuance_eq(&record, &expected_record);
    let found = db.get_issuance(Scope::All, issuance.id).await.expect("get issuance").expect("stored");
    assert_issuance_eq(&found, &expected_record);

    // Tickets: numbered from FIRST_SERIAL in draft order, 13 digits, coupons in order.
    let expected = expected_tickets(&issuance, FIRST_SERIAL);
    let tickets = db.tickets_of_issuance(Scope::All, issuance.id).await.expect("tickets");
    assert_eq!(tickets, expected);
    assert_eq!(tickets.iter().map(|t| t.kind).collect::<Vec<_>>(), [TicketType::TKT, TicketType::TKT, TicketType::EMD]);
    for ticket in &tickets {
        let compact = ticket.number.compact();
        assert_eq!(compact.len(), 13);
        assert!(compact.starts_with(PREFIX));
        assert_eq!(ticket.status, TicketStatus::Open);
        assert_eq!(db.get_ticket(Scope::All, &ticket.number).await.expect("get ticket").as_ref(), Some(ticket));
    }
    assert_eq!(tickets[0].coupons.iter().map(|c| c.number).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(tickets[0].coupons[1].origin.as_deref(), Some("DOH"));

    // The sink saw the numbered tickets; what it returned is recorded.
    let calls = sink.calls();
    assert_eq!(calls.len(), 1);
    let (handed, documents) = &calls[0];
    assert_eq!(handed.issuance_id, issuance.id);
    assert_eq!(handed.booking_id, booking.id);
    assert_eq!(handed.agency_id, agency.id);
    assert_eq!(handed.issued_at, issuance.issued_at);
    assert_eq!(handed.tickets, expected);
    assert_eq!(documents.len(), 4);
    for document in documents {
        let stored = db.get_document(Scope::All, &document.owner).await.expect("get document").expect("stored");
        assert_document_eq(&stored, document, agency.id, issuance.issued_at);
    }

    // Money.
    let ledger = ledger_matches_balance(db, agency.id).await;
    assert_eq!(ledger.len(), 2);
    let debit = &ledger[1];
    assert_eq!(debit.kind, LedgerKind::IssuanceDebit);
    assert_eq!(debit.amount, usd_minor(-PAYABLE_MINOR));
    assert_eq!(debit.balance_after, usd_minor(200_000 - PAYABLE_MINOR));
    assert_eq!(debit.issuance_id, Some(issuance.id));
    assert_eq!(debit.created_at, issuance.issued_at);
    assert_eq!(balance(db, agency.id).await, 200_000 - PAYABLE_MINOR);

    // The booking moved on.
    let after = db.get_booking(Scope::All, booking.id).await.expect("get booking").expect("exists");
    assert_eq!(after.status, BookingStatus::Ticketed);
    assert_eq!(after.detail, booking.detail);

    // The audit trail.
    let audit = db
        .list_audit(Scope::All, &AuditFilter { booking_id: Some(booking.id), ..AuditFilter::default() })
        .await
        .expect("audit");
    assert_eq!(audit.len(), 1);
    let entry = &audit[0];
    assert_eq!(entry.action, "issuance.create");
    assert_eq!(entry.outcome, "success");
    assert_eq!(entry.agency_id, Some(agency.id));
    assert_eq!(entry.user_id, Some(agent.id));
    assert_eq!(entry.username, agent.username);
    assert_eq!(entry.client_addr, issuance.actor.client_addr);
    assert_eq!(entry.tracking_id, issuance.actor.tracking_id);
    assert_eq!(entry.booking_id, Some(booking.id));
    assert_eq!(entry.issuance_id, Some(issuance.id));
    assert_eq!(entry.ticket_number, None);
    assert_eq!(entry.created_at, issuance.issued_at);
    assert_eq!(entry.detail["amount"], "980.00");
    assert_eq!(entry.detail["currency"], "USD");
    assert_eq!(entry.detail["attributes"], issuance.attributes);
    let listed: Vec<TicketNumber> = entry.detail["tickets"]
        .as_array()
        .expect("detail.tickets is an array")
        .iter()
        .map(|n| TicketNumber::parse(n.as_str().expect("a ticket number string")).expect("a ticket number"))
        .collect();
    assert_eq!(listed, expected.iter().map(|t| t.number.clone()).collect::<Vec<_>>());
}

pub async fn issue_numbers_per_prefix_in_ticket_order(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 0).await;
    top_up(db, agency.id, 10 * PAYABLE_MINOR).await;
    let sink = RecordingSink::default();

    // First issuance: TKT, EMD on another prefix, TKT, in that order.
    let (_, mut first) = booked(db, agency.id, None).await;
    let emd = first.draft.tickets.remove(2);
    first.draft.tickets.insert(1, TicketDraft { prefix: prefix("176"), ..emd });
    db.issue(&first, &sink).await.expect("issue");
    let numbers = |tickets: Vec<Ticket>| tickets.into_iter().map(|t| t.number).collect::<Vec<_>>();
    let tickets = db.tickets_of_issuance(Scope::All, first.id).await.expect("tickets");
    assert_eq!(tickets.iter().map(|t| t.kind).collect::<Vec<_>>(), [TicketType::TKT, TicketType::EMD, TicketType::TKT]);
    assert_eq!(
        numbers(tickets),
        [number(PREFIX, FIRST_SERIAL), number("176", FIRST_SERIAL), number(PREFIX, FIRST_SERIAL + 1)]
    );

    // The next issuance continues each prefix's sequence.
    let (_, second) = booked(db, agency.id, None).await;
    db.issue(&second, &sink).await.expect("issue");
    assert_eq!(
        numbers(db.tickets_of_issuance(Scope::All, second.id).await.expect("tickets")),
        [number(PREFIX, FIRST_SERIAL + 2), number(PREFIX, FIRST_SERIAL + 3), number(PREFIX, FIRST_SERIAL + 4)]
    );
    let (_, mut third) = booked(db, agency.id, None).await;
    for t in &mut third.draft.tickets {
        t.prefix = prefix("176");
    }
    db.issue(&third, &sink).await.expect("issue");
    assert_eq!(
        numbers(db.tickets_of_issuance(Scope::All, third.id).await.expect("tickets")),
        [number("176", FIRST_SERIAL + 1), number("176", FIRST_SERIAL + 2), number("176", FIRST_SERIAL + 3)]
    );
}

pub async fn issue_sink_failure_leaves_nothing(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 0).await;
    top_up(db, agency.id, 200_000).await;
    let (booking, issuance) = booked(db, agency.id, None).await;

    let failed = db.issue(&issuance, &FailingSink).await;
    assert!(matches!(failed, Err(StorageError::Documents(_))), "got {failed:?}");
    assert_nothing_issued(db, &issuance).await;
    assert!(db.get_ticket(Scope::All, &number(PREFIX, FIRST_SERIAL)).await.expect("get ticket").is_none());
    assert_eq!(balance(db, agency.id).await, 200_000);
    assert_eq!(ledger_matches_balance(db, agency.id).await.len(), 1);
    let still = db.get_booking(Scope::All, booking.id).await.expect("get booking").expect("exists");
    assert_eq!(still.status, BookingStatus::Confirmed);

    // A retry succeeds, and the serials of the failed attempt were not consumed.
    let retry = NewIssuance { id: IssuanceId::generate(), ..issuance };
    db.issue(&retry, &RecordingSink::default()).await.expect("retry");
    let tickets = db.tickets_of_issuance(Scope::All, retry.id).await.expect("tickets");
    assert_eq!(tickets, expected_tickets(&retry, FIRST_SERIAL));
}

pub async fn issue_twice_is_refused(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 0).await;
    top_up(db, agency.id, 200_000).await;
    let (_, issuance) = booked(db, agency.id, None).await;
    let sink = RecordingSink::default();
    db.issue(&issuance, &sink).await.expect("first issue");

    let again = NewIssuance { id: IssuanceId::generate(), ..issuance.clone() };
    let refused = db.issue(&again, &sink).await;
    assert!(matches!(refused, Err(StorageError::BookingNotConfirmed(BookingStatus::Ticketed))), "got {refused:?}");
    assert_nothing_issued(db, &again).await;
    assert_eq!(balance(db, agency.id).await, 200_000 - PAYABLE_MINOR, "charged once");
    assert_eq!(ledger_matches_balance(db, agency.id).await.len(), 2);
    assert_eq!(sink.calls().len(), 1);
    assert_eq!(db.tickets_of_issuance(Scope::All, issuance.id).await.expect("tickets").len(), 3);
}

pub async fn issue_refuses_unconfirmed_and_unknown_bookings(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 0).await;
    let other = new_agency(db, 0).await;
    top_up(db, agency.id, 200_000).await;
    top_up(db, other.id, 200_000).await;
    let sink = RecordingSink::default();

    let cancelled = Booking { status: BookingStatus::Cancelled, ..flight_booking(agency.id, None) };
    db.insert_booking(&cancelled, &[]).await.expect("insert booking");
    let issuance = issuance_of(draft_for(&cancelled), None);
    let refused = db.issue(&issuance, &sink).await;
    assert!(matches!(refused, Err(StorageError::BookingNotConfirmed(BookingStatus::Cancelled))), "got {refused:?}");
    assert_nothing_issued(db, &issuance).await;

    let never_stored = flight_booking(agency.id, None);
    let unknown = db.issue(&issuance_of(draft_for(&never_stored), None), &sink).await;
    assert!(matches!(unknown, Err(StorageError::NotFound)), "got {unknown:?}");

    // A draft naming another agency than the booking's does not find the booking.
    let (booking, mut foreign) = booked(db, agency.id, None).await;
    foreign.draft.agency_id = other.id;
    let mismatch = db.issue(&foreign, &sink).await;
    assert!(matches!(mismatch, Err(StorageError::NotFound)), "got {mismatch:?}");
    assert_eq!(
        db.get_booking(Scope::All, booking.id).await.expect("get").map(|b| b.status),
        Some(BookingStatus::Confirmed)
    );

    assert_eq!(balance(db, agency.id).await, 200_000);
    assert_eq!(balance(db, other.id).await, 200_000);
    assert!(sink.calls().is_empty());
}

pub async fn issue_insufficient_balance_changes_nothing(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 0).await;
    top_up(db, agency.id, PAYABLE_MINOR - 1).await;
    let (booking, issuance) = booked(db, agency.id, None).await;
    let sink = RecordingSink::default();

    let refused = db.issue(&issuance, &sink).await;
    assert!(matches!(refused, Err(StorageError::InsufficientBalance)), "got {refused:?}");
    assert_nothing_issued(db, &issuance).await;
    assert_eq!(balance(db, agency.id).await, PAYABLE_MINOR - 1);
    assert_eq!(ledger_matches_balance(db, agency.id).await.len(), 1);
    assert_eq!(
        db.get_booking(Scope::All, booking.id).await.expect("get").map(|b| b.status),
        Some(BookingStatus::Confirmed)
    );

    // One more cent and it fits exactly; no serial was consumed by the refusal.
    top_up(db, agency.id, 1).await;
    db.issue(&issuance, &sink).await.expect("issue");
    assert_eq!(balance(db, agency.id).await, 0);
    assert_eq!(
        db.tickets_of_issuance(Scope::All, issuance.id).await.expect("tickets"),
        expected_tickets(&issuance, FIRST_SERIAL)
    );
    ledger_matches_balance(db, agency.id).await;
}

pub async fn issue_concurrent_same_booking(db: Arc<dyn Database>) {
    const RACERS: usize = 50;
    let agency = new_agency(&*db, 0).await;
    top_up(&*db, agency.id, 10 * PAYABLE_MINOR).await;
    let (booking, issuance) = booked(&*db, agency.id, None).await;
    let sink = Arc::new(RecordingSink::default());
    let start = Arc::new(tokio::sync::Barrier::new(RACERS));

    let mut tasks = Vec::new();
    for _ in 0..RACERS {
        let (db, sink, start) = (db.clone(), sink.clone(), start.clone());
        let attempt = NewIssuance { id: IssuanceId::generate(), ..issuance.clone() };
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let result = db.issue(&attempt, sink.as_ref()).await;
            (attempt.id, result)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (id, result) = task.await.expect("task");
        match result {
            Ok(record) => winners.push(record),
            Err(StorageError::BookingNotConfirmed(BookingStatus::Ticketed)) => {
                assert!(db.get_issuance(Scope::All, id).await.expect("get").is_none());
            }
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one issuance wins");
    let winner = &winners[0];
    assert_eq!(db.tickets_of_issuance(Scope::All, winner.id).await.expect("tickets").len(), 3);
    assert_eq!(sink.calls().len(), 1, "losers are refused before rendering");

    let ledger = ledger_matches_balance(&*db, agency.id).await;
    let debits: Vec<_> = ledger.iter().filter(|e| e.kind == LedgerKind::IssuanceDebit).collect();
    assert_eq!(debits.len(), 1, "charged once");
    assert_eq!(debits[0].issuance_id, Some(winner.id));
    assert_eq!(balance(&*db, agency.id).await, 9 * PAYABLE_MINOR);
    assert_eq!(
        db.get_booking(Scope::All, booking.id).await.expect("get").map(|b| b.status),
        Some(BookingStatus::Ticketed)
    );
    let audit = db
        .list_audit(Scope::All, &AuditFilter { booking_id: Some(booking.id), ..AuditFilter::default() })
        .await
        .expect("audit");
    assert_eq!(audit.len(), 1);
}

pub async fn issue_concurrent_balance_race(db: Arc<dyn Database>) {
    const BOOKINGS: usize = 30;
    const AFFORDABLE: usize = 10;
    let credit_limit = 2 * PAYABLE_MINOR;
    let agency = new_agency(&*db, credit_limit).await;
    // Balance plus credit covers exactly AFFORDABLE issuances.
    top_up(&*db, agency.id, (AFFORDABLE as i64 - 2) * PAYABLE_MINOR).await;
    let sink = Arc::new(RecordingSink::default());
    let start = Arc::new(tokio::sync::Barrier::new(BOOKINGS));

    let mut issuances = Vec::new();
    for _ in 0..BOOKINGS {
        issuances.push(booked(&*db, agency.id, None).await.1);
    }
    let mut tasks = Vec::new();
    for issuance in issuances {
        let (db, sink, start) = (db.clone(), sink.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let result = db.issue(&issuance, sink.as_ref()).await;
            (issuance, result)
        }));
    }
    let mut won = Vec::new();
    let mut refused = 0;
    for task in tasks {
        let (issuance, result) = task.await.expect("task");
        match result {
            Ok(_) => won.push(issuance),
            Err(StorageError::InsufficientBalance) => {
                refused += 1;
                assert_nothing_issued(&*db, &issuance).await;
                let booking =
                    db.get_booking(Scope::All, issuance.draft.booking_id).await.expect("get").expect("exists");
                assert_eq!(booking.status, BookingStatus::Confirmed);
            }
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(won.len(), AFFORDABLE);
    assert_eq!(refused, BOOKINGS - AFFORDABLE);

    let balance = balance(&*db, agency.id).await;
    assert!(balance >= -credit_limit, "balance {balance} went past the credit limit");
    assert_eq!(balance, -credit_limit);
    let ledger = ledger_matches_balance(&*db, agency.id).await;
    assert_eq!(ledger.len(), 1 + AFFORDABLE);

    // Every ticket number unique, and no serial lost to the refused attempts.
    let mut serials = Vec::new();
    for issuance in &won {
        for ticket in db.tickets_of_issuance(Scope::All, issuance.id).await.expect("tickets") {
            assert_eq!(ticket.number.prefix().as_str(), PREFIX);
            serials.push(ticket.number.serial());
        }
    }
    serials.sort_unstable();
    let expected: Vec<u64> = (FIRST_SERIAL..FIRST_SERIAL + 3 * AFFORDABLE as u64).collect();
    assert_eq!(serials, expected, "serials are unique and gapless");
}

pub async fn issuance_scope_isolation(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 0).await;
    let other = new_agency(db, 0).await;
    let customer = new_user(db, Some(agency.id), Role::Customer).await;
    let other_customer = new_user(db, Some(agency.id), Role::Customer).await;
    top_up(db, agency.id, 200_000).await;
    let (booking, issuance) = booked(db, agency.id, Some(&customer)).await;
    db.issue(&issuance, &RecordingSink::default()).await.expect("issue");
    let tickets = expected_tickets(&issuance, FIRST_SERIAL);

    let sees = [Scope::All, Scope::Agency(agency.id), Scope::Customer { agency: agency.id, user: customer.id }];
    let blind = [
        Scope::Agency(other.id),
        Scope::Customer { agency: agency.id, user: other_customer.id },
        Scope::Customer { agency: other.id, user: customer.id },
    ];
    for scope in sees {
        assert!(db.get_booking(scope, booking.id).await.expect("get").is_some(), "{scope:?}");
        assert!(db.get_issuance(scope, issuance.id).await.expect("get").is_some(), "{scope:?}");
        assert_eq!(db.tickets_of_issuance(scope, issuance.id).await.expect("tickets"), tickets, "{scope:?}");
        for ticket in &tickets {
            assert_eq!(db.get_ticket(scope, &ticket.number).await.expect("get").as_ref(), Some(ticket), "{scope:?}");
            let owner = DocumentOwner::Ticket(ticket.number.clone());
            assert!(db.get_document(scope, &owner).await.expect("get").is_some(), "{scope:?}");
        }
        let owner = DocumentOwner::Issuance(issuance.id);
        assert!(db.get_document(scope, &owner).await.expect("get").is_some(), "{scope:?}");
    }
    for scope in blind {
        assert!(db.get_booking(scope, booking.id).await.expect("get").is_none(), "{scope:?}");
        assert!(db.get_issuance(scope, issuance.id).await.expect("get").is_none(), "{scope:?}");
        assert!(db.tickets_of_issuance(scope, issuance.id).await.expect("tickets").is_empty(), "{scope:?}");
        for ticket in &tickets {
            assert!(db.get_ticket(scope, &ticket.number).await.expect("get").is_none(), "{scope:?}");
            let owner = DocumentOwner::Ticket(ticket.number.clone());
            assert!(db.get_document(scope, &owner).await.expect("get").is_none(), "{scope:?}");
        }
        let owner = DocumentOwner::Issuance(issuance.id);
        assert!(db.get_document(scope, &owner).await.expect("get").is_none(), "{scope:?}");
    }
    assert!(db.get_issuance(Scope::All, IssuanceId::generate()).await.expect("get").is_none());
    assert!(db.get_ticket(Scope::All, &number("999", 1)).await.expect("get").is_none());
    assert!(db
        .get_document(Scope::All, &DocumentOwner::Issuance(IssuanceId::generate()))
        .await
        .expect("get")
        .is_none());
}

pub async fn audit_filters_and_scope(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 0).await;
    let other = new_agency(db, 0).await;
    let agent = new_user(db, Some(agency.id), Role::Agent).await;
    let ours = flight_booking(agency.id, Some(agent.id));
    let theirs = flight_booking(other.id, None);
    db.insert_booking(&ours, &[]).await.expect("insert booking");
    db.insert_booking(&theirs, &[]).await.expect("insert booking");

    let entry = |agency: Option<AgencyId>, action: &str, tracking: &str| NewAuditEntry {
        agency_id: agency,
        actor: Actor {
            user_id: Some(agent.id),
            username: agent.username.clone(),
            client_addr: Some("198.51.100.4".into()),
            tracking_id: Some(tracking.into()),
        },
        action: action.into(),
        booking_id: None,
        ticket_number: None,
        issuance_id: None,
        outcome: "success".into(),
        detail: serde_json::json!({ "note": action, "n": 1 }),
        created_at: now(),
    };
    let booked_entry = NewAuditEntry { booking_id: Some(ours.id), ..entry(Some(agency.id), "booking.create", "trk-1") };
    let ticket_entry = NewAuditEntry {
        ticket_number: Some(number(PREFIX, FIRST_SERIAL).compact()),
        outcome: "refused:not_downloadable".into(),
        ..entry(Some(agency.id), "document.download", "trk-2")
    };
    let their_entry = NewAuditEntry { booking_id: Some(theirs.id), ..entry(Some(other.id), "booking.create", "trk-3") };
    let mut login = entry(None, "auth.login", "trk-4");
    login.actor.user_id = None;
    for e in [&booked_entry, &ticket_entry, &their_entry, &login] {
        db.append_audit(e).await.expect("append audit");
    }

    let actions = |entries: Vec<crate::AuditEntry>| entries.into_iter().map(|e| e.action).collect::<Vec<_>>();
    let list =
        |scope: Scope, filter: AuditFilter| async move { db.list_audit(scope, &filter).await.expect("list audit") };

    let all = list(Scope::All, AuditFilter::default()).await;
    assert!(all.windows(2).all(|w| w[0].id < w[1].id), "ascending ids");
    assert_eq!(actions(all.clone()), ["booking.create", "document.download", "booking.create", "auth.login"]);
    let first = &all[0];
    assert_eq!(first.agency_id, Some(agency.id));
    assert_eq!(first.user_id, Some(agent.id));
    assert_eq!(first.username, agent.username);
    assert_eq!(first.client_addr.as_deref(), Some("198.51.100.4"));
    assert_eq!(first.tracking_id.as_deref(), Some("trk-1"));
    assert_eq!(first.booking_id, Some(ours.id));
    assert_eq!(first.ticket_number, None);
    assert_eq!(first.issuance_id, None);
    assert_eq!(first.outcome, "success");
    assert_eq!(first.detail, booked_entry.detail);
    assert_eq!(first.created_at, booked_entry.created_at);
    assert_eq!(all[1].outcome, "refused:not_downloadable");
    assert_eq!(all[3].agency_id, None);
    assert_eq!(all[3].user_id, None);

    let ours_only = list(Scope::Agency(agency.id), AuditFilter::default()).await;
    assert_eq!(actions(ours_only), ["booking.create", "document.download"]);
    let customer = list(Scope::Customer { agency: agency.id, user: UserId::generate() }, AuditFilter::default()).await;
    assert_eq!(customer.len(), 2, "a customer scope narrows the trail to the agency");
    assert_eq!(list(Scope::Agency(other.id), AuditFilter::default()).await.len(), 1);

    let by_booking = AuditFilter { booking_id: Some(ours.id), ..AuditFilter::default() };
    assert_eq!(list(Scope::All, by_booking.clone()).await.len(), 1);
    assert!(list(Scope::Agency(other.id), by_booking).await.is_empty(), "filters never widen the scope");
    let by_ticket =
        AuditFilter { ticket_number: Some(number(PREFIX, FIRST_SERIAL).compact()), ..AuditFilter::default() };
    assert_eq!(actions(list(Scope::All, by_ticket).await), ["document.download"]);
    let by_tracking = AuditFilter { tracking_id: Some("trk-3".into()), ..AuditFilter::default() };
    assert_eq!(list(Scope::All, by_tracking.clone()).await[0].booking_id, Some(theirs.id));
    assert!(list(Scope::Agency(agency.id), by_tracking).await.is_empty());
    let by_both =
        AuditFilter { booking_id: Some(ours.id), tracking_id: Some("trk-2".into()), ..AuditFilter::default() };
    assert!(list(Scope::All, by_both).await.is_empty(), "filters combine");
    let by_action = AuditFilter { action: Some("booking.create".into()), ..AuditFilter::default() };
    let created = list(Scope::All, by_action.clone()).await;
    assert_eq!(created.iter().map(|e| e.booking_id).collect::<Vec<_>>(), [Some(ours.id), Some(theirs.id)]);
    assert_eq!(list(Scope::Agency(other.id), by_action).await.len(), 1, "and within the scope");
    let downloads = AuditFilter { action: Some("document.download".into()), ..AuditFilter::default() };
    assert_eq!(list(Scope::All, downloads.clone()).await[0].tracking_id.as_deref(), Some("trk-2"));
    assert!(list(Scope::Agency(other.id), downloads).await.is_empty());
    let download_of_booking =
        AuditFilter { action: Some("document.download".into()), booking_id: Some(ours.id), ..AuditFilter::default() };
    assert!(list(Scope::All, download_of_booking).await.is_empty(), "the action combines with the other filters");
    let unknown_action = AuditFilter { action: Some("document".into()), ..AuditFilter::default() };
    assert!(list(Scope::All, unknown_action).await.is_empty(), "actions match exactly");

    let limited = list(Scope::All, AuditFilter { limit: 2, ..AuditFilter::default() }).await;
    assert_eq!(actions(limited), ["booking.create", "document.download"], "the oldest first");
}

pub async fn idempotency_lifecycle(db: Arc<dyn Database>) {
    let db = &*db;
    let (scope, other_scope) = ("user:7f9c", "user:0a1b");
    let (key, hash, other_hash) = ("3f1e-idem", "sha256:aaaa", "sha256:bbbb");

    assert_eq!(db.claim_idempotency(scope, key, hash).await.expect("claim"), IdempotencyClaim::Claimed);
    assert_eq!(db.claim_idempotency(scope, key, hash).await.expect("claim"), IdempotencyClaim::InProgress);
    assert_eq!(db.claim_idempotency(scope, key, other_hash).await.expect("claim"), IdempotencyClaim::Mismatch);
    assert_eq!(
        db.claim_idempotency(other_scope, key, other_hash).await.expect("claim"),
        IdempotencyClaim::Claimed,
        "keys are per scope"
    );

    let body = br#"{"ticketReferenceID":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}"#;
    db.complete_idempotency(scope, key, 201, body).await.expect("complete");
    assert_eq!(
        db.claim_idempotency(scope, key, hash).await.expect("claim"),
        IdempotencyClaim::Completed { status: 201, body: body.to_vec() }
    );
    assert_eq!(db.claim_idempotency(scope, key, other_hash).await.expect("claim"), IdempotencyClaim::Mismatch);

    // A released claim can be taken again, by any request.
    db.release_idempotency(other_scope, key).await.expect("release");
    assert_eq!(db.claim_idempotency(other_scope, key, hash).await.expect("claim"), IdempotencyClaim::Claimed);
    db.release_idempotency(other_scope, "never-claimed").await.expect("releasing nothing is fine");

    // An empty body replays as empty.
    assert_eq!(db.claim_idempotency(scope, "empty", hash).await.expect("claim"), IdempotencyClaim::Claimed);
    db.complete_idempotency(scope, "empty", 204, b"").await.expect("complete");
    assert_eq!(
        db.claim_idempotency(scope, "empty", hash).await.expect("claim"),
        IdempotencyClaim::Completed { status: 204, body: Vec::new() }
    );
}

// ---------------------------------------------------------------------------------------------------------
// Booking orders (event bookings)
// ---------------------------------------------------------------------------------------------------------

/// An order as issuance leaves it.
fn completed(order: &BookingOrder) -> BookingOrder {
    BookingOrder { logistic_status: LogisticStatus::Completed, ..order.clone() }
}

fn order_ids(page: &OrderPage) -> Vec<BookingOrderId> {
    page.orders.iter().map(|r| r.order.id.clone()).collect()
}

async fn order_record(db: &dyn Database, id: &BookingOrderId) -> OrderRecord {
    db.get_booking_order(Scope::All, id).await.expect("get booking order").expect("order exists")
}

pub async fn orders_insert_and_read(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 0).await;
    let other = new_agency(db, 0).await;
    let customer = new_user(db, Some(agency.id), Role::Customer).await;
    let other_customer = new_user(db, Some(agency.id), Role::Customer).await;

    let (booking, orders) = event_booked(db, agency.id, Some(&customer)).await;
    assert_eq!(orders.len(), 2);
    assert_eq!(orders[1].items[0].downloads.len(), 3, "a multi-day pass has one PDF per day");
    assert!(orders.iter().all(|o| o.logistic_status == LogisticStatus::Processing));

    let sees = [Scope::All, Scope::Agency(agency.id), Scope::Customer { agency: agency.id, user: customer.id }];
    let blind = [
        Scope::Agency(other.id),
        Scope::Customer { agency: agency.id, user: other_customer.id },
        Scope::Customer { agency: other.id, user: customer.id },
    ];
    for scope in sees {
        assert_eq!(db.orders_of_booking(scope, booking.id).await.expect("orders"), orders, "{scope:?}");
        for order in &orders {
            let record = db.get_booking_order(scope, &order.id).await.expect("get order").expect("in scope");
            assert_eq!(&record.order, order, "{scope:?}");
            assert_eq!(record.booking_code, booking.code());
            assert!(record.documents.is_empty() && record.invoices.is_empty(), "nothing issued yet");
        }
    }
    for scope in blind {
        assert!(db.orders_of_booking(scope, booking.id).await.expect("orders").is_empty(), "{scope:?}");
        for order in &orders {
            assert!(db.get_booking_order(scope, &order.id).await.expect("get order").is_none(), "{scope:?}");
        }
    }
    // The agency sees bookings its customers did not make; a customer does not.
    let (agents, agents_orders) = event_booked(db, agency.id, None).await;
    assert_eq!(db.orders_of_booking(Scope::Agency(agency.id), agents.id).await.expect("orders"), agents_orders);
    let customer_scope = Scope::Customer { agency: agency.id, user: customer.id };
    assert!(db.orders_of_booking(customer_scope, agents.id).await.expect("orders").is_empty());

    let (flight, _) = booked(db, agency.id, None).await;
    assert!(db.orders_of_booking(Scope::All, flight.id).await.expect("orders").is_empty(), "flights have none");
    assert!(db.orders_of_booking(Scope::All, BookingId::generate()).await.expect("orders").is_empty());
    let unknown = BookingOrderId::from_uuid(Uuid::new_v4());
    assert!(db.get_booking_order(Scope::All, &unknown).await.expect("get order").is_none());

    // The booking and its orders go in together or not at all.
    let mut same_code = event_booking(agency.id, None);
    same_code.detail = booking.detail.clone();
    let same_code_orders = orders_for(&same_code);
    let refused = db.insert_booking(&same_code, &same_code_orders).await;
    assert!(matches!(refused, Err(StorageError::Conflict("booking code"))), "got {refused:?}");
    assert!(db.orders_of_booking(Scope::All, same_code.id).await.expect("orders").is_empty());
    assert!(db.get_booking_order(Scope::All, &same_code_orders[0].id).await.expect("get order").is_none());

    // Orders made for another booking are refused, and the booking is not stored without them.
    let stray = event_booking(agency.id, None);
    let foreign = orders_for(&event_booking(agency.id, None));
    let refused = db.insert_booking(&stray, &foreign).await;
    assert!(matches!(refused, Err(StorageError::Backend(_))), "got {refused:?}");
    assert!(db.get_booking(Scope::All, stray.id).await.expect("get").is_none());
    assert!(db.get_booking_order(Scope::All, &foreign[0].id).await.expect("get order").is_none());
}

pub async fn orders_list_filters_and_paging(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 0).await;
    let other = new_agency(db, 0).await;
    let customer = new_user(db, Some(agency.id), Role::Customer).await;
    let agent = new_user(db, Some(agency.id), Role::Agent).await;
    top_up(db, agency.id, 10 * EVENT_PAYABLE_MINOR).await;
    let t0 = now();

    // Created out of id order (ids are time-ordered), so the listing must sort by time: oldest is [2], then
    // [0], [3], [1]. Another agency's booking is older than all of them.
    let mut ours: Vec<(Booking, Vec<BookingOrder>)> = Vec::new();
    for (i, minutes_ago) in [30, 10, 40, 20].into_iter().enumerate() {
        let creator = if i == 0 { customer.id } else { agent.id };
        let mut booking = event_booking(agency.id, Some(creator));
        booking.created_at = t0 - Duration::minutes(minutes_ago);
        let orders = orders_for(&booking);
        db.insert_booking(&booking, &orders).await.expect("insert booking");
        ours.push((booking, orders));
    }
    let mut theirs = event_booking(other.id, None);
    theirs.created_at = t0 - Duration::minutes(50);
    let their_orders = orders_for(&theirs);
    db.insert_booking(&theirs, &their_orders).await.expect("insert booking");
    let o = |b: usize, p: usize| ours[b].1[p].id.clone();
    let chronological = vec![o(2, 0), o(2, 1), o(0, 0), o(0, 1), o(3, 0), o(3, 1), o(1, 0), o(1, 1)];

    // Issuing [3] completes its orders.
    let issuance = event_issuance(db, &ours[3].0, &ours[3].1, None).await;
    let sink = EventSink::new(ours[3].1.clone());
    db.issue(&issuance, &sink).await.expect("issue");

    let list = |scope: Scope, filter: OrderFilter, offset: u64, limit: u32| async move {
        let page = db.list_booking_orders(scope, &filter, offset, limit).await.expect("list booking orders");
        (order_ids(&page), page.total, page)
    };
    let ours_scope = Scope::Agency(agency.id);
    let all = OrderFilter::default;

    let (ids, total, page) = list(ours_scope, all(), 0, 100).await;
    assert_eq!(ids, chronological, "oldest booking first, then by position");
    assert_eq!(total, 8);
    for record in &page.orders {
        let (booking, orders) =
            ours.iter().find(|(b, _)| b.id == record.order.booking_id).expect("one of our bookings");
        assert_eq!(record.booking_code, booking.code());
        let inserted = orders.iter().find(|o| o.id == record.order.id).expect("one of its orders");
        if booking.id == ours[3].0.id {
            assert_eq!(record.order, completed(inserted));
            assert_eq!(record.invoices.len(), 1, "each order has its invoice");
            assert!(!record.documents.is_empty());
            assert!(record.documents.iter().all(|d| d.owner.order() == Some(&record.order.id)));
        } else {
            assert_eq!(&record.order, inserted);
            assert!(record.documents.is_empty() && record.invoices.is_empty());
        }
    }
    let (ids, total, _) = list(Scope::All, all(), 0, 100).await;
    assert_eq!(ids[..2], [their_orders[0].id.clone(), their_orders[1].id.clone()]);
    assert_eq!((ids[2..].to_vec(), total), (chronological.clone(), 10));
    let (ids, total, _) = list(Scope::Agency(other.id), all(), 0, 100).await;
    assert_eq!((ids.len(), total), (2, 2));
    let (ids, total, _) = list(Scope::Customer { agency: agency.id, user: customer.id }, all(), 0, 100).await;
    assert_eq!((ids, total), (vec![o(0, 0), o(0, 1)], 2), "a customer sees the orders of their own bookings");
    let (ids, total, _) = list(Scope::Customer { agency: agency.id, user: UserId::generate() }, all(), 0, 100).await;
    assert_eq!((ids.len(), total), (0, 0));

    // Paging: offset and limit cut the same ordered list; the total stays the full count.
    let mut paged = Vec::new();
    for offset in [0, 3, 6] {
        let (ids, total, _) = list(ours_scope, all(), offset, 3).await;
        assert_eq!(total, 8);
        paged.extend(ids);
    }
    assert_eq!(paged, chronological);
    for offset in [8, 100, u64::MAX] {
        let (ids, total, _) = list(ours_scope, all(), offset, 3).await;
        assert_eq!((ids.len(), total), (0, 8), "offset {offset} is past the end");
    }

    // booking_ids: any of them; an empty list matches nothing; never wider than the scope.
    let by_bookings = |ids: Vec<BookingId>| OrderFilter { booking_ids: Some(ids), ..all() };
    let (ids, total, _) = list(ours_scope, by_bookings(vec![ours[1].0.id, ours[3].0.id]), 0, 100).await;
    assert_eq!((ids, total), (vec![o(3, 0), o(3, 1), o(1, 0), o(1, 1)], 4));
    let (ids, total, _) = list(ours_scope, by_bookings(vec![ours[1].0.id, ours[3].0.id]), 1, 2).await;
    assert_eq!((ids, total), (vec![o(3, 1), o(1, 0)], 4), "filters and paging combine");
    let (ids, total, _) = list(Scope::All, by_bookings(Vec::new()), 0, 100).await;
    assert_eq!((ids.len(), total), (0, 0), "an empty list matches nothing");
    let (ids, total, _) = list(ours_scope, by_bookings(vec![theirs.id]), 0, 100).await;
    assert_eq!((ids.len(), total), (0, 0), "filters never widen the scope");
    let (_, total, _) = list(Scope::All, by_bookings(vec![theirs.id]), 0, 100).await;
    assert_eq!(total, 2);

    // order_ids.
    let by_orders = |ids: Vec<BookingOrderId>| OrderFilter { order_ids: Some(ids), ..all() };
    let (ids, total, _) = list(ours_scope, by_orders(vec![o(1, 1), o(2, 0), their_orders[0].id.clone()]), 0, 100).await;
    assert_eq!((ids, total), (vec![o(2, 0), o(1, 1)], 2));
    let (ids, total, _) = list(Scope::All, by_orders(Vec::new()), 0, 100).await;
    assert_eq!((ids.len(), total), (0, 0));

    // logistic_status.
    let by_status = |status| OrderFilter { logistic_status: Some(status), ..all() };
    let (ids, total, _) = list(ours_scope, by_status(LogisticStatus::Completed), 0, 100).await;
    assert_eq!((ids, total), (vec![o(3, 0), o(3, 1)], 2));
    let (ids, total, _) = list(ours_scope, by_status(LogisticStatus::Processing), 0, 100).await;
    assert_eq!((ids, total), (vec![o(2, 0), o(2, 1), o(0, 0), o(0, 1), o(1, 0), o(1, 1)], 6));
    let (ids, total, _) = list(ours_scope, by_status(LogisticStatus::Cancelled), 0, 100).await;
    assert_eq!((ids.len(), total), (0, 0));

    // booking_code.
    let by_code = |code: &str| OrderFilter { booking_code: Some(code.to_owned()), ..all() };
    let (ids, total, _) = list(ours_scope, by_code(ours[0].0.code()), 0, 100).await;
    assert_eq!((ids, total), (vec![o(0, 0), o(0, 1)], 2));
    let (ids, total, _) = list(ours_scope, by_code(theirs.code()), 0, 100).await;
    assert_eq!((ids.len(), total), (0, 0));
    let (ids, total, _) = list(ours_scope, by_code("s-nosuch-t-1"), 0, 100).await;
    assert_eq!((ids.len(), total), (0, 0));

    // event_id, alone and with other filters.
    let by_event = |event: &str| OrderFilter { event_id: Some(event.to_owned()), ..all() };
    let (ids, total, _) = list(ours_scope, by_event(EVENT_PASS), 0, 100).await;
    assert_eq!((ids, total), (vec![o(2, 1), o(0, 1), o(3, 1), o(1, 1)], 4));
    let (ids, total, _) = list(ours_scope, by_event(EVENT_PASS), 1, 2).await;
    assert_eq!((ids, total), (vec![o(0, 1), o(3, 1)], 4));
    let (_, total, _) = list(Scope::All, by_event(EVENT_PASS), 0, 100).await;
    assert_eq!(total, 5);
    let pass_completed = OrderFilter { logistic_status: Some(LogisticStatus::Completed), ..by_event(EVENT_PASS) };
    let (ids, total, _) = list(ours_scope, pass_completed, 0, 100).await;
    assert_eq!((ids, total), (vec![o(3, 1)], 1), "every set field must match");
    let (ids, total, _) = list(ours_scope, by_event("no-such-event"), 0, 100).await;
    assert_eq!((ids.len(), total), (0, 0));
}

pub async fn issue_event_invoices_and_documents(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 0).await;
    let other = new_agency(db, 0).await;
    let agent = new_user(db, Some(agency.id), Role::Agent).await;
    let customer = new_user(db, Some(agency.id), Role::Customer).await;
    let other_customer = new_user(db, Some(agency.id), Role::Customer).await;
    top_up(db, agency.id, 2 * EVENT_PAYABLE_MINOR).await;
    let (booking, orders) = event_booked(db, agency.id, Some(&customer)).await;
    let issuance = event_issuance(db, &booking, &orders, Some(&agent)).await;
    assert_eq!(issuance.draft.payable, usd_minor(EVENT_PAYABLE_MINOR));
    assert_eq!(issuance.draft.invoices.len(), 2, "one invoice per order");
    let sink = EventSink::new(orders.clone());

    let record = db.issue(&issuance, &sink).await.expect("issue");
    assert_eq!(record.amount_charged, usd_minor(EVENT_PAYABLE_MINOR));
    assert!(db.tickets_of_issuance(Scope::All, issuance.id).await.expect("tickets").is_empty(), "no tickets drawn");

    // The sink was handed the invoices with their numbers: 1.. per agency, in draft order.
    let invoices = expected_invoices(&issuance, 1);
    let calls = sink.calls();
    assert_eq!(calls.len(), 1);
    let (handed, documents) = &calls[0];
    assert_eq!(handed.invoices, invoices);
    assert!(handed.tickets.is_empty());
    assert_eq!(documents.len(), 6 + 2 + 2, "a PDF per download item, a zip and an invoice PDF per order");

    // Each order: completed, with its invoice and its documents.
    for (order, invoice) in orders.iter().zip(&invoices) {
        let record = order_record(db, &order.id).await;
        assert_eq!(record.order, completed(order));
        assert_eq!(record.booking_code, booking.code());
        assert_eq!(record.invoices, vec![invoice.clone()]);
        let expected: Vec<&NewDocument> = documents.iter().filter(|d| d.owner.order() == Some(&order.id)).collect();
        assert_eq!(record.documents.len(), expected.len());
        for document in expected {
            let stored = record.document(&document.owner).expect("the order lists the document");
            assert_document_eq(stored, document, agency.id, issuance.issued_at);
        }
    }
    assert_eq!(
        db.orders_of_booking(Scope::All, booking.id).await.expect("orders"),
        orders.iter().map(completed).collect::<Vec<_>>()
    );

    // The documents are found by owner, within the booking's scope only.
    let sees = [Scope::All, Scope::Agency(agency.id), Scope::Customer { agency: agency.id, user: customer.id }];
    let blind = [
        Scope::Agency(other.id),
        Scope::Customer { agency: agency.id, user: other_customer.id },
        Scope::Customer { agency: other.id, user: customer.id },
    ];
    for document in documents {
        for scope in sees {
            let found = db.get_document(scope, &document.owner).await.expect("get document");
            assert_document_eq(&found.expect("in scope"), document, agency.id, issuance.issued_at);
        }
        for scope in blind {
            assert!(db.get_document(scope, &document.owner).await.expect("get document").is_none(), "{scope:?}");
        }
    }
    // A download item is found under its own order only; unknown owners are not found.
    let download = &orders[0].items[0].downloads[0];
    let misfiled = DocumentOwner::Download(orders[1].id.clone(), download.id.clone());
    assert!(db.get_document(Scope::All, &misfiled).await.expect("get document").is_none());
    let not_issued = DocumentOwner::Invoice(orders[0].id.clone(), 3);
    assert!(db.get_document(Scope::All, &not_issued).await.expect("get document").is_none());
    let unknown = DocumentOwner::OrderZip(BookingOrderId::from_uuid(Uuid::new_v4()));
    assert!(db.get_document(Scope::All, &unknown).await.expect("get document").is_none());

    // Money, the booking, the audit trail.
    assert_eq!(balance(db, agency.id).await, EVENT_PAYABLE_MINOR);
    ledger_matches_balance(db, agency.id).await;
    let after = db.get_booking(Scope::All, booking.id).await.expect("get booking").expect("exists");
    assert_eq!(after.status, BookingStatus::Ticketed);
    let audit = db
        .list_audit(Scope::All, &AuditFilter { booking_id: Some(booking.id), ..AuditFilter::default() })
        .await
        .expect("audit");
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "issuance.create");
    assert_eq!(audit[0].issuance_id, Some(issuance.id));
    assert_eq!(audit[0].detail["invoices"], serde_json::json!([1, 2]));
    assert_eq!(audit[0].detail["tickets"], serde_json::json!([]));
    assert_eq!(audit[0].detail["amount"], "5227.50");

    // The agency's next issuance continues its numbers; another agency's start at 1.
    let (second, second_orders) = event_booked(db, agency.id, None).await;
    let next = event_issuance(db, &second, &second_orders, None).await;
    db.issue(&next, &EventSink::new(second_orders.clone())).await.expect("issue");
    for (order, invoice) in second_orders.iter().zip(expected_invoices(&next, 3)) {
        assert_eq!(order_record(db, &order.id).await.invoices, vec![invoice]);
    }
    top_up(db, other.id, EVENT_PAYABLE_MINOR).await;
    let (theirs, their_orders) = event_booked(db, other.id, None).await;
    let their_issuance = event_issuance(db, &theirs, &their_orders, None).await;
    db.issue(&their_issuance, &EventSink::new(their_orders.clone())).await.expect("issue");
    for (order, invoice) in their_orders.iter().zip(expected_invoices(&their_issuance, 1)) {
        assert_eq!(order_record(db, &order.id).await.invoices, vec![invoice]);
    }
    // Invoice numbers repeat across agencies, and their documents stay apart.
    let ours = DocumentOwner::Invoice(orders[0].id.clone(), 1);
    let their_first = DocumentOwner::Invoice(their_orders[0].id.clone(), 1);
    assert!(db.get_document(Scope::Agency(agency.id), &ours).await.expect("get").is_some());
    assert!(db.get_document(Scope::Agency(agency.id), &their_first).await.expect("get").is_none());
    assert!(db.get_document(Scope::Agency(other.id), &their_first).await.expect("get").is_some());
}

pub async fn issue_event_concurrent_invoice_numbers(db: Arc<dyn Database>) {
    const BOOKINGS: usize = 8;
    let agency = new_agency(&*db, 0).await;
    top_up(&*db, agency.id, BOOKINGS as i64 * EVENT_PAYABLE_MINOR).await;
    let mut issuances = Vec::new();
    let mut all_orders = Vec::new();
    for _ in 0..BOOKINGS {
        let (booking, orders) = event_booked(&*db, agency.id, None).await;
        issuances.push(event_issuance(&*db, &booking, &orders, None).await);
        all_orders.extend(orders);
    }
    let sink = Arc::new(EventSink::new(all_orders.clone()));
    let start = Arc::new(tokio::sync::Barrier::new(BOOKINGS));
    let mut tasks = Vec::new();
    for issuance in issuances {
        let (db, sink, start) = (db.clone(), sink.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            db.issue(&issuance, sink.as_ref()).await.expect("every issuance fits the balance");
            issuance
        }));
    }
    let mut numbers = Vec::new();
    for task in tasks {
        let issuance = task.await.expect("task");
        let mut own = Vec::new();
        for draft in &issuance.draft.invoices {
            let record = order_record(&*db, draft.order_id.as_ref().expect("an event invoice")).await;
            assert_eq!(record.order.logistic_status, LogisticStatus::Completed);
            assert_eq!(record.invoices.len(), 1);
            own.push(record.invoices[0].number);
        }
        assert!(own.windows(2).all(|w| w[1] == w[0] + 1), "an issuance's invoices are numbered in a block: {own:?}");
        numbers.extend(own);
    }
    numbers.sort_unstable();
    let expected: Vec<u64> = (1..=2 * BOOKINGS as u64).collect();
    assert_eq!(numbers, expected, "invoice numbers are unique and gapless");
    assert_eq!(balance(&*db, agency.id).await, 0);
}

pub async fn issue_event_sink_failure_consumes_no_invoice_number(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 0).await;
    top_up(db, agency.id, EVENT_PAYABLE_MINOR).await;
    let (booking, orders) = event_booked(db, agency.id, None).await;
    let issuance = event_issuance(db, &booking, &orders, None).await;

    let failing = EventSink::failing(orders.clone());
    let failed = db.issue(&issuance, &failing).await;
    assert!(matches!(failed, Err(StorageError::Documents(_))), "got {failed:?}");
    assert_eq!(failing.calls()[0].0.invoices, expected_invoices(&issuance, 1), "the sink saw numbers");
    assert_nothing_issued(db, &issuance).await;
    assert_eq!(balance(db, agency.id).await, EVENT_PAYABLE_MINOR);
    assert_eq!(
        db.get_booking(Scope::All, booking.id).await.expect("get").map(|b| b.status),
        Some(BookingStatus::Confirmed)
    );
    for order in &orders {
        let record = order_record(db, &order.id).await;
        assert_eq!(&record.order, order, "still processing");
        assert!(record.invoices.is_empty() && record.documents.is_empty());
        assert!(db.get_document(Scope::All, &DocumentOwner::OrderZip(order.id.clone())).await.expect("get").is_none());
    }

    // The retry gets the very same numbers: the failed attempt consumed none.
    let retry = NewIssuance { id: IssuanceId::generate(), ..issuance };
    let sink = EventSink::new(orders.clone());
    db.issue(&retry, &sink).await.expect("retry");
    assert_eq!(sink.calls()[0].0.invoices, expected_invoices(&retry, 1));
    for (order, invoice) in orders.iter().zip(expected_invoices(&retry, 1)) {
        let record = order_record(db, &order.id).await;
        assert_eq!(record.order, completed(order));
        assert_eq!(record.invoices, vec![invoice]);
    }
}

pub async fn orders_set_distribution_channel(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 0).await;
    let other = new_agency(db, 0).await;
    let customer = new_user(db, Some(agency.id), Role::Customer).await;
    let other_customer = new_user(db, Some(agency.id), Role::Customer).await;
    let (booking, orders) = event_booked(db, agency.id, Some(&customer)).await;
    let (pass, paddock) = (orders[1].items[0].id.clone(), orders[1].items[1].id.clone());
    let set = |scope: Scope, order: BookingOrderId, item: OrderItemId, channel| async move {
        db.set_distribution_channel(scope, &order, &item, channel).await.expect("set distribution channel")
    };

    // Out of reach: another agency, another customer, an unknown item or order, an item of another order.
    let external = DistributionChannel::External;
    assert!(set(Scope::Agency(other.id), orders[1].id.clone(), pass.clone(), external).await.is_none());
    let elsewhere = Scope::Customer { agency: agency.id, user: other_customer.id };
    assert!(set(elsewhere, orders[1].id.clone(), pass.clone(), external).await.is_none());
    let unknown_item = OrderItemId::from_uuid(Uuid::new_v4());
    assert!(set(Scope::All, orders[1].id.clone(), unknown_item, external).await.is_none());
    let unknown_order = BookingOrderId::from_uuid(Uuid::new_v4());
    assert!(set(Scope::All, unknown_order, pass.clone(), external).await.is_none());
    assert!(set(Scope::All, orders[0].id.clone(), pass.clone(), external).await.is_none());
    assert_eq!(db.orders_of_booking(Scope::All, booking.id).await.expect("orders"), orders, "nothing changed");

    // Only the item asked for changes.
    let mut expected = orders[1].clone();
    expected.items[0].distribution_channel = external;
    let updated = set(Scope::Agency(agency.id), orders[1].id.clone(), pass.clone(), external).await;
    assert_eq!(updated.as_ref(), Some(&expected));
    assert_eq!(
        db.orders_of_booking(Scope::All, booking.id).await.expect("orders"),
        [orders[0].clone(), expected.clone()]
    );

    // Any scope that reaches the booking may; the change is visible through every read.
    let mine = Scope::Customer { agency: agency.id, user: customer.id };
    expected.items[1].distribution_channel = DistributionChannel::Xs2event;
    let updated = set(mine, orders[1].id.clone(), paddock, DistributionChannel::Xs2event).await;
    assert_eq!(updated.as_ref(), Some(&expected));
    expected.items[0].distribution_channel = DistributionChannel::Xs2event;
    let updated = set(Scope::All, orders[1].id.clone(), pass, DistributionChannel::Xs2event).await;
    assert_eq!(updated.as_ref(), Some(&expected));
    assert_eq!(order_record(db, &orders[1].id).await.order, expected);
    assert_eq!(order_record(db, &orders[0].id).await.order, orders[0]);
}

pub async fn orders_concurrent_channel_changes_are_not_lost(db: Arc<dyn Database>) {
    const TICKETS: usize = 10;
    let agency = new_agency(&*db, 0).await;
    let mut booking = event_booking(agency.id, None);
    if let BookingDetail::Event(event) = &mut booking.detail {
        event.orders[0].items[0].quantity = TICKETS as u32;
    }
    let orders = orders_for(&booking);
    db.insert_booking(&booking, &orders).await.expect("insert booking");
    let order = orders[0].clone();
    assert_eq!(order.items.len(), TICKETS);

    // Every item changed at once, each by its own caller: each read-modify-write must see the others'.
    let start = Arc::new(tokio::sync::Barrier::new(TICKETS));
    let mut tasks = Vec::new();
    for item in &order.items {
        let (db, start, order_id, item_id) = (db.clone(), start.clone(), order.id.clone(), item.id.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            db.set_distribution_channel(Scope::Agency(agency.id), &order_id, &item_id, DistributionChannel::External)
                .await
        }));
    }
    for task in tasks {
        assert!(task.await.expect("task").expect("set distribution channel").is_some());
    }
    let stored = order_record(&*db, &order.id).await.order;
    assert!(
        stored.items.iter().all(|i| i.distribution_channel == DistributionChannel::External),
        "a concurrent change was lost: {:?}",
        stored.items.iter().map(|i| i.distribution_channel).collect::<Vec<_>>()
    );
    let mut expected = order.clone();
    for item in &mut expected.items {
        item.distribution_channel = DistributionChannel::External;
    }
    assert_eq!(stored, expected);
}

pub async fn orders_replace_document(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 0).await;
    let other = new_agency(db, 0).await;
    top_up(db, agency.id, EVENT_PAYABLE_MINOR).await;
    let (booking, orders) = event_booked(db, agency.id, None).await;
    let issuance = event_issuance(db, &booking, &orders, None).await;
    db.issue(&issuance, &EventSink::new(orders.clone())).await.expect("issue");
    let zip = DocumentOwner::OrderZip(orders[0].id.clone());
    let before = order_record(db, &orders[0].id).await;
    let old = before.document(&zip).expect("a zip from issuance").clone();
    let rebuilt = fake_document(zip.clone(), format!("tickets-{}.zip", orders[0].id), "application/zip");
    let at = now() + Duration::minutes(5);

    // Another agency cannot replace it.
    let refused = db.replace_document(other.id, &rebuilt, at).await;
    assert!(matches!(refused, Err(StorageError::NotFound)), "got {refused:?}");
    let still = db.get_document(Scope::All, &zip).await.expect("get").expect("stored");
    assert_eq!((still.id, &still.sha256), (old.id, &old.sha256));

    db.replace_document(agency.id, &rebuilt, at).await.expect("replace document");
    let after = order_record(db, &orders[0].id).await;
    assert_eq!(after.documents.len(), before.documents.len(), "replaced, not added");
    assert_document_eq(after.document(&zip).expect("the zip"), &rebuilt, agency.id, at);
    for document in before.documents.iter().filter(|d| d.owner != zip) {
        let same = after.document(&document.owner).expect("still there");
        assert_eq!((same.id, &same.sha256, same.created_at), (document.id, &document.sha256, document.created_at));
    }
    let found = db.get_document(Scope::Agency(agency.id), &zip).await.expect("get").expect("stored");
    assert_document_eq(&found, &rebuilt, agency.id, at);
    let other_zip = DocumentOwner::OrderZip(orders[1].id.clone());
    let untouched = db.get_document(Scope::All, &other_zip).await.expect("get").expect("stored");
    assert_eq!(untouched.created_at, issuance.issued_at, "the other order's zip is left alone");

    // And again: the latest wins.
    let again = fake_document(zip.clone(), format!("tickets-{}.zip", orders[0].id), "application/zip");
    db.replace_document(agency.id, &again, at + Duration::minutes(1)).await.expect("replace document");
    let found = db.get_document(Scope::All, &zip).await.expect("get").expect("stored");
    assert_document_eq(&found, &again, agency.id, at + Duration::minutes(1));
}

// ---------------------------------------------------------------------------------------------------------
// E-mail outbox
// ---------------------------------------------------------------------------------------------------------

/// The lease most outbox checks claim with.
fn lease() -> Duration {
    Duration::seconds(60)
}

/// A ticket e-mail for `agency`, created at `created_at`, with the e-ticket PDF attached.
fn new_message(agency: Option<AgencyId>, created_at: DateTime<Utc>) -> NewMessage {
    let id = MessageId::generate();
    NewMessage {
        id,
        agency_id: agency,
        booking_id: Some(BookingId::generate()),
        recipient: "ram.shrestha@example.com".into(),
        subject: format!("Your e-ticket {} – Kathmandu → London", unique(6)),
        text_body: "Namaste Ram,\n\nyour tickets are attached.\n".into(),
        html_body: "<p>Namaste Ram,</p><p>your tickets are attached.</p>".into(),
        attachments: vec![MessageAttachment {
            filename: "e-ticket-1572100000001.pdf".into(),
            storage_key: format!("documents/{id}.pdf"),
            sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
            content_type: "application/pdf".into(),
        }],
        created_at,
    }
}

async fn enqueue(db: &dyn Database, agency: Option<AgencyId>, created_at: DateTime<Utc>) -> NewMessage {
    let message = new_message(agency, created_at);
    db.enqueue_message(&message).await.expect("enqueue message");
    message
}

async fn message(db: &dyn Database, id: MessageId) -> OutboxMessage {
    db.get_message(id).await.expect("get message").expect("message exists")
}

fn ids(messages: &[OutboxMessage]) -> Vec<MessageId> {
    messages.iter().map(|m| m.id).collect()
}

fn assert_content_eq(found: &OutboxMessage, expected: &NewMessage) {
    assert_eq!(found.id, expected.id);
    assert_eq!(found.agency_id, expected.agency_id);
    assert_eq!(found.booking_id, expected.booking_id);
    assert_eq!(found.recipient, expected.recipient);
    assert_eq!(found.subject, expected.subject);
    assert_eq!(found.text_body, expected.text_body);
    assert_eq!(found.html_body, expected.html_body);
    assert_eq!(found.attachments, expected.attachments);
    assert_eq!(found.created_at, expected.created_at);
}

pub async fn outbox_enqueue_and_get(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 0).await;
    let sent = enqueue(db, Some(agency.id), now()).await;
    let found = message(db, sent.id).await;
    assert_content_eq(&found, &sent);
    assert_eq!(found.status, MessageStatus::Queued);
    assert_eq!(found.attempts, 0);
    assert_eq!(found.last_error, None);
    assert_eq!(found.next_attempt_at, sent.created_at, "due as soon as it is created");
    assert_eq!(found.sent_at, None);

    // No agency, no booking, no attachments.
    let mut bare = new_message(None, now());
    bare.booking_id = None;
    bare.attachments.clear();
    db.enqueue_message(&bare).await.expect("enqueue");
    let found = message(db, bare.id).await;
    assert_content_eq(&found, &bare);

    let again = NewMessage { subject: "other".into(), ..sent.clone() };
    assert!(matches!(db.enqueue_message(&again).await, Err(StorageError::Conflict(_))), "ids are unique");
    assert_eq!(message(db, sent.id).await.subject, sent.subject, "the first message is untouched");
    assert!(db.get_message(MessageId::generate()).await.expect("get").is_none());
}

pub async fn outbox_claim_due_selects_orders_and_leases(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 0).await;
    let t0 = now();
    let minutes = Duration::minutes;
    // Not claimable at t0, though older than every due message: leased until t0 + 5m, ...
    let leased = enqueue(db, Some(agency.id), t0 - minutes(8)).await;
    assert!(db.claim_message(leased.id, t0, minutes(5)).await.expect("claim").is_some());
    // ... given up, ...
    let failed = enqueue(db, Some(agency.id), t0 - minutes(7)).await;
    db.mark_message_failed(failed.id, "550 mailbox unavailable", None).await.expect("fail");
    // ... sent, ...
    let sent = enqueue(db, Some(agency.id), t0 - minutes(6)).await;
    db.mark_message_sent(sent.id, t0 - minutes(6)).await.expect("sent");
    // ... and to be retried at t0 + 10m.
    let later = enqueue(db, Some(agency.id), t0 - minutes(5)).await;
    db.mark_message_failed(later.id, "421 try again later", Some(t0 + minutes(10))).await.expect("fail");
    // Due now, oldest first: a, b, c. Created in the future: not due yet.
    let c = enqueue(db, None, t0 - minutes(1)).await;
    let a = enqueue(db, Some(agency.id), t0 - minutes(3)).await;
    let b = enqueue(db, Some(agency.id), t0 - minutes(2)).await;
    let future = enqueue(db, None, t0 + minutes(30)).await;

    assert!(db.claim_due_messages(t0, lease(), 0).await.expect("claim").is_empty(), "limit 0 claims nothing");
    let first = db.claim_due_messages(t0, lease(), 2).await.expect("claim");
    assert_eq!(ids(&first), [a.id, b.id], "the limit, oldest first");
    assert_content_eq(&first[0], &a);
    assert_eq!(first[0].status, MessageStatus::Queued);
    assert_eq!(first[0].attempts, 0, "claiming is not an attempt");
    assert_eq!(ids(&db.claim_due_messages(t0, lease(), 10).await.expect("claim")), [c.id]);
    assert!(db.claim_due_messages(t0, lease(), 10).await.expect("claim").is_empty(), "all leased");
    assert!(
        db.claim_due_messages(t0 + Duration::seconds(59), lease(), 10).await.expect("claim").is_empty(),
        "leases still live"
    );

    // The leases of a, b and c end at t0 + 60s; the leased message's at t0 + 5m.
    let t1 = t0 + minutes(2);
    assert_eq!(ids(&db.claim_due_messages(t1, lease(), 10).await.expect("claim")), [a.id, b.id, c.id]);
    let t2 = t0 + minutes(11);
    assert_eq!(
        ids(&db.claim_due_messages(t2, lease(), 10).await.expect("claim")),
        [leased.id, later.id, a.id, b.id, c.id],
        "expired leases and the retry now due, oldest first"
    );
    let t3 = t0 + minutes(31);
    assert_eq!(
        ids(&db.claim_due_messages(t3, lease(), 10).await.expect("claim")),
        [leased.id, later.id, a.id, b.id, c.id, future.id]
    );
    for settled in [&sent, &failed] {
        let found = message(db, settled.id).await;
        assert_ne!(found.status, MessageStatus::Queued, "sent and failed messages are never claimed");
    }
}

pub async fn outbox_claim_message(db: Arc<dyn Database>) {
    let db = &*db;
    let t0 = now();
    let queued = enqueue(db, None, t0).await;
    let claimed = db.claim_message(queued.id, t0, lease()).await.expect("claim").expect("claimed");
    assert_content_eq(&claimed, &queued);
    assert_eq!(claimed.status, MessageStatus::Queued);
    assert!(db.claim_message(queued.id, t0, lease()).await.expect("claim").is_none(), "lease live");
    assert!(db.claim_due_messages(t0, lease(), 10).await.expect("claim").is_empty(), "claimed is claimed");
    assert!(db.claim_message(queued.id, t0 + Duration::seconds(59), lease()).await.expect("claim").is_none());
    assert!(
        db.claim_message(queued.id, t0 + lease(), lease()).await.expect("claim").is_some(),
        "an expired lease can be taken over"
    );

    // Whenever it is due.
    let retry = enqueue(db, None, t0).await;
    db.mark_message_failed(retry.id, "timeout", Some(t0 + Duration::hours(1))).await.expect("fail");
    let claimed = db.claim_message(retry.id, t0, lease()).await.expect("claim").expect("claimed before due");
    assert_eq!(claimed.attempts, 1);
    assert_eq!(claimed.next_attempt_at, t0 + Duration::hours(1));

    let sent = enqueue(db, None, t0).await;
    db.mark_message_sent(sent.id, t0).await.expect("sent");
    let failed = enqueue(db, None, t0).await;
    db.mark_message_failed(failed.id, "550", None).await.expect("fail");
    for id in [sent.id, failed.id, MessageId::generate()] {
        assert!(db.claim_message(id, t0 + Duration::days(1), lease()).await.expect("claim").is_none());
    }
}

pub async fn outbox_mark_sent_and_failed(db: Arc<dyn Database>) {
    let db = &*db;
    let t0 = now();

    // A retry: still queued, due at the new time, and its lease is released.
    let flaky = enqueue(db, None, t0).await;
    db.claim_message(flaky.id, t0, lease()).await.expect("claim").expect("claimed");
    db.mark_message_failed(flaky.id, "421 4.7.0 try again later", Some(t0)).await.expect("fail");
    let found = message(db, flaky.id).await;
    assert_eq!(found.status, MessageStatus::Queued);
    assert_eq!(found.attempts, 1);
    assert_eq!(found.last_error.as_deref(), Some("421 4.7.0 try again later"));
    assert_eq!(found.next_attempt_at, t0);
    assert_eq!(found.sent_at, None);
    assert_eq!(ids(&db.claim_due_messages(t0, lease(), 10).await.expect("claim")), [flaky.id], "lease released");
    let retry_at = t0 + Duration::minutes(5);
    db.mark_message_failed(flaky.id, "421 again", Some(retry_at)).await.expect("fail");
    let found = message(db, flaky.id).await;
    assert_eq!((found.attempts, found.next_attempt_at), (2, retry_at));
    assert!(db.claim_due_messages(t0 + Duration::minutes(4), lease(), 10).await.expect("claim").is_empty());
    assert_eq!(ids(&db.claim_due_messages(retry_at, lease(), 10).await.expect("claim")), [flaky.id]);

    // Sent after failures: the last error stays for the record.
    let sent_at = t0 + Duration::minutes(6);
    db.mark_message_sent(flaky.id, sent_at).await.expect("sent");
    let found = message(db, flaky.id).await;
    assert_eq!(found.status, MessageStatus::Sent);
    assert_eq!(found.attempts, 3);
    assert_eq!(found.sent_at, Some(sent_at));
    assert_eq!(found.last_error.as_deref(), Some("421 again"));
    assert_content_eq(&found, &flaky);

    // Sent at once.
    let easy = enqueue(db, None, t0).await;
    db.claim_message(easy.id, t0, lease()).await.expect("claim").expect("claimed");
    db.mark_message_sent(easy.id, t0).await.expect("sent");
    let found = message(db, easy.id).await;
    assert_eq!(
        (found.status, found.attempts, found.last_error, found.sent_at),
        (MessageStatus::Sent, 1, None, Some(t0))
    );

    // Given up, with an overlong error cut to MAX_MESSAGE_ERROR_CHARS characters (not bytes).
    let doomed = enqueue(db, None, t0).await;
    let long = "é".repeat(MAX_MESSAGE_ERROR_CHARS + 500);
    db.mark_message_failed(doomed.id, &long, None).await.expect("fail");
    let found = message(db, doomed.id).await;
    assert_eq!(found.status, MessageStatus::Failed);
    assert_eq!(found.attempts, 1);
    assert_eq!(found.last_error.as_deref().map(|e| e.chars().count()), Some(MAX_MESSAGE_ERROR_CHARS));
    assert_eq!(found.sent_at, None);
    assert!(db.claim_due_messages(t0 + Duration::days(1), lease(), 10).await.expect("claim").is_empty());

    // A late report about a message already settled changes nothing.
    db.mark_message_failed(easy.id, "late", Some(t0)).await.expect("late failure");
    db.mark_message_sent(doomed.id, t0).await.expect("late success");
    let found = message(db, easy.id).await;
    assert_eq!((found.status, found.attempts, found.last_error), (MessageStatus::Sent, 1, None));
    let found = message(db, doomed.id).await;
    assert_eq!((found.status, found.attempts), (MessageStatus::Failed, 1));

    let unknown = MessageId::generate();
    assert!(matches!(db.mark_message_sent(unknown, t0).await, Err(StorageError::NotFound)));
    assert!(matches!(db.mark_message_failed(unknown, "x", None).await, Err(StorageError::NotFound)));
}

pub async fn outbox_list_scope_and_order(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 0).await;
    let other = new_agency(db, 0).await;
    let t0 = now();
    let ours_old = enqueue(db, Some(agency.id), t0 - Duration::minutes(3)).await;
    let theirs = enqueue(db, Some(other.id), t0 - Duration::minutes(2)).await;
    let nobodys = enqueue(db, None, t0 - Duration::minutes(1)).await;
    let ours_new = enqueue(db, Some(agency.id), t0).await;
    db.mark_message_sent(ours_old.id, t0).await.expect("sent");

    let list = |scope: Scope, limit: u32| async move { ids(&db.list_outbox(scope, limit).await.expect("list")) };
    assert_eq!(list(Scope::All, 0).await, [ours_new.id, nobodys.id, theirs.id, ours_old.id], "newest first");
    assert_eq!(list(Scope::All, 2).await, [ours_new.id, nobodys.id]);
    assert_eq!(list(Scope::Agency(agency.id), 0).await, [ours_new.id, ours_old.id], "every status");
    assert_eq!(
        list(Scope::Customer { agency: agency.id, user: UserId::generate() }, 0).await,
        [ours_new.id, ours_old.id]
    );
    assert_eq!(list(Scope::Agency(other.id), 0).await, [theirs.id]);
    assert!(list(Scope::Agency(AgencyId::generate()), 0).await.is_empty());

    let listed = db.list_outbox(Scope::Agency(agency.id), 0).await.expect("list");
    assert_eq!(listed[1].status, MessageStatus::Sent);
    assert_content_eq(&listed[0], &ours_new);
}

pub async fn outbox_concurrent_claims_never_overlap(db: Arc<dyn Database>) {
    const MESSAGES: usize = 20;
    const CALLERS: usize = 10;
    const LIMIT: u32 = 5;
    let agency = new_agency(&*db, 0).await;
    let t0 = now();
    let mut enqueued = HashSet::new();
    for i in 0..MESSAGES {
        let created_at = t0 - Duration::seconds(MESSAGES as i64 - i as i64);
        enqueued.insert(enqueue(&*db, Some(agency.id), created_at).await.id);
    }

    // Ten nodes polling at once.
    let start = Arc::new(tokio::sync::Barrier::new(CALLERS));
    let mut tasks = Vec::new();
    for _ in 0..CALLERS {
        let (db, start) = (db.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            db.claim_due_messages(t0, lease(), LIMIT).await
        }));
    }
    let mut claimed = Vec::new();
    for task in tasks {
        let batch = task.await.expect("task").expect("claim");
        assert!(batch.len() <= LIMIT as usize);
        assert!(batch.windows(2).all(|w| (w[0].created_at, w[0].id) < (w[1].created_at, w[1].id)), "oldest first");
        claimed.extend(ids(&batch));
    }
    let unique: HashSet<_> = claimed.iter().copied().collect();
    assert_eq!(unique.len(), claimed.len(), "a message was claimed twice");
    assert_eq!(unique, enqueued, "every due message was claimed");

    // Ten nodes racing for the synchronous first send of one message: one wins.
    let first = enqueue(&*db, Some(agency.id), t0).await;
    let start = Arc::new(tokio::sync::Barrier::new(CALLERS));
    let mut tasks = Vec::new();
    for _ in 0..CALLERS {
        let (db, start) = (db.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            db.claim_message(first.id, t0, lease()).await
        }));
    }
    let mut winners = 0;
    for task in tasks {
        if task.await.expect("task").expect("claim").is_some() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1, "one node sends the message");
}

// ---------------------------------------------------------------------------------------------------------
// Lifecycle: void, refund, exchange and use after issuance
// ---------------------------------------------------------------------------------------------------------

/// A transition sink like the real one without rendering: a PDF for the subject ticket and for an exchange's
/// new ticket; for an order item a PDF per download item, the order's zip, and the PDF of an invoice of the
/// order. It knows the orders of the bookings it serves, since a transition hands it only ids.
/// [`TransitionRecorder::failing`] records the call, then fails.
#[derive(Default)]
pub struct TransitionRecorder {
    orders: Vec<BookingOrder>,
    fail: bool,
    calls: Mutex<Vec<(TransitionOutcome, Vec<NewDocument>)>>,
}

impl TransitionRecorder {
    pub fn new(orders: Vec<BookingOrder>) -> Self {
        Self { orders, ..Self::default() }
    }

    pub fn failing() -> Self {
        Self { fail: true, ..Self::default() }
    }

    /// Every call so far: what it was handed and what it returned (or would have).
    pub fn calls(&self) -> Vec<(TransitionOutcome, Vec<NewDocument>)> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[async_trait]
impl TransitionSink for TransitionRecorder {
    async fn produce(&self, done: &TransitionOutcome) -> Result<Vec<NewDocument>, SinkError> {
        let mut documents = Vec::new();
        match &done.subject {
            Subject::Ticket { number } => {
                for number in std::iter::once(number).chain(done.reissued.as_ref().map(|t| &t.number)) {
                    let filename = format!("{}.pdf", number.dashed());
                    documents.push(fake_document(DocumentOwner::Ticket(number.clone()), filename, "application/pdf"));
                }
            }
            Subject::Item { order, item } => {
                let downloads = self
                    .orders
                    .iter()
                    .filter(|o| &o.id == order)
                    .flat_map(|o| &o.items)
                    .filter(|i| &i.id == item)
                    .flat_map(|i| &i.downloads);
                for download in downloads {
                    documents.push(fake_document(
                        DocumentOwner::Download(order.clone(), download.id.clone()),
                        download.link.as_str().to_owned(),
                        "application/pdf",
                    ));
                }
                let filename = format!("tickets-{order}.zip");
                documents.push(fake_document(DocumentOwner::OrderZip(order.clone()), filename, "application/zip"));
            }
        }
        if let Some(invoice) = &done.invoice {
            if let Some(order) = &invoice.draft.order_id {
                documents.push(fake_document(
                    DocumentOwner::Invoice(order.clone(), invoice.number),
                    format!("invoice-{}.pdf", invoice.number),
                    "application/pdf",
                ));
            }
        }
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).push((done.clone(), documents.clone()));
        if self.fail {
            return Err(SinkError("document store unavailable".into()));
        }
        Ok(documents)
    }
}

fn lifecycle_actor() -> Actor {
    Actor {
        user_id: None,
        username: "agent-lifecycle".into(),
        client_addr: Some("203.0.113.9".into()),
        tracking_id: Some(format!("trk-{}", unique(12).to_lowercase())),
    }
}

/// What `action` does to a ticket as it stands, as the state machine plans it; no money, invoice or reissue
/// (checks add those).
fn ticket_change(ticket: &Ticket, action: Action, at: DateTime<Utc>) -> NewTransition {
    let next = lifecycle::apply(ticket.status, &ticket.coupon_states(), action, at).expect("the action is allowed");
    NewTransition {
        agency_id: ticket.agency_id,
        booking_id: ticket.booking_id,
        subject: Subject::Ticket { number: ticket.number.clone() },
        from: ticket.status,
        from_coupons: ticket.coupon_states(),
        to: next.status,
        coupons: next.coupons,
        pending_penalty: None,
        ledger: None,
        issuance_id: Some(ticket.issuance_id),
        invoice: None,
        reissue: None,
        at,
        actor: lifecycle_actor(),
        action: format!("ticket.{}", action.name()),
        detail: serde_json::json!({ "reason": "conformance" }),
    }
}

/// What `action` does to an event ticket (an order item) as it stands.
fn item_change(
    order: &BookingOrder,
    item: &OrderItem,
    action: Action,
    at: DateTime<Utc>,
    issuance: IssuanceId,
) -> NewTransition {
    let next = lifecycle::apply(item.status, &item.coupon_states(), action, at).expect("the action is allowed");
    NewTransition {
        agency_id: order.agency_id,
        booking_id: order.booking_id,
        subject: Subject::Item { order: order.id.clone(), item: item.id.clone() },
        from: item.status,
        from_coupons: item.coupon_states(),
        to: next.status,
        coupons: next.coupons,
        pending_penalty: None,
        ledger: None,
        issuance_id: Some(issuance),
        invoice: None,
        reissue: None,
        at,
        actor: lifecycle_actor(),
        action: format!("item.{}", action.name()),
        detail: serde_json::json!({ "reason": "conformance" }),
    }
}

/// A credit invoice taking `amount` back for `covers` (a ticket number or item id), crediting invoice `credits`.
fn credit_note(
    booking: BookingId,
    order: Option<&BookingOrder>,
    covers: &str,
    amount: Money,
    vat_percent: Decimal,
    credits: u64,
) -> InvoiceDraft {
    credit_for(Credit {
        booking_id: booking,
        order_id: order.map(|o| o.id.clone()),
        covers,
        description: format!("Refund of {covers}"),
        amount,
        vat_percent,
        credits,
    })
    .expect("credit invoice")
}

/// A void of `ticket`: what it was charged credited back, with a credit invoice against invoice `billed`.
fn void_of(ticket: &Ticket, billed: u64, at: DateTime<Utc>) -> NewTransition {
    let mut change = ticket_change(ticket, Action::Void, at);
    change.ledger = Some((LedgerKind::VoidCredit, ticket.charged));
    let covers = ticket.number.compact();
    change.invoice = Some(credit_note(ticket.booking_id, None, &covers, ticket.charged, Decimal::ZERO, billed));
    change
}

/// An exchange of `ticket` (all coupons unused) for the same itinerary a week later at `new_total`, with a
/// change fee: the difference to its residual value is debited or credited, the exchange invoiced, and the
/// booking amended.
fn exchange_of(booking: &Booking, ticket: &Ticket, new_total: i64, fee: i64, at: DateTime<Utc>) -> NewTransition {
    let flight = booking.as_flight().expect("a flight booking");
    let mut journeys = flight.journeys.clone();
    for segment in journeys.iter_mut().flat_map(|j| j.segments.iter_mut()) {
        segment.departure.time += Duration::days(7);
        segment.arrival.time += Duration::days(7);
    }
    let taxes =
        vec![Tax { code: "YQ".into(), amount: usd_minor(5_000) }, Tax { code: "NP".into(), amount: usd_minor(1_000) }];
    let fare = Fare {
        passenger_type: PassengerType::ADT,
        base: usd_minor(new_total - 6_000),
        taxes,
        total: usd_minor(new_total),
    };
    let draft = TicketDraft {
        kind: TicketType::TKT,
        prefix: ticket.number.prefix().clone(),
        passenger_id: ticket.passenger_id.clone(),
        base: fare.base,
        taxes: fare.taxes.clone(),
        total: fare.total,
        charged: fare.total,
        service: None,
        coupons: flight_coupons(&journeys),
    };
    let mut amended = flight.clone();
    amended.amendments.push(Amendment {
        replaces: ticket.number.clone(),
        passenger_id: ticket.passenger_id.clone(),
        journeys,
        fare,
        change_fee: usd_minor(fee),
    });
    let residual = lifecycle::residual_value(ticket.charged, &ticket.coupon_states()).expect("residual value");
    let difference = new_total + fee - residual.minor();
    let mut change = ticket_change(ticket, Action::Exchange, at);
    change.ledger = match difference {
        0 => None,
        d if d > 0 => Some((LedgerKind::ExchangeDebit, usd_minor(-d))),
        d => Some((LedgerKind::ExchangeCredit, usd_minor(-d))),
    };
    let compact = ticket.number.compact();
    change.invoice = Some(
        exchange_invoice(booking.id, &compact, usd_minor(new_total), usd_minor(fee), residual)
            .expect("exchange invoice"),
    );
    change.reissue = Some(Reissue { draft, booking: BookingDetail::Flight(amended) });
    change
}

/// A flight booking of a fresh agency (topped up by `funds`), issued: the agency, booking, issuance and tickets.
async fn issued_flight(db: &dyn Database, funds: i64) -> (Agency, Booking, NewIssuance, Vec<Ticket>) {
    let agency = new_agency(db, 0).await;
    top_up(db, agency.id, funds).await;
    let (booking, issuance) = booked(db, agency.id, None).await;
    db.issue(&issuance, &RecordingSink::default()).await.expect("issue");
    let tickets = db.tickets_of_issuance(Scope::All, issuance.id).await.expect("tickets");
    let agency = db.get_agency(agency.id).await.expect("get agency").expect("agency exists");
    (agency, booking, issuance, tickets)
}

async fn ticket_now(db: &dyn Database, number: &TicketNumber) -> Ticket {
    db.get_ticket(Scope::All, number).await.expect("get ticket").expect("ticket exists")
}

async fn invoice_numbers(db: &dyn Database, booking: BookingId) -> Vec<u64> {
    db.invoices_of_booking(Scope::All, booking).await.expect("invoices").iter().map(|i| i.number).collect()
}

async fn audit_of(db: &dyn Database, subject: &Subject) -> Vec<crate::AuditEntry> {
    let filter = AuditFilter { ticket_number: Some(subject.key()), ..AuditFilter::default() };
    db.list_audit(Scope::All, &filter).await.expect("audit")
}

pub async fn lifecycle_void_ticket(db: Arc<dyn Database>) {
    let db = &*db;
    let (agency, booking, issuance, tickets) = issued_flight(db, 200_000).await;
    let ticket = &tickets[0];
    let issued_invoices = db.invoices_of_booking(Scope::All, booking.id).await.expect("invoices");
    assert_eq!(issued_invoices.iter().map(|i| i.number).collect::<Vec<_>>(), [1]);
    let at = now() + Duration::minutes(5);
    let change = void_of(ticket, 1, at);
    let sink = TransitionRecorder::default();

    let outcome = db.transition(&change, &sink).await.expect("void");
    assert_eq!(outcome.subject, change.subject);
    assert!(outcome.reissued.is_none());
    let entry = outcome.ledger.clone().expect("a ledger entry");
    assert_eq!((entry.kind, entry.amount), (LedgerKind::VoidCredit, usd_minor(46_000)), "the charged amount back");
    assert_eq!(entry.balance_after, usd_minor(200_000 - PAYABLE_MINOR + 46_000));
    assert_eq!((entry.agency_id, entry.issuance_id, entry.created_at), (agency.id, Some(issuance.id), at));
    assert_eq!(entry.note.as_deref(), Some("ticket.void"));
    let expected_invoice =
        Invoice { number: 2, agency_id: agency.id, issued_at: at, draft: change.invoice.clone().expect("draft") };
    assert_eq!(outcome.invoice.as_ref(), Some(&expected_invoice), "numbered right after the issuance's invoice");

    // The ticket and its coupons changed; its siblings did not.
    let mut expected = ticket.clone();
    expected.status = TicketStatus::Void;
    for coupon in &mut expected.coupons {
        coupon.status = CouponStatus::Void;
    }
    assert_eq!(ticket_now(db, &ticket.number).await, expected);
    let all = db.tickets_of_issuance(Scope::All, issuance.id).await.expect("tickets");
    assert_eq!(all[0], expected);
    assert_eq!(all[1..], tickets[1..]);

    // Money and invoices.
    let ledger = ledger_matches_balance(db, agency.id).await;
    assert_eq!((ledger.len(), ledger.last()), (3, Some(&entry)));
    assert_eq!(balance(db, agency.id).await, 200_000 - PAYABLE_MINOR + 46_000);
    assert_eq!(
        db.invoices_of_booking(Scope::Agency(agency.id), booking.id).await.expect("invoices"),
        vec![issued_invoices[0].clone(), expected_invoice.clone()]
    );

    // The sink saw the outcome; the ticket's PDF it returned replaced the issuance's.
    let calls = sink.calls();
    assert_eq!(calls.len(), 1);
    let (handed, documents) = &calls[0];
    assert_eq!((handed.ledger.as_ref(), handed.invoice.as_ref()), (Some(&entry), Some(&expected_invoice)));
    assert_eq!(documents.len(), 1);
    let stored = db.get_document(Scope::All, &documents[0].owner).await.expect("get document").expect("stored");
    assert_document_eq(&stored, &documents[0], agency.id, at);

    // The audit trail names the ticket and what changed.
    let audit = audit_of(db, &change.subject).await;
    assert_eq!(audit.len(), 1);
    let logged = &audit[0];
    assert_eq!((logged.action.as_str(), logged.outcome.as_str()), ("ticket.void", "success"));
    assert_eq!(
        (logged.agency_id, logged.booking_id, logged.issuance_id),
        (Some(agency.id), Some(booking.id), Some(issuance.id))
    );
    assert_eq!(logged.ticket_number, Some(ticket.number.compact()));
    assert_eq!((&logged.username, &logged.tracking_id), (&change.actor.username, &change.actor.tracking_id));
    assert_eq!(logged.created_at, at);
    assert_eq!(
        logged.detail,
        serde_json::json!({
            "reason": "conformance", "from": "OPEN", "to": "VOID", "invoice": 2, "ledger": "460.00", "reissued": null
        })
    );
}

pub async fn lifecycle_stale_plan_changes_nothing(db: Arc<dyn Database>) {
    let db = &*db;
    let (agency, booking, _, tickets) = issued_flight(db, 200_000).await;
    let other = new_agency(db, 0).await;
    let ticket = &tickets[0];
    let void = void_of(ticket, 1, now());

    // Meanwhile coupon 1 is flown: the ticket is still OPEN, but its coupons are not those the void saw.
    let flown_at = now();
    db.transition(&ticket_change(ticket, Action::Use(1), flown_at), &TransitionRecorder::default())
        .await
        .expect("use coupon 1");
    let current = ticket_now(db, &ticket.number).await;
    assert_eq!(current.status, TicketStatus::Open);
    let ledger_before = db.ledger(agency.id).await.expect("ledger");
    let audit_before = audit_of(db, &void.subject).await.len();

    let sink = TransitionRecorder::default();
    let stale = db.transition(&void, &sink).await;
    assert!(matches!(stale, Err(StorageError::Stale)), "got {stale:?}");
    // The same status and coupon statuses but another time of use is a changed coupon too.
    let mut other_time = ticket_change(&current, Action::Use(2), now());
    other_time.from_coupons[0].used_at = Some(flown_at + Duration::seconds(1));
    let stale = db.transition(&other_time, &sink).await;
    assert!(matches!(stale, Err(StorageError::Stale)), "got {stale:?}");
    assert!(sink.calls().is_empty(), "a stale plan is refused before rendering");

    // Not in the agency, not of the booking, or no such ticket: not found.
    let fresh = ticket_change(&current, Action::Use(2), now());
    let elsewhere = NewTransition { agency_id: other.id, ..fresh.clone() };
    let other_booking = NewTransition { booking_id: BookingId::generate(), ..fresh.clone() };
    let unknown = NewTransition { subject: Subject::Ticket { number: number(PREFIX, FIRST_SERIAL + 99) }, ..fresh };
    for change in [elsewhere, other_booking, unknown] {
        let refused = db.transition(&change, &sink).await;
        assert!(matches!(refused, Err(StorageError::NotFound)), "got {refused:?}");
    }

    // Nothing was written.
    assert_eq!(ticket_now(db, &ticket.number).await, current);
    assert_eq!(db.ledger(agency.id).await.expect("ledger"), ledger_before);
    assert_eq!(invoice_numbers(db, booking.id).await, [1]);
    assert_eq!(audit_of(db, &void.subject).await.len(), audit_before);
    assert!(db.ledger(other.id).await.expect("ledger").is_empty());

    // Planned again from the fresh state it goes through, with the next invoice number: none was consumed.
    let mut refund = ticket_change(&current, Action::Refund, now());
    let value = lifecycle::residual_value(current.charged, &current.coupon_states()).expect("value");
    assert_eq!(value, usd_minor(23_000), "one of two coupons left");
    refund.ledger = Some((LedgerKind::RefundCredit, value));
    refund.invoice = Some(credit_note(booking.id, None, &ticket.number.compact(), value, Decimal::ZERO, 1));
    let outcome = db.transition(&refund, &sink).await.expect("refund");
    assert_eq!(outcome.invoice.map(|i| i.number), Some(2));
    let refunded = ticket_now(db, &ticket.number).await;
    assert_eq!(refunded.status, TicketStatus::Refunded);
    assert_eq!(
        refunded.coupons.iter().map(|c| (c.status, c.used_at)).collect::<Vec<_>>(),
        [(CouponStatus::Flown, Some(flown_at)), (CouponStatus::Refunded, None)]
    );
    assert_eq!(balance(db, agency.id).await, 200_000 - PAYABLE_MINOR + 23_000);
    ledger_matches_balance(db, agency.id).await;
}

pub async fn lifecycle_sink_failure_changes_nothing(db: Arc<dyn Database>) {
    let db = &*db;
    let (agency, booking, _, tickets) = issued_flight(db, 200_000).await;
    let ticket = &tickets[1];
    let owner = DocumentOwner::Ticket(ticket.number.clone());
    let document_before = db.get_document(Scope::All, &owner).await.expect("get document").expect("stored");
    let void = void_of(ticket, 1, now());

    let failing = TransitionRecorder::failing();
    let failed = db.transition(&void, &failing).await;
    assert!(matches!(failed, Err(StorageError::Documents(_))), "got {failed:?}");
    assert_eq!(failing.calls()[0].0.invoice.as_ref().map(|i| i.number), Some(2), "the sink saw the number");
    assert_eq!(ticket_now(db, &ticket.number).await, *ticket);
    assert_eq!(balance(db, agency.id).await, 200_000 - PAYABLE_MINOR);
    assert_eq!(ledger_matches_balance(db, agency.id).await.len(), 2);
    assert_eq!(invoice_numbers(db, booking.id).await, [1]);
    assert!(audit_of(db, &void.subject).await.is_empty());
    let document = db.get_document(Scope::All, &owner).await.expect("get document").expect("stored");
    assert_eq!((document.id, &document.sha256), (document_before.id, &document_before.sha256));

    // The retry gets the very same invoice number.
    let outcome = db.transition(&void, &TransitionRecorder::default()).await.expect("void");
    assert_eq!(outcome.invoice.map(|i| i.number), Some(2));
    assert_eq!(ticket_now(db, &ticket.number).await.status, TicketStatus::Void);
}

pub async fn lifecycle_insufficient_balance_changes_nothing(db: Arc<dyn Database>) {
    let db = &*db;
    // Exactly enough for the issuance: the balance is 0 and the credit limit 0.
    let (agency, booking, _, tickets) = issued_flight(db, PAYABLE_MINOR).await;
    let ticket = &tickets[0];
    // 500.00 + 25.00 for a ticket worth 460.00: 65.00 to collect.
    let exchange = exchange_of(&booking, ticket, 50_000, 2_500, now());
    assert_eq!(exchange.ledger, Some((LedgerKind::ExchangeDebit, usd_minor(-6_500))));
    let sink = TransitionRecorder::default();

    let refused = db.transition(&exchange, &sink).await;
    assert!(matches!(refused, Err(StorageError::InsufficientBalance)), "got {refused:?}");
    assert!(sink.calls().is_empty());
    assert_eq!(ticket_now(db, &ticket.number).await, *ticket);
    assert!(db.get_ticket(Scope::All, &number(PREFIX, FIRST_SERIAL + 3)).await.expect("get ticket").is_none());
    assert_eq!(
        db.get_booking(Scope::All, booking.id).await.expect("get").map(|b| b.detail),
        Some(booking.detail.clone())
    );
    assert_eq!(balance(db, agency.id).await, 0);
    assert_eq!(ledger_matches_balance(db, agency.id).await.len(), 2);
    assert_eq!(invoice_numbers(db, booking.id).await, [1]);
    assert!(audit_of(db, &exchange.subject).await.is_empty());

    // With the money there it goes through, and the refusal consumed neither a serial nor an invoice number.
    top_up(db, agency.id, 6_500).await;
    let outcome = db.transition(&exchange, &sink).await.expect("exchange");
    assert_eq!(outcome.reissued.map(|t| t.number), Some(number(PREFIX, FIRST_SERIAL + 3)));
    assert_eq!(outcome.invoice.map(|i| i.number), Some(2));
    assert_eq!(balance(db, agency.id).await, 0);
    ledger_matches_balance(db, agency.id).await;
}

pub async fn lifecycle_use_coupons_and_await_approval(db: Arc<dyn Database>) {
    let db = &*db;
    let (agency, booking, _, tickets) = issued_flight(db, 200_000).await;
    let ticket = &tickets[0];
    let sink = TransitionRecorder::default();

    let first = now() + Duration::hours(1);
    let outcome = db.transition(&ticket_change(ticket, Action::Use(1), first), &sink).await.expect("use coupon 1");
    assert!(outcome.ledger.is_none() && outcome.invoice.is_none() && outcome.reissued.is_none(), "no money moves");
    let flown = ticket_now(db, &ticket.number).await;
    assert_eq!(flown.status, TicketStatus::Open, "one coupon is still open");
    assert_eq!(
        flown.coupon_states(),
        [CouponState { status: CouponStatus::Flown, used_at: Some(first) }, CouponState::open()]
    );
    let last = first + Duration::hours(8);
    db.transition(&ticket_change(&flown, Action::Use(2), last), &sink).await.expect("use coupon 2");
    let used = ticket_now(db, &ticket.number).await;
    assert_eq!(used.status, TicketStatus::Used);
    assert_eq!(used.coupons.iter().map(|c| c.used_at).collect::<Vec<_>>(), [Some(first), Some(last)]);
    let audit = audit_of(db, &Subject::Ticket { number: ticket.number.clone() }).await;
    assert_eq!(audit.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["ticket.use", "ticket.use"]);
    assert_eq!(
        (&audit[1].detail["from"], &audit[1].detail["to"]),
        (&serde_json::json!("OPEN"), &serde_json::json!("USED"))
    );
    assert_eq!(
        (&audit[1].detail["ledger"], &audit[1].detail["invoice"]),
        (&serde_json::Value::Null, &serde_json::Value::Null)
    );

    // A refund awaiting approval keeps the penalty asked for; a rejection clears it.
    let emd = &tickets[2];
    let mut request = ticket_change(emd, Action::RequestRefund, now());
    request.pending_penalty = Some(usd_minor(1_000));
    db.transition(&request, &sink).await.expect("request refund");
    let pending = ticket_now(db, &emd.number).await;
    assert_eq!((pending.status, pending.pending_penalty), (TicketStatus::RefundPending, Some(usd_minor(1_000))));
    assert_eq!(pending.coupons, emd.coupons, "coupons stay as they are while the refund waits");
    db.transition(&ticket_change(&pending, Action::RejectRefund, now()), &sink).await.expect("reject refund");
    let rejected = ticket_now(db, &emd.number).await;
    assert_eq!((rejected.status, rejected.pending_penalty), (TicketStatus::Open, None));

    assert_eq!(balance(db, agency.id).await, 200_000 - PAYABLE_MINOR, "no money moved");
    assert_eq!(ledger_matches_balance(db, agency.id).await.len(), 2);
    assert_eq!(invoice_numbers(db, booking.id).await, [1]);
}

pub async fn lifecycle_exchange_reissues_ticket(db: Arc<dyn Database>) {
    let db = &*db;
    let (agency, booking, issuance, tickets) = issued_flight(db, 200_000).await;
    let old = &tickets[0];
    let at = now() + Duration::minutes(10);
    let change = exchange_of(&booking, old, 50_000, 2_500, at);
    let reissue = change.reissue.clone().expect("a reissue");
    let sink = TransitionRecorder::default();

    let outcome = db.transition(&change, &sink).await.expect("exchange");
    // The new ticket: the next serial of the prefix, under the old ticket's issuance, pointing back at it.
    let new_number = number(PREFIX, FIRST_SERIAL + 3);
    let mut expected_new =
        Ticket::from_draft(reissue.draft.clone(), new_number.clone(), issuance.id, booking.id, agency.id, at);
    expected_new.related_number = Some(old.number.clone());
    expected_new.related_type = Some(RelatedType::ORGN);
    assert_eq!(outcome.reissued.as_ref(), Some(&expected_new));
    assert_eq!(ticket_now(db, &new_number).await, expected_new);
    assert!(expected_new.is_reissue());
    // The old ticket: exchanged, pointing at the new one.
    let mut expected_old = old.clone();
    expected_old.status = TicketStatus::Exchanged;
    for coupon in &mut expected_old.coupons {
        coupon.status = CouponStatus::Exchanged;
    }
    expected_old.related_number = Some(new_number.clone());
    expected_old.related_type = Some(RelatedType::EXCH);
    assert_eq!(ticket_now(db, &old.number).await, expected_old);
    let all = db.tickets_of_issuance(Scope::Agency(agency.id), issuance.id).await.expect("tickets");
    assert_eq!(all, [expected_old, tickets[1].clone(), tickets[2].clone(), expected_new], "the new ticket goes last");

    // The booking carries the amendment; it stays ticketed.
    let stored = db.get_booking(Scope::All, booking.id).await.expect("get booking").expect("exists");
    assert_eq!((stored.detail, stored.status), (reissue.booking.clone(), BookingStatus::Ticketed));

    // The invoice covers both tickets; the difference is debited.
    let invoice = outcome.invoice.clone().expect("an exchange invoice");
    assert_eq!(invoice.number, 2);
    assert_eq!(invoice.draft.covers, [old.number.compact(), new_number.compact()]);
    assert_eq!(invoice.draft.gross, usd_minor(6_500));
    assert_eq!(db.invoices_of_booking(Scope::All, booking.id).await.expect("invoices")[1], invoice);
    let entry = outcome.ledger.clone().expect("a ledger entry");
    assert_eq!((entry.kind, entry.amount), (LedgerKind::ExchangeDebit, usd_minor(-6_500)));
    assert_eq!(balance(db, agency.id).await, 200_000 - PAYABLE_MINOR - 6_500);

    // Both tickets' PDFs are stored, in the agency's scope.
    let (_, documents) = &sink.calls()[0];
    assert_eq!(documents.len(), 2);
    for document in documents {
        let stored =
            db.get_document(Scope::Agency(agency.id), &document.owner).await.expect("get document").expect("stored");
        assert_document_eq(&stored, document, agency.id, at);
    }
    let audit = audit_of(db, &change.subject).await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].detail["reissued"], serde_json::json!(new_number.compact()));
    assert_eq!(audit[0].detail["ledger"], serde_json::json!("-65.00"));

    // Issuance and exchange share the serial counter.
    top_up(db, agency.id, PAYABLE_MINOR).await;
    let (_, next) = booked(db, agency.id, None).await;
    db.issue(&next, &RecordingSink::default()).await.expect("issue");
    let numbers: Vec<TicketNumber> =
        db.tickets_of_issuance(Scope::All, next.id).await.expect("tickets").into_iter().map(|t| t.number).collect();
    assert_eq!(
        numbers,
        [number(PREFIX, FIRST_SERIAL + 4), number(PREFIX, FIRST_SERIAL + 5), number(PREFIX, FIRST_SERIAL + 6)]
    );
    ledger_matches_balance(db, agency.id).await;
}

pub async fn lifecycle_event_items(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 0).await;
    let customer = new_user(db, Some(agency.id), Role::Customer).await;
    top_up(db, agency.id, EVENT_PAYABLE_MINOR).await;
    let (booking, orders) = event_booked(db, agency.id, Some(&customer)).await;
    let issuance = event_issuance(db, &booking, &orders, None).await;
    db.issue(&issuance, &EventSink::new(orders.clone())).await.expect("issue");
    let issued_invoices = db.invoices_of_booking(Scope::All, booking.id).await.expect("invoices");
    assert_eq!(issued_invoices.iter().map(|i| i.number).collect::<Vec<_>>(), [1, 2]);
    let sink = TransitionRecorder::new(orders.clone());

    // The gate scans day 2 of the weekend pass: that PDF is used, the ticket still counts.
    let (pass_order, pass) = (&orders[1], &orders[1].items[0]);
    let scanned_at = now() + Duration::hours(1);
    let scan = item_change(pass_order, pass, Action::Use(2), scanned_at, issuance.id);
    db.transition(&scan, &sink).await.expect("scan");
    let mut expected = completed(pass_order);
    let item = expected.items.iter_mut().find(|i| i.id == pass.id).expect("the pass");
    item.downloads[1].status = CouponStatus::Flown;
    item.downloads[1].activated = Some(scanned_at);
    let record = order_record(db, &pass_order.id).await;
    assert_eq!(record.order, expected);
    assert_eq!(record.order.item(pass.id.as_str()).map(|i| i.status), Some(TicketStatus::Open));
    let audit = audit_of(db, &scan.subject).await;
    assert_eq!(
        audit.iter().map(|e| (e.action.as_str(), e.ticket_number.clone())).collect::<Vec<_>>(),
        [("item.use", Some(pass.id.to_string()))]
    );
    // The same scan planned from the old state again is stale.
    let again = db.transition(&scan, &sink).await;
    assert!(matches!(again, Err(StorageError::Stale)), "got {again:?}");

    // A refund of a match seat: credited, with a credit invoice of the order against the order's invoice.
    let (match_order, seat) = (&orders[0], &orders[0].items[0]);
    let billed = issued_invoices.iter().find(|i| i.draft.order_id.as_ref() == Some(&match_order.id)).expect("billed");
    let refunded_at = now() + Duration::hours(2);
    let mut refund = item_change(match_order, seat, Action::Refund, refunded_at, issuance.id);
    refund.ledger = Some((LedgerKind::RefundCredit, seat.unit_price));
    let credit = credit_note(
        booking.id,
        Some(match_order),
        seat.id.as_str(),
        seat.unit_price,
        agency.vat_percent,
        billed.number,
    );
    refund.invoice = Some(credit.clone());
    let outcome = db.transition(&refund, &sink).await.expect("refund");
    let credit = Invoice { number: 3, agency_id: agency.id, issued_at: refunded_at, draft: credit };
    assert_eq!(outcome.invoice.as_ref(), Some(&credit));
    let record = order_record(db, &match_order.id).await;
    let stored = record.order.item(seat.id.as_str()).expect("the seat");
    assert_eq!(stored.status, TicketStatus::Refunded);
    assert!(stored.downloads.iter().all(|d| d.status == CouponStatus::Refunded && d.activated.is_none()));
    assert_eq!(record.invoices, vec![billed.clone(), credit.clone()], "the order lists its credit invoice");
    for owner in [DocumentOwner::Invoice(match_order.id.clone(), 3), DocumentOwner::OrderZip(match_order.id.clone())] {
        let document = record.document(&owner).expect("stored with the order");
        assert_eq!(document.created_at, refunded_at, "{owner:?}");
    }
    let customer_scope = Scope::Customer { agency: agency.id, user: customer.id };
    assert_eq!(invoice_numbers(db, booking.id).await, [1, 2, 3]);
    assert_eq!(db.invoices_of_booking(customer_scope, booking.id).await.expect("invoices").len(), 3);

    // A refund awaiting approval keeps its penalty in the order.
    let other_seat = &match_order.items[1];
    let mut request = item_change(match_order, other_seat, Action::RequestRefund, now(), issuance.id);
    request.pending_penalty = Some(usd_minor(2_000));
    db.transition(&request, &sink).await.expect("request refund");
    let waiting = order_record(db, &match_order.id).await;
    let waiting = waiting.order.item(other_seat.id.as_str()).expect("the other seat");
    assert_eq!((waiting.status, waiting.pending_penalty), (TicketStatus::RefundPending, Some(usd_minor(2_000))));

    // An order item cannot be exchanged (only flight tickets are); nothing is written.
    let before = order_record(db, &pass_order.id).await;
    let current = before.order.item(pass.id.as_str()).expect("the pass").clone();
    let mut exchange = item_change(&before.order, &current, Action::Exchange, now(), issuance.id);
    let draft = draft_for(&flight_booking(agency.id, None)).tickets.remove(0);
    exchange.reissue = Some(Reissue { draft, booking: booking.detail.clone() });
    let refused = db.transition(&exchange, &sink).await;
    assert!(matches!(refused, Err(StorageError::Backend(_))), "got {refused:?}");
    assert_eq!(order_record(db, &pass_order.id).await.order, before.order);

    assert_eq!(balance(db, agency.id).await, 18_900);
    ledger_matches_balance(db, agency.id).await;
}

pub async fn lifecycle_concurrent_transitions_one_wins(db: Arc<dyn Database>) {
    const RACERS: usize = 8;
    let (agency, booking, _, tickets) = issued_flight(&*db, 200_000).await;
    let void = void_of(&tickets[0], 1, now());
    let sink = Arc::new(TransitionRecorder::default());
    let start = Arc::new(tokio::sync::Barrier::new(RACERS));

    let mut tasks = Vec::new();
    for _ in 0..RACERS {
        let (db, sink, start, void) = (db.clone(), sink.clone(), start.clone(), void.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            db.transition(&void, sink.as_ref()).await
        }));
    }
    let (mut won, mut stale) = (0, 0);
    for task in tasks {
        match task.await.expect("task") {
            Ok(_) => won += 1,
            Err(StorageError::Stale) => stale += 1,
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!((won, stale), (1, RACERS - 1), "exactly one transition wins");
    assert_eq!(sink.calls().len(), 1, "losers are refused before rendering");
    let ledger = ledger_matches_balance(&*db, agency.id).await;
    assert_eq!(ledger.iter().filter(|e| e.kind == LedgerKind::VoidCredit).count(), 1, "credited once");
    assert_eq!(balance(&*db, agency.id).await, 200_000 - PAYABLE_MINOR + 46_000);
    assert_eq!(invoice_numbers(&*db, booking.id).await, [1, 2]);
    assert_eq!(audit_of(&*db, &void.subject).await.len(), 1);
    assert_eq!(ticket_now(&*db, &tickets[0].number).await.status, TicketStatus::Void);
}

pub async fn lifecycle_invoices_and_downloads_in_scope(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 0).await;
    let other = new_agency(db, 0).await;
    let customer = new_user(db, Some(agency.id), Role::Customer).await;
    let other_customer = new_user(db, Some(agency.id), Role::Customer).await;
    top_up(db, agency.id, PAYABLE_MINOR + 2 * EVENT_PAYABLE_MINOR).await;
    top_up(db, other.id, EVENT_PAYABLE_MINOR).await;

    // A flight issuance's invoice covers every ticket it numbered, in ticket order.
    let (flight, issuance) = booked(db, agency.id, Some(&customer)).await;
    db.issue(&issuance, &RecordingSink::default()).await.expect("issue");
    let tickets = db.tickets_of_issuance(Scope::All, issuance.id).await.expect("tickets");
    let invoices = db.invoices_of_booking(Scope::All, flight.id).await.expect("invoices");
    assert_eq!(invoices.len(), 1);
    let mut expected_draft = issuance.draft.invoices[0].clone();
    expected_draft.covers = tickets.iter().map(|t| t.number.compact()).collect();
    let issued = Invoice { number: 1, agency_id: agency.id, issued_at: issuance.issued_at, draft: expected_draft };
    assert_eq!(invoices[0], issued);
    assert_eq!((invoices[0].draft.booking_id, &invoices[0].draft.order_id), (flight.id, &None));
    // A credit invoice joins it, oldest first.
    let outcome = db.transition(&void_of(&tickets[2], 1, now()), &TransitionRecorder::default()).await.expect("void");
    let credit = outcome.invoice.expect("a credit invoice");
    let both = vec![issued, credit];

    let sees = [Scope::All, Scope::Agency(agency.id), Scope::Customer { agency: agency.id, user: customer.id }];
    let blind = [
        Scope::Agency(other.id),
        Scope::Customer { agency: agency.id, user: other_customer.id },
        Scope::Customer { agency: other.id, user: customer.id },
    ];
    for scope in sees {
        assert_eq!(db.invoices_of_booking(scope, flight.id).await.expect("invoices"), both, "{scope:?}");
    }
    for scope in blind {
        assert!(db.invoices_of_booking(scope, flight.id).await.expect("invoices").is_empty(), "{scope:?}");
    }
    assert!(db.invoices_of_booking(Scope::All, BookingId::generate()).await.expect("invoices").is_empty());

    // A download item leads to its order through its stored PDF, within the scope.
    let (event, orders) = event_booked(db, agency.id, Some(&customer)).await;
    let event_issue = event_issuance(db, &event, &orders, None).await;
    db.issue(&event_issue, &EventSink::new(orders.clone())).await.expect("issue");
    let download = &orders[1].items[0].downloads[2].id;
    for scope in sees {
        assert_eq!(db.order_of_download(scope, download).await.expect("order of download"), Some(orders[1].id.clone()));
    }
    for scope in blind {
        assert_eq!(db.order_of_download(scope, download).await.expect("order of download"), None, "{scope:?}");
    }
    let unknown = DownloadItemId::from_uuid(Uuid::new_v4());
    assert_eq!(db.order_of_download(Scope::All, &unknown).await.expect("order of download"), None);
    // An order not yet issued has no PDF to find it by.
    let (_, pending) = event_booked(db, agency.id, None).await;
    let not_issued = &pending[0].items[0].downloads[0].id;
    assert_eq!(db.order_of_download(Scope::All, not_issued).await.expect("order of download"), None);
    // Another agency's issued order is theirs only.
    let (theirs, their_orders) = event_booked(db, other.id, None).await;
    let their_issue = event_issuance(db, &theirs, &their_orders, None).await;
    db.issue(&their_issue, &EventSink::new(their_orders.clone())).await.expect("issue");
    let their_download = &their_orders[0].items[0].downloads[0].id;
    assert_eq!(db.order_of_download(Scope::Agency(agency.id), their_download).await.expect("order"), None);
    assert_eq!(
        db.order_of_download(Scope::Agency(other.id), their_download).await.expect("order"),
        Some(their_orders[0].id.clone())
    );

    // Event invoices are the booking's too; flight and event invoices share the agency's numbers.
    assert_eq!(invoice_numbers(db, event.id).await, [3, 4]);
    assert_eq!(invoice_numbers(db, theirs.id).await, [1, 2]);
    ledger_matches_balance(db, agency.id).await;
    ledger_matches_balance(db, other.id).await;
}

pub async fn agencies_refund_approval(db: Arc<dyn Database>) {
    let db = &*db;
    let agency = new_agency(db, 0).await;
    assert!(!agency.refund_approval);
    let required = db.set_refund_approval(agency.id, true).await.expect("set refund approval");
    assert_eq!(required, Agency { refund_approval: true, ..agency.clone() });
    assert_eq!(db.get_agency(agency.id).await.expect("get agency"), Some(required.clone()));
    assert!(db.list_agencies().await.expect("list").contains(&required));
    let lifted = db.set_refund_approval(agency.id, false).await.expect("set refund approval");
    assert_eq!(lifted, agency);
    assert_eq!(db.get_agency(agency.id).await.expect("get agency"), Some(agency));
    let unknown = db.set_refund_approval(AgencyId::generate(), true).await;
    assert!(matches!(unknown, Err(StorageError::NotFound)), "got {unknown:?}");
}

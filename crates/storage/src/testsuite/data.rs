//! The data the checks share, realistic but built by hand (a one-way Kathmandu–London flight via Doha for two
//! adults with one paid bag, an event booking, and the issuances for them), so the suite depends on no
//! reference data or intake; and the assertions several topics make. Timestamps are truncated to
//! microseconds, the finest precision every backend keeps.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, SubsecRound, Utc};
use rust_decimal::Decimal;
use tessera_core::agency::{Agency, Agreements};
use tessera_core::booking::{
    Baggage, Booking, BookingDetail, BookingStatus, Contact, Distribution, DistributionChannel, Event, EventBooking,
    EventItem, EventOrder, Fare, FlightBooking, Guest, Journey, Passenger, PassengerType, Place, Seat, Segment,
    Service, ServiceType, Tax, TripType,
};
use tessera_core::codes::{
    AccountingPrefix, AirportCode, BookingCode, CarrierCode, IataNumber, OfficeId, Pnr, SystemCode, TicketNumber,
};
use tessera_core::ids::{AgencyId, BookingId, IssuanceId, UserId};
use tessera_core::invoice::{invoice_for_flight, Invoice};
use tessera_core::issuance::{plan_event, IssuanceDraft, IssueOptions};
use tessera_core::ledger::{LedgerEntry, LedgerKind};
use tessera_core::money::{Currency, Money};
use tessera_core::orders::{booking_orders, BookingOrder, BookingOrderId, LogisticStatus};
use tessera_core::ticket::{Coupon, CouponStatus, ServiceInfo, Ticket, TicketDraft, TicketType};
use tessera_core::user::{Role, Scope, User};
use uuid::Uuid;

use crate::{
    Actor, AuditFilter, Database, DocumentOwner, DocumentRecord, IssuanceRecord, NewAgency, NewDocument, NewIssuance,
    NewLedgerEntry, NewUser, OrderPage, OrderRecord,
};

/// What [`draft_for`] debits for a [`flight_booking`]: two adult fares of 460.00 and a 60.00 bag.
pub const PAYABLE_MINOR: i64 = 2 * 46_000 + 6_000;

/// The accounting prefix of the validating carrier (Qatar Airways) used throughout.
pub const PREFIX: &str = "157";

pub(super) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

pub(super) fn usd() -> Currency {
    Currency::parse("USD").expect("USD")
}

pub(super) fn usd_minor(minor: i64) -> Money {
    Money::from_minor(minor, usd())
}

pub(super) fn prefix(code: &str) -> AccountingPrefix {
    AccountingPrefix::parse(code).expect("accounting prefix")
}

pub(super) fn number(prefix_code: &str, serial: u64) -> TicketNumber {
    TicketNumber::new(prefix(prefix_code), serial).expect("ticket number")
}

/// Upper-case letters and digits, fresh each call, for PNRs and names that must not collide.
pub(super) fn unique(len: usize) -> String {
    Uuid::new_v4().simple().to_string()[..len].to_uppercase()
}

pub(super) fn new_agency_record(credit_limit_minor: i64) -> NewAgency {
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
        default_language: Default::default(),
        created_at: now(),
    }
}

pub(super) async fn new_agency(db: &dyn Database, credit_limit_minor: i64) -> Agency {
    db.create_agency(&new_agency_record(credit_limit_minor)).await.expect("create agency")
}

pub(super) async fn new_user(db: &dyn Database, agency: Option<AgencyId>, role: Role) -> User {
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

pub(super) async fn post(db: &dyn Database, agency: AgencyId, kind: LedgerKind, minor: i64) -> LedgerEntry {
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

pub(super) async fn top_up(db: &dyn Database, agency: AgencyId, minor: i64) -> LedgerEntry {
    post(db, agency, LedgerKind::TopUp, minor).await
}

pub(super) async fn balance(db: &dyn Database, agency: AgencyId) -> i64 {
    db.get_agency(agency).await.expect("get agency").expect("agency exists").balance.minor()
}

/// Asserts the ledger invariant and returns the ledger.
pub(super) async fn ledger_matches_balance(db: &dyn Database, agency: AgencyId) -> Vec<LedgerEntry> {
    let ledger = db.ledger(agency).await.expect("ledger");
    let sum: i64 = ledger.iter().map(|e| e.amount.minor()).sum();
    assert_eq!(sum, balance(db, agency).await, "the balance must equal the sum of the ledger");
    ledger
}

pub(super) fn place(
    airport: &str,
    name: &str,
    city: &str,
    country: &str,
    time: DateTime<Utc>,
    offset_minutes: i32,
) -> Place {
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
        language: Default::default(),
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
                        location: None,
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
                        location: tessera_core::geo::GeoPoint::from_degrees(52.3888, 4.5409),
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
            language: Default::default(),
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

pub(super) fn issuance_of(draft: IssuanceDraft, by: Option<&User>) -> NewIssuance {
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
pub(super) async fn booked(db: &dyn Database, agency: AgencyId, created_by: Option<&User>) -> (Booking, NewIssuance) {
    let booking = flight_booking(agency, created_by.map(|u| u.id));
    db.insert_booking(&booking, &[], None).await.expect("insert booking");
    let issuance = issuance_of(draft_for(&booking), created_by);
    (booking, issuance)
}

/// An event booking inserted as confirmed, with its orders.
pub(super) async fn event_booked(
    db: &dyn Database,
    agency: AgencyId,
    created_by: Option<&User>,
) -> (Booking, Vec<BookingOrder>) {
    let booking = event_booking(agency, created_by.map(|u| u.id));
    let orders = orders_for(&booking);
    db.insert_booking(&booking, &orders, None).await.expect("insert event booking");
    (booking, orders)
}

/// The issuance [`tessera_core::issuance::plan_event`] makes for an event booking, as the agency stands now.
pub(super) async fn event_issuance(
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
pub(super) fn expected_invoices(issuance: &NewIssuance, first: u64) -> Vec<Invoice> {
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

pub(super) fn assert_issuance_eq(found: &IssuanceRecord, expected: &IssuanceRecord) {
    assert_eq!(found.id, expected.id);
    assert_eq!(found.booking_id, expected.booking_id);
    assert_eq!(found.agency_id, expected.agency_id);
    assert_eq!(found.amount_charged, expected.amount_charged);
    assert_eq!(found.commission, expected.commission);
    assert_eq!(found.issued_at, expected.issued_at);
    assert_eq!(found.issued_by, expected.issued_by);
    assert_eq!(found.attributes, expected.attributes);
}

pub(super) fn assert_document_eq(
    found: &DocumentRecord,
    expected: &NewDocument,
    agency: AgencyId,
    created_at: DateTime<Utc>,
) {
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
pub(super) fn expected_tickets(issuance: &NewIssuance, first: u64) -> Vec<Ticket> {
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
pub(super) async fn assert_nothing_issued(db: &dyn Database, issuance: &NewIssuance) {
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

/// An order as issuance leaves it.
pub(super) fn completed(order: &BookingOrder) -> BookingOrder {
    BookingOrder { logistic_status: LogisticStatus::Completed, ..order.clone() }
}

pub(super) fn order_ids(page: &OrderPage) -> Vec<BookingOrderId> {
    page.orders.iter().map(|r| r.order.id.clone()).collect()
}

pub(super) async fn order_record(db: &dyn Database, id: &BookingOrderId) -> OrderRecord {
    db.get_booking_order(Scope::All, id).await.expect("get booking order").expect("order exists")
}

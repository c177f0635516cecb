use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::*;
use crate::agency::{CarrierAgreement, TourCode};
use crate::booking::{Booking, BookingStatus};
use crate::codes::CarrierCode;
use crate::ids::{AgencyId, BookingId};
use crate::intake;
use crate::money::Currency;
use crate::ticket::{CouponStatus, TicketType};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).single().unwrap_or_default()
}

fn booking_from(doc: Value) -> Booking {
    let valid = intake::parse(doc.to_string().as_bytes(), NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()).unwrap();
    Booking {
        id: BookingId::generate(),
        agency_id: AgencyId::generate(),
        created_by: None,
        status: BookingStatus::Confirmed,
        created_at: now(),
        detail: valid.detail,
    }
}

fn family() -> Booking {
    booking_from(serde_json::from_str(include_str!("../../../../examples/bookings/flight-vn-family.json")).unwrap())
}

fn oneway() -> Booking {
    booking_from(serde_json::from_str(include_str!("../../../../examples/bookings/flight-oneway.json")).unwrap())
}

fn agency(currency: &str, balance: i64, credit: i64) -> Agency {
    let c = Currency::parse(currency).unwrap();
    Agency {
        id: AgencyId::generate(),
        name: "Test Travel".into(),
        currency: c,
        balance: Money::from_minor(balance, c),
        credit_limit: Money::from_minor(credit, c),
        office_id: None,
        iata_number: None,
        timezone: crate::agency::TimeZone::UTC,
        vat_percent: Decimal::ZERO,
        refund_approval: false,
        default_language: Default::default(),
    }
}

fn vn() -> CarrierCode {
    CarrierCode::parse("VN").unwrap()
}

#[test]
fn family_plan_has_a_ticket_per_passenger_and_an_emd_per_service() {
    let draft =
        plan(&family(), &agency("VND", 100_000_000, 0), &Agreements::default(), &IssueOptions::default(), now())
            .unwrap();
    let kinds: Vec<_> = draft.tickets.iter().map(|t| t.kind).collect();
    assert_eq!(
        kinds,
        [TicketType::TKT, TicketType::TKT, TicketType::TKT, TicketType::TKT, TicketType::EMD, TicketType::EMD]
    );
    assert!(draft.tickets.iter().all(|t| t.prefix.as_str() == "738"));
    // 2 ADT x 2,350,000 + CHD 1,750,000 + INF 200,000 + services 340,000
    assert_eq!(draft.fares_total.minor(), 6_650_000);
    assert_eq!(draft.services_total.minor(), 340_000);
    assert_eq!(draft.payable.minor(), 6_990_000);
    let adult = &draft.tickets[0];
    assert_eq!(adult.coupons.len(), 1);
    assert_eq!(adult.coupons[0].status, CouponStatus::Open);
    assert_eq!(adult.coupons[0].origin.as_deref(), Some("HAN"));
    let emd = &draft.tickets[4];
    assert_eq!(emd.service.as_ref().map(|s| s.code.as_str()), Some("XBAG"));
    assert_eq!(emd.coupons[0].service_code.as_deref(), Some("XBAG"));
    for t in &draft.tickets {
        let taxes = Money::sum(t.taxes.iter().map(|x| x.amount), t.base.currency()).unwrap();
        assert_eq!(t.base.checked_add(taxes).unwrap(), t.total);
    }
}

#[test]
fn status_rules() {
    let agency = agency("NPR", 10_000_000, 0);
    let mut b = oneway();
    b.status = BookingStatus::Ticketed;
    assert_eq!(
        plan(&b, &agency, &Agreements::default(), &IssueOptions::default(), now()),
        Err(IssueError::AlreadyIssued)
    );
    b.status = BookingStatus::Cancelled;
    assert_eq!(plan(&b, &agency, &Agreements::default(), &IssueOptions::default(), now()), Err(IssueError::Cancelled));
}

#[test]
fn deadline_and_departure() {
    let agency = agency("NPR", 10_000_000, 0);
    let b = oneway();
    let after_deadline = Utc.with_ymd_and_hms(2027, 7, 20, 18, 0, 1).single().unwrap();
    assert!(matches!(
        plan(&b, &agency, &Agreements::default(), &IssueOptions::default(), after_deadline),
        Err(IssueError::DeadlinePassed(_))
    ));
    let at_deadline = Utc.with_ymd_and_hms(2027, 7, 20, 18, 0, 0).single().unwrap();
    assert!(plan(&b, &agency, &Agreements::default(), &IssueOptions::default(), at_deadline).is_ok());
    let mut late = oneway();
    if let BookingDetail::Flight(f) = &mut late.detail {
        f.ticketing_deadline = Utc.with_ymd_and_hms(2028, 1, 1, 0, 0, 0).single().unwrap();
    }
    let after_departure = Utc.with_ymd_and_hms(2027, 7, 22, 5, 0, 0).single().unwrap();
    assert_eq!(
        plan(&late, &agency, &Agreements::default(), &IssueOptions::default(), after_departure),
        Err(IssueError::Departed)
    );
}

#[test]
fn balance_and_credit_limit() {
    let b = oneway();
    // payable 41,893.00 NPR = 4,189,300 minor
    assert!(plan(&b, &agency("NPR", 4_189_300, 0), &Agreements::default(), &IssueOptions::default(), now()).is_ok());
    let short = plan(&b, &agency("NPR", 4_189_299, 0), &Agreements::default(), &IssueOptions::default(), now());
    assert!(matches!(short, Err(IssueError::InsufficientBalance { .. })));
    assert!(plan(&b, &agency("NPR", 0, 4_189_300), &Agreements::default(), &IssueOptions::default(), now()).is_ok());
    assert!(matches!(
        plan(&b, &agency("USD", 100_000_000, 0), &Agreements::default(), &IssueOptions::default(), now()),
        Err(IssueError::CurrencyMismatch { .. })
    ));
}

#[test]
fn carrier_authorization() {
    let mut agreements = Agreements::default();
    agreements.carriers.push(CarrierAgreement { carrier: vn(), authorized: false, commission_cap_percent: None });
    let r = plan(&family(), &agency("VND", 100_000_000, 0), &agreements, &IssueOptions::default(), now());
    assert_eq!(r, Err(IssueError::CarrierNotAuthorized(vn())));
}

#[test]
fn commission_is_capped_by_agreement() {
    let mut agreements = Agreements::default();
    let opts = |c| IssueOptions { commission: Some(c), ..Default::default() };
    let a = agency("VND", 100_000_000, 0);
    // No agreement: no commission allowed.
    assert!(matches!(
        plan(&family(), &a, &agreements, &opts(Commission::Percent(Decimal::new(5, 0))), now()),
        Err(IssueError::CommissionAboveCap { .. })
    ));
    agreements.carriers.push(CarrierAgreement {
        carrier: vn(),
        authorized: true,
        commission_cap_percent: Some(Decimal::new(5, 0)),
    });
    // Base fares: 2 x 2,000,000 + 1,500,000 + 200,000 = 5,700,000; 5% = 285,000.
    let ok = plan(&family(), &a, &agreements, &opts(Commission::Percent(Decimal::new(5, 0))), now()).unwrap();
    assert_eq!(ok.commission.minor(), 285_000);
    assert_eq!(ok.payable.minor(), 6_990_000 - 285_000);
    let fixed = plan(&family(), &a, &agreements, &opts(Commission::Amount(Decimal::new(285_000, 0))), now()).unwrap();
    assert_eq!(fixed.commission.minor(), 285_000);
    assert!(matches!(
        plan(&family(), &a, &agreements, &opts(Commission::Amount(Decimal::new(285_001, 0))), now()),
        Err(IssueError::CommissionAboveCap { .. })
    ));
    assert!(matches!(
        plan(&family(), &a, &agreements, &opts(Commission::Percent(Decimal::new(-1, 0))), now()),
        Err(IssueError::InvalidCommission(_))
    ));
    assert!(matches!(
        plan(&family(), &a, &agreements, &opts(Commission::Amount(Decimal::new(5, 1))), now()),
        Err(IssueError::InvalidCommission(_))
    ));
}

#[test]
fn tour_and_corporate_codes() {
    let mut agreements = Agreements::default();
    agreements.tour_codes.push(TourCode {
        code: "PROMO2024".into(),
        carrier: vn(),
        valid_from: NaiveDate::from_ymd_opt(2026, 1, 1),
        valid_to: NaiveDate::from_ymd_opt(2026, 12, 31),
    });
    agreements.tour_codes.push(TourCode {
        code: "QRONLY".into(),
        carrier: CarrierCode::parse("QR").unwrap(),
        valid_from: None,
        valid_to: None,
    });
    agreements.tour_codes.push(TourCode {
        code: "OLD".into(),
        carrier: vn(),
        valid_from: None,
        valid_to: NaiveDate::from_ymd_opt(2025, 1, 1),
    });
    agreements.corporate_accounts.push("CORP001".into());
    let a = agency("VND", 100_000_000, 0);
    let with = |tour: Option<&str>, ca: Option<&str>| IssueOptions {
        tour_code: tour.map(str::to_owned),
        corporate_code: ca.map(str::to_owned),
        ..Default::default()
    };
    assert!(plan(&family(), &a, &agreements, &with(Some("PROMO2024"), Some("CORP001")), now()).is_ok());
    assert_eq!(
        plan(&family(), &a, &agreements, &with(Some("NOPE"), None), now()),
        Err(IssueError::UnknownTourCode("NOPE".into()))
    );
    assert_eq!(
        plan(&family(), &a, &agreements, &with(Some("QRONLY"), None), now()),
        Err(IssueError::TourCodeWrongCarrier("QRONLY".into(), vn()))
    );
    assert_eq!(
        plan(&family(), &a, &agreements, &with(Some("OLD"), None), now()),
        Err(IssueError::TourCodeInactive("OLD".into()))
    );
    assert_eq!(
        plan(&family(), &a, &agreements, &with(None, Some("X")), now()),
        Err(IssueError::UnknownCorporateAccount("X".into()))
    );
    let booker = |code: &str| IssueOptions { booker_code: Some(code.into()), ..Default::default() };
    assert_eq!(
        plan(&family(), &a, &agreements, &booker("AGENT001"), now()),
        Err(IssueError::UnknownBookerCode("AGENT001".into()))
    );
    agreements.booker_codes.push("AGENT001".into());
    assert!(plan(&family(), &a, &agreements, &booker("AGENT001"), now()).is_ok());
}

#[test]
fn incomplete_passengers_are_refused() {
    let mut doc: Value =
        serde_json::from_str(include_str!("../../../../examples/bookings/flight-vn-family.json")).unwrap();
    doc["passengers"][2].as_object_mut().unwrap().remove("date_of_birth");
    let r = plan(
        &booking_from(doc),
        &agency("VND", 100_000_000, 0),
        &Agreements::default(),
        &IssueOptions::default(),
        now(),
    );
    assert!(matches!(r, Err(IssueError::IncompletePassenger { ref passenger_id, .. }) if passenger_id == "pax-003"));
    let mut doc: Value =
        serde_json::from_str(include_str!("../../../../examples/bookings/flight-vn-family.json")).unwrap();
    doc["passengers"][3].as_object_mut().unwrap().remove("accompanied_by");
    let r = plan(
        &booking_from(doc),
        &agency("VND", 100_000_000, 0),
        &Agreements::default(),
        &IssueOptions::default(),
        now(),
    );
    assert!(matches!(r, Err(IssueError::IncompletePassenger { ref passenger_id, .. }) if passenger_id == "pax-004"));
}

#[test]
fn ndc_needs_payment() {
    let mut doc: Value =
        serde_json::from_str(include_str!("../../../../examples/bookings/flight-oneway.json")).unwrap();
    doc["distribution"] = json!("ndc");
    let a = agency("NPR", 10_000_000, 0);
    assert_eq!(
        plan(&booking_from(doc.clone()), &a, &Agreements::default(), &IssueOptions::default(), now()),
        Err(IssueError::NdcPaymentMissing)
    );
    doc["payment"] = json!({"type": "agency_account"});
    assert!(plan(&booking_from(doc), &a, &Agreements::default(), &IssueOptions::default(), now()).is_ok());
}

fn event() -> Booking {
    booking_from(serde_json::from_str(include_str!("../../../../examples/bookings/event.json")).unwrap())
}

fn orders_of(b: &Booking) -> Vec<BookingOrder> {
    let mut n = 0u128;
    crate::orders::booking_orders(b, &mut || {
        n += 1;
        uuid::Uuid::from_u128(n * 7919)
    })
}

#[test]
fn an_event_plan_charges_every_ticket_and_invoices_each_order() {
    let b = event();
    let mut a = agency("EUR", 1_000_000, 0);
    a.vat_percent = Decimal::new(21, 0);
    let draft = plan_event(&b, &orders_of(&b), &a, &Agreements::default(), &IssueOptions::default(), now()).unwrap();
    // 2 × 189.00 + 649.50 + 4200.00
    assert_eq!(draft.payable, Money::from_minor(522_750, a.currency));
    assert!(draft.tickets.is_empty());
    assert_eq!(draft.invoices.len(), 2);
    assert_eq!(draft.invoices[0].gross, Money::from_minor(37_800, a.currency));
    assert_eq!(draft.invoices[1].lines.len(), 2);
    let invoiced = Money::sum(draft.invoices.iter().map(|i| i.gross), a.currency).unwrap();
    assert_eq!(invoiced, draft.payable);
}

#[test]
fn an_event_plan_refuses_what_does_not_apply_and_what_cannot_be_paid() {
    let b = event();
    let orders = orders_of(&b);
    let a = agency("EUR", 1_000_000, 0);
    let none = Agreements::default();
    let run = |a: &Agency, o: &IssueOptions, at| plan_event(&b, &orders, a, &none, o, at);
    let tour = IssueOptions { tour_code: Some("X".into()), ..Default::default() };
    assert_eq!(run(&a, &tour, now()), Err(IssueError::NotApplicable("tour code")));
    let commission = IssueOptions { commission: Some(Commission::Amount(Decimal::ONE)), ..Default::default() };
    assert_eq!(run(&a, &commission, now()), Err(IssueError::NotApplicable("commission")));
    let booker = IssueOptions { booker_code: Some("NOPE".into()), ..Default::default() };
    assert_eq!(run(&a, &booker, now()), Err(IssueError::UnknownBookerCode("NOPE".into())));
    let kickoff = Utc.with_ymd_and_hms(2027, 3, 2, 20, 0, 0).single().unwrap_or_default();
    assert_eq!(run(&a, &IssueOptions::default(), kickoff), Err(IssueError::EventStarted));
    assert!(matches!(
        run(&agency("EUR", 522_749, 0), &IssueOptions::default(), now()),
        Err(IssueError::InsufficientBalance { .. })
    ));
    assert!(run(&agency("EUR", 522_750, 0), &IssueOptions::default(), now()).is_ok());
    assert!(matches!(
        run(&agency("USD", 1_000_000, 0), &IssueOptions::default(), now()),
        Err(IssueError::CurrencyMismatch { .. })
    ));
    assert_eq!(
        plan_event(&b, &[], &a, &none, &IssueOptions::default(), now()),
        Err(IssueError::RequestMismatch("orders"))
    );
    let mut ticketed = b.clone();
    ticketed.status = BookingStatus::Ticketed;
    assert_eq!(
        plan_event(&ticketed, &orders, &a, &none, &IssueOptions::default(), now()),
        Err(IssueError::AlreadyIssued)
    );
}

#[test]
fn event_bookings_are_not_issued_here() {
    let b = booking_from(serde_json::from_str(include_str!("../../../../examples/bookings/event.json")).unwrap());
    assert_eq!(
        plan(&b, &agency("EUR", 1_000_000, 0), &Agreements::default(), &IssueOptions::default(), now()),
        Err(IssueError::NotAFlight)
    );
}

#[test]
fn stated_facts_must_match_the_booking() {
    let b = oneway();
    let ok = Expectations {
        system: Some("1A".into()),
        trip_type: Some("oneway".into()),
        currency: Some("NPR".into()),
        pnr: Some("pqmj8e".into()),
        amount: Some(Decimal::new(41893, 0)),
    };
    assert_eq!(check_expectations(&b, &ok), Ok(()));
    let draft =
        plan(&b, &agency("NPR", 10_000_000, 0), &Agreements::default(), &IssueOptions::default(), now()).unwrap();
    assert_eq!(check_amount(&draft, &ok), Ok(()));
    let wrong = |e: Expectations| check_expectations(&b, &e);
    assert_eq!(
        wrong(Expectations { trip_type: Some("round".into()), ..ok.clone() }),
        Err(IssueError::RequestMismatch("tripType"))
    );
    assert_eq!(
        wrong(Expectations { system: Some("VN".into()), ..ok.clone() }),
        Err(IssueError::RequestMismatch("system"))
    );
    assert_eq!(
        wrong(Expectations { currency: Some("USD".into()), ..ok.clone() }),
        Err(IssueError::RequestMismatch("currency"))
    );
    assert_eq!(wrong(Expectations { pnr: Some("ZZZZZZ".into()), ..ok.clone() }), Err(IssueError::PnrMismatch));
    let amount = Expectations { amount: Some(Decimal::new(4189301, 2)), ..ok };
    assert_eq!(check_amount(&draft, &amount), Err(IssueError::RequestMismatch("amount")));
}

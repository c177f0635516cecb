use chrono::NaiveDate;
use serde_json::{json, Value};

use super::*;
use crate::booking::{BookingDetail, DistributionChannel, PassengerType, TripType};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default()
}

fn example(name: &str) -> Value {
    let text = match name {
        "oneway" => include_str!("../../../../examples/bookings/flight-oneway.json"),
        "round" => include_str!("../../../../examples/bookings/flight-round.json"),
        "multicity" => include_str!("../../../../examples/bookings/flight-multicity.json"),
        "family" => include_str!("../../../../examples/bookings/flight-vn-family.json"),
        _ => include_str!("../../../../examples/bookings/event.json"),
    };
    serde_json::from_str(text).unwrap()
}

fn check(doc: &Value) -> Result<ValidBooking, ValidationErrors> {
    parse(doc.to_string().as_bytes(), today())
}

fn pointers(doc: &Value) -> Vec<String> {
    check(doc).unwrap_err().0.into_iter().map(|e| e.pointer).collect()
}

#[test]
fn every_shipped_example_is_valid() {
    for name in ["oneway", "round", "multicity", "family", "event"] {
        let result = check(&example(name));
        assert!(result.is_ok(), "{name}: {result:?}");
    }
}

#[test]
fn oneway_example_resolves_names_and_amounts() {
    let booking = check(&example("oneway")).unwrap();
    let BookingDetail::Flight(f) = booking.detail else { panic!("not a flight") };
    assert_eq!(f.trip_type, TripType::Oneway);
    assert_eq!(f.validating_carrier_name, "Qatar Airways");
    let seg = &f.journeys[0].segments[0];
    assert_eq!(seg.departure.city, "Kathmandu");
    assert_eq!(seg.arrival.country, "Qatar");
    assert_eq!(seg.duration().num_minutes(), 300, "KTM 10:10+05:45 -> DOH 12:25+03:00 is 5h");
    assert_eq!(f.fares[0].total.minor(), 4_189_300);
    assert_eq!(f.cashback.minor(), 30_000);
    assert!(f.refundable, "refundable defaults to true");
    assert_eq!(f.endorsement.as_deref(), Some("NON-REFUNDABLE"));
}

#[test]
fn multicity_layover_and_door_to_door_duration() {
    let booking = check(&example("multicity")).unwrap();
    let f = booking.detail.clone();
    let BookingDetail::Flight(f) = f else { panic!() };
    let j = &f.journeys[0];
    // KTM 15:45+05:45 -> DEL 03:20+05:30 next day: 11h50m door to door, 3h20m in Dubai.
    assert_eq!(j.duration().num_minutes(), 11 * 60 + 50);
    assert_eq!(j.layover_before(1).map(|d| d.num_minutes()), Some(200));
    assert_eq!(j.layover_before(0), None);
}

#[test]
fn event_example_items() {
    let booking = check(&example("event")).unwrap();
    let BookingDetail::Event(e) = booking.detail else { panic!() };
    assert_eq!(e.orders.len(), 2);
    assert_eq!(e.orders[1].items[0].pdfs_per_ticket, 3);
    assert_eq!(e.orders[1].items[1].distribution_channel, DistributionChannel::ExternalEndClient);
    assert_eq!(e.orders[1].items[0].guests[0].first_name, "Ömer");
    assert_eq!(e.total().unwrap().minor(), 2 * 18900 + 64950 + 420000);
}

#[test]
fn family_example_has_infant_on_adult() {
    let booking = check(&example("family")).unwrap();
    let BookingDetail::Flight(f) = booking.detail else { panic!() };
    let inf = f.passengers.iter().find(|p| p.kind == PassengerType::INF).unwrap();
    assert_eq!(inf.accompanied_by.as_deref(), Some("pax-002"));
    assert_eq!(f.services.len(), 2);
}

#[test]
fn reports_every_bad_field_with_pointers() {
    let mut doc = example("oneway");
    doc["pnr"] = json!("bad");
    doc["currency"] = json!("rupees");
    doc["contact"]["email"] = json!("nobody");
    doc["passengers"][0]["type"] = json!("XXX");
    doc["journeys"][0]["segments"][0]["booking_class"] = json!("MM");
    let found = pointers(&doc);
    for expected in
        ["/pnr", "/currency", "/contact/email", "/passengers/0/type", "/journeys/0/segments/0/booking_class"]
    {
        assert!(found.contains(&expected.to_string()), "{expected} missing in {found:?}");
    }
}

#[test]
fn missing_required_fields_are_all_reported() {
    let doc = json!({"type": "flight"});
    let found = pointers(&doc);
    for expected in [
        "/pnr",
        "/system",
        "/validating_carrier",
        "/trip_type",
        "/currency",
        "/ticketing_deadline",
        "/contact",
        "/passengers",
        "/journeys",
        "/fares",
    ] {
        assert!(found.contains(&expected.to_string()), "{expected} missing in {found:?}");
    }
}

#[test]
fn fare_total_must_add_up() {
    let mut doc = example("oneway");
    doc["fares"][0]["total"] = json!(41894);
    let errors = check(&doc).unwrap_err().0;
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].pointer, "/fares/0/total");
    assert!(errors[0].reason.contains("41893.00"), "{}", errors[0].reason);
}

#[test]
fn amounts_as_strings_and_precision() {
    let mut doc = example("oneway");
    doc["fares"][0]["base"] = json!("35000.00");
    assert!(check(&doc).is_ok());
    doc["fares"][0]["base"] = json!("35000.001");
    assert_eq!(pointers(&doc), vec!["/fares/0/base"]);
    doc["fares"][0]["base"] = json!(-1);
    assert!(pointers(&doc).contains(&"/fares/0/base".to_string()));
}

#[test]
fn round_trip_needs_two_journeys() {
    let mut doc = example("round");
    doc["journeys"].as_array_mut().unwrap().pop();
    assert_eq!(pointers(&doc), vec!["/journeys"]);
    let mut oneway = example("oneway");
    oneway["trip_type"] = json!("multicity");
    assert_eq!(pointers(&oneway), vec!["/journeys"]);
}

#[test]
fn segments_must_be_in_time_order() {
    let mut doc = example("multicity");
    doc["journeys"][0]["segments"][1]["departure"]["time"] = json!("2027-08-01T17:00:00+04:00");
    assert_eq!(pointers(&doc), vec!["/journeys/0/segments/1/departure/time"]);
    let mut doc = example("oneway");
    doc["journeys"][0]["segments"][0]["arrival"]["time"] = json!("2027-07-22T07:00:00+03:00");
    assert_eq!(pointers(&doc), vec!["/journeys/0/segments/0/arrival/time"]);
    let mut doc = example("round");
    doc["journeys"][1]["segments"][0]["departure"]["time"] = json!("2027-07-22T11:00:00+03:00");
    assert_eq!(pointers(&doc), vec!["/journeys/1/segments/0/departure/time"]);
}

#[test]
fn times_need_an_offset() {
    let mut doc = example("oneway");
    doc["journeys"][0]["segments"][0]["departure"]["time"] = json!("2027-07-22T10:10:00");
    assert_eq!(pointers(&doc), vec!["/journeys/0/segments/0/departure/time"]);
}

#[test]
fn passengers_need_a_fare_and_infants_an_adult() {
    let mut doc = example("oneway");
    doc["passengers"][0]["type"] = json!("CHD");
    assert_eq!(pointers(&doc), vec!["/passengers/0/type"]);
    let mut doc = example("oneway");
    doc["passengers"] =
        json!([{"id": "i1", "type": "INF", "surname": "X", "given_name": "Y", "date_of_birth": "2026-01-01"}]);
    doc["fares"] = json!([{"passenger_type": "INF", "base": 10, "taxes": [], "total": 10}]);
    assert!(pointers(&doc).contains(&"/passengers/0".to_string()));
    let mut doc = example("family");
    doc["passengers"][3]["accompanied_by"] = json!("pax-003");
    assert_eq!(pointers(&doc), vec!["/passengers/3/accompanied_by"]);
    doc["passengers"][3]["accompanied_by"] = json!("nobody");
    assert_eq!(pointers(&doc), vec!["/passengers/3/accompanied_by"]);
}

#[test]
fn unknown_codes_need_names() {
    let mut doc = example("oneway");
    doc["journeys"][0]["segments"][0]["arrival"]["airport"] = json!("QQQ");
    assert_eq!(pointers(&doc), vec!["/journeys/0/segments/0/arrival/airport"]);
    let seg = &mut doc["journeys"][0]["segments"][0]["arrival"];
    seg["airport_name"] = json!("Nowhere Field");
    seg["city"] = json!("Nowhere");
    seg["country"] = json!("Utopia");
    let ok = check(&doc).unwrap();
    let BookingDetail::Flight(f) = ok.detail else { panic!() };
    assert_eq!(f.journeys[0].segments[0].arrival.city, "Nowhere");
    let mut doc = example("oneway");
    doc["validating_carrier"] = json!("Q9");
    assert_eq!(pointers(&doc), vec!["/validating_carrier"]);
}

#[test]
fn unknown_fields_are_refused_with_their_path() {
    let mut doc = example("oneway");
    doc["journeys"][0]["segments"][0]["departure"]["gate"] = json!("A1");
    let errors = check(&doc).unwrap_err().0;
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].pointer, "/journeys/0/segments/0/departure/gate");
    assert!(errors[0].reason.contains("gate"), "{}", errors[0].reason);
    let mut doc = example("oneway");
    doc["surprise"] = json!(1);
    assert!(check(&doc).unwrap_err().0[0].reason.contains("surprise"));
}

#[test]
fn wrong_json_types_and_garbage() {
    assert_eq!(pointers(&json!({"type": "flight", "passengers": "many"})), vec!["/passengers"]);
    assert_eq!(pointers(&json!({"type": "boat"})), vec!["/type"]);
    assert_eq!(pointers(&json!([1, 2])), vec![""]);
    assert!(parse(b"{not json", today()).is_err());
    assert!(parse(b"", today()).is_err());
    assert!(parse(&[0xff, 0xfe], today()).is_err());
}

#[test]
fn event_quantities_match_guests_and_seats() {
    let mut doc = example("event");
    doc["orders"][0]["items"][0]["quantity"] = json!(1);
    let found = pointers(&doc);
    assert!(found.contains(&"/orders/0/items/0/guests".to_string()), "{found:?}");
    assert!(found.contains(&"/orders/0/items/0/seats".to_string()), "{found:?}");
    let mut doc = example("event");
    doc["orders"][0]["items"][0]["distribution_channel"] = json!("fax");
    assert_eq!(pointers(&doc), vec!["/orders/0/items/0/distribution_channel"]);
    doc["orders"][0]["items"][0]["distribution_channel"] = json!("xs2event");
    doc["orders"][0]["items"][0]["pdfs_per_ticket"] = json!(0);
    assert_eq!(pointers(&doc), vec!["/orders/0/items/0/pdfs_per_ticket"]);
}

#[test]
fn diacritics_are_kept() {
    let mut doc = example("family");
    doc["passengers"][0]["surname"] = json!("NGUYỄN");
    let BookingDetail::Flight(f) = check(&doc).unwrap().detail else { panic!() };
    assert_eq!(f.passengers[0].surname, "NGUYỄN");
}

#[test]
fn birth_dates_in_the_future_are_refused() {
    let mut doc = example("family");
    doc["passengers"][3]["date_of_birth"] = json!("2030-01-01");
    assert_eq!(pointers(&doc), vec!["/passengers/3/date_of_birth"]);
}

#[test]
fn names_are_stored_composed() {
    let mut doc = example("family");
    // "NGUYE" + COMBINING CIRCUMFLEX + COMBINING TILDE + "N"
    doc["passengers"][0]["surname"] = json!("NGUYE\u{0302}\u{0303}N");
    let BookingDetail::Flight(f) = check(&doc).unwrap().detail else { panic!() };
    assert_eq!(f.passengers[0].surname, "NGUYỄN");
}

#[test]
fn limits_count_characters_as_sent_not_as_composed() {
    // 6 characters composed, 10 as sent: the booking schema counts what is sent, and so does the parser.
    let mut doc = example("family");
    doc["passengers"][0]["title"] = json!("MRE\u{0302}\u{0303}E\u{0302}\u{0303}XY");
    assert_eq!(pointers(&doc), vec!["/passengers/0/title"]);
    doc["passengers"][0]["title"] = json!("ME\u{0302}\u{0303}E\u{0302}\u{0303}X");
    let BookingDetail::Flight(f) = check(&doc).unwrap().detail else { panic!() };
    assert_eq!(f.passengers[0].title.as_deref(), Some("MỄỄX"));
}

#[test]
fn dates_are_exactly_yyyy_mm_dd() {
    for taken in ["1985-02-01", "2000-02-29"] {
        assert!(super::parse_date(taken).is_some(), "{taken}");
    }
    // chrono's `%Y-%m-%d` takes all of these; the booking schema's `format: date` none (found by fuzzing).
    for refused in [
        " 1985-02-01",
        "1985-2-01",
        "1985-02-1",
        "+1985-02-01",
        "01985-02-01",
        "1985-02-01 ",
        "1985-02-30",
        "١٩٨٥-٠٢-٠١",
    ] {
        assert_eq!(super::parse_date(refused), None, "{refused}");
    }
    let mut doc = example("family");
    doc["passengers"][0]["date_of_birth"] = json!(" 1985-02-01");
    assert_eq!(pointers(&doc), vec!["/passengers/0/date_of_birth"]);
}

#[test]
fn times_take_t_and_leap_seconds_only_where_json_schema_does() {
    let at = |time: &str| {
        let mut doc = example("family");
        doc["ticketing_deadline"] = json!(time);
        check(&doc).err().map(|e| e.0.into_iter().map(|e| e.pointer).collect::<Vec<_>>()).unwrap_or_default()
    };
    assert!(at("2027-04-08T17:00:00+07:00").is_empty());
    assert!(at("2027-04-08t17:00:00+07:00").is_empty());
    assert!(at("2027-04-08T23:59:60Z").is_empty(), "a leap second at 23:59 UTC");
    assert!(at("2027-04-09T06:59:60+07:00").is_empty(), "23:59 UTC in another offset");
    for refused in ["2027-04-08 17:00:00+07:00", "2027-04-08T17:00:60+07:00"] {
        assert_eq!(at(refused), vec!["/ticketing_deadline"], "{refused}");
    }
}

#[test]
fn an_events_location_is_optional_and_checked() {
    let located = |doc: &Value| match check(doc).unwrap().detail {
        BookingDetail::Event(e) => e.orders.iter().map(|o| o.event.location).collect::<Vec<_>>(),
        BookingDetail::Flight(_) => panic!("an event"),
    };
    let anfield = crate::geo::GeoPoint::from_degrees(53.430819, -2.960828);
    assert_eq!(located(&example("event")), vec![anfield, None]);

    let mut doc = example("event");
    doc["orders"][1]["event"]["location"] = json!({"latitude": -90, "longitude": 180});
    assert_eq!(located(&doc)[1], crate::geo::GeoPoint::from_degrees(-90.0, 180.0));

    for (location, expected) in [
        (json!({"latitude": 90.5, "longitude": 0}), vec!["/orders/0/event/location/latitude"]),
        (json!({"latitude": 0, "longitude": -181}), vec!["/orders/0/event/location/longitude"]),
        (json!({"longitude": 4.5}), vec!["/orders/0/event/location/latitude"]),
        (json!({}), vec!["/orders/0/event/location/latitude", "/orders/0/event/location/longitude"]),
        (json!({"latitude": 1, "longitude": 2, "altitude": 3}), vec!["/orders/0/event/location/altitude"]),
    ] {
        let mut doc = example("event");
        doc["orders"][0]["event"]["location"] = location.clone();
        assert_eq!(pointers(&doc), expected, "{location}");
    }
}

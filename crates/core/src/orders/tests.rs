use chrono::{NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use super::*;
use crate::booking::{Booking, BookingStatus};
use crate::intake;

fn booking(doc: &str) -> Booking {
    let valid = intake::parse(doc.as_bytes(), NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()).unwrap();
    Booking {
        id: BookingId(Uuid::from_u128(42)),
        agency_id: AgencyId(Uuid::from_u128(43)),
        created_by: None,
        status: BookingStatus::Confirmed,
        created_at: Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap(),
        detail: valid.detail,
    }
}

fn counter() -> impl FnMut() -> Uuid {
    let mut n = 0u128;
    move || {
        n += 1;
        Uuid::from_u128(n.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835))
    }
}

fn event_orders() -> Vec<BookingOrder> {
    booking_orders(&booking(include_str!("../../../../examples/bookings/event.json")), &mut counter())
}

#[test]
fn one_order_per_event_and_one_item_per_ticket_with_its_guest_and_seat() {
    let orders = event_orders();
    assert_eq!(orders.len(), 2);
    assert_eq!((orders[0].event.id.as_str(), orders[0].position), ("lfc-ars-2027", 0));
    assert_eq!(orders[0].logistic_status, LogisticStatus::Processing);
    assert_eq!(orders[0].items.len(), 2);
    let second = &orders[0].items[1];
    assert_eq!(second.guest.as_ref().map(|g| g.first_name.as_str()), Some("Jane"));
    assert_eq!(second.seat.as_ref().and_then(|s| s.seat.as_deref()), Some("13"));
    assert_eq!(orders[1].items.len(), 2);
    assert_eq!(orders[1].items[1].distribution_channel, DistributionChannel::ExternalEndClient);
    assert!(!orders[1].items[1].downloadable());
    assert_eq!(orders[1].total().unwrap().minor(), 484_950);
}

#[test]
fn ids_have_the_events_api_shape_and_parse_back() {
    let orders = event_orders();
    let order = &orders[0];
    assert!(order.id.as_str().ends_with("_bkn") && order.id.as_str().len() == 36);
    assert!(order.items[0].id.as_str().ends_with("_bkd"));
    assert!(order.items[0].downloads[0].id.as_str().ends_with("_dwn"));
    assert_eq!(BookingOrderId::parse(order.id.as_str()), Ok(order.id.clone()));
    for bad in [
        "",
        "30fbd3b23f774a9daec4fb16bbd39daa",
        "30FBD3B23F774A9DAEC4FB16BBD39DAA_bkn",
        "30fbd3b23f774a9daec4fb16bbd39da_bkn",
    ] {
        assert!(BookingOrderId::parse(bad).is_err(), "{bad}");
    }
    assert!(OrderItemId::parse(order.id.as_str()).is_err(), "an order id is not an item id");
}

#[test]
fn a_multi_day_pass_has_a_labelled_download_per_day_with_distinct_links() {
    let orders = event_orders();
    let pass = &orders[1].items[0];
    let labels: Vec<&str> = pass.downloads.iter().map(|d| d.label.as_str()).collect();
    assert_eq!(
        labels,
        ["Day 1 of 3 — Fri 27 Aug 2027", "Day 2 of 3 — Sat 28 Aug 2027", "Day 3 of 3 — Sun 29 Aug 2027"]
    );
    let mut links: Vec<&str> = pass.downloads.iter().map(|d| d.link.as_str()).collect();
    links.sort();
    links.dedup();
    assert_eq!(links.len(), 3);
    assert_eq!(orders[0].items[0].downloads.len(), 1);
    assert_eq!(orders[0].items[0].downloads[0].label, "");
}

#[test]
fn download_links_have_one_shape_only() {
    let link = DownloadLink::from_uuid(Uuid::from_u128(12345));
    assert_eq!(DownloadLink::parse(link.as_str()), Some(link.clone()));
    for bad in ["ticket-abcde", "ticket-ABCDE.pdf", "../ticket-abcde.pdf", "ticket-abcdef.pdf", "ticket-abcd.pdf", "x"]
    {
        assert_eq!(DownloadLink::parse(bad), None, "{bad}");
    }
}

#[test]
fn same_ids_give_the_same_orders_and_a_flight_has_none() {
    assert_eq!(event_orders(), event_orders());
    let flight = booking(include_str!("../../../../examples/bookings/flight-oneway.json"));
    assert!(booking_orders(&flight, &mut counter()).is_empty());
}

#[test]
fn labels_fall_back_to_parts_when_days_do_not_match() {
    let mut doc: serde_json::Value =
        serde_json::from_str(include_str!("../../../../examples/bookings/event.json")).unwrap();
    doc["orders"][0]["items"][0]["pdfs_per_ticket"] = serde_json::json!(2);
    let orders = booking_orders(&booking(&doc.to_string()), &mut counter());
    let labels: Vec<&str> = orders[0].items[0].downloads.iter().map(|d| d.label.as_str()).collect();
    assert_eq!(labels, ["Part 1 of 2", "Part 2 of 2"]);
}

#[test]
fn booking_ids_take_the_events_shape_and_read_back() {
    let id = BookingId(Uuid::from_u128(0x716e_4d8a_84ce_4167_9784_8cf9_82b5_695f));
    assert_eq!(events_booking_id(id), "716e4d8a84ce416797848cf982b5695f_bkn");
    assert_eq!(parse_events_booking_id("716e4d8a84ce416797848cf982b5695f_bkn"), Ok(id));
    assert_eq!(parse_events_booking_id("716e4d8a-84ce-4167-9784-8cf982b5695f"), Ok(id), "the dashed UUID still reads");
    for bad in ["716e4d8a84ce416797848cf982b5695f_bkd", "716E4D8A84CE416797848CF982B5695F_bkn", "abc_bkn", "nope", ""] {
        assert_eq!(parse_events_booking_id(bad), Err(OrderIdError(bad.to_owned(), "booking id")), "{bad}");
    }
}

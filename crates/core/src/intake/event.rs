//! Rules of an event booking: orders per event, items with quantities that match guests and seats.

use super::flight::{contact, offset_time};
use super::wire::{EventRequest, ItemRequest, LocationRequest};
use super::Report;
use crate::booking::{DistributionChannel, Event, EventBooking, EventItem, EventOrder, Guest, Seat};
use crate::codes::BookingCode;
use crate::geo::GeoPoint;
use crate::language::Language;
use crate::money::Currency;

const MAX_TICKETS_PER_ITEM: u32 = 50;
const MAX_PDFS_PER_TICKET: u32 = 10;

/// A venue's coordinates: both given, in degrees, latitude within ±90 and longitude within ±180.
fn location(l: &LocationRequest, at: &str, r: &mut Report) -> Option<GeoPoint> {
    let latitude = r.required(&l.latitude, &format!("{at}/latitude")).copied();
    let longitude = r.required(&l.longitude, &format!("{at}/longitude")).copied();
    let (latitude, longitude) = (latitude?, longitude?);
    let mut ok = true;
    if !(-90.0..=90.0).contains(&latitude) {
        r.add(format!("{at}/latitude"), "must be a number of degrees from -90 to 90");
        ok = false;
    }
    if !(-180.0..=180.0).contains(&longitude) {
        r.add(format!("{at}/longitude"), "must be a number of degrees from -180 to 180");
        ok = false;
    }
    ok.then(|| GeoPoint::from_degrees(latitude, longitude)).flatten()
}

pub(super) fn validate(req: &EventRequest, r: &mut Report) -> Option<EventBooking> {
    let booking_code =
        r.required(&req.booking_code, "/booking_code").and_then(|c| r.parse("/booking_code", BookingCode::parse(c)));
    let currency = r.required(&req.currency, "/currency").and_then(|v| r.parse("/currency", Currency::parse(v)));
    let contact = contact(&req.contact, r);
    let invoice_reference = req.invoice_reference.as_deref().and_then(|v| r.optional_text(v, "/invoice_reference", 64));
    let list = r.required(&req.orders, "/orders")?;
    if list.is_empty() {
        r.add("/orders", "must list at least one order");
        return None;
    }
    let mut orders = Vec::new();
    for (i, o) in list.iter().enumerate() {
        let at = format!("/orders/{i}");
        let event = r.required(&o.event, &format!("{at}/event")).and_then(|e| {
            let f = |n: &str| format!("{at}/event/{n}");
            let id = r.text(&e.id, &f("id"), 64);
            let name = r.text(&e.name, &f("name"), 128);
            let venue = r.text(&e.venue, &f("venue"), 128);
            let starts_at =
                r.required(&e.starts_at, &f("starts_at")).and_then(|t| r.parse(&f("starts_at"), offset_time(t)));
            let ends_at = e.ends_at.as_deref().and_then(|t| r.parse(&f("ends_at"), offset_time(t)));
            if let (Some(s), Some(e)) = (starts_at, ends_at) {
                if e < s {
                    r.add(f("ends_at"), "must not be before `starts_at`");
                    return None;
                }
            }
            let location = e.location.as_ref().and_then(|l| location(l, &f("location"), r));
            if e.location.is_some() && location.is_none() {
                return None;
            }
            Some(Event { id: id?, name: name?, venue: venue?, starts_at: starts_at?, ends_at, location })
        });
        let items = r.required(&o.items, &format!("{at}/items")).and_then(|items| {
            if items.is_empty() {
                r.add(format!("{at}/items"), "must list at least one item");
                return None;
            }
            let out: Vec<EventItem> = items
                .iter()
                .enumerate()
                .filter_map(|(k, it)| item(it, currency, &format!("{at}/items/{k}"), r))
                .collect();
            (out.len() == items.len()).then_some(out)
        });
        if let (Some(event), Some(items)) = (event, items) {
            orders.push(EventOrder { event, items });
        }
    }
    if orders.len() != list.len() {
        return None;
    }
    Some(EventBooking {
        booking_code: booking_code?,
        currency: currency?,
        contact: contact?,
        invoice_reference,
        orders,
        // Set by `intake::validate` from the request, then by the application from the agency default.
        language: Language::default(),
    })
}

fn item(it: &ItemRequest, currency: Option<Currency>, at: &str, r: &mut Report) -> Option<EventItem> {
    let f = |n: &str| format!("{at}/{n}");
    let ticket_name = r.text(&it.ticket_name, &f("ticket_name"), 128);
    let category = r.text(&it.category, &f("category"), 64);
    let quantity = r.required(&it.quantity, &f("quantity")).and_then(|&q| {
        if (1..=MAX_TICKETS_PER_ITEM).contains(&q) {
            Some(q)
        } else {
            r.add(f("quantity"), format!("must be between 1 and {MAX_TICKETS_PER_ITEM}"));
            None
        }
    });
    let unit_price = r.money(&it.unit_price, currency, &f("unit_price"));
    let channel = match it.distribution_channel.as_deref() {
        None => Some(DistributionChannel::Xs2event),
        Some(c) => DistributionChannel::parse(c).or_else(|| {
            r.add(f("distribution_channel"), "must be `xs2event`, `external` or `external_end_client`");
            None
        }),
    };
    let pdfs = it.pdfs_per_ticket.unwrap_or(1);
    if !(1..=MAX_PDFS_PER_TICKET).contains(&pdfs) {
        r.add(f("pdfs_per_ticket"), format!("must be between 1 and {MAX_PDFS_PER_TICKET}"));
    }
    let mut guests = Vec::new();
    for (g, guest) in it.guests.as_deref().unwrap_or_default().iter().enumerate() {
        let first = r.text(&guest.first_name, &f(&format!("guests/{g}/first_name")), 64);
        let last = r.text(&guest.last_name, &f(&format!("guests/{g}/last_name")), 64);
        if let (Some(first_name), Some(last_name)) = (first, last) {
            guests.push(Guest { first_name, last_name, lead_guest: guest.lead_guest.unwrap_or(false) });
        }
    }
    let mut seats = Vec::new();
    for (k, s) in it.seats.as_deref().unwrap_or_default().iter().enumerate() {
        let mut part = |value: &Option<String>, name: &str| {
            value.as_deref().and_then(|v| r.optional_text(v, &f(&format!("seats/{k}/{name}")), 32))
        };
        seats.push(Seat {
            section: part(&s.section, "section"),
            row: part(&s.row, "row"),
            seat: part(&s.seat, "seat"),
        });
    }
    // The i-th guest and seat belong to the i-th ticket, so there cannot be more of them than tickets.
    if let Some(q) = quantity {
        if guests.len() > q as usize {
            r.add(f("guests"), format!("{} guests for {q} ticket(s)", guests.len()));
        }
        if seats.len() > q as usize {
            r.add(f("seats"), format!("{} seats for {q} ticket(s)", seats.len()));
        }
    }
    Some(EventItem {
        ticket_name: ticket_name?,
        category: category?,
        quantity: quantity?,
        unit_price: unit_price?,
        distribution_channel: channel?,
        pdfs_per_ticket: pdfs,
        guests,
        seats,
    })
}

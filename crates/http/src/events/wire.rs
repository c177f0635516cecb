//! Booking orders as the events API writes them: every field of the seed's samples, plus the detail its full
//! documentation lists (`ticket_name`, `category_name`, `row`, `seat`, `section`, `number_of_pdfs`, `guest`).

use serde_json::{json, Value};
use tessera_core::orders::{events_booking_id, BookingOrder, DownloadItem, OrderItem};
use tessera_storage::{DocumentOwner, OrderRecord};

/// `2024-01-02T21:48:04`, UTC without an offset, as the seed writes `created`.
const CREATED_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

pub fn order(record: &OrderRecord) -> Value {
    let order = &record.order;
    let zip_sha = record.document(&DocumentOwner::OrderZip(order.id.clone())).map(|d| d.sha256.clone());
    json!({
        "booking_id": events_booking_id(order.booking_id),
        "bookingorder_id": order.id,
        "booking_code": record.booking_code,
        "event_id": order.event.id,
        "event_name": order.event.name,
        "event_venue": order.event.venue,
        "event_start": order.event.starts_at.to_rfc3339(),
        "logistic_status": order.logistic_status.as_str(),
        "items": order.items.iter().map(|i| item(record, i)).collect::<Vec<_>>(),
        "zip_sha": zip_sha,
        "invoices": record.invoices.iter().map(|i| i.number.to_string()).collect::<Vec<_>>(),
        "created": order.created_at.format(CREATED_FORMAT).to_string(),
        "distributor_id": format!("{}_dst", order.agency_id.as_uuid().simple()),
    })
}

/// An item's own `download_link`/`ticket_sha` for a single-PDF ticket; with several PDFs they are in
/// `download_items` and the item-level link is empty, as the seed says. Links appear once the PDF exists and
/// only for tickets that can be downloaded here.
fn item(record: &OrderRecord, item: &OrderItem) -> Value {
    let order = &record.order;
    let downloads: Vec<(&DownloadItem, Option<String>)> =
        item.downloads.iter().map(|d| (d, sha(record, order, item, d))).collect();
    let single = downloads.len() == 1;
    let (link, ticket_sha) = match downloads.first() {
        Some((d, Some(sha))) if single => (d.link.as_str().to_owned(), Some(sha.clone())),
        _ => (String::new(), None),
    };
    let download_items: Vec<Value> = if single {
        Vec::new()
    } else {
        downloads
            .iter()
            .map(|(d, sha)| {
                json!({
                    "download_link": if sha.is_some() { d.link.as_str() } else { "" },
                    "ticket_sha": sha,
                    "downloaditem_id": d.id,
                    "label": d.label,
                    "activated": d.activated,
                })
            })
            .collect()
    };
    let seat = item.seat.as_ref();
    json!({
        "orderitem_id": item.id,
        "ticket_id": item.id,
        "ticket_name": item.ticket_name,
        "category_name": item.category,
        "type_ticket": "eticket",
        "quantity": 1,
        "price": item.unit_price.amount_string(),
        "currency": item.unit_price.currency().code(),
        "status": tessera_app::lifecycle::item_status_word(item.status),
        "distribution_channel": item.distribution_channel.as_str(),
        "section": seat.and_then(|s| s.section.clone()),
        "row": seat.and_then(|s| s.row.clone()),
        "seat": seat.and_then(|s| s.seat.clone()),
        "guest": item.guest.as_ref().map(|g| json!({
            "first_name": g.first_name,
            "last_name": g.last_name,
            "lead_guest": g.lead_guest,
        })),
        "number_of_pdfs": item.downloads.len(),
        "ticket_sha": ticket_sha,
        "download_link": link,
        "download_items": download_items,
    })
}

fn sha(record: &OrderRecord, order: &BookingOrder, item: &OrderItem, d: &DownloadItem) -> Option<String> {
    if !item.downloadable() {
        return None;
    }
    record.document(&DocumentOwner::Download(order.id.clone(), d.id.clone())).map(|doc| doc.sha256.clone())
}

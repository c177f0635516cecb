//! Booking orders as the events API writes them: every field of the seed's samples, plus the detail its full
//! documentation lists (`ticket_name`, `category_name`, `row`, `seat`, `section`, `number_of_pdfs`, `guest`).
//! Ids have the vendor's shape: 32 hex digits and a suffix (`_bkn`, `_bkd`, `_dwn`, `_dst`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use tessera_core::orders::{events_booking_id, BookingOrder, DownloadItem, OrderItem};
use tessera_storage::{DocumentOwner, OrderRecord};
use utoipa::ToSchema;

/// `2024-01-02T21:48:04`, UTC without an offset, as the seed writes `created`.
const CREATED_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

/// One booking order: the tickets of one booking for one event.
#[derive(Serialize, ToSchema)]
pub struct OrderBody {
    /// The booking, e.g. `716e4d8a84ce416797848cf982b5695f_bkn`.
    booking_id: String,
    bookingorder_id: String,
    booking_code: String,
    event_id: String,
    event_name: String,
    event_venue: String,
    event_start: String,
    /// `processing`, `completed` or `cancelled`
    logistic_status: &'static str,
    items: Vec<ItemBody>,
    /// SHA-256 of the zip bundle, once it exists.
    zip_sha: Option<String>,
    invoices: Vec<String>,
    created: String,
    distributor_id: String,
}

/// One ticket bought.
#[derive(Serialize, ToSchema)]
pub struct ItemBody {
    orderitem_id: String,
    ticket_id: String,
    ticket_name: String,
    category_name: String,
    type_ticket: &'static str,
    quantity: u32,
    price: String,
    currency: String,
    status: &'static str,
    /// `xs2event`, `external` or `external_end_client`
    distribution_channel: &'static str,
    section: Option<String>,
    row: Option<String>,
    seat: Option<String>,
    guest: Option<GuestBody>,
    number_of_pdfs: usize,
    ticket_sha: Option<String>,
    /// Empty until the PDF exists, for tickets not downloadable here, and when there are several PDFs.
    download_link: String,
    download_items: Vec<DownloadItemBody>,
}

#[derive(Serialize, ToSchema)]
pub struct GuestBody {
    first_name: String,
    last_name: String,
    lead_guest: bool,
}

/// One PDF of a ticket that has several.
#[derive(Serialize, ToSchema)]
pub struct DownloadItemBody {
    download_link: String,
    ticket_sha: Option<String>,
    downloaditem_id: String,
    label: String,
    activated: Option<DateTime<Utc>>,
}

pub fn order(record: &OrderRecord) -> OrderBody {
    let order = &record.order;
    let zip_sha = record.document(&DocumentOwner::OrderZip(order.id.clone())).map(|d| d.sha256.clone());
    OrderBody {
        booking_id: events_booking_id(order.booking_id),
        bookingorder_id: order.id.to_string(),
        booking_code: record.booking_code.clone(),
        event_id: order.event.id.clone(),
        event_name: order.event.name.clone(),
        event_venue: order.event.venue.clone(),
        event_start: order.event.starts_at.to_rfc3339(),
        logistic_status: order.logistic_status.as_str(),
        items: order.items.iter().map(|i| item(record, i)).collect(),
        zip_sha,
        invoices: record.invoices.iter().map(|i| i.number.to_string()).collect(),
        created: order.created_at.format(CREATED_FORMAT).to_string(),
        distributor_id: format!("{}_dst", order.agency_id.as_uuid().simple()),
    }
}

/// An item's own `download_link`/`ticket_sha` for a single-PDF ticket; with several PDFs they are in
/// `download_items` and the item-level link is empty, as the seed says. Links appear once the PDF exists and
/// only for tickets that can be downloaded here.
fn item(record: &OrderRecord, item: &OrderItem) -> ItemBody {
    let order = &record.order;
    let downloads: Vec<(&DownloadItem, Option<String>)> =
        item.downloads.iter().map(|d| (d, sha(record, order, item, d))).collect();
    let single = downloads.len() == 1;
    let (link, ticket_sha) = match downloads.first() {
        Some((d, Some(sha))) if single => (d.link.as_str().to_owned(), Some(sha.clone())),
        _ => (String::new(), None),
    };
    let download_items = if single {
        Vec::new()
    } else {
        downloads
            .iter()
            .map(|(d, sha)| DownloadItemBody {
                download_link: if sha.is_some() { d.link.as_str().to_owned() } else { String::new() },
                ticket_sha: sha.clone(),
                downloaditem_id: d.id.to_string(),
                label: d.label.clone(),
                activated: d.activated,
            })
            .collect()
    };
    let seat = item.seat.as_ref();
    ItemBody {
        orderitem_id: item.id.to_string(),
        ticket_id: item.id.to_string(),
        ticket_name: item.ticket_name.clone(),
        category_name: item.category.clone(),
        type_ticket: "eticket",
        quantity: 1,
        price: item.unit_price.amount_string(),
        currency: item.unit_price.currency().code().to_owned(),
        status: tessera_app::lifecycle::item_status_word(item.status),
        distribution_channel: item.distribution_channel.as_str(),
        section: seat.and_then(|s| s.section.clone()),
        row: seat.and_then(|s| s.row.clone()),
        seat: seat.and_then(|s| s.seat.clone()),
        guest: item.guest.as_ref().map(|g| GuestBody {
            first_name: g.first_name.clone(),
            last_name: g.last_name.clone(),
            lead_guest: g.lead_guest,
        }),
        number_of_pdfs: item.downloads.len(),
        ticket_sha,
        download_link: link,
        download_items,
    }
}

fn sha(record: &OrderRecord, order: &BookingOrder, item: &OrderItem, d: &DownloadItem) -> Option<String> {
    if !item.downloadable() {
        return None;
    }
    record.document(&DocumentOwner::Download(order.id.clone(), d.id.clone())).map(|doc| doc.sha256.clone())
}

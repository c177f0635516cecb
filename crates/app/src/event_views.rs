//! Event tickets and invoices turned into what their PDFs print, and the names their files get.

use chrono::{DateTime, FixedOffset};
use tessera_core::agency::Agency;
use tessera_core::booking::EventBooking;
use tessera_core::invoice::Invoice;
use tessera_core::orders::{BookingOrder, DownloadItem, OrderItem};
use tessera_documents::model::{EventTicketView, InvoiceView, PartyView};

use tessera_documents::i18n::{self, Lang};

use crate::views::{agency_view, lang};

/// `Tue 02 Mar 2027 20:00 (UTC+00:00)` (English) or `T3, 02/03/2027 20:00 (UTC+00:00)` (Vietnamese), in the
/// venue's own offset.
fn event_time(lang: Lang, t: DateTime<FixedOffset>) -> String {
    i18n::date_time_offset(lang, t)
}

pub fn holder(item: &OrderItem) -> String {
    item.guest.as_ref().map(|g| format!("{} {}", g.first_name, g.last_name)).unwrap_or_default()
}

pub fn event_ticket(
    agency: &Agency,
    booking: &EventBooking,
    order: &BookingOrder,
    item: &OrderItem,
    download: &DownloadItem,
    qr_payload: String,
) -> EventTicketView {
    let lang = lang(booking.language);
    let seat = item.seat.clone().unwrap_or(tessera_core::booking::Seat { section: None, row: None, seat: None });
    EventTicketView {
        lang,
        agency: agency_view(agency),
        event_name: order.event.name.clone(),
        venue: order.event.venue.clone(),
        starts: event_time(lang, order.event.starts_at),
        ends: order.event.ends_at.map(|t| event_time(lang, t)).unwrap_or_default(),
        holder: holder(item),
        ticket_name: item.ticket_name.clone(),
        category: item.category.clone(),
        section: seat.section.unwrap_or_default(),
        row: seat.row.unwrap_or_default(),
        seat: seat.seat.unwrap_or_default(),
        booking_code: booking.booking_code.to_string(),
        order_id: order.id.to_string(),
        order_item_id: item.id.to_string(),
        label: pass_label(lang, order, item, download),
        price: i18n::money(lang, &item.unit_price.amount_string(), &item.unit_price.currency().to_string()),
        qr_payload,
        watermark: None,
        status_mark: None,
    }
}

/// Which PDF of a multi-PDF ticket this is, as its PDF and its zip entry name say it. The label is stored with
/// the order in English when the order is made (`Day 2 of 3 — Sat 28 Aug 2027`, what the events API shows);
/// another language writes it anew from the same facts, the PDF's place among the ticket's and the event's days.
pub(crate) fn pass_label(lang: Lang, order: &BookingOrder, item: &OrderItem, download: &DownloadItem) -> String {
    if lang == Lang::En || download.label.is_empty() {
        return download.label.clone();
    }
    let count = item.downloads.len();
    let Some(index) = item.downloads.iter().position(|d| d.id == download.id) else {
        return download.label.clone();
    };
    let (n, total) = ((index + 1).to_string(), count.to_string());
    match tessera_core::orders::event_days(&order.event) {
        Some(days) if days.len() == count => {
            let date = i18n::date_weekday(lang, days[index]);
            i18n::t_args(lang, "pass-day", &[("n", &n), ("count", &total), ("date", &date)])
        }
        _ => i18n::t_args(lang, "pass-part", &[("n", &n), ("count", &total)]),
    }
}

pub fn invoice(agency: &Agency, booking: &EventBooking, order: &BookingOrder, invoice: &Invoice) -> InvoiceView {
    let lang = lang(booking.language);
    let lead = order.items.iter().filter_map(|i| i.guest.as_ref()).find(|g| g.lead_guest);
    let mut buyer = vec![booking.contact.email.clone()];
    if let Some(phone) = &booking.contact.phone {
        buyer.push(phone.clone());
    }
    let buyer_name = lead.map(|g| format!("{} {}", g.first_name, g.last_name)).unwrap_or_else(|| buyer[0].clone());
    InvoiceView {
        reference: booking.invoice_reference.clone().unwrap_or_default(),
        order_id: order.id.to_string(),
        booking_code: booking.booking_code.to_string(),
        event: format!("{} — {}, {}", order.event.name, order.event.venue, event_time(lang, order.event.starts_at)),
        notes: vec![i18n::t(lang, "note-prices-include-vat").into(), crate::views::issued_note(lang, invoice)],
        ..crate::views::invoice_base(lang, agency, invoice, PartyView { name: buyer_name, lines: buyer })
    }
}

/// A zip entry name a person understands: `01 Main Stand Cat 1 (03-02) - John Doe.pdf`, or with the PDF's
/// `label` (its [`pass_label`], in the booking's language) for one day of a pass, with anything a file system or
/// extractor could misread (separators, `:`, control characters, `..`) replaced.
pub fn zip_entry_name(index: usize, item: &OrderItem, label: &str) -> String {
    let mut name = format!("{:02} {}", index + 1, item.ticket_name);
    let who = holder(item);
    if !who.is_empty() {
        name.push_str(" - ");
        name.push_str(&who);
    }
    if !label.is_empty() {
        name.push_str(" - ");
        name.push_str(label);
    }
    let mut clean: String =
        name.chars().map(|c| if matches!(c, '/' | '\\' | ':') || c.is_control() { '-' } else { c }).collect();
    while clean.contains("..") {
        clean = clean.replace("..", ".");
    }
    let clean: String = clean.trim().chars().take(200).collect();
    format!("{clean}.pdf")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_core::booking::DistributionChannel;
    use tessera_core::money::{Currency, Money};
    use tessera_core::orders::{DownloadItemId, DownloadLink, OrderItemId};
    use tessera_core::ticket::{CouponStatus, TicketStatus};
    use uuid::Uuid;

    #[test]
    fn zip_names_are_readable_and_safe() {
        let item = OrderItem {
            id: OrderItemId::from_uuid(Uuid::from_u128(1)),
            ticket_name: "Main Stand Cat 1 (03/02) ..\\x".into(),
            category: "Cat 1".into(),
            unit_price: Money::zero(Currency::parse("EUR").unwrap()),
            distribution_channel: DistributionChannel::Xs2event,
            status: TicketStatus::Open,
            pending_penalty: None,
            guest: Some(tessera_core::booking::Guest {
                first_name: "Ömer".into(),
                last_name: "Çelik".into(),
                lead_guest: true,
            }),
            seat: None,
            downloads: vec![],
        };
        let download = DownloadItem {
            id: DownloadItemId::from_uuid(Uuid::from_u128(2)),
            label: "Day 1 of 3 — Fri 27 Aug 2027".into(),
            link: DownloadLink::from_uuid(Uuid::from_u128(3)),
            status: CouponStatus::Open,
            activated: None,
        };
        assert_eq!(
            zip_entry_name(0, &item, &download.label),
            "01 Main Stand Cat 1 (03-02) .-x - Ömer Çelik - Day 1 of 3 — Fri 27 Aug 2027.pdf"
        );
        assert_eq!(zip_entry_name(1, &item, ""), "02 Main Stand Cat 1 (03-02) .-x - Ömer Çelik.pdf");
    }
}

//! Layout of the one-page event ticket: what, where, when and who on the left, the entry QR code on the right,
//! the seat underneath, then the order references a support desk asks for.

use super::blocks::*;
use super::font::Weight;
use super::layout::*;
use super::qr::draw_qr;
use crate::error::DocumentError;
use crate::model::EventTicketView;

/// The notices under the ticket, as message ids of their titles and texts.
const NOTICES: &[(&str, &str)] = &[
    ("notice-entry-title", "notice-entry"),
    ("notice-your-ticket-title", "notice-your-ticket"),
    ("notice-event-changes-title", "notice-event-changes"),
];

/// Side of the entry QR code: large enough for gate scanners to read from a phone screen at arm's length.
const QR_BIG: f32 = 156.0;
/// Distance from the card border to the QR code: the four-module quiet zone scanners need, with some spare.
const QR_MARGIN: f32 = 20.0;
const CARD_PAD: f32 = 16.0;
const QR_X: f32 = RIGHT - QR_MARGIN - QR_BIG;
const INFO_X: f32 = LEFT + CARD_PAD;
const INFO_W: f32 = QR_X - 20.0 - INFO_X;
/// Label column of the start/end lines.
const WHEN_LABEL_W: f32 = 48.0;
const STRIP_H: f32 = 46.0;

const EVENT_NAME: Style = Style::new(22.0, Weight::Bold, NAVY);
const VENUE: Style = Style::new(9.5, Weight::Regular, MUTED);
const WHEN: Style = Style::new(10.0, Weight::Bold, INK);
const HOLDER: Style = Style::new(15.0, Weight::Bold, INK);
const TICKET_LABEL: Style = Style::new(9.5, Weight::Bold, AMBER_INK);
const PAYLOAD: Style = Style::new(7.0, Weight::Regular, MUTED);
const SEAT: Style = Style::new(16.0, Weight::Bold, INK);

/// Lays out one event ticket on a new page.
pub(crate) fn event_ticket(doc: &mut Doc, view: &EventTicketView) -> Result<(), DocumentError> {
    doc.start_group(Group {
        footer_left: if view.agency.name.trim().is_empty() {
            doc.t("issued-electronically").to_owned()
        } else {
            doc.ta("issued-by", &[("name", &view.agency.name)])
        },
        // Only the ticket id: with the booking code too, the page number would be cut off.
        footer_right: doc.ta("event-footer", &[("item", &view.order_item_id)]),
        running_title: doc.t("event-continued").to_owned(),
        running_detail: format!("{}   ·   {}", or_dash(&view.holder), view.order_item_id),
        watermark: view.watermark.clone(),
        status: status_mark(view.status_mark.as_deref()).map(str::to_owned),
    });
    // The entry code gets its own large QR in the card, so the header stays without one.
    header(doc, &view.agency, doc.t("event-title"), doc.t("event-subtitle"), "")?;
    status_stamp(doc, view.status_mark.as_deref(), doc.t("ticket-changed-status"));

    ticket_card(doc, view)?;

    let ticket = match (view.ticket_name.trim(), view.category.trim()) {
        (name, "") => name.to_owned(),
        ("", category) => category.to_owned(),
        (name, category) => format!("{name} · {category}"),
    };
    // Order ids are 36 characters; two grid columns keep them whole at full size instead of ellipsised.
    let rows = vec![
        vec![
            Field::new(doc.t("ticket"), or_dash(&ticket)).wide(2).strong(),
            Field::new(doc.t("booking-code"), or_dash(&view.booking_code)).strong(),
            Field::new(doc.t("price"), or_dash(&view.price)).strong(),
        ],
        vec![
            Field::new(doc.t("order-item"), or_dash(&view.order_item_id)).wide(2),
            Field::new(doc.t("order"), or_dash(&view.order_id)).wide(2),
        ],
    ];
    detail_panel(doc, &rows, &[]);

    let notices = translated(doc, NOTICES);
    notices_section(doc, doc.t("important-information"), &notices);
    Ok(())
}

/// The event name in the largest size at which it takes at most two lines (three at the smallest size).
fn event_name_lines(doc: &Doc, name: &str) -> (Style, Vec<String>) {
    for size in [22.0, 19.0] {
        let style = EVENT_NAME.sized(size);
        let lines = doc.wrap(style, name, INFO_W);
        if lines.len() <= 2 {
            return (style, lines);
        }
    }
    let style = EVENT_NAME.sized(16.0);
    (style, doc.wrap_max(style, name, INFO_W, 3))
}

/// The payload under the QR code: shrunk to fit one line if it can, else broken over up to three lines. It
/// is the fallback when a scanner fails, so it is never shortened unless it is absurdly long.
fn payload_lines(doc: &Doc, payload: &str) -> (Style, Vec<String>) {
    let payload = payload.trim();
    if payload.is_empty() {
        return (PAYLOAD, Vec::new());
    }
    let (style, line) = doc.fit_shrinking(PAYLOAD, 5.5, payload, QR_BIG);
    if doc.width(style, payload) <= QR_BIG {
        return (style, vec![line]);
    }
    (style, doc.wrap_max(style, payload, QR_BIG, 3))
}

/// The bordered card with the event, time, holder and QR code, and the seat strip along its bottom.
fn ticket_card(doc: &mut Doc, view: &EventTicketView) -> Result<(), DocumentError> {
    let (name_style, name_lines) = event_name_lines(doc, &view.event_name);
    let name_leading = name_style.size * 1.15;
    let venue_lines = doc.wrap_max(VENUE, &view.venue, INFO_W, 2);
    let label = view.label.trim();
    let when: Vec<(&str, &str)> =
        [(doc.t("starts-label"), view.starts.as_str()), (doc.t("ends-label"), view.ends.as_str())]
            .into_iter()
            .filter(|(_, value)| !value.trim().is_empty())
            .collect();
    let (payload_style, payload) = payload_lines(doc, &view.qr_payload);
    let payload_leading = payload_style.size * 1.3;

    // Measure both columns first: the card is drawn (border, accent) before its content.
    let info_h = 16.0
        + 12.0
        + name_leading * name_lines.len().max(1) as f32
        + 4.0
        + 12.0 * venue_lines.len() as f32
        + 8.0
        + if label.is_empty() { 0.0 } else { 30.0 }
        + 15.0 * when.len() as f32
        + 10.0
        + 32.0
        + 14.0;
    let qr_h = QR_MARGIN + QR_BIG + 10.0 + payload_leading * payload.len() as f32 + 10.0;
    let body_h = info_h.max(qr_h);
    let height = body_h + STRIP_H;
    doc.ensure(height);
    let top = doc.y();

    doc.stroke_rect(LEFT, top, CONTENT_W, height, 0.6, RULE);
    doc.fill_rect(LEFT, top, 4.0, body_h, NAVY);

    let mut y = top + 16.0;
    doc.text(INFO_X, y + 7.0, LABEL, doc.t("event-label"));
    y += 12.0;
    for line in &name_lines {
        doc.text(INFO_X, y + name_style.size * 0.95, name_style, line);
        y += name_leading;
    }
    if name_lines.is_empty() {
        y += name_leading;
    }
    y += 4.0;
    for line in &venue_lines {
        doc.text(INFO_X, y + 9.5, VENUE, line);
        y += 12.0;
    }
    y += 8.0;
    if !label.is_empty() {
        // Which day of a pass this is decides entry, so it stands out from the rest of the card.
        let text = doc.fit(TICKET_LABEL, label, INFO_W - 16.0);
        let w = doc.width(TICKET_LABEL, &text) + 16.0;
        doc.fill_rect(INFO_X, y, w, 20.0, AMBER_TINT);
        doc.stroke_rect(INFO_X, y, w, 20.0, 0.5, Color(0.90, 0.80, 0.58));
        doc.text(INFO_X + 8.0, y + 13.7, TICKET_LABEL, &text);
        y += 30.0;
    }
    for (name, value) in &when {
        doc.text(INFO_X, y + 10.0, LABEL, name);
        let (style, value) = doc.fit_shrinking(WHEN, 7.5, value, INFO_W - WHEN_LABEL_W);
        doc.text(INFO_X + WHEN_LABEL_W, y + 10.5, style, &value);
        y += 15.0;
    }
    y += 10.0;
    doc.text(INFO_X, y + 7.0, LABEL, doc.t("holder-label"));
    let (style, holder) = doc.fit_shrinking(HOLDER, 9.0, or_dash(&view.holder), INFO_W);
    doc.text(INFO_X, y + 24.0, style, &holder);

    let qr_top = top + QR_MARGIN;
    let center = QR_X + QR_BIG / 2.0;
    if view.qr_payload.trim().is_empty() {
        doc.stroke_rect(QR_X, qr_top, QR_BIG, QR_BIG, 0.6, RULE);
        doc.text_center(center, qr_top + QR_BIG / 2.0 + 3.0, SMALL_MUTED, doc.t("no-entry-code"));
    } else {
        draw_qr(doc, view.qr_payload.trim(), QR_X, qr_top, QR_BIG, BLACK)?;
    }
    let mut baseline = qr_top + QR_BIG + 10.0 + payload_style.size;
    for line in &payload {
        doc.text_center(center, baseline, payload_style, line);
        baseline += payload_leading;
    }

    seat_strip(doc, view, top + body_h);
    doc.set_y(top + height + 14.0);
    Ok(())
}

/// Section, row and seat in large type across the bottom of the card, "—" for the parts a ticket lacks.
fn seat_strip(doc: &mut Doc, view: &EventTicketView, top: f32) {
    doc.fill_rect(LEFT + 0.3, top, CONTENT_W - 0.6, STRIP_H - 0.3, PANEL);
    doc.hline(LEFT, RIGHT, top, 0.5, RULE);
    let cells = [
        (doc.t("section-label"), &view.section, 0.5),
        (doc.t("row-label"), &view.row, 0.25),
        (doc.t("seat-label"), &view.seat, 0.25),
    ];
    let mut x = LEFT;
    for (index, (label, value, share)) in cells.into_iter().enumerate() {
        let w = CONTENT_W * share;
        if index > 0 {
            doc.fill_rect(x, top + 8.0, 0.5, STRIP_H - 16.0, RULE);
        }
        doc.text(x + CARD_PAD, top + 14.0, LABEL, label);
        let (style, value) = doc.fit_shrinking(SEAT, 9.0, or_dash(value), w - 2.0 * CARD_PAD);
        doc.text(x + CARD_PAD, top + 34.0, style, &value);
        x += w;
    }
}

//! Layout of one passenger's e-ticket / itinerary receipt; the single ticket and the combined itinerary both
//! call [`ticket`] so every passenger's pages are identical wherever they are printed.

use super::blocks::*;
use super::font::Weight;
use super::layout::*;
use super::qr::draw_qr;
use crate::error::DocumentError;
use crate::model::{FlightTicketView, JourneyView, SegmentView, ServiceView};

/// The notices under every ticket, as message ids of their titles and texts.
const NOTICES: &[(&str, &str)] = &[
    ("notice-conditions-title", "notice-conditions"),
    ("notice-baggage-title", "notice-baggage"),
    ("notice-checkin-title", "notice-checkin"),
];

/// Lays out the pages of one ticket, starting on a new page.
pub(crate) fn ticket(doc: &mut Doc, view: &FlightTicketView) -> Result<(), DocumentError> {
    doc.start_group(Group {
        footer_left: footer_left(doc, view),
        footer_right: doc.ta("eticket-footer", &[("ticket", &view.ticket_number), ("pnr", &view.pnr)]),
        running_title: doc.t("eticket-continued").to_owned(),
        running_detail: format!("{}   ·   {}", view.passenger_name, view.ticket_number),
        watermark: view.watermark.clone(),
        status: status_mark(view.status_mark.as_deref()).map(str::to_owned),
    });
    header(doc, &view.agency, doc.t("eticket-title"), doc.t("eticket-subtitle"), &view.qr_payload)?;
    status_stamp(doc, view.status_mark.as_deref(), doc.t("ticket-changed-status"));

    let passenger_type = describe_passenger_type(doc, &view.passenger_type);
    let rows = vec![
        vec![
            Field::new(doc.t("passenger"), &view.passenger_name).wide(2).strong(),
            Field::new(doc.t("passenger-type"), &passenger_type),
            Field::new(doc.t("ticket-status"), &view.status),
        ],
        vec![
            Field::new(doc.t("ticket-number"), &view.ticket_number).strong(),
            Field::new(doc.t("booking-reference"), &view.pnr).strong(),
            Field::new(doc.t("date-of-issue"), &view.issue_date),
            Field::new(doc.t("validating-carrier"), &view.validating_carrier),
        ],
    ];
    detail_panel(doc, &rows, &view.remarks);

    if !view.journeys.is_empty() {
        section(doc, doc.t("section-itinerary"), JOURNEY_BAR_H + 70.0);
        for (index, journey) in view.journeys.iter().enumerate() {
            if index > 0 {
                doc.advance(8.0);
            }
            journey_block(doc, journey);
        }
        doc.advance(8.0);
    }

    gate_codes(doc, view)?;
    fare_section(doc, doc.t("section-fare-details"), &view.fare);

    if !view.services.is_empty() {
        section(doc, doc.t("section-services"), 34.0);
        services_table(doc, &view.services);
    }

    if !view.endorsement.trim().is_empty() {
        section(doc, doc.t("section-endorsements"), 12.0);
        paragraph(doc, BODY, &view.endorsement, 0.0);
        doc.advance(10.0);
    }

    let notices = translated(doc, NOTICES);
    notices_section(doc, doc.t("important-information"), &notices);
    Ok(())
}

fn footer_left(doc: &Doc, view: &FlightTicketView) -> String {
    let agency = &view.agency;
    match (agency.name.trim(), agency.iata_number.trim()) {
        ("", _) => doc.t("issued-electronically").to_owned(),
        (name, "") => doc.ta("issued-by", &[("name", name)]),
        (name, iata) => doc.ta("issued-by-iata", &[("name", name), ("iata", iata)]),
    }
}

fn describe_passenger_type(doc: &Doc, code: &str) -> String {
    let id = match code.trim() {
        "ADT" => "pax-adult",
        "CHD" | "CNN" => "pax-child",
        "INF" => "pax-infant",
        "INS" => "pax-infant-seat",
        "YTH" => "pax-youth",
        "SRC" => "pax-senior",
        _ => return code.to_owned(),
    };
    format!("{} ({})", doc.t(id), code.trim())
}

fn describe_coupon_status(doc: &Doc, code: &str) -> String {
    let id = match code.trim() {
        "O" | "I" => "coupon-open",
        "A" => "coupon-airport",
        "C" => "coupon-checked-in",
        "L" => "coupon-lifted",
        "F" | "B" => "coupon-flown",
        "V" => "coupon-void",
        "R" => "coupon-refunded",
        "E" => "coupon-exchanged",
        "S" => "coupon-suspended",
        "P" => "coupon-printed",
        "U" => "coupon-unavailable",
        "X" => "coupon-cancelled",
        _ => return code.to_owned(),
    };
    format!("{} · {}", code.trim(), doc.t(id))
}

const JOURNEY_BAR_H: f32 = 20.0;

fn journey_block(doc: &mut Doc, journey: &JourneyView) {
    let first_h = journey.segments.first().map_or(0.0, |s| segment_height(doc, s));
    doc.ensure(JOURNEY_BAR_H + 6.0 + first_h);
    let top = doc.y();
    doc.fill_rect(LEFT, top, CONTENT_W, JOURNEY_BAR_H, NAVY_TINT);
    let summary_style = SMALL.colored(NAVY);
    let summary = doc.fit(summary_style, &journey.summary, CONTENT_W * 0.5);
    let summary_w = doc.width(summary_style, &summary);
    let title_style = Style::new(9.5, Weight::Bold, NAVY);
    let title = doc.fit(title_style, &journey.title, CONTENT_W - summary_w - 32.0);
    doc.text(LEFT + 9.0, top + 13.5, title_style, &title);
    doc.text_right(RIGHT - 9.0, top + 13.5, summary_style, &summary);
    doc.set_y(top + JOURNEY_BAR_H + 6.0);

    for (index, segment) in journey.segments.iter().enumerate() {
        if index > 0 {
            let layover = journey.layovers.get(index - 1).map(String::as_str).unwrap_or("");
            // A connection note at the bottom of a page, apart from the flight it leads to, reads wrong.
            let next_h = segment_height(doc, segment);
            layover_line(doc, layover, next_h);
        }
        segment_card(doc, segment);
    }
}

const LAYOVER_H: f32 = 16.0;

fn layover_line(doc: &mut Doc, text: &str, keep_with: f32) {
    doc.ensure(LAYOVER_H + 8.0 + keep_with);
    let top = doc.y() + 4.0;
    let style = SMALL.colored(AMBER_INK);
    let text = if text.trim().is_empty() { doc.t("connection") } else { text };
    let text = doc.fit(style, text, CONTENT_W - 80.0);
    let w = doc.width(style, &text) + 24.0;
    let mid = LEFT + CONTENT_W / 2.0;
    doc.dashed_hline(LEFT + 20.0, RIGHT - 20.0, top + LAYOVER_H / 2.0, 0.6, Color(0.85, 0.75, 0.55));
    doc.fill_rect(mid - w / 2.0, top, w, LAYOVER_H, AMBER_TINT);
    doc.stroke_rect(mid - w / 2.0, top, w, LAYOVER_H, 0.5, Color(0.90, 0.80, 0.58));
    doc.text_center(mid, top + 11.0, style, &text);
    doc.set_y(top + LAYOVER_H + 4.0);
}

/// Column geometry of a segment card.
const CARD_PAD: f32 = 10.0;
const PLACE_W: f32 = 196.0;
const ARR_X: f32 = LEFT + CONTENT_W - CARD_PAD - PLACE_W;
const NAME_LEADING: f32 = 9.0;
const STRIP_H: f32 = 26.0;
const CODE: Style = Style::new(17.0, Weight::Bold, INK);
const TIME: Style = Style::new(9.0, Weight::Bold, INK);

fn airport_lines(doc: &Doc, name: &str) -> Vec<String> {
    doc.wrap_max(SMALL, name, PLACE_W, 2)
}

fn segment_height(doc: &Doc, s: &SegmentView) -> f32 {
    let lines = airport_lines(doc, &s.from_name).len().max(airport_lines(doc, &s.to_name).len()).max(1);
    // Header row 24, first name baseline 42 below it, 8 before the strip.
    24.0 + 42.0 + NAME_LEADING * (lines as f32 - 1.0) + 8.0 + STRIP_H
}

fn segment_card(doc: &mut Doc, s: &SegmentView) {
    let height = segment_height(doc, s);
    doc.ensure(height);
    let top = doc.y();
    doc.stroke_rect(LEFT, top, CONTENT_W, height, 0.6, RULE);

    // Flight line: number, carrier and aircraft; coupon number on the right.
    let x = LEFT + CARD_PAD;
    let flight_style = Style::new(11.0, Weight::Bold, NAVY);
    let flight = doc.fit(flight_style, &s.flight, 90.0);
    doc.text(x, top + 17.0, flight_style, &flight);
    let flight_w = doc.width(flight_style, &flight);
    let carrier: Vec<&str> =
        [s.carrier_name.as_str(), s.equipment.as_str()].into_iter().filter(|t| !t.trim().is_empty()).collect();
    let coupon = if s.coupon_number > 0 {
        doc.ta("coupon-number", &[("number", &s.coupon_number.to_string())])
    } else {
        String::new()
    };
    let coupon_w = doc.width(SMALL_MUTED, &coupon);
    let carrier =
        doc.fit(BODY.colored(MUTED), &carrier.join("  ·  "), CONTENT_W - 2.0 * CARD_PAD - flight_w - coupon_w - 30.0);
    doc.text(x + flight_w + 10.0, top + 17.0, BODY.colored(MUTED), &carrier);
    doc.text_right(RIGHT - CARD_PAD, top + 17.0, SMALL_MUTED, &coupon);
    doc.hline(x, RIGHT - CARD_PAD, top + 24.0, 0.4, RULE);

    let places_top = top + 24.0;
    place(
        doc,
        x,
        places_top,
        doc.t("departure-label"),
        &s.from_code,
        &s.departure_local,
        &s.from_terminal,
        &s.from_name,
    );
    place(doc, ARR_X, places_top, doc.t("arrival-label"), &s.to_code, &s.arrival_local, &s.to_terminal, &s.to_name);
    flight_path(doc, x + PLACE_W, ARR_X, places_top + 23.0, &s.duration);

    let strip_top = top + height - STRIP_H;
    doc.fill_rect(LEFT + 0.3, strip_top, CONTENT_W - 0.6, STRIP_H - 0.3, PANEL);
    doc.hline(LEFT, RIGHT, strip_top, 0.4, RULE);
    let status = describe_coupon_status(doc, &s.status);
    let cells: [(&str, &str, f32); 5] = [
        (doc.t("class-label"), &s.booking_class, 0.11),
        (doc.t("fare-basis-label"), &s.fare_basis, 0.17),
        (doc.t("baggage-label"), &s.baggage, 0.30),
        (doc.t("coupon-status-label"), &status, 0.22),
        (doc.t("airline-ref-label"), &s.airline_confirmation, 0.20),
    ];
    let strip_w = CONTENT_W - 2.0 * CARD_PAD;
    let mut cx = x;
    for (label, value, share) in cells {
        let w = strip_w * share;
        doc.text(cx, strip_top + 9.5, LABEL, label);
        let value = if value.trim().is_empty() { "—" } else { value };
        let value = doc.fit(SMALL, value, w - 8.0);
        doc.text(cx, strip_top + 20.0, SMALL.colored(INK), &value);
        cx += w;
    }
    doc.set_y(top + height);
}

#[allow(clippy::too_many_arguments)]
fn place(doc: &mut Doc, x: f32, top: f32, label: &str, code: &str, time: &str, terminal: &str, name: &str) {
    doc.text(x, top + 11.0, LABEL, label);
    let code = doc.fit(CODE, code, 52.0);
    doc.text(x, top + 30.0, CODE, &code);
    let code_w = doc.width(CODE, &code).max(36.0);
    let detail_x = x + code_w + 9.0;
    let detail_w = PLACE_W - code_w - 9.0;
    let time = doc.fit(TIME, time, detail_w);
    doc.text(detail_x, top + 21.0, TIME, &time);
    let terminal = if terminal.trim().is_empty() {
        String::new()
    } else if terminal.to_lowercase().starts_with("terminal") {
        terminal.to_owned()
    } else {
        doc.ta("terminal", &[("terminal", terminal)])
    };
    let terminal = doc.fit(SMALL_MUTED, &terminal, detail_w);
    doc.text(detail_x, top + 30.5, SMALL_MUTED, &terminal);
    let mut baseline = top + 42.0;
    for line in airport_lines(doc, name) {
        doc.text(x, baseline, SMALL, &line);
        baseline += NAME_LEADING;
    }
}

/// Dot, line and arrow between the two places, with the elapsed time above it.
fn flight_path(doc: &mut Doc, from_x: f32, to_x: f32, y: f32, duration: &str) {
    let (x1, x2) = (from_x + 14.0, to_x - 16.0);
    if x2 - x1 < 20.0 {
        return;
    }
    let color = Color(0.55, 0.60, 0.68);
    doc.dot(x1, y, 2.0, color);
    doc.hline(x1, x2 - 4.0, y, 0.8, color);
    doc.arrow_head(x2, y, 6.0, color);
    let duration = doc.fit(SMALL_MUTED, duration, x2 - x1);
    doc.text_center((x1 + x2) / 2.0, y - 5.0, SMALL_MUTED, &duration);
}

/// Gate codes: a cell per coupon that still admits its holder, four to a row.
const GATE_COLUMNS: usize = 4;
const GATE_CELL_W: f32 = CONTENT_W / GATE_COLUMNS as f32;
/// Side of a coupon's QR code: a version-10 code (57 modules) at 1.75 pt a module, above the 0.5 mm printers
/// and phone cameras read reliably.
const GATE_QR: f32 = 100.0;
/// White around a code: more than the four-module quiet zone scanners need.
const GATE_PAD: f32 = 10.0;
const GATE_CELL_H: f32 = GATE_PAD + GATE_QR + 8.0 + 2.0 * 10.0 + 4.0;

/// The signed QR code of every coupon that still admits its holder, each with its flight and date: what a gate
/// scans, online or offline with only the public keys.
fn gate_codes(doc: &mut Doc, view: &FlightTicketView) -> Result<(), DocumentError> {
    let coupons: Vec<&SegmentView> =
        view.journeys.iter().flat_map(|j| &j.segments).filter(|s| !s.gate_code.trim().is_empty()).collect();
    if coupons.is_empty() {
        return Ok(());
    }
    section(doc, doc.t("section-gate-codes"), GATE_CELL_H);
    for row in coupons.chunks(GATE_COLUMNS) {
        doc.ensure(GATE_CELL_H);
        let top = doc.y();
        for (i, coupon) in row.iter().enumerate() {
            let x = LEFT + GATE_CELL_W * i as f32;
            let center = x + GATE_CELL_W / 2.0;
            draw_qr(doc, coupon.gate_code.trim(), center - GATE_QR / 2.0, top + GATE_PAD, GATE_QR, BLACK)?;
            let label =
                doc.ta("gate-code-label", &[("flight", &coupon.flight), ("number", &coupon.coupon_number.to_string())]);
            let label = doc.fit(BODY_BOLD, &label, GATE_CELL_W - 8.0);
            let baseline = top + GATE_PAD + GATE_QR + 8.0 + 8.0;
            doc.text_center(center, baseline, BODY_BOLD, &label);
            let caption = doc.fit(SMALL_MUTED, &coupon.gate_caption, GATE_CELL_W - 8.0);
            doc.text_center(center, baseline + 10.0, SMALL_MUTED, &caption);
        }
        doc.set_y(top + GATE_CELL_H);
    }
    paragraph(doc, SMALL_MUTED, doc.t("gate-codes-note"), 0.0);
    doc.advance(12.0);
    Ok(())
}

fn services_table(doc: &mut Doc, services: &[ServiceView]) {
    let number_w = 120.0;
    let amount_w = 110.0;
    let desc_x = LEFT + 8.0 + number_w;
    let desc_w = CONTENT_W - 16.0 - number_w - amount_w;
    let head_h = 18.0;
    doc.ensure(head_h + 16.0);
    let top = doc.y();
    doc.fill_rect(LEFT, top, CONTENT_W, head_h, PANEL);
    doc.text(LEFT + 8.0, top + 11.5, LABEL, doc.t("document-number-label"));
    doc.text(desc_x, top + 11.5, LABEL, doc.t("service-label"));
    let amount_label = doc.t("amount-label");
    let amount_label_w = doc.width(LABEL, amount_label);
    doc.text(RIGHT - 8.0 - amount_label_w, top + 11.5, LABEL, amount_label);
    doc.set_y(top + head_h);
    for service in services {
        let lines = doc.wrap_max(BODY, &service.description, desc_w, 3);
        let row_h = 8.0 + 11.0 * lines.len().max(1) as f32;
        doc.ensure(row_h);
        let y = doc.y();
        let number = doc.fit(BODY_BOLD, &service.document_number, number_w - 8.0);
        doc.text(LEFT + 8.0, y + 12.5, BODY_BOLD, &number);
        for (i, line) in lines.iter().enumerate() {
            doc.text(desc_x, y + 12.5 + 11.0 * i as f32, BODY, line);
        }
        let amount = doc.fit(BODY, &service.amount, amount_w - 8.0);
        doc.text_right(RIGHT - 8.0, y + 12.5, BODY, &amount);
        doc.hline(LEFT, RIGHT, y + row_h, 0.4, RULE);
        doc.set_y(y + row_h);
    }
    doc.advance(14.0);
}

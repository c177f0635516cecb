//! Building blocks shared by every document type (header, detail panel, section titles, fare box, notices,
//! footer and watermark), so a flight ticket, an EMD and later an event ticket look like one family.

use super::font::Weight;
use super::layout::*;
use super::qr::draw_qr;
use crate::error::DocumentError;
use crate::model::{AgencyView, FareView};

pub(crate) const BODY: Style = Style::new(8.5, Weight::Regular, INK);
pub(crate) const BODY_BOLD: Style = Style::new(8.5, Weight::Bold, INK);
pub(crate) const SMALL: Style = Style::new(7.5, Weight::Regular, INK);
pub(crate) const SMALL_MUTED: Style = Style::new(7.5, Weight::Regular, MUTED);
pub(crate) const LABEL: Style = Style::new(6.2, Weight::Bold, MUTED).spaced(0.45);
pub(crate) const VALUE: Style = Style::new(10.0, Weight::Regular, INK);
const SECTION: Style = Style::new(8.5, Weight::Bold, NAVY).spaced(0.8);
const NOTICE_TITLE: Style = Style::new(7.5, Weight::Bold, INK);
const NOTICE: Style = Style::new(7.2, Weight::Regular, MUTED);

const QR_SIDE: f32 = 74.0;

/// Document header on the first page of each document: agency identity, title, QR code.
pub(crate) fn header(
    doc: &mut Doc,
    agency: &AgencyView,
    title: &str,
    subtitle: &str,
    qr_payload: &str,
) -> Result<(), DocumentError> {
    doc.fill_rect(0.0, 0.0, PAGE_W, 5.0, NAVY);

    let has_qr = !qr_payload.trim().is_empty();
    let text_right = if has_qr { RIGHT - QR_SIDE - 16.0 } else { RIGHT };
    let text_w = text_right - LEFT;

    let (style, name) = doc.fit_shrinking(Style::new(15.0, Weight::Bold, NAVY), 10.0, &agency.name, text_w);
    doc.text(LEFT, TOP + 14.0, style, &name);

    let ids: Vec<String> = [(doc.t("office-id"), &agency.office_id), (doc.t("iata"), &agency.iata_number)]
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let ids = doc.fit(SMALL_MUTED, &ids.join("   ·   "), text_w);
    doc.text(LEFT, TOP + 27.0, SMALL_MUTED, &ids);

    let (style, title) = doc.fit_shrinking(Style::new(17.0, Weight::Bold, INK), 12.0, title, text_w);
    doc.text(LEFT, TOP + 58.0, style, &title);
    let subtitle = doc.fit(SMALL_MUTED, subtitle, text_w);
    doc.text(LEFT, TOP + 72.0, SMALL_MUTED, &subtitle);

    if has_qr {
        draw_qr(doc, qr_payload, RIGHT - QR_SIDE, TOP - 4.0, QR_SIDE, BLACK)?;
    }
    doc.hline(LEFT, RIGHT, TOP + 84.0, 0.8, RULE);
    doc.set_y(TOP + 96.0);
    Ok(())
}

/// The status mark to print, if any; a blank mark counts as none.
pub(crate) fn status_mark(mark: Option<&str>) -> Option<&str> {
    mark.map(str::trim).filter(|m| !m.is_empty())
}

const STAMP_H: f32 = 42.0;
const STAMP_PAD: f32 = 14.0;
const STAMP_MARK: Style = Style::new(26.0, Weight::Bold, STAMP_RED).spaced(1.0);
const STAMP_STATUS: Style = Style::new(10.0, Weight::Bold, STAMP_RED);
const STAMP_NOTE: Style = Style::new(7.5, Weight::Regular, STAMP_RED);

/// The stamp of a document that no longer stands as issued: a red-bordered, red-tinted banner across the
/// page under the header, with the mark in large bold type on the left and "Status: MARK" over `note` on
/// the right. Draws nothing without a mark, so such documents render exactly as before stamps existed.
pub(crate) fn status_stamp(doc: &mut Doc, mark: Option<&str>, note: &str) {
    let Some(mark) = status_mark(mark) else {
        return;
    };
    doc.ensure(STAMP_H + 12.0);
    let top = doc.y();
    doc.fill_rect(LEFT, top, CONTENT_W, STAMP_H, STAMP_TINT);
    // Stroked inside the tint so the 1.5 pt border keeps to the content width.
    doc.stroke_rect(LEFT + 0.75, top + 0.75, CONTENT_W - 1.5, STAMP_H - 1.5, 1.5, STAMP_RED);

    let inner_w = CONTENT_W - 2.0 * STAMP_PAD;
    let side_max = inner_w * 0.45;
    let status = doc.fit(STAMP_STATUS, &doc.ta("status-line", &[("mark", mark)]), side_max);
    let note = doc.fit(STAMP_NOTE, note, side_max);
    let side_w = doc.width(STAMP_STATUS, &status).max(doc.width(STAMP_NOTE, &note));
    doc.text_right(RIGHT - STAMP_PAD, top + 18.0, STAMP_STATUS, &status);
    doc.text_right(RIGHT - STAMP_PAD, top + 30.5, STAMP_NOTE, &note);

    let (style, mark) = doc.fit_shrinking(STAMP_MARK, 14.0, mark, inner_w - side_w - 16.0);
    // Centre the capitals (about 0.7 em high) in the banner.
    doc.text(LEFT + STAMP_PAD, top + STAMP_H / 2.0 + style.size * 0.35, style, &mark);
    doc.set_y(top + STAMP_H + 12.0);
}

/// One cell of the detail panel.
pub(crate) struct Field<'a> {
    pub label: &'a str,
    pub value: &'a str,
    /// Number of grid columns (of four) the cell spans.
    pub span: usize,
    pub emphasis: bool,
}

impl<'a> Field<'a> {
    pub(crate) fn new(label: &'a str, value: &'a str) -> Self {
        Self { label, value, span: 1, emphasis: false }
    }

    pub(crate) fn wide(mut self, span: usize) -> Self {
        self.span = span.max(1);
        self
    }

    pub(crate) fn strong(mut self) -> Self {
        self.emphasis = true;
        self
    }
}

const GRID_COLUMNS: usize = 4;
const PANEL_PAD: f32 = 10.0;
const GRID_ROW_H: f32 = 31.0;

/// A tinted panel with a four-column grid of label/value cells, followed by free-form note lines.
pub(crate) fn detail_panel(doc: &mut Doc, rows: &[Vec<Field<'_>>], notes: &[String]) {
    let inner_w = CONTENT_W - 2.0 * PANEL_PAD;
    let col_w = inner_w / GRID_COLUMNS as f32;
    let note_lines: Vec<String> = notes.iter().flat_map(|n| doc.wrap_max(SMALL, n, inner_w, 3)).collect();
    let notes_h = if note_lines.is_empty() { 0.0 } else { 8.0 + 10.0 * note_lines.len() as f32 };
    let height = 6.0 + GRID_ROW_H * rows.len() as f32 + notes_h + 4.0;
    doc.ensure(height);
    let top = doc.y();
    doc.fill_rect(LEFT, top, CONTENT_W, height, PANEL);
    doc.stroke_rect(LEFT, top, CONTENT_W, height, 0.5, RULE);

    let mut y = top + 6.0;
    for row in rows {
        let mut col = 0;
        for field in row {
            let span = field.span.min(GRID_COLUMNS - col.min(GRID_COLUMNS));
            if span == 0 {
                break;
            }
            let x = LEFT + PANEL_PAD + col as f32 * col_w;
            let w = col_w * span as f32 - 8.0;
            let label = doc.fit(LABEL, &field.label.to_uppercase(), w);
            doc.text(x, y + 10.0, LABEL, &label);
            let style = if field.emphasis { Style::new(11.0, Weight::Bold, INK) } else { VALUE };
            let (style, value) = doc.fit_shrinking(style, 7.5, field.value, w);
            doc.text(x, y + 23.0, style, &value);
            col += span;
        }
        y += GRID_ROW_H;
    }
    if !note_lines.is_empty() {
        doc.hline(LEFT + PANEL_PAD, RIGHT - PANEL_PAD, y + 2.0, 0.5, RULE);
        y += 8.0;
        for line in &note_lines {
            doc.text(LEFT + PANEL_PAD, y + 7.5, SMALL, line);
            y += 10.0;
        }
    }
    doc.set_y(top + height + 14.0);
}

/// Section title with a rule; kept on the same page as the first `keep_with` points of its content.
pub(crate) fn section(doc: &mut Doc, title: &str, keep_with: f32) {
    doc.ensure(22.0 + keep_with);
    let y = doc.y();
    let title = doc.fit(SECTION, &title.to_uppercase(), CONTENT_W);
    doc.text(LEFT, y + 9.0, SECTION, &title);
    doc.hline(LEFT, RIGHT, y + 14.0, 0.8, NAVY);
    doc.set_y(y + 22.0);
}

/// Wrapped paragraph that may continue on the next page line by line.
pub(crate) fn paragraph(doc: &mut Doc, style: Style, text: &str, indent: f32) {
    let leading = style.size * 1.35;
    for line in doc.wrap(style, text, CONTENT_W - indent) {
        doc.ensure(leading);
        let y = doc.y();
        doc.text(LEFT + indent, y + style.size, style, &line);
        doc.set_y(y + leading);
    }
}

const FARE_BOX_W: f32 = 330.0;
const TAX_COLUMNS: usize = 3;

/// Geometry of the fare box, computed before drawing so the section title can be kept with it.
struct FareLayout {
    tax_rows: usize,
    payment: Vec<String>,
    left_h: f32,
    height: f32,
}

fn fare_layout(doc: &Doc, fare: &FareView) -> FareLayout {
    let tax_rows = fare.taxes.len().div_ceil(TAX_COLUMNS);
    let taxes_h = if tax_rows == 0 { 0.0 } else { 16.0 + 12.0 * tax_rows as f32 };
    let payment = doc.wrap_max(BODY, &fare.form_of_payment, RIGHT - FARE_SIDE_X, 3);
    let side_h = 12.0 + 12.0 * payment.len().max(1) as f32 + 34.0;
    let left_h = 8.0 + 16.0 + taxes_h + 28.0;
    FareLayout { tax_rows, payment, left_h, height: left_h.max(side_h) }
}

const FARE_SIDE_X: f32 = LEFT + FARE_BOX_W + 20.0;

/// Titled fare section: breakdown on the left (base, taxes by code, total), payment details on the right.
pub(crate) fn fare_section(doc: &mut Doc, title: &str, fare: &FareView) {
    let FareLayout { tax_rows, payment, left_h, height } = fare_layout(doc, fare);
    section(doc, title, height);
    let lang = doc.lang;
    let with_currency = |amount: &str| {
        if fare.currency.trim().is_empty() {
            amount.to_owned()
        } else {
            crate::i18n::with_currency(lang, amount, &fare.currency)
        }
    };
    let side_x = FARE_SIDE_X;
    let side_w = RIGHT - side_x;
    doc.ensure(height);
    let top = doc.y();

    doc.stroke_rect(LEFT, top, FARE_BOX_W, left_h, 0.5, RULE);
    let inner_l = LEFT + 10.0;
    let inner_r = LEFT + FARE_BOX_W - 10.0;
    let mut y = top + 8.0;
    doc.text(inner_l, y + 8.5, BODY, doc.t("base-fare"));
    doc.text_right(inner_r, y + 8.5, BODY, &with_currency(&fare.base));
    y += 16.0;
    if tax_rows > 0 {
        doc.text(inner_l, y + 8.0, SMALL_MUTED, doc.t("taxes-fees-charges"));
        y += 14.0;
        let cell_w = (inner_r - inner_l) / TAX_COLUMNS as f32;
        for (i, tax) in fare.taxes.iter().enumerate() {
            let (row, col) = (i / TAX_COLUMNS, i % TAX_COLUMNS);
            let x = inner_l + col as f32 * cell_w;
            let baseline = y + 8.0 + row as f32 * 12.0;
            let code = doc.fit(SMALL.colored(MUTED), &tax.code, 26.0);
            doc.text(x + 6.0, baseline, SMALL.colored(MUTED), &code);
            let amount = doc.fit(SMALL, &tax.amount, cell_w - 42.0);
            doc.text_right(x + cell_w - 8.0, baseline, SMALL, &amount);
        }
        y += 12.0 * tax_rows as f32 + 2.0;
    }
    doc.fill_rect(LEFT + 0.5, y + 2.0, FARE_BOX_W - 1.0, top + left_h - y - 2.5, NAVY_TINT);
    doc.hline(LEFT, LEFT + FARE_BOX_W, y + 2.0, 0.5, RULE);
    doc.text(inner_l, y + 18.0, Style::new(10.0, Weight::Bold, NAVY), doc.t("total"));
    let total_style = Style::new(12.0, Weight::Bold, NAVY);
    let total = doc.fit(total_style, &with_currency(&fare.total), inner_r - inner_l - 60.0);
    doc.text_right(inner_r, y + 18.5, total_style, &total);

    let mut y = top + 2.0;
    doc.text(side_x, y + 8.0, LABEL, doc.t("form-of-payment-label"));
    y += 12.0;
    for line in &payment {
        doc.text(side_x, y + 9.0, BODY, line);
        y += 12.0;
    }
    if payment.is_empty() {
        y += 12.0;
    }
    y += 10.0;
    doc.text(side_x, y + 8.0, LABEL, doc.t("currency-label"));
    let currency = doc.fit(BODY, &fare.currency, side_w);
    doc.text(side_x, y + 20.0, BODY, &currency);

    doc.set_y(top + height + 16.0);
}

const NOTICE_GAP: f32 = 16.0;
const NOTICE_LEADING: f32 = 9.2;

/// Titled section of short notices in small type, side by side (up to three columns) and kept on one page
/// so the fine print reads as one unit.
/// Notices given as message ids, in the document's language.
pub(crate) fn translated(doc: &Doc, ids: &[(&str, &str)]) -> Vec<(&'static str, &'static str)> {
    ids.iter().map(|(title, body)| (doc.t(title), doc.t(body))).collect()
}

pub(crate) fn notices_section(doc: &mut Doc, title: &str, items: &[(&str, &str)]) {
    if items.is_empty() {
        return;
    }
    let columns = items.len().min(3);
    let col_w = (CONTENT_W - NOTICE_GAP * (columns as f32 - 1.0)) / columns as f32;
    let laid_out: Vec<(String, Vec<String>)> = items
        .iter()
        .map(|(title, body)| (doc.fit(NOTICE_TITLE, title, col_w), doc.wrap(NOTICE, body, col_w)))
        .collect();
    let row_heights: Vec<f32> = laid_out
        .chunks(columns)
        .map(|row| row.iter().map(|(_, lines)| 12.0 + NOTICE_LEADING * lines.len() as f32).fold(0.0, f32::max) + 8.0)
        .collect();
    section(doc, title, row_heights.first().copied().unwrap_or(0.0));
    for (row, height) in laid_out.chunks(columns).zip(row_heights) {
        doc.ensure(height);
        let top = doc.y();
        for (index, (title, lines)) in row.iter().enumerate() {
            let x = LEFT + index as f32 * (col_w + NOTICE_GAP);
            doc.text(x, top + 7.5, NOTICE_TITLE, title);
            for (n, line) in lines.iter().enumerate() {
                doc.text(x, top + 19.0 + NOTICE_LEADING * n as f32, NOTICE, line);
            }
        }
        doc.set_y(top + height);
    }
}

/// Footer with "Page i of n" per document, and the watermark, on every page once layout is done.
pub(crate) fn decorate_pages(doc: &mut Doc) {
    let mut counts = vec![0usize; doc.groups.len()];
    for page in &doc.pages {
        if let Some(c) = counts.get_mut(page.group) {
            *c += 1;
        }
    }
    let mut seen = vec![0usize; doc.groups.len()];
    for index in 0..doc.pages.len() {
        let group_index = doc.pages[index].group;
        let (Some(group), Some(n)) = (doc.groups.get(group_index), seen.get_mut(group_index)) else {
            continue;
        };
        *n += 1;
        let page_no = *n;
        let total = counts[group_index];
        let left = group.footer_left.clone();
        let page = doc.ta("page-of", &[("page", &page_no.to_string()), ("total", &total.to_string())]);
        let right = format!("{}   ·   {page}", group.footer_right);
        let watermark = group.watermark.clone();

        doc.select_page(index);
        if let Some(mark) = watermark.as_deref().filter(|m| !m.trim().is_empty()) {
            watermark_text(doc, mark);
        }
        let style = Style::new(6.8, Weight::Regular, MUTED);
        let baseline = PAGE_H - 28.0;
        doc.hline(LEFT, RIGHT, PAGE_H - 40.0, 0.5, RULE);
        let right = doc.fit(style, &right, CONTENT_W * 0.55);
        let right_w = doc.width(style, &right);
        let left = doc.fit(style, &left, CONTENT_W - right_w - 16.0);
        doc.text(LEFT, baseline, style, &left);
        doc.text_right(RIGHT, baseline, style, &right);
    }
}

/// Resource name of the graphics state that makes the watermark translucent.
pub(crate) const WATERMARK_GS: pdf_writer::Name<'static> = pdf_writer::Name(b"GW");

/// Large diagonal text across the page centre, translucent so the content underneath stays legible.
fn watermark_text(doc: &mut Doc, mark: &str) {
    let diagonal = (PAGE_W * PAGE_W + PAGE_H * PAGE_H).sqrt();
    // Regular weight: emboldening strokes the outlines over the fill, and with both translucent the overlap
    // would show as a darker rim around every letter.
    let probe = Style::new(100.0, Weight::Regular, Color(0.55, 0.57, 0.62));
    let width_at_100 = doc.width(probe, mark).max(1.0);
    let size = (100.0 * diagonal * 0.62 / width_at_100).min(150.0);
    let style = probe.sized(size);
    let width = doc.width(style, mark);
    let angle = PAGE_H.atan2(PAGE_W);
    let (sin, cos) = angle.sin_cos();
    let content = doc.content();
    // Marked as an artifact so accessibility tools and text extraction can skip it.
    content.begin_marked_content(pdf_writer::Name(b"Artifact"));
    content.save_state();
    content.set_parameters(WATERMARK_GS);
    content.transform([cos, sin, -sin, cos, PAGE_W / 2.0, PAGE_H / 2.0]);
    // Centre on the cap height so the mark sits visually in the middle of the page.
    doc.text_pdf(-width / 2.0, -size * 0.36, style, mark);
    doc.content().restore_state().end_marked_content();
}

/// `text`, or an em dash when it is blank, so an empty cell reads as "none" rather than as a printing fault.
pub(super) fn or_dash(text: &str) -> &str {
    if text.trim().is_empty() {
        "—"
    } else {
        text
    }
}

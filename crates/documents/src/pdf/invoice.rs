//! Layout of an invoice or credit invoice: number and date, seller and buyer side by side, the order it
//! bills, a table of lines that continues over as many pages as it needs (header repeated), totals and notes.

use super::blocks::*;
use super::font::Weight;
use super::layout::*;
use crate::error::DocumentError;
use crate::model::{InvoiceLineView, InvoiceView, PartyView};

const TITLE: Style = Style::new(20.0, Weight::Bold, INK);
const META_VALUE: Style = Style::new(10.5, Weight::Bold, INK);
const PARTY_NAME: Style = Style::new(10.5, Weight::Bold, INK);
const CREDITS: Style = Style::new(9.5, Weight::Bold, AMBER_INK);

/// Number and date cells at the top right.
const NUMBER_W: f32 = 150.0;
const DATE_W: f32 = 90.0;
const META_X: f32 = RIGHT - NUMBER_W - DATE_W;

const PARTY_GAP: f32 = 24.0;
const PARTY_W: f32 = (CONTENT_W - PARTY_GAP) / 2.0;
const PARTY_LEADING: f32 = 11.5;
/// Party blocks sit side by side on the first page; past this many lines the rest is ellipsised.
const MAX_PARTY_LINES: usize = 14;

const CELL_PAD: f32 = 8.0;
const TABLE_HEAD_H: f32 = 18.0;
const ROW_LEADING: f32 = 11.0;
const MAX_DESCRIPTION_LINES: usize = 4;
/// Numeric columns, left to right, with their widths (each includes the gap before it); text is right-aligned.
const NUMERIC: [(&str, f32); 6] = [
    ("qty-label", 34.0),
    ("unit-price-label", 64.0),
    ("vat-rate-label", 48.0),
    ("net-label", 64.0),
    ("vat-label", 58.0),
    ("gross-label", 68.0),
];
const NUMERIC_W: f32 = 34.0 + 64.0 + 48.0 + 64.0 + 58.0 + 68.0;
const DESCRIPTION_X: f32 = LEFT + CELL_PAD;
const DESCRIPTION_W: f32 = CONTENT_W - 2.0 * CELL_PAD - NUMERIC_W - 10.0;

const TABLE_GAP: f32 = 12.0;
const TOTALS_W: f32 = 250.0;
/// Two 16-point rows (net, VAT) between 8 points of padding and the 30-point total row.
const TOTALS_H: f32 = 8.0 + 16.0 + 16.0 + 30.0;

/// The title printed and used for the file's metadata.
pub(crate) fn title<'a>(doc: &Doc, view: &'a InvoiceView) -> &'a str {
    let title = view.title.trim();
    if title.is_empty() {
        doc.t("invoice-title")
    } else {
        title
    }
}

/// Lays out the invoice, starting on a new page.
pub(crate) fn invoice(doc: &mut Doc, view: &InvoiceView) -> Result<(), DocumentError> {
    let title = title(doc, view);
    doc.start_group(Group {
        footer_left: view.seller.name.clone(),
        footer_right: format!("{title} {}", view.number),
        running_title: doc.ta("invoice-continued", &[("title", title)]),
        running_detail: format!("{}   ·   {}", view.number, view.buyer.name),
        watermark: None,
        status: None,
    });
    invoice_header(doc, view, title);
    parties(doc, &view.seller, &view.buyer);

    let mut rows = vec![vec![
        Field::new(doc.t("your-reference"), or_dash(&view.reference)),
        // Order ids are 36 characters; two grid columns keep them whole.
        Field::new(doc.t("order"), or_dash(&view.order_id)).wide(2),
        Field::new(doc.t("booking-code"), or_dash(&view.booking_code)).strong(),
    ]];
    if !view.event.trim().is_empty() {
        rows.push(vec![Field::new(doc.t("event"), &view.event).wide(4)]);
    }
    detail_panel(doc, &rows, &[]);

    lines_table(doc, view);
    totals(doc, view);

    if !view.notes.is_empty() {
        doc.advance(4.0);
        for note in &view.notes {
            paragraph(doc, SMALL_MUTED, note, 0.0);
            doc.advance(2.0);
        }
    }
    Ok(())
}

fn with_currency(doc: &Doc, currency: &str, amount: &str) -> String {
    match (currency.trim(), amount.trim()) {
        (_, "") => "—".to_owned(),
        ("", amount) => amount.to_owned(),
        (currency, amount) => crate::i18n::with_currency(doc.lang, amount, currency),
    }
}

/// Title (and the invoice a credit invoice corrects) on the left, number and date on the right.
fn invoice_header(doc: &mut Doc, view: &InvoiceView, title: &str) {
    doc.fill_rect(0.0, 0.0, PAGE_W, 5.0, NAVY);

    let title_w = META_X - LEFT - 20.0;
    let (style, title) = doc.fit_shrinking(TITLE, 13.0, title, title_w);
    doc.text(LEFT, TOP + 18.0, style, &title);
    let credits = view.credits_number.trim();
    if !credits.is_empty() {
        let text = doc.fit(CREDITS, &doc.ta("credits-invoice", &[("number", credits)]), title_w);
        doc.text(LEFT, TOP + 34.0, CREDITS, &text);
    }

    let cells = [
        (doc.t("invoice-number-label"), view.number.as_str(), NUMBER_W),
        (doc.t("date-of-issue-label"), view.issue_date.as_str(), DATE_W),
    ];
    let mut x = META_X;
    for (label, value, w) in cells {
        doc.text(x, TOP + 5.0, LABEL, label);
        // Shrunk rather than ellipsised: a cut invoice number would be useless.
        let (style, value) = doc.fit_shrinking(META_VALUE, 7.0, or_dash(value), w - 8.0);
        doc.text(x, TOP + 18.0, style, &value);
        x += w;
    }
    doc.hline(LEFT, RIGHT, TOP + 46.0, 0.8, RULE);
    doc.set_y(TOP + 60.0);
}

/// The name (up to two lines) and the wrapped detail lines of a party, capped at [`MAX_PARTY_LINES`].
fn party_lines(doc: &Doc, party: &PartyView) -> (Vec<String>, Vec<String>) {
    let name = doc.wrap_max(PARTY_NAME, or_dash(&party.name), PARTY_W, 2);
    let mut lines: Vec<String> = party.lines.iter().flat_map(|line| doc.wrap_max(BODY, line, PARTY_W, 3)).collect();
    if lines.len() > MAX_PARTY_LINES {
        let rest = lines.split_off(MAX_PARTY_LINES - 1).join(" ");
        lines.push(doc.fit(BODY, &rest, PARTY_W));
    }
    (name, lines)
}

/// Seller and buyer blocks side by side.
fn parties(doc: &mut Doc, seller: &PartyView, buyer: &PartyView) {
    let blocks = [(doc.t("seller-label"), party_lines(doc, seller)), (doc.t("buyer-label"), party_lines(doc, buyer))];
    let height = blocks
        .iter()
        .map(|(_, (name, lines))| 12.0 + 13.0 * name.len() as f32 + PARTY_LEADING * lines.len() as f32)
        .fold(0.0, f32::max);
    doc.ensure(height);
    let top = doc.y();
    for (index, (label, (name, lines))) in blocks.iter().enumerate() {
        let x = LEFT + index as f32 * (PARTY_W + PARTY_GAP);
        doc.text(x, top + 7.0, LABEL, label);
        let mut y = top + 12.0;
        for line in name {
            doc.text(x, y + 10.5, PARTY_NAME, line);
            y += 13.0;
        }
        for line in lines {
            doc.text(x, y + 9.0, BODY, line);
            y += PARTY_LEADING;
        }
    }
    doc.set_y(top + height + 16.0);
}

/// Column header of the lines table; drawn again at the top of every page the table continues on.
fn table_head(doc: &mut Doc) {
    let top = doc.y();
    doc.fill_rect(LEFT, top, CONTENT_W, TABLE_HEAD_H, PANEL);
    doc.text(DESCRIPTION_X, top + 11.5, LABEL, doc.t("description-label"));
    let mut right = RIGHT - CELL_PAD - NUMERIC_W;
    for (label, w) in NUMERIC {
        right += w;
        doc.text_right(right, top + 11.5, LABEL, doc.t(label));
    }
    doc.set_y(top + TABLE_HEAD_H);
}

fn row_lines(doc: &Doc, line: &InvoiceLineView) -> Vec<String> {
    doc.wrap_max(BODY, &line.description, DESCRIPTION_W, MAX_DESCRIPTION_LINES)
}

fn row_height(lines: usize) -> f32 {
    8.0 + ROW_LEADING * lines.max(1) as f32
}

fn lines_table(doc: &mut Doc, view: &InvoiceView) {
    let title = match view.currency.trim() {
        "" => doc.t("invoice-lines").to_owned(),
        currency => doc.ta("invoice-lines-currency", &[("currency", currency)]),
    };
    let first_h = view.lines.first().map_or(row_height(1), |line| row_height(row_lines(doc, line).len()));
    section(doc, &title, TABLE_HEAD_H + first_h);
    table_head(doc);

    if view.lines.is_empty() {
        let y = doc.y();
        doc.text(DESCRIPTION_X, y + 12.5, SMALL_MUTED, doc.t("no-lines"));
        doc.hline(LEFT, RIGHT, y + row_height(1), 0.4, RULE);
        doc.set_y(y + row_height(1));
    }
    for (index, line) in view.lines.iter().enumerate() {
        let description = row_lines(doc, line);
        let row_h = row_height(description.len());
        // The last line moves over with the totals rather than leaving them alone on a page.
        let keep_with = if index + 1 == view.lines.len() { TABLE_GAP + TOTALS_H } else { 0.0 };
        let pages = doc.pages.len();
        doc.ensure(row_h + keep_with);
        if doc.pages.len() != pages {
            table_head(doc);
        }
        let y = doc.y();
        for (i, text) in description.iter().enumerate() {
            doc.text(DESCRIPTION_X, y + 12.5 + ROW_LEADING * i as f32, BODY, text);
        }
        let values = [&line.quantity, &line.unit_price, &line.vat_rate, &line.net, &line.vat, &line.gross];
        let mut right = RIGHT - CELL_PAD - NUMERIC_W;
        for (index, ((_, w), value)) in NUMERIC.iter().zip(values).enumerate() {
            right += w;
            let style = if index == NUMERIC.len() - 1 { BODY_BOLD } else { BODY };
            // Amounts shrink instead of losing digits.
            let (style, value) = doc.fit_shrinking(style, 6.0, value, w - 6.0);
            doc.text_right(right, y + 12.5, style, &value);
        }
        doc.hline(LEFT, RIGHT, y + row_h, 0.4, RULE);
        doc.set_y(y + row_h);
    }
    doc.advance(TABLE_GAP);
}

/// Net, VAT and gross totals in a box on the right, kept together on one page.
fn totals(doc: &mut Doc, view: &InvoiceView) {
    let height = TOTALS_H;
    doc.ensure(height);
    let top = doc.y();
    let x = RIGHT - TOTALS_W;
    let (inner_l, inner_r) = (x + 10.0, RIGHT - 10.0);
    let amount_w = inner_r - inner_l - 70.0;
    doc.stroke_rect(x, top, TOTALS_W, height, 0.5, RULE);

    let mut y = top + 8.0;
    for (label, amount) in [(doc.t("net-total"), &view.net_total), (doc.t("vat"), &view.vat_total)] {
        doc.text(inner_l, y + 8.5, BODY, label);
        let (style, amount) = doc.fit_shrinking(BODY, 6.5, &with_currency(doc, &view.currency, amount), amount_w);
        doc.text_right(inner_r, y + 8.5, style, &amount);
        y += 16.0;
    }
    doc.fill_rect(x + 0.5, y + 2.0, TOTALS_W - 1.0, top + height - y - 2.5, NAVY_TINT);
    doc.hline(x, RIGHT, y + 2.0, 0.5, RULE);
    doc.text(inner_l, y + 19.0, Style::new(10.0, Weight::Bold, NAVY), doc.t("total"));
    let total_style = Style::new(12.0, Weight::Bold, NAVY);
    let (style, total) =
        doc.fit_shrinking(total_style, 7.0, &with_currency(doc, &view.currency, &view.gross_total), amount_w);
    doc.text_right(inner_r, y + 19.5, style, &total);
    doc.set_y(top + height + 14.0);
}

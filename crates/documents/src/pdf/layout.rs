//! A small top-down page canvas: cursor-based flow with automatic page breaks, text measured with the real
//! font metrics (wrap, ellipsis, right/centre alignment) and the few shapes the documents need.

use std::borrow::Cow;

use pdf_writer::types::TextRenderingMode;
use pdf_writer::{Content, Settings, Str};

use super::font::{face, FontFace, FontUsage, Weight, FONT_NAME};
use crate::error::DocumentError;
use crate::i18n::{self, Lang};

pub(crate) const PAGE_W: f32 = 595.28;
pub(crate) const PAGE_H: f32 = 841.89;
pub(crate) const MARGIN_X: f32 = 40.0;
pub(crate) const LEFT: f32 = MARGIN_X;
pub(crate) const RIGHT: f32 = PAGE_W - MARGIN_X;
pub(crate) const CONTENT_W: f32 = RIGHT - LEFT;
pub(crate) const TOP: f32 = 40.0;
/// Lowest y (from the top) content may reach; below is the footer.
pub(crate) const BOTTOM: f32 = PAGE_H - 52.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Color(pub f32, pub f32, pub f32);

pub(crate) const INK: Color = Color(0.10, 0.12, 0.16);
pub(crate) const MUTED: Color = Color(0.40, 0.43, 0.48);
pub(crate) const NAVY: Color = Color(0.07, 0.19, 0.37);
pub(crate) const RULE: Color = Color(0.80, 0.82, 0.86);
pub(crate) const PANEL: Color = Color(0.965, 0.972, 0.98);
pub(crate) const NAVY_TINT: Color = Color(0.90, 0.93, 0.97);
pub(crate) const AMBER_TINT: Color = Color(1.0, 0.965, 0.89);
pub(crate) const AMBER_INK: Color = Color(0.52, 0.34, 0.02);
pub(crate) const BLACK: Color = Color(0.0, 0.0, 0.0);
/// Ink and fill of the status stamp of a ticket that no longer stands as issued.
pub(crate) const STAMP_RED: Color = Color(0.70, 0.07, 0.07);
pub(crate) const STAMP_TINT: Color = Color(0.995, 0.935, 0.935);

const ELLIPSIS: &str = "…";

/// Font, size, colour and letter spacing of a run of text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Style {
    pub size: f32,
    pub weight: Weight,
    pub color: Color,
    pub spacing: f32,
}

impl Style {
    pub(crate) const fn new(size: f32, weight: Weight, color: Color) -> Self {
        Self { size, weight, color, spacing: 0.0 }
    }

    pub(crate) const fn spaced(mut self, spacing: f32) -> Self {
        self.spacing = spacing;
        self
    }

    pub(crate) const fn sized(mut self, size: f32) -> Self {
        self.size = size;
        self
    }

    pub(crate) const fn colored(mut self, color: Color) -> Self {
        self.color = color;
        self
    }

    /// Extra advance after each character: the letter spacing plus what emboldening adds.
    fn tracking(&self) -> f32 {
        self.spacing + self.weight.tracking(self.size)
    }
}

/// Per-document data printed around the body of each page: footer, continuation header, watermark.
pub(crate) struct Group {
    pub footer_left: String,
    pub footer_right: String,
    /// Shown at the top of continuation pages.
    pub running_title: String,
    pub running_detail: String,
    pub watermark: Option<String>,
    /// The status mark of a document that no longer stands as issued (e.g. `VOID`), repeated in the
    /// continuation header; its first page carries the full stamp.
    pub status: Option<String>,
}

pub(crate) struct Page {
    pub content: Content,
    pub group: usize,
    /// Indexes into [`Doc::images`] of the images this page draws.
    pub images: Vec<usize>,
}

/// A one-bit image drawn as a stencil in the current fill color (a QR code): `width` × `height` samples, rows
/// padded to whole bytes, most significant bit first, 1 = painted.
pub(crate) struct MaskImage {
    pub width: u32,
    pub height: u32,
    pub bits: Vec<u8>,
}

impl MaskImage {
    /// The resource name a page's content uses for image `index`.
    pub(crate) fn name(index: usize) -> String {
        format!("Q{index}")
    }
}

/// The document being laid out: pages, font usage and the flow cursor.
pub(crate) struct Doc {
    /// The language labels are printed in.
    pub(crate) lang: Lang,
    face: &'static FontFace,
    pub(crate) usage: FontUsage,
    pub(crate) pages: Vec<Page>,
    pub(crate) groups: Vec<Group>,
    pub(crate) images: Vec<MaskImage>,
    current: usize,
    y: f32,
    scratch: Vec<u8>,
}

impl Doc {
    pub(crate) fn new(lang: Lang) -> Result<Self, DocumentError> {
        Ok(Self {
            lang,
            face: face()?,
            usage: FontUsage::default(),
            pages: Vec::new(),
            groups: Vec::new(),
            images: Vec::new(),
            current: 0,
            y: TOP,
            scratch: Vec::new(),
        })
    }

    /// A label without arguments in the document's language.
    pub(crate) fn t(&self, id: &str) -> &'static str {
        i18n::t(self.lang, id)
    }

    /// A label with arguments in the document's language.
    pub(crate) fn ta(&self, id: &str, args: &[(&str, &str)]) -> String {
        i18n::t_args(self.lang, id, args)
    }

    /// Starts a new logical document (one ticket, one receipt) on a fresh page.
    pub(crate) fn start_group(&mut self, group: Group) {
        self.groups.push(group);
        self.push_page();
    }

    fn push_page(&mut self) {
        let group = self.groups.len().saturating_sub(1);
        self.pages.push(Page {
            content: Content::with_settings(Settings { pretty: false }),
            group,
            images: Vec::new(),
        });
        self.current = self.pages.len() - 1;
        self.y = TOP;
    }

    /// Makes sure `height` points fit below the cursor, continuing on a new page otherwise.
    pub(crate) fn ensure(&mut self, height: f32) {
        if self.y + height > BOTTOM && self.y > self.body_top() {
            self.push_page();
            self.running_header();
        }
    }

    /// Where the body starts on a continuation page.
    fn body_top(&self) -> f32 {
        TOP + 34.0
    }

    fn running_header(&mut self) {
        let Some(group) = self.groups.last() else {
            return;
        };
        let (title, detail) = (group.running_title.clone(), group.running_detail.clone());
        let status = group.status.clone();
        let title_style = Style::new(10.0, Weight::Bold, NAVY);
        let detail_style = Style::new(8.0, Weight::Regular, MUTED);
        if let Some(status) = status {
            self.running_header_with_status(&title, &detail, &status, title_style, detail_style);
            return;
        }
        let title = self.fit(title_style, &title, CONTENT_W * 0.45);
        self.text(LEFT, TOP + 10.0, title_style, &title);
        let detail = self.fit(detail_style, &detail, CONTENT_W * 0.53);
        self.text_right(RIGHT, TOP + 10.0, detail_style, &detail);
        self.hline(LEFT, RIGHT, TOP + 20.0, 0.6, RULE);
        self.y = self.body_top();
    }

    /// The continuation header of a document with a status mark: the mark, in a small red box, follows the
    /// title and is kept whole in preference to the title (a separate path, so that documents without a mark
    /// render exactly as before marks existed).
    fn running_header_with_status(
        &mut self,
        title: &str,
        detail: &str,
        status: &str,
        title_style: Style,
        detail_style: Style,
    ) {
        let mark_style = Style::new(9.0, Weight::Bold, STAMP_RED);
        let detail = self.fit(detail_style, detail, CONTENT_W * 0.45);
        let budget = CONTENT_W - self.width(detail_style, &detail) - 16.0;
        let mark = self.fit(mark_style, status, budget * 0.5);
        let box_w = self.width(mark_style, &mark) + 10.0;
        let title = self.fit(title_style, title, budget - box_w - 10.0);
        self.text(LEFT, TOP + 10.0, title_style, &title);
        let box_x = LEFT + self.width(title_style, &title) + 10.0;
        self.fill_rect(box_x, TOP - 1.0, box_w, 15.0, STAMP_TINT);
        self.stroke_rect(box_x, TOP - 1.0, box_w, 15.0, 0.8, STAMP_RED);
        self.text(box_x + 5.0, TOP + 9.7, mark_style, &mark);
        self.text_right(RIGHT, TOP + 10.0, detail_style, &detail);
        self.hline(LEFT, RIGHT, TOP + 20.0, 0.6, RULE);
        self.y = self.body_top();
    }

    pub(crate) fn y(&self) -> f32 {
        self.y
    }

    pub(crate) fn set_y(&mut self, y: f32) {
        self.y = y;
    }

    pub(crate) fn advance(&mut self, dy: f32) {
        self.y += dy;
    }

    /// Adds an image drawn on the current page; its resource name is [`MaskImage::name`] of the index returned.
    pub(crate) fn add_image(&mut self, image: MaskImage) -> usize {
        self.images.push(image);
        let index = self.images.len() - 1;
        self.pages[self.current].images.push(index);
        index
    }

    pub(crate) fn content(&mut self) -> &mut Content {
        &mut self.pages[self.current].content
    }

    /// Redirects drawing to an already laid-out page (used for footers once the page count is known).
    pub(crate) fn select_page(&mut self, index: usize) {
        if index < self.pages.len() {
            self.current = index;
        }
    }

    pub(crate) fn width(&self, style: Style, text: &str) -> f32 {
        let text = single_line(text);
        let tracking = style.tracking();
        let spacing = if tracking == 0.0 { 0.0 } else { tracking * text.chars().count().saturating_sub(1) as f32 };
        self.face.width(&text, style.size) + spacing
    }

    /// Draws one line of text with its baseline `baseline` points below the top of the page.
    pub(crate) fn text(&mut self, x: f32, baseline: f32, style: Style, text: &str) {
        self.text_pdf(x, PAGE_H - baseline, style, text);
    }

    /// Draws text at PDF user-space coordinates (origin bottom-left), for callers that set their own
    /// transformation (the rotated watermark).
    pub(crate) fn text_pdf(&mut self, x: f32, y: f32, style: Style, text: &str) {
        let text = single_line(text);
        if text.trim().is_empty() {
            return;
        }
        self.scratch.clear();
        self.usage.encode(self.face, &text, &mut self.scratch);
        let content = &mut self.pages[self.current].content;
        let Color(r, g, b) = style.color;
        let stroke = style.weight.stroke(style.size);
        if stroke != 0.0 {
            // Emboldened: fill and stroke the outlines in the text colour. Inside q/Q, so the rendering
            // mode, line width, stroke colour and tracking need no resetting afterwards.
            content.save_state();
            content.set_line_width(pt(stroke));
            content.set_stroke_rgb(r, g, b);
        }
        content.begin_text();
        content.set_font(FONT_NAME, style.size);
        content.set_fill_rgb(r, g, b);
        let tracking = style.tracking();
        if stroke != 0.0 {
            content.set_text_rendering_mode(TextRenderingMode::FillStroke);
        }
        if tracking != 0.0 {
            content.set_char_spacing(pt(tracking));
        }
        content.next_line(pt(x), pt(y));
        content.show(Str(&self.scratch));
        if tracking != 0.0 && stroke == 0.0 {
            // Tc is graphics state and outlives ET; reset it so later text is not spaced out.
            content.set_char_spacing(0.0);
        }
        content.end_text();
        if stroke != 0.0 {
            content.restore_state();
        }
    }

    pub(crate) fn text_right(&mut self, right: f32, baseline: f32, style: Style, text: &str) {
        let w = self.width(style, text);
        self.text(right - w, baseline, style, text);
    }

    pub(crate) fn text_center(&mut self, center: f32, baseline: f32, style: Style, text: &str) {
        let w = self.width(style, text);
        self.text(center - w / 2.0, baseline, style, text);
    }

    /// `text` shortened with an ellipsis so that it is at most `max_width` wide.
    pub(crate) fn fit(&self, style: Style, text: &str, max_width: f32) -> String {
        let text = single_line(text);
        if self.width(style, &text) <= max_width {
            return text.into_owned();
        }
        let face = self.face;
        let budget = max_width - face.width(ELLIPSIS, style.size);
        let mut used = 0.0;
        let mut out = String::new();
        for c in text.chars() {
            let w = face.width(c.encode_utf8(&mut [0; 4]), style.size) + style.tracking();
            if used + w > budget {
                break;
            }
            used += w;
            out.push(c);
        }
        let mut out = out.trim_end().to_owned();
        out.push_str(ELLIPSIS);
        out
    }

    /// The style shrunk (by half points, not below `min_size`) until `text` fits, and the text to print with
    /// it, ellipsised only if even `min_size` is too wide. For names, where truncation is worse than smaller
    /// type.
    pub(crate) fn fit_shrinking(&self, style: Style, min_size: f32, text: &str, max_width: f32) -> (Style, String) {
        let mut style = style;
        while style.size > min_size && self.width(style, text) > max_width {
            style.size -= 0.5;
        }
        (style, self.fit(style, text, max_width))
    }

    /// Greedy word wrap; explicit newlines start new lines, words wider than a line are broken.
    pub(crate) fn wrap(&self, style: Style, text: &str, max_width: f32) -> Vec<String> {
        let space = self.width(style, " ") + style.tracking();
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            let mut line_w = 0.0;
            for word in paragraph.split_whitespace() {
                let word_w = self.width(style, word);
                let candidate = if line.is_empty() { word_w } else { line_w + space + word_w };
                if candidate <= max_width {
                    if !line.is_empty() {
                        line.push(' ');
                    }
                    line.push_str(word);
                    line_w = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                if word_w <= max_width {
                    line.push_str(word);
                    line_w = word_w;
                } else {
                    let mut pieces = break_word(self.face, style, word, max_width);
                    let last = pieces.pop().unwrap_or_default();
                    lines.extend(pieces);
                    line_w = self.width(style, &last);
                    line = last;
                }
            }
            if !line.is_empty() {
                lines.push(line);
            }
        }
        lines
    }

    /// [`Doc::wrap`] limited to `max_lines`, the last one ellipsised when text was cut.
    pub(crate) fn wrap_max(&self, style: Style, text: &str, max_width: f32, max_lines: usize) -> Vec<String> {
        let mut lines = self.wrap(style, text, max_width);
        if lines.len() > max_lines && max_lines > 0 {
            let rest = lines.split_off(max_lines - 1).join(" ");
            lines.push(self.fit(style, &rest, max_width));
        }
        lines
    }

    pub(crate) fn fill_rect(&mut self, x: f32, top: f32, w: f32, h: f32, color: Color) {
        let c = self.content();
        c.set_fill_rgb(color.0, color.1, color.2);
        c.rect(pt(x), pt(PAGE_H - top - h), pt(w), pt(h));
        c.fill_nonzero();
    }

    pub(crate) fn stroke_rect(&mut self, x: f32, top: f32, w: f32, h: f32, width: f32, color: Color) {
        let c = self.content();
        c.set_line_width(width);
        c.set_stroke_rgb(color.0, color.1, color.2);
        c.rect(pt(x), pt(PAGE_H - top - h), pt(w), pt(h));
        c.stroke();
    }

    pub(crate) fn hline(&mut self, x1: f32, x2: f32, y: f32, width: f32, color: Color) {
        let c = self.content();
        c.set_line_width(width);
        c.set_stroke_rgb(color.0, color.1, color.2);
        c.move_to(pt(x1), pt(PAGE_H - y));
        c.line_to(pt(x2), pt(PAGE_H - y));
        c.stroke();
    }

    pub(crate) fn dashed_hline(&mut self, x1: f32, x2: f32, y: f32, width: f32, color: Color) {
        let c = self.content();
        c.save_state();
        c.set_dash_pattern([2.0, 2.0], 0.0);
        c.set_line_width(width);
        c.set_stroke_rgb(color.0, color.1, color.2);
        c.move_to(pt(x1), pt(PAGE_H - y));
        c.line_to(pt(x2), pt(PAGE_H - y));
        c.stroke();
        c.restore_state();
    }

    /// Small filled triangle pointing right, with its tip at (`x`, `y`).
    pub(crate) fn arrow_head(&mut self, x: f32, y: f32, size: f32, color: Color) {
        let c = self.content();
        c.set_fill_rgb(color.0, color.1, color.2);
        c.move_to(pt(x), pt(PAGE_H - y));
        c.line_to(pt(x - size), pt(PAGE_H - y + size * 0.55));
        c.line_to(pt(x - size), pt(PAGE_H - y - size * 0.55));
        c.close_path();
        c.fill_nonzero();
    }

    /// Filled circle (four Bézier arcs).
    pub(crate) fn dot(&mut self, cx: f32, cy: f32, r: f32, color: Color) {
        const K: f32 = 0.552_284_8;
        let (x, y) = (cx, PAGE_H - cy);
        let k = r * K;
        let q = pt;
        let c = self.content();
        c.set_fill_rgb(color.0, color.1, color.2);
        c.move_to(q(x + r), q(y));
        c.cubic_to(q(x + r), q(y + k), q(x + k), q(y + r), q(x), q(y + r));
        c.cubic_to(q(x - k), q(y + r), q(x - r), q(y + k), q(x - r), q(y));
        c.cubic_to(q(x - r), q(y - k), q(x - k), q(y - r), q(x), q(y - r));
        c.cubic_to(q(x + k), q(y - r), q(x + r), q(y - k), q(x + r), q(y));
        c.fill_nonzero();
    }
}

/// `v` to a hundredth of a point (a 3,500th of a millimetre): written as `784.89` instead of `784.88995`,
/// which keeps page content short, with no visible change.
fn pt(v: f32) -> f32 {
    (v * 100.0).round() / 100.0
}

/// Control characters (tabs, newlines, ...) would show as boxes; on a single line they become spaces.
fn single_line(text: &str) -> Cow<'_, str> {
    if text.chars().any(char::is_control) {
        Cow::Owned(text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect())
    } else {
        Cow::Borrowed(text)
    }
}

fn break_word(face: &FontFace, style: Style, word: &str, max_width: f32) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut piece = String::new();
    let mut used = 0.0;
    for c in word.chars() {
        let w = face.width(c.encode_utf8(&mut [0; 4]), style.size) + style.tracking();
        // Always keep at least one char per piece so a very narrow box cannot loop forever.
        if used + w > max_width && !piece.is_empty() {
            pieces.push(std::mem::take(&mut piece));
            used = 0.0;
        }
        piece.push(c);
        used += w;
    }
    pieces.push(piece);
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    const STYLE: Style = Style::new(8.0, Weight::Regular, INK);

    #[test]
    fn wrap_respects_width_and_keeps_every_word() {
        let doc = Doc::new(Lang::En).unwrap();
        let text = "Carriage and other services provided by the carrier are subject to the conditions \
                    of carriage. Supercalifragilisticexpialidociousandthensomemoretomakeitoverflow";
        let lines = doc.wrap(STYLE, text, 120.0);
        assert!(lines.len() > 3);
        for line in &lines {
            assert!(doc.width(STYLE, line) <= 120.0, "{line:?} too wide");
        }
        let joined: String = lines.concat().split_whitespace().collect();
        let original: String = text.split_whitespace().collect();
        assert_eq!(joined, original);
    }

    #[test]
    fn fit_ellipsises_only_when_needed() {
        let doc = Doc::new(Lang::En).unwrap();
        assert_eq!(doc.fit(STYLE, "NGUYỄN/VĂN A MR", 200.0), "NGUYỄN/VĂN A MR");
        let cut = doc.fit(STYLE, &"Aéroport international ".repeat(10), 100.0);
        assert!(cut.ends_with('…'));
        assert!(doc.width(STYLE, &cut) <= 100.0);
        let lines = doc.wrap_max(STYLE, &"word ".repeat(200), 100.0, 2);
        assert_eq!(lines.len(), 2);
        assert!(lines[1].ends_with('…'));
    }

    #[test]
    fn control_characters_become_spaces() {
        assert_eq!(single_line("a\tb\nc"), "a b c");
        assert!(matches!(single_line("plain"), Cow::Borrowed(_)));
    }
}

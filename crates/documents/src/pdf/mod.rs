//! PDF rendering of Tessera's documents with `pdf-writer`: layout on a small canvas, embedded subset fonts,
//! vector QR codes, and byte-for-byte reproducible output (no clock, no random ids).
//!
//! Each document type is a layout function in its own module (`flight`, `emd`, `event`, `invoice`) that draws
//! onto a shared `layout::Doc` with the common `blocks`; the entry points here only add the file metadata.

mod blocks;
mod emd;
mod event;
mod flight;
mod font;
mod invoice;
mod layout;
mod lean;
mod qr;

#[doc(hidden)]
pub use qr::clear_memo as clear_qr_memo;

use std::cell::RefCell;

use flate2::{Compress, Compression, FlushCompress, Status};
use pdf_writer::{Filter, Finish, Name, Pdf, Rect, Ref, Settings, TextStr};
use sha2::{Digest, Sha256};

use crate::error::DocumentError;
use crate::model::{EmdView, EventTicketView, FlightTicketView, InvoiceView};
use font::{write_font, FontRefs, FONT_NAME};
use layout::{Doc, PAGE_H, PAGE_W};

/// One passenger's e-ticket / itinerary receipt (one or more A4 pages).
pub fn render_flight_ticket(view: &FlightTicketView) -> Result<Vec<u8>, DocumentError> {
    let mut doc = Doc::new(view.lang)?;
    flight::ticket(&mut doc, view)?;
    let title =
        doc.ta("eticket-metadata-title", &[("ticket", &view.ticket_number), ("passenger", &view.passenger_name)]);
    finish(doc, &title)
}

/// The combined document of an issuance: every passenger's ticket pages, each starting on a new page, in the
/// language of the first.
pub fn render_flight_itinerary(views: &[FlightTicketView]) -> Result<Vec<u8>, DocumentError> {
    let Some(first) = views.first() else {
        return Err(DocumentError::Empty("itinerary without passengers"));
    };
    let mut doc = Doc::new(first.lang)?;
    for view in views {
        flight::ticket(&mut doc, view)?;
    }
    let count = views.len().to_string();
    let title = doc.ta("itinerary-metadata-title", &[("pnr", &first.pnr), ("count", &count)]);
    finish(doc, &title)
}

/// A receipt for one Electronic Miscellaneous Document.
pub fn render_emd(view: &EmdView) -> Result<Vec<u8>, DocumentError> {
    let mut doc = Doc::new(view.lang)?;
    emd::emd(&mut doc, view)?;
    let title =
        doc.ta("emd-metadata-title", &[("document", &view.document_number), ("passenger", &view.passenger_name)]);
    finish(doc, &title)
}

/// One event ticket: one PDF of an order item (a multi-day pass has one per day), a single A4 page.
pub fn render_event_ticket(view: &EventTicketView) -> Result<Vec<u8>, DocumentError> {
    let mut doc = Doc::new(view.lang)?;
    event::event_ticket(&mut doc, view)?;
    let title = if view.holder.trim().is_empty() {
        doc.ta("event-metadata-title", &[("item", &view.order_item_id)])
    } else {
        doc.ta("event-metadata-title-holder", &[("item", &view.order_item_id), ("holder", &view.holder)])
    };
    finish(doc, &title)
}

/// An invoice or a credit invoice (one or more A4 pages, depending on the number of lines).
pub fn render_invoice(view: &InvoiceView) -> Result<Vec<u8>, DocumentError> {
    let mut doc = Doc::new(view.lang)?;
    invoice::invoice(&mut doc, view)?;
    let title = format!("{} {}", invoice::title(&doc, view), view.number);
    finish(doc, &title)
}

/// Deflate level of page content and the small font dictionaries' streams, rendered anew every time.
/// Level 6 makes them ~15 % smaller than level 1 for ~0.1 ms more per ticket; 9 gains nothing over 6.
const DEFLATE_LEVEL: u32 = 3;
/// Deflate level of font programs, which are built once per glyph set and cached (see `font.rs`), so the
/// best compression costs nothing on most renders.
const FONT_DEFLATE_LEVEL: u32 = 9;

thread_local! {
    // miniz allocates and zeroes ~300 KB of state per compressor; reusing one per thread instead of
    // creating one per stream removed most of the render time.
    static COMPRESSOR: RefCell<Compress> = RefCell::new(Compress::new(Compression::new(DEFLATE_LEVEL), true));
}

/// zlib-compresses `data` for a `/FlateDecode` stream.
pub(crate) fn compress(data: &[u8]) -> Result<Vec<u8>, DocumentError> {
    COMPRESSOR.with(|cell| match cell.try_borrow_mut() {
        Ok(mut compressor) => compress_with(&mut compressor, data),
        // Only reachable if compression ever became re-entrant; stay correct, just slower.
        Err(_) => compress_with(&mut Compress::new(Compression::new(DEFLATE_LEVEL), true), data),
    })
}

/// zlib-compresses a font program at [`FONT_DEFLATE_LEVEL`]; rare enough (cache misses) not to need a
/// reused compressor.
pub(crate) fn compress_font(data: &[u8]) -> Result<Vec<u8>, DocumentError> {
    compress_with(&mut Compress::new(Compression::new(FONT_DEFLATE_LEVEL), true), data)
}

fn compress_with(compressor: &mut Compress, data: &[u8]) -> Result<Vec<u8>, DocumentError> {
    compressor.reset();
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    loop {
        let consumed = usize::try_from(compressor.total_in()).unwrap_or(usize::MAX).min(data.len());
        let status = compressor
            .compress_vec(&data[consumed..], &mut out, FlushCompress::Finish)
            .map_err(|e| DocumentError::Io(std::io::Error::other(e)))?;
        match status {
            Status::StreamEnd => return Ok(out),
            Status::Ok | Status::BufError => out.reserve(out.capacity().max(1024)),
        }
    }
}

/// Numbers objects sequentially, so the same document always gets the same object ids.
struct RefAlloc(i32);

impl RefAlloc {
    fn next(&mut self) -> Ref {
        self.0 += 1;
        Ref::new(self.0)
    }
}

/// Adds footers and watermarks, then writes pages, fonts and metadata into the final file.
fn finish(mut doc: Doc, title: &str) -> Result<Vec<u8>, DocumentError> {
    blocks::decorate_pages(&mut doc);

    let mut alloc = RefAlloc(0);
    let catalog_id = alloc.next();
    let tree_id = alloc.next();
    let info_id = alloc.next();
    let has_watermark = doc.groups.iter().any(|g| g.watermark.is_some());
    let gs_id = has_watermark.then(|| alloc.next());
    let font_refs = (!doc.usage.is_empty()).then(|| FontRefs {
        type0: alloc.next(),
        cid_font: alloc.next(),
        descriptor: alloc.next(),
        font_file: alloc.next(),
        to_unicode: alloc.next(),
        cid_to_gid: alloc.next(),
    });
    let page_ids: Vec<(Ref, Ref)> = doc.pages.iter().map(|_| (alloc.next(), alloc.next())).collect();
    let image_ids: Vec<Ref> = doc.images.iter().map(|_| alloc.next()).collect();

    let mut pdf = Pdf::with_settings(Settings { pretty: false });
    let mut id_hash = Sha256::new();
    id_hash.update(title.as_bytes());

    pdf.catalog(catalog_id).pages(tree_id).lang(TextStr(doc.lang.code()));
    pdf.pages(tree_id).kids(page_ids.iter().map(|(page, _)| *page)).count(page_ids.len() as i32);

    let pages = std::mem::take(&mut doc.pages);
    for (page, (page_id, content_id)) in pages.into_iter().zip(&page_ids) {
        let mut writer = pdf.page(*page_id);
        writer.parent(tree_id).media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H)).contents(*content_id);
        let mut resources = writer.resources();
        if let Some(refs) = &font_refs {
            resources.fonts().pair(FONT_NAME, refs.type0);
        }
        if let Some(gs_id) = gs_id {
            resources.ext_g_states().pair(blocks::WATERMARK_GS, gs_id);
        }
        if !page.images.is_empty() {
            let mut x_objects = resources.x_objects();
            for &index in &page.images {
                let name = layout::MaskImage::name(index);
                x_objects.pair(Name(name.as_bytes()), image_ids[index]);
            }
        }
        resources.finish();
        writer.finish();

        let content = page.content.finish();
        id_hash.update(content.as_slice());
        let compressed = compress(content.as_slice())?;
        pdf.stream(*content_id, &compressed).filter(Filter::FlateDecode);
    }

    if let Some(gs_id) = gs_id {
        pdf.ext_graphics(gs_id).non_stroking_alpha(0.16);
    }

    for (image, id) in doc.images.iter().zip(&image_ids) {
        id_hash.update(&image.bits);
        let compressed = compress(&image.bits)?;
        let mut xobject = pdf.image_xobject(*id, &compressed);
        xobject.filter(Filter::FlateDecode);
        // A stencil: 1-bit samples, 1 paints the fill color (Decode [1 0]), scaled without smoothing (the default).
        let (width, height) = (image.width as i32, image.height as i32);
        xobject.width(width).height(height).image_mask(true).decode([1.0, 0.0]);
    }

    if let Some(refs) = &font_refs {
        write_font(&mut pdf, refs, font::face()?, &doc.usage)?;
    }

    pdf.document_info(info_id).title(TextStr(title)).producer(TextStr("Tessera")).creator(TextStr("Tessera"));

    // A content-derived file id: viewers and archives get an identifier without breaking reproducibility.
    let digest = id_hash.finalize();
    let id = digest[..16].to_vec();
    pdf.set_file_id((id.clone(), id));
    Ok(pdf.finish())
}

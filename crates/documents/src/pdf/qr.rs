//! QR codes drawn as one-bit image masks: a module a bit, painted in the fill color and scaled to the code's side
//! without interpolation, so they stay sharp at any zoom and cost about 400 bytes each. (Drawn as a rectangle per
//! run of dark modules they cost four times as much: a flight e-ticket carries one per coupon.)
//!
//! Encoding is most of a code's cost (0.25-0.45 ms), and a flight issuance prints each coupon's code twice, on the
//! e-ticket and on the itinerary, so encoded codes are kept in a small memo by payload. It is only a cache: what is
//! drawn is the same bytes with or without it, so documents stay reproducible on any node.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use fast_qr::{QRBuilder, ECL};
use pdf_writer::Name;

use super::layout::{Color, Doc, MaskImage, PAGE_H};
use crate::error::DocumentError;

/// A code's modules, a bit each, rows padded to whole bytes.
struct Encoded {
    side: u32,
    bits: Vec<u8>,
}

/// How many encoded codes the memo keeps (about 0.6 KB each); full, it starts over. Far more than the codes of
/// the issuances rendering at once, whose e-ticket and itinerary follow each other within milliseconds.
const MEMO_CAPACITY: usize = 1024;

fn memo() -> MutexGuard<'static, HashMap<String, Arc<Encoded>>> {
    static MEMO: OnceLock<Mutex<HashMap<String, Arc<Encoded>>>> = OnceLock::new();
    // A panic while holding the lock cannot leave a half-written entry (insert is the last step), so a
    // poisoned memo is still a good one.
    MEMO.get_or_init(Default::default).lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Empties the memo, so the next render encodes every code again: for benchmarks measuring a cold render.
#[doc(hidden)]
pub fn clear_memo() {
    memo().clear();
}

fn encode(payload: &str) -> Result<Arc<Encoded>, DocumentError> {
    if let Some(hit) = memo().get(payload) {
        return Ok(Arc::clone(hit));
    }
    // Medium error correction survives creases and glare on a printed receipt without growing the code much.
    let qr = QRBuilder::new(payload.as_bytes()).ecl(ECL::M).build().map_err(|e| DocumentError::Qr(e.to_string()))?;
    let size = qr.size;
    let row_bytes = size.div_ceil(8);
    let mut bits = vec![0u8; row_bytes * size];
    for row in 0..size {
        for col in 0..size {
            if qr.data[row * size + col].value() {
                bits[row * row_bytes + col / 8] |= 0x80 >> (col % 8);
            }
        }
    }
    let side = u32::try_from(size).map_err(|_| DocumentError::Qr("QR code too large".into()))?;
    let encoded = Arc::new(Encoded { side, bits });
    let mut memo = memo();
    if memo.len() >= MEMO_CAPACITY {
        memo.clear();
    }
    memo.insert(payload.to_owned(), Arc::clone(&encoded));
    Ok(encoded)
}

/// Draws the QR code for `payload` in the square whose top-left corner is (`x`, `top`). The caller leaves
/// white space around it for the quiet zone.
pub(crate) fn draw_qr(
    doc: &mut Doc,
    payload: &str,
    x: f32,
    top: f32,
    side: f32,
    color: Color,
) -> Result<(), DocumentError> {
    let code = encode(payload)?;
    if code.side == 0 {
        return Ok(());
    }
    let index = doc.add_image(MaskImage { width: code.side, height: code.side, bits: code.bits.clone() });
    let name = MaskImage::name(index);
    let content = doc.content();
    // The image space is the unit square: scaled to the code's side, placed at its bottom-left corner.
    content.save_state();
    content.transform([side, 0.0, 0.0, side, x, PAGE_H - top - side]);
    content.set_fill_rgb(color.0, color.1, color.2);
    content.x_object(Name(name.as_bytes()));
    content.restore_state();
    Ok(())
}

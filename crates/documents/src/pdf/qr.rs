//! QR codes drawn as vector rectangles (one per horizontal run of dark modules), so they stay sharp at any
//! zoom and cost a few hundred bytes instead of an image.

use fast_qr::{QRBuilder, ECL};

use super::layout::{Color, Doc, PAGE_H};
use crate::error::DocumentError;

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
    // Medium error correction survives creases and glare on a printed receipt without growing the code much.
    let qr = QRBuilder::new(payload.as_bytes()).ecl(ECL::M).build().map_err(|e| DocumentError::Qr(e.to_string()))?;
    let size = qr.size;
    if size == 0 {
        return Ok(());
    }
    let module = side / size as f32;
    let content = doc.content();
    // Drawn in module units (one unit = one module, origin at the code's bottom-left corner) so every
    // rectangle is four small integers rather than four long decimals: a third of a ticket's page content.
    content.save_state();
    content.transform([module, 0.0, 0.0, module, x, PAGE_H - top - side]);
    content.set_fill_rgb(color.0, color.1, color.2);
    for row in 0..size {
        let y = (size - 1 - row) as f32;
        let mut col = 0;
        while col < size {
            if !qr.data[row * size + col].value() {
                col += 1;
                continue;
            }
            let start = col;
            while col < size && qr.data[row * size + col].value() {
                col += 1;
            }
            content.rect(start as f32, y, (col - start) as f32, 1.0);
        }
    }
    content.fill_nonzero();
    content.restore_state();
    Ok(())
}

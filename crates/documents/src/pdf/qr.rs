//! QR codes drawn as one-bit image masks: a module a bit, painted in the fill color and scaled to the code's side
//! without interpolation, so they stay sharp at any zoom and cost about 400 bytes each. (Drawn as a rectangle per
//! run of dark modules they cost four times as much: a flight e-ticket carries one per coupon.)

use fast_qr::{QRBuilder, ECL};
use pdf_writer::Name;

use super::layout::{Color, Doc, MaskImage, PAGE_H};
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
    let row_bytes = size.div_ceil(8);
    let mut bits = vec![0u8; row_bytes * size];
    for row in 0..size {
        for col in 0..size {
            if qr.data[row * size + col].value() {
                bits[row * row_bytes + col / 8] |= 0x80 >> (col % 8);
            }
        }
    }
    let side_modules = u32::try_from(size).map_err(|_| DocumentError::Qr("QR code too large".into()))?;
    let index = doc.add_image(MaskImage { width: side_modules, height: side_modules, bits });
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

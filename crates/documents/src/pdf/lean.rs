//! Strips a TrueType font down to what a PDF viewer needs to draw its glyphs, once per process, before
//! `subsetter` cuts the per-document subsets from it.
//!
//! `subsetter` copies the hinting programs (`cvt `, `fpgm`, `prep`) whole, leaves every glyph's own
//! instructions in place and keeps the long `name` records (DejaVu's full license text): for a ticket's
//! hundred glyphs that was over half of each embedded font. None of it changes what a PDF viewer draws at
//! print resolution (viewers mostly ignore TrueType hinting), so the font handed to `subsetter` has only
//! `glyf`/`loca` (without instructions), `head`, `hhea`, `hmtx`, `maxp`, a `post` without glyph names and a
//! `name` with the copyright notice and license URL only. Glyph ids are unchanged, so the `cmap` and metrics
//! read from the original face stay valid. `subsetter` skips tables the font lacks.

use std::borrow::Cow;

/// `name` records kept (on the Unicode and Windows platforms): copyright notice and license URL.
const NAME_IDS: [u16; 2] = [0, 14];

/// The font without hinting, glyph names or long name records; an error names what was malformed.
pub(crate) fn strip(font: &[u8]) -> Result<Vec<u8>, String> {
    let tables = directory(font)?;
    let table = |tag: &[u8; 4]| tables.iter().find(|(t, _)| t == tag).map(|(_, data)| *data);
    let head = table(b"head").ok_or("no head table")?;
    let loca = table(b"loca").ok_or("no loca table")?;
    let glyf = table(b"glyf").ok_or("no glyf table")?;
    let maxp = table(b"maxp").ok_or("no maxp table")?;
    let long_loca = read_u16(head, 50)? != 0;
    let num_glyphs = usize::from(read_u16(maxp, 4)?);

    let (new_glyf, new_loca) = strip_glyphs(glyf, loca, long_loca, num_glyphs)?;
    let mut new_head = head.to_vec();
    // The rebuilt loca is always the long format.
    new_head.get_mut(50..52).ok_or("short head table")?.copy_from_slice(&1u16.to_be_bytes());
    let mut new_maxp = maxp.to_vec();
    // maxZones 1, then twilight points, storage, function defs, instruction defs, stack elements and
    // instruction size all 0: nothing is left to run.
    if let Some(limits) = new_maxp.get_mut(14..28) {
        limits.fill(0);
        limits[1] = 1;
    }

    let borrowed = |tag: &[u8; 4]| table(tag).ok_or_else(|| format!("no {} table", String::from_utf8_lossy(tag)));
    // In tag order, as the table directory must be.
    let mut out_tables: Vec<([u8; 4], Cow<'_, [u8]>)> = vec![
        (*b"glyf", Cow::Owned(new_glyf)),
        (*b"head", Cow::Owned(new_head)),
        (*b"hhea", Cow::Borrowed(borrowed(b"hhea")?)),
        (*b"hmtx", Cow::Borrowed(borrowed(b"hmtx")?)),
        (*b"loca", Cow::Owned(new_loca)),
        (*b"maxp", Cow::Owned(new_maxp)),
    ];
    if let Some(name) = table(b"name") {
        out_tables.push((*b"name", Cow::Owned(short_name(name)?)));
    }
    out_tables.push((*b"post", Cow::Owned(post_without_names(borrowed(b"post")?)?)));
    Ok(write_font(&out_tables))
}

/// A table's tag and data.
type Table<'a> = ([u8; 4], &'a [u8]);

/// Every table of the font.
fn directory(font: &[u8]) -> Result<Vec<Table<'_>>, String> {
    let count = usize::from(read_u16(font, 4)?);
    (0..count)
        .map(|i| {
            let record = 12 + 16 * i;
            let tag: [u8; 4] = font.get(record..record + 4).and_then(|t| t.try_into().ok()).ok_or("short directory")?;
            let offset = read_u32(font, record + 8)? as usize;
            let length = read_u32(font, record + 12)? as usize;
            let data = font.get(offset..offset + length).ok_or("table outside the file")?;
            Ok((tag, data))
        })
        .collect()
}

/// Every glyph without its instructions, and the matching long `loca`.
fn strip_glyphs(glyf: &[u8], loca: &[u8], long_loca: bool, num_glyphs: usize) -> Result<(Vec<u8>, Vec<u8>), String> {
    let offset = |i: usize| -> Result<usize, String> {
        Ok(if long_loca { read_u32(loca, 4 * i)? as usize } else { 2 * usize::from(read_u16(loca, 2 * i)?) })
    };
    let mut out = Vec::with_capacity(glyf.len());
    let mut new_loca = Vec::with_capacity(4 * (num_glyphs + 1));
    for gid in 0..num_glyphs {
        new_loca.extend_from_slice(&u32::try_from(out.len()).map_err(|_| "glyf too large")?.to_be_bytes());
        let (from, to) = (offset(gid)?, offset(gid + 1)?);
        let glyph = glyf.get(from..to).ok_or("glyph outside glyf")?;
        if !glyph.is_empty() {
            strip_glyph(glyph, &mut out).map_err(|e| format!("glyph {gid}: {e}"))?;
            while out.len() % 4 != 0 {
                out.push(0);
            }
        }
    }
    new_loca.extend_from_slice(&u32::try_from(out.len()).map_err(|_| "glyf too large")?.to_be_bytes());
    Ok((out, new_loca))
}

/// Appends `glyph` without its instructions (simple glyphs: instruction length set to 0 and the bytes
/// dropped; composite glyphs: the instructions flag cleared and the trailing bytes dropped).
fn strip_glyph(glyph: &[u8], out: &mut Vec<u8>) -> Result<(), &'static str> {
    let contours = read_i16(glyph, 0)?;
    if contours >= 0 {
        let contours = usize::try_from(contours).map_err(|_| "bad contour count")?;
        let ends = 10 + 2 * contours;
        let points = if contours == 0 { 0 } else { usize::from(read_u16(glyph, ends - 2)?) + 1 };
        let instructions = usize::from(read_u16(glyph, ends)?);
        let outline = ends + 2 + instructions;
        let outline_len = simple_outline_len(glyph.get(outline..).ok_or("truncated glyph")?, points)?;
        out.extend_from_slice(glyph.get(..ends).ok_or("truncated glyph")?);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(glyph.get(outline..outline + outline_len).ok_or("truncated glyph")?);
        return Ok(());
    }
    const ARGS_ARE_WORDS: u16 = 0x0001;
    const HAVE_SCALE: u16 = 0x0008;
    const MORE_COMPONENTS: u16 = 0x0020;
    const HAVE_X_AND_Y_SCALE: u16 = 0x0040;
    const HAVE_TWO_BY_TWO: u16 = 0x0080;
    const HAVE_INSTRUCTIONS: u16 = 0x0100;
    out.extend_from_slice(glyph.get(..10).ok_or("truncated glyph")?);
    let mut at = 10;
    loop {
        let flags = read_u16(glyph, at)?;
        let mut len = 4 + if flags & ARGS_ARE_WORDS != 0 { 4 } else { 2 };
        len += if flags & HAVE_SCALE != 0 {
            2
        } else if flags & HAVE_X_AND_Y_SCALE != 0 {
            4
        } else if flags & HAVE_TWO_BY_TWO != 0 {
            8
        } else {
            0
        };
        let component_at = out.len();
        out.extend_from_slice(glyph.get(at..at + len).ok_or("truncated component")?);
        out[component_at..component_at + 2].copy_from_slice(&(flags & !HAVE_INSTRUCTIONS).to_be_bytes());
        at += len;
        if flags & MORE_COMPONENTS == 0 {
            return Ok(());
        }
    }
}

/// Length of a simple glyph's flags and coordinates for `points` points, so padding is not copied.
fn simple_outline_len(data: &[u8], points: usize) -> Result<usize, &'static str> {
    const X_SHORT: u8 = 0x02;
    const Y_SHORT: u8 = 0x04;
    const REPEAT: u8 = 0x08;
    const X_SAME: u8 = 0x10;
    const Y_SAME: u8 = 0x20;
    let (mut at, mut seen, mut x_len, mut y_len) = (0, 0, 0, 0);
    while seen < points {
        let flags = *data.get(at).ok_or("truncated flags")?;
        at += 1;
        let mut count = 1;
        if flags & REPEAT != 0 {
            count += usize::from(*data.get(at).ok_or("truncated flags")?);
            at += 1;
        }
        let coord = |short, same| {
            if flags & short != 0 {
                1
            } else if flags & same != 0 {
                0
            } else {
                2
            }
        };
        x_len += count * coord(X_SHORT, X_SAME);
        y_len += count * coord(Y_SHORT, Y_SAME);
        seen += count;
    }
    let len = at + x_len + y_len;
    if len > data.len() {
        return Err("truncated coordinates");
    }
    Ok(len)
}

/// A version 3 `post` table: the same header, no glyph names (PDF addresses glyphs by id).
fn post_without_names(post: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = post.get(..32).ok_or("short post table")?.to_vec();
    out[..4].copy_from_slice(&0x0003_0000u32.to_be_bytes());
    Ok(out)
}

/// A format 0 `name` table with only the [`NAME_IDS`] records of the Unicode and Windows platforms.
fn short_name(name: &[u8]) -> Result<Vec<u8>, String> {
    let count = usize::from(read_u16(name, 2)?);
    let storage = usize::from(read_u16(name, 4)?);
    let mut records = Vec::new();
    for i in 0..count {
        let at = 6 + 12 * i;
        let platform = read_u16(name, at)?;
        let id = read_u16(name, at + 6)?;
        if (platform == 0 || platform == 3) && NAME_IDS.contains(&id) {
            let len = usize::from(read_u16(name, at + 8)?);
            let offset = storage + usize::from(read_u16(name, at + 10)?);
            let text = name.get(offset..offset + len).ok_or("name record outside the table")?;
            records.push((name.get(at..at + 8).ok_or("short name table")?, text));
        }
    }
    let header_len = 6 + 12 * records.len();
    let mut out = Vec::new();
    out.extend_from_slice(&0u16.to_be_bytes());
    out.extend_from_slice(&u16::try_from(records.len()).map_err(|_| "too many names")?.to_be_bytes());
    out.extend_from_slice(&u16::try_from(header_len).map_err(|_| "too many names")?.to_be_bytes());
    let mut text_offset = 0usize;
    for (record, text) in &records {
        out.extend_from_slice(record);
        out.extend_from_slice(&u16::try_from(text.len()).map_err(|_| "name too long")?.to_be_bytes());
        out.extend_from_slice(&u16::try_from(text_offset).map_err(|_| "names too long")?.to_be_bytes());
        text_offset += text.len();
    }
    for (_, text) in &records {
        out.extend_from_slice(text);
    }
    Ok(out)
}

/// An sfnt file of `tables` (sorted by tag, as they are given), 4-byte aligned, with table checksums.
fn write_font(tables: &[([u8; 4], Cow<'_, [u8]>)]) -> Vec<u8> {
    let count = tables.len() as u16;
    let selector = 15 - count.leading_zeros() as u16;
    let range = (1u16 << selector) * 16;
    let mut out = Vec::new();
    out.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    for v in [count, range, selector, count * 16 - range] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    let mut offset = 12 + 16 * tables.len();
    for (tag, data) in tables {
        out.extend_from_slice(tag);
        out.extend_from_slice(&checksum(data).to_be_bytes());
        out.extend_from_slice(&(offset as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        offset += data.len().next_multiple_of(4);
    }
    for (_, data) in tables {
        out.extend_from_slice(data);
        out.resize(out.len().next_multiple_of(4), 0);
    }
    out
}

fn checksum(data: &[u8]) -> u32 {
    data.chunks(4).fold(0u32, |sum, chunk| {
        let mut word = [0u8; 4];
        word[..chunk.len()].copy_from_slice(chunk);
        sum.wrapping_add(u32::from_be_bytes(word))
    })
}

fn read_u16(data: &[u8], at: usize) -> Result<u16, &'static str> {
    data.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]])).ok_or("truncated table")
}

fn read_i16(data: &[u8], at: usize) -> Result<i16, &'static str> {
    read_u16(data, at).map(|v| v as i16)
}

fn read_u32(data: &[u8], at: usize) -> Result<u32, &'static str> {
    data.get(at..at + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])).ok_or("truncated table")
}

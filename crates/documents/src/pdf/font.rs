//! The embedded DejaVu Sans face: parsed once per process, used to measure text, and written into each
//! PDF as a subset CIDFontType2 font (Identity-H) with a ToUnicode map so copied text stays exact.
//!
//! Bold text is the same face drawn emboldened (filled and stroked, see [`Weight`]) rather than a second
//! embedded face: a second subset was over a third of every document's size.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Filter, Finish, Name, Pdf, Rect, Ref, Str};
use sha2::{Digest, Sha256};
use subsetter::GlyphRemapper;

use super::{compress, compress_font};
use crate::error::DocumentError;

static REGULAR_TTF: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");

/// Characters below this code point have their glyph and advance precomputed: that covers all the template
/// text and nearly every name, and keeps measuring free of cmap look-ups.
const FAST_RANGE: usize = 0x250;

static FACE: LazyLock<Result<FontFace, String>> = LazyLock::new(|| FontFace::parse(REGULAR_TTF, "DejaVuSans"));

/// The face every document uses, or why it could not be loaded.
pub(crate) fn face() -> Result<&'static FontFace, DocumentError> {
    FACE.as_ref().map_err(|e| DocumentError::Font(e.clone()))
}

/// Outline stroke of emboldened text, as a fraction of the font size: stems grow from DejaVu Sans' ~90
/// to ~150 units per em, close to DejaVu Sans Bold's.
const BOLD_STROKE: f32 = 0.06;
/// Extra advance per emboldened character, as a fraction of the font size, so bold text keeps about the
/// width (and the layout) it had with DejaVu Sans Bold, whose glyphs are ~10 % wider.
const BOLD_TRACKING: f32 = 0.06;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Weight {
    Regular = 0,
    Bold = 1,
}

/// Resource name of the font in page content streams.
pub(crate) const FONT_NAME: Name<'static> = Name(b"F1");

impl Weight {
    /// Width of the outline stroke that emboldens text of `size` points (0 for regular text).
    pub(crate) fn stroke(self, size: f32) -> f32 {
        match self {
            Weight::Regular => 0.0,
            Weight::Bold => size * BOLD_STROKE,
        }
    }

    /// Extra advance after each character of text of `size` points.
    pub(crate) fn tracking(self, size: f32) -> f32 {
        match self {
            Weight::Regular => 0.0,
            Weight::Bold => size * BOLD_TRACKING,
        }
    }
}

/// A parsed face plus the metrics needed for the font descriptor.
pub(crate) struct FontFace {
    /// The font without hinting, which the subsets are cut from (see [`super::lean`]).
    lean: Vec<u8>,
    face: ttf_parser::Face<'static>,
    postscript_name: &'static str,
    units_per_em: f32,
    /// `(glyph id, advance)` for every char below [`FAST_RANGE`].
    fast: Vec<(u16, u16)>,
    notdef_advance: u16,
}

impl FontFace {
    fn parse(data: &'static [u8], postscript_name: &'static str) -> Result<Self, String> {
        let face = ttf_parser::Face::parse(data, 0).map_err(|e| format!("cannot parse {postscript_name}: {e}"))?;
        let notdef_advance = face.glyph_hor_advance(ttf_parser::GlyphId(0)).unwrap_or(0);
        let lean = super::lean::strip(data).map_err(|e| format!("cannot strip {postscript_name}: {e}"))?;
        let mut this = Self {
            lean,
            units_per_em: f32::from(face.units_per_em()),
            face,
            postscript_name,
            fast: Vec::new(),
            notdef_advance,
        };
        this.fast = (0..FAST_RANGE as u32)
            .map(|cp| char::from_u32(cp).map_or((0, notdef_advance), |c| this.lookup(c)))
            .collect();
        Ok(this)
    }

    fn lookup(&self, c: char) -> (u16, u16) {
        match self.face.glyph_index(c) {
            Some(gid) => (gid.0, self.face.glyph_hor_advance(gid).unwrap_or(self.notdef_advance)),
            // Missing glyphs render as .notdef, but keep their own CID so ToUnicode still restores the char.
            None => (0, self.notdef_advance),
        }
    }

    /// Glyph id and advance (font units) for `c`; `.notdef` when the face lacks it.
    pub(crate) fn glyph(&self, c: char) -> (u16, u16) {
        match self.fast.get(c as usize) {
            Some(&hit) => hit,
            None => self.lookup(c),
        }
    }

    /// Advance width of `text` at `size` points.
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        let units: u32 = text.chars().map(|c| u32::from(self.glyph(c).1)).sum();
        units as f32 * size / self.units_per_em
    }

    fn to_pdf_units(&self, v: f32) -> f32 {
        (v * 1000.0 / self.units_per_em).round()
    }
}

/// The characters one document shows in one face, in order of first use.
///
/// Each distinct char gets its own CID (1, 2, ...) rather than reusing glyph ids, so a char missing from the
/// font (rendered as `.notdef`) or two chars sharing a glyph still map back to the right text.
pub(crate) struct FontUsage {
    /// CID by code point below [`FAST_RANGE`] (0 = not assigned yet), sparing a hash look-up per char.
    fast: Vec<u16>,
    cids: HashMap<char, u16>,
    /// `chars[cid - 1]` = (char, original glyph id, advance)
    chars: Vec<(char, u16, u16)>,
}

impl Default for FontUsage {
    fn default() -> Self {
        Self { fast: vec![0; FAST_RANGE], cids: HashMap::new(), chars: Vec::new() }
    }
}

impl FontUsage {
    pub(crate) fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// Appends the Identity-H codes (two bytes per char) for `text` to `out`.
    pub(crate) fn encode(&mut self, face: &FontFace, text: &str, out: &mut Vec<u8>) {
        out.reserve(text.len() * 2);
        for c in text.chars() {
            let known = match self.fast.get(c as usize) {
                Some(&cid) => (cid != 0).then_some(cid),
                None => self.cids.get(&c).copied(),
            };
            let cid = match known {
                Some(cid) => cid,
                None => self.assign(face, c),
            };
            out.extend_from_slice(&cid.to_be_bytes());
        }
    }

    fn assign(&mut self, face: &FontFace, c: char) -> u16 {
        let Ok(cid) = u16::try_from(self.chars.len() + 1) else {
            // 65k distinct characters in one ticket is not a real document; show .notdef rather than fail.
            tracing::warn!("more distinct characters than CIDs; rendering {c:?} as .notdef");
            return 0;
        };
        let (gid, advance) = face.glyph(c);
        self.chars.push((c, gid, advance));
        match self.fast.get_mut(c as usize) {
            Some(slot) => *slot = cid,
            None => {
                self.cids.insert(c, cid);
            }
        }
        cid
    }
}

/// Object ids of one embedded font; `type0` is what page resources point at.
pub(crate) struct FontRefs {
    pub type0: Ref,
    pub cid_font: Ref,
    pub descriptor: Ref,
    pub font_file: Ref,
    pub to_unicode: Ref,
    pub cid_to_gid: Ref,
}

/// Writes the subset font and all its dictionaries.
pub(crate) fn write_font(
    pdf: &mut Pdf,
    refs: &FontRefs,
    face: &FontFace,
    usage: &FontUsage,
) -> Result<(), DocumentError> {
    let mut glyphs: Vec<u16> = usage.chars.iter().map(|&(_, gid, _)| gid).collect();
    glyphs.sort_unstable();
    glyphs.dedup();
    let subset = cached_subset(face, glyphs)?;
    let remapper = &subset.remapper;

    // CID -> new glyph id, two bytes each, CID 0 being .notdef.
    let mut cid_to_gid = Vec::with_capacity((usage.chars.len() + 1) * 2);
    cid_to_gid.extend_from_slice(&[0, 0]);
    for &(_, gid, _) in &usage.chars {
        cid_to_gid.extend_from_slice(&remapper.get(gid).unwrap_or(0).to_be_bytes());
    }

    let base_font = format!("{}+{}", subset_tag(&usage.chars), face.postscript_name);
    let base_font = Name(base_font.as_bytes());

    pdf.type0_font(refs.type0)
        .base_font(base_font)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(refs.cid_font)
        .to_unicode(refs.to_unicode);

    let mut cid = pdf.cid_font(refs.cid_font);
    cid.subtype(CidFontType::Type2)
        .base_font(base_font)
        .system_info(SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"Identity"), supplement: 0 })
        .font_descriptor(refs.descriptor)
        .default_width(face.to_pdf_units(f32::from(face.notdef_advance)))
        .cid_to_gid_map_stream(refs.cid_to_gid);
    cid.widths().consecutive(1, usage.chars.iter().map(|&(_, _, advance)| face.to_pdf_units(f32::from(advance))));
    cid.finish();

    let f = &face.face;
    let bbox = f.global_bounding_box();
    let units = |v: i16| face.to_pdf_units(f32::from(v));
    let cap_height = f.capital_height().unwrap_or(f.ascender());
    pdf.font_descriptor(refs.descriptor)
        .name(base_font)
        .flags(FontFlags::SYMBOLIC)
        .bbox(Rect::new(units(bbox.x_min), units(bbox.y_min), units(bbox.x_max), units(bbox.y_max)))
        .italic_angle(f.italic_angle())
        .ascent(units(f.ascender()))
        .descent(units(f.descender()))
        .cap_height(units(cap_height))
        // DejaVu has no usable stem width in its tables; this is the conventional estimate from the weight.
        .stem_v(80.0)
        .font_file2(refs.font_file);

    pdf.stream(refs.font_file, &subset.compressed)
        .filter(Filter::FlateDecode)
        .pair(Name(b"Length1"), i32::try_from(subset.length).unwrap_or(i32::MAX));

    let compressed = compress(&cid_to_gid)?;
    pdf.stream(refs.cid_to_gid, &compressed).filter(Filter::FlateDecode);

    let mut cmap =
        UnicodeCmap::new(Name(b"Custom"), SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"UCS"), supplement: 0 });
    for (index, &(c, _, _)) in usage.chars.iter().enumerate() {
        if let Ok(cid) = u16::try_from(index + 1) {
            cmap.pair(cid, c);
        }
    }
    let cmap = cmap.finish();
    let compressed = compress(cmap.as_slice())?;
    pdf.stream(refs.to_unicode, &compressed).filter(Filter::FlateDecode);
    Ok(())
}

/// A compressed font subset ready to embed, and how it renumbered the glyphs.
struct Subset {
    compressed: Vec<u8>,
    /// Uncompressed size, for `/Length1`.
    length: usize,
    remapper: GlyphRemapper,
}

/// Recently built subsets, most recent last. Documents of one issuance (and reprints) mostly share a glyph
/// set, and subsetting plus deflating the font is the bulk of a render, so this cuts repeat renders to a
/// fraction. Subsets are a pure function of (face, glyphs), so caching cannot change the output bytes.
/// (face name, sorted glyph ids, subset)
type SubsetCache = VecDeque<(&'static str, Vec<u16>, Arc<Subset>)>;
static SUBSETS: Mutex<SubsetCache> = Mutex::new(VecDeque::new());
const SUBSET_CACHE_LEN: usize = 64;

fn cached_subset(face: &FontFace, glyphs: Vec<u16>) -> Result<Arc<Subset>, DocumentError> {
    let name = face.postscript_name;
    {
        // A panic elsewhere while holding the lock cannot leave the cache inconsistent; keep using it.
        let mut cache = SUBSETS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(pos) = cache.iter().position(|(n, g, _)| *n == name && *g == glyphs) {
            if let Some(entry) = cache.remove(pos) {
                let subset = Arc::clone(&entry.2);
                cache.push_back(entry);
                return Ok(subset);
            }
        }
    }
    let remapper = GlyphRemapper::new_from_glyphs_sorted(&glyphs);
    let raw = subsetter::subset(&face.lean, 0, &remapper)
        .map_err(|e| DocumentError::Font(format!("subsetting {name}: {e}")))?;
    let subset = Arc::new(Subset { compressed: compress_font(&raw)?, length: raw.len(), remapper });
    let mut cache = SUBSETS.lock().unwrap_or_else(PoisonError::into_inner);
    if cache.len() >= SUBSET_CACHE_LEN {
        cache.pop_front();
    }
    cache.push_back((name, glyphs, Arc::clone(&subset)));
    Ok(subset)
}

/// Six capital letters derived from the subset's contents, as PDF requires for subset font names; derived
/// rather than random so the output stays reproducible.
fn subset_tag(chars: &[(char, u16, u16)]) -> String {
    let mut hasher = Sha256::new();
    for &(c, gid, _) in chars {
        hasher.update(u32::from(c).to_be_bytes());
        hasher.update(gid.to_be_bytes());
    }
    hasher.finalize().iter().take(6).map(|b| char::from(b'A' + b % 26)).collect()
}

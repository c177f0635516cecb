//! The size budgets of issue 19 (a one-passenger e-ticket ≤ 16 KB; everything one one-passenger flight
//! issuance stores ≤ 40 KB), the lean embedded font they rely on (no hinting, still Unicode), and that the
//! output stays byte-for-byte reproducible whether or not the font subset came from the cache.

use std::io::Read;
use std::path::Path;
use std::process::Command;

use sha2::{Digest, Sha256};
use tessera_documents::{
    render_emd, render_event_ticket, render_flight_itinerary, render_flight_ticket, render_invoice, samples,
};

const KB: usize = 1024;

#[test]
fn one_passenger_documents_stay_within_budget() {
    let ticket = samples::flight_ticket();
    let eticket = render_flight_ticket(&ticket).unwrap();
    let itinerary = render_flight_itinerary(std::slice::from_ref(&ticket)).unwrap();
    let invoice = render_invoice(&samples::invoice()).unwrap();
    assert!(eticket.len() <= 16 * KB, "e-ticket is {} bytes", eticket.len());
    // What a one-passenger flight issuance stores: the e-ticket, the combined itinerary and the invoice.
    let issuance = eticket.len() + itinerary.len() + invoice.len();
    assert!(issuance <= 40 * KB, "issuance stores {issuance} bytes");
    for (name, pdf) in [
        ("EMD", render_emd(&samples::emd()).unwrap()),
        ("event ticket", render_event_ticket(&samples::event_ticket()).unwrap()),
    ] {
        assert!(pdf.len() <= 16 * KB, "{name} is {} bytes", pdf.len());
    }
}

#[test]
fn embedded_font_is_one_subset_without_hinting() {
    let pdf = render_flight_ticket(&samples::flight_ticket()).unwrap();
    let fonts = font_programs(&pdf);
    assert_eq!(fonts.len(), 1, "one embedded face serves regular and bold text");
    let font = &fonts[0];
    let face = ttf_parser::RawFace::parse(font, 0).expect("embedded font parses");
    for tag in [b"cvt ", b"fpgm", b"prep", b"hdmx", b"VDMX", b"LTSH", b"gasp", b"kern", b"GPOS", b"cmap"] {
        assert!(face.table(ttf_parser::Tag::from_bytes(tag)).is_none(), "{} kept", String::from_utf8_lossy(tag));
    }
    let name = face.table(ttf_parser::Tag::from_bytes(b"name")).expect("copyright kept");
    assert!(name.len() < 1024, "name table of {} bytes: the license text was kept", name.len());

    // No glyph carries instructions either.
    let table = |tag: &[u8; 4]| face.table(ttf_parser::Tag::from_bytes(tag)).unwrap();
    let (head, loca, glyf, maxp) = (table(b"head"), table(b"loca"), table(b"glyf"), table(b"maxp"));
    let long = u16::from_be_bytes([head[50], head[51]]) != 0;
    let glyphs = usize::from(u16::from_be_bytes([maxp[4], maxp[5]]));
    let offset = |i: usize| {
        if long {
            u32::from_be_bytes(loca[4 * i..4 * i + 4].try_into().unwrap()) as usize
        } else {
            2 * usize::from(u16::from_be_bytes([loca[2 * i], loca[2 * i + 1]]))
        }
    };
    assert!(glyphs > 20, "{glyphs} glyphs");
    for gid in 0..glyphs {
        let glyph = &glyf[offset(gid)..offset(gid + 1)];
        if glyph.is_empty() {
            continue;
        }
        let contours = i16::from_be_bytes([glyph[0], glyph[1]]);
        if contours >= 0 {
            let at = 10 + 2 * contours as usize;
            assert_eq!(u16::from_be_bytes([glyph[at], glyph[at + 1]]), 0, "glyph {gid} has instructions");
        } else {
            // Composite: walk the components; none may announce instructions.
            let mut at = 10;
            loop {
                let flags = u16::from_be_bytes([glyph[at], glyph[at + 1]]);
                assert_eq!(flags & 0x0100, 0, "composite glyph {gid} has instructions");
                at += 4 + if flags & 1 != 0 { 4 } else { 2 };
                at += if flags & 0x08 != 0 {
                    2
                } else if flags & 0x40 != 0 {
                    4
                } else if flags & 0x80 != 0 {
                    8
                } else {
                    0
                };
                if flags & 0x20 == 0 {
                    break;
                }
            }
        }
    }
}

#[test]
fn diacritic_names_extract_exactly_in_regular_and_bold() {
    let dir = tempfile::tempdir().unwrap();
    let mut ticket = samples::flight_ticket();
    // The passenger name prints bold; the remarks regular.
    ticket.passenger_name = "Nguyễn Đặng Müller".to_owned();
    ticket.remarks = vec!["Contact: Đặng Thị Nguyễn, Jürgen Müller".to_owned()];
    let path = dir.path().join("ticket.pdf");
    std::fs::write(&path, render_flight_ticket(&ticket).unwrap()).unwrap();
    let text = pdftotext(&path);
    for needle in ["Nguyễn Đặng Müller", "Đặng Thị Nguyễn, Jürgen Müller"] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }

    let mut event = samples::event_ticket();
    event.holder = "Đặng Müller Nguyễn".to_owned();
    let path = dir.path().join("event.pdf");
    std::fs::write(&path, render_event_ticket(&event).unwrap()).unwrap();
    assert!(pdftotext(&path).contains("Đặng Müller Nguyễn"));
}

#[test]
fn same_input_gives_same_bytes_with_the_subset_cache_cold_or_warm() {
    let view = samples::flight_ticket();
    let first = Sha256::digest(render_flight_ticket(&view).unwrap());
    // Enough renders with other glyph sets to push the first one's subset out of the cache.
    let mut other = view.clone();
    for i in 0..100u32 {
        other.passenger_name = format!("NGUYỄN/VĂN {} MR", char::from_u32(0x100 + i).unwrap());
        render_flight_ticket(&other).unwrap();
    }
    let again = Sha256::digest(render_flight_ticket(&view).unwrap());
    assert_eq!(first, again);
    assert_eq!(again, Sha256::digest(render_flight_ticket(&view).unwrap()));
}

/// The decompressed `/FontFile2` programs of `pdf` (uncompressed objects, as this crate writes them).
fn font_programs(pdf: &[u8]) -> Vec<Vec<u8>> {
    let text = String::from_utf8_lossy(pdf);
    let mut out = Vec::new();
    for (at, _) in text.match_indices("/FontFile2 ") {
        let id: String = text[at + 11..].chars().take_while(char::is_ascii_digit).collect();
        let header = format!("\n{id} 0 obj\n");
        let start = find(pdf, header.as_bytes()).expect("font file object") + header.len();
        let data = find(&pdf[start..], b"stream\n").expect("stream") + start + 7;
        let end = find(&pdf[data..], b"\nendstream").expect("endstream") + data;
        let mut program = Vec::new();
        flate2::read::ZlibDecoder::new(&pdf[data..end]).read_to_end(&mut program).unwrap();
        out.push(program);
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn pdftotext(path: &Path) -> String {
    let out = Command::new("pdftotext").args(["-enc", "UTF-8"]).arg(path).arg("-").output().expect("pdftotext");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

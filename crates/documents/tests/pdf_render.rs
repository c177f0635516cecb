//! End-to-end checks of the rendered PDFs with the poppler and qpdf command-line tools.

use std::path::Path;
use std::process::Command;

use tessera_documents::{render_emd, render_flight_itinerary, render_flight_ticket, samples};

fn write_temp(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn qpdf_check(path: &Path) {
    let out = Command::new("qpdf").arg("--check").arg(path).output().expect("qpdf installed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "qpdf --check failed: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("No syntax or stream encoding errors"), "{stdout}");
}

fn npages(path: &Path) -> usize {
    let out = Command::new("qpdf").arg("--show-npages").arg(path).output().expect("qpdf installed");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

fn pdftotext(path: &Path) -> String {
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-layout"])
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn ticket_is_valid_and_text_extracts_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let view = samples::flight_ticket();
    assert_eq!(view.journeys.len(), 2);
    assert_eq!(view.journeys[0].segments.len(), 2);
    assert!(view.watermark.is_none());
    let pdf = render_flight_ticket(&view).unwrap();
    let path = write_temp(dir.path(), "ticket.pdf", &pdf);
    qpdf_check(&path);
    let text = pdftotext(&path);
    for needle in [
        "NGUYỄN/VĂN A MR",
        "157-6752209683",
        "X7K2PQ",
        "YQ",
        "4,893.00",
        "Electronic Ticket — Itinerary Receipt",
        "Layover in Doha 3h 20m",
        "157-2400012345",
        "Tribhuvan International Airport, Kathmandu",
        "NON-ENDORSABLE",
        "Tour code: HWT27SUMMER",
        "Conditions of contract",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn emd_receipt_is_one_valid_page() {
    let dir = tempfile::tempdir().unwrap();
    let view = samples::emd();
    let pdf = render_emd(&view).unwrap();
    let path = write_temp(dir.path(), "emd.pdf", &pdf);
    qpdf_check(&path);
    assert_eq!(npages(&path), 1);
    let text = pdftotext(&path);
    for needle in ["ÇELİK/ÖMER MR", "157-2400012345", "157-6752209683", "X7K2PQ", "6,500.00"] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn rendering_is_deterministic() {
    let view = samples::flight_ticket();
    assert_eq!(render_flight_ticket(&view).unwrap(), render_flight_ticket(&view).unwrap());
    let mut void = view.clone();
    void.watermark = Some("VOID".to_owned());
    assert_eq!(render_flight_ticket(&void).unwrap(), render_flight_ticket(&void).unwrap());
    let emd = samples::emd();
    assert_eq!(render_emd(&emd).unwrap(), render_emd(&emd).unwrap());
}

#[test]
fn output_has_no_clock_or_random_data() {
    let pdf = render_flight_ticket(&samples::flight_ticket()).unwrap();
    let raw = String::from_utf8_lossy(&pdf);
    assert!(!raw.contains("/CreationDate"));
    assert!(!raw.contains("/ModDate"));
    assert!(raw.contains("/Producer(Tessera)"));
}

#[test]
fn twelve_segments_continue_on_further_pages() {
    let dir = tempfile::tempdir().unwrap();
    let view = samples::flight_ticket_with_segments(12);
    let pdf = render_flight_ticket(&view).unwrap();
    let path = write_temp(dir.path(), "long.pdf", &pdf);
    qpdf_check(&path);
    let pages = npages(&path);
    assert!(pages >= 2, "{pages} pages");
    let text = pdftotext(&path);
    // Every coupon made it into the document, and pages are numbered.
    for i in 0..12 {
        assert!(text.contains(&format!("QR {}", 600 + i)), "segment {i} missing");
    }
    assert!(text.contains(&format!("Page {pages} of {pages}")));
}

#[test]
fn itinerary_puts_each_passenger_on_own_pages() {
    let dir = tempfile::tempdir().unwrap();
    let names = ["NGUYỄN/VĂN A MR", "ÇELİK/ÖMER MR", "MAHARJAN/RABI MR"];
    let views: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut v = samples::flight_ticket();
            v.passenger_name = (*name).to_owned();
            v.ticket_number = format!("157-675220968{i}");
            v
        })
        .collect();
    let pdf = render_flight_itinerary(&views).unwrap();
    let path = write_temp(dir.path(), "itinerary.pdf", &pdf);
    qpdf_check(&path);
    assert!(npages(&path) >= 3);
    let text = pdftotext(&path);
    for name in names {
        assert!(text.contains(name), "missing {name}");
    }
    assert!(render_flight_itinerary(&[]).is_err());
}

#[test]
fn watermark_and_overlong_text_stay_valid() {
    let dir = tempfile::tempdir().unwrap();
    let mut view = samples::flight_ticket();
    view.watermark = Some("VOID".to_owned());
    view.passenger_name = "WOLFESCHLEGELSTEINHAUSENBERGERDORFF/HUBERT BLAINE WOLFE MR".repeat(2);
    view.agency.name = "An Extraordinarily Long Travel Agency Name That Would Never Fit".repeat(3);
    view.journeys[0].segments[0].from_name = "Aéroport international ".repeat(20);
    view.journeys[0].segments[0].baggage = "2 pieces of 23 Kg each plus one personal item".to_owned();
    view.endorsement = "VALID ON QR ONLY. ".repeat(80);
    view.remarks.push("A\tremark\nwith control characters and a missing glyph: \u{10FFFD} 𝄞".to_owned());
    view.fare.taxes =
        (0..25).map(|i| tessera_documents::TaxLine { code: format!("T{i}"), amount: format!("{i},000.00") }).collect();
    let pdf = render_flight_ticket(&view).unwrap();
    let path = write_temp(dir.path(), "void.pdf", &pdf);
    qpdf_check(&path);
    // Diagonal text comes out of pdftotext interleaved with the page text, so check the mark is drawn
    // through the translucent graphics state instead.
    let raw = String::from_utf8_lossy(&pdf);
    assert!(raw.contains("/ca 0.16"));
    assert!(!String::from_utf8_lossy(&render_flight_ticket(&samples::flight_ticket()).unwrap()).contains("/ca "));
    let text = pdftotext(&path);
    assert!(text.contains("…"), "long text should be ellipsised");
    // Characters without a glyph still extract as themselves.
    assert!(text.contains('𝄞'), "{text}");
}

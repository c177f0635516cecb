//! End-to-end checks of the rendered PDFs with the poppler and qpdf command-line tools.

use std::path::Path;
use std::process::Command;

use tessera_documents::{
    clear_qr_memo, render_emd, render_event_ticket, render_flight_itinerary, render_flight_ticket, render_invoice,
    samples,
};

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

/// The document title as a viewer shows it (non-ASCII titles are stored UTF-16 encoded).
fn pdf_title(path: &Path) -> String {
    let out = Command::new("pdfinfo").args(["-enc", "UTF-8"]).arg(path).output().expect("pdfinfo installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let info = String::from_utf8(out.stdout).unwrap();
    info.lines().find_map(|l| l.strip_prefix("Title:")).unwrap_or_default().trim().to_owned()
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
        "GATE CODES",
        "QR 653 · coupon 1",
        "QR 40 · coupon 3",
        "08 Aug 2027 · CDG–KTM",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }

    // Only coupons with a code get a cell: none at all, and the section is gone.
    let mut used = view.clone();
    used.journeys[1].segments[0].gate_code.clear();
    let text = pdftotext(&write_temp(dir.path(), "used.pdf", &render_flight_ticket(&used).unwrap()));
    assert!(text.contains("QR 653 · coupon 1") && !text.contains("QR 40 · coupon 3"), "{text}");
    let mut none = view;
    none.journeys.iter_mut().flat_map(|j| &mut j.segments).for_each(|s| s.gate_code.clear());
    let text = pdftotext(&write_temp(dir.path(), "none.pdf", &render_flight_ticket(&none).unwrap()));
    assert!(!text.contains("GATE CODES") && !text.contains("coupon 1"), "{text}");
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

/// The memo of encoded QR codes is only a cache: a render that encodes every code and one that finds them all
/// encoded write the same bytes, and the e-ticket's codes drawn in the itinerary are the same bytes too.
#[test]
fn encoded_codes_are_reused_without_changing_a_byte() {
    let view = samples::flight_ticket();
    clear_qr_memo();
    let cold = render_flight_ticket(&view).unwrap();
    let warm = render_flight_ticket(&view).unwrap();
    assert_eq!(cold, warm);
    let itinerary_warm = render_flight_itinerary(std::slice::from_ref(&view)).unwrap();
    clear_qr_memo();
    assert_eq!(render_flight_itinerary(std::slice::from_ref(&view)).unwrap(), itinerary_warm);
    assert!(String::from_utf8_lossy(&cold).contains("/ImageMask true"), "the sample carries gate codes");
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

#[test]
fn event_ticket_is_one_valid_page_with_every_detail() {
    let dir = tempfile::tempdir().unwrap();
    let view = samples::event_ticket();
    assert!(view.watermark.is_none());
    let pdf = render_event_ticket(&view).unwrap();
    let path = write_temp(dir.path(), "event.pdf", &pdf);
    qpdf_check(&path);
    assert_eq!(npages(&path), 1);
    let text = pdftotext(&path);
    for needle in [
        "Ömer Çelik",
        "Formula 1 Dutch",
        "3-day pass",
        "Circuit Zandvoort",
        "Sat 28 Aug 2027 09:00 (UTC+02:00)",
        "Sat 28 Aug 2027 18:30 (UTC+02:00)",
        "Grandstand Hairpin 1 · Category 1",
        "Hairpin 1 · Block C",
        "12",
        "27",
        "EVT4QZ",
        "0f8e6c1b2a3d4e5f60718293a4b5c6d7_bkn",
        "3c9a2b7e5d1f4a6b8c0d2e4f6a8b0c1d_bkd",
        "Day 2 of 3 — Sat 28 Aug 2027",
        "EUR 489.00",
        "TSR1-3C9A2B7E-Q7XK2MP9VR4TW8YZBN3C",
        "Orange Grid Travel B.V.",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    // The event name may wrap, but every word of it is printed.
    for word in view.event_name.split_whitespace() {
        assert!(text.contains(word), "missing {word:?} of the event name");
    }
    assert_eq!(pdf_title(&path), "Event ticket 3c9a2b7e5d1f4a6b8c0d2e4f6a8b0c1d_bkd — Ömer Çelik");
    let raw = String::from_utf8_lossy(&pdf);
    assert!(!raw.contains("/CreationDate"));
    assert!(!raw.contains("/ca "), "no watermark state without a watermark");
}

#[test]
fn event_ticket_without_holder_or_seat_prints_dashes_and_stays_valid() {
    let dir = tempfile::tempdir().unwrap();
    let mut view = samples::event_ticket();
    view.holder = String::new();
    view.section = String::new();
    view.row = " ".to_owned();
    view.seat = String::new();
    view.ends = String::new();
    view.label = String::new();
    view.watermark = Some("CANCELLED".to_owned());
    view.event_name = "Liverpool FC vs Arsenal — Premier League, Matchday 27 ".repeat(5);
    view.venue = "Anfield, Anfield Road, Liverpool L4 0TH, United Kingdom ".repeat(5);
    let pdf = render_event_ticket(&view).unwrap();
    let path = write_temp(dir.path(), "event-void.pdf", &pdf);
    qpdf_check(&path);
    assert_eq!(npages(&path), 1, "overlong text must not push the ticket onto a second page");
    assert!(String::from_utf8_lossy(&pdf).contains("/ca 0.16"));
    let text = pdftotext(&path);
    assert!(text.matches('—').count() >= 4, "{text}");
    assert!(text.contains("…"), "long event name should be ellipsised");
    assert!(text.contains("TSR1-3C9A2B7E-Q7XK2MP9VR4TW8YZBN3C"));

    // A payload too long for one line is broken over lines, never cut. Other text shares the payload's
    // lines in pdftotext's output, so compare the number of K's with a ticket whose payload has none.
    let count_k = |payload: String| {
        let mut view = samples::event_ticket();
        view.qr_payload = payload;
        let path = write_temp(dir.path(), "event-long-payload.pdf", &render_event_ticket(&view).unwrap());
        qpdf_check(&path);
        pdftotext(&path).matches('K').count()
    };
    assert_eq!(count_k("K".repeat(90)) - count_k("Z".repeat(90)), 90);

    // A payload beyond QR capacity is an error, not a broken page.
    let mut huge = samples::event_ticket();
    huge.qr_payload = "x".repeat(5000);
    assert!(matches!(render_event_ticket(&huge), Err(tessera_documents::DocumentError::Qr(_))));
}

#[test]
fn invoice_is_valid_and_text_extracts_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let view = samples::invoice();
    assert_eq!(view.lines.len(), 3);
    let pdf = render_invoice(&view).unwrap();
    let path = write_temp(dir.path(), "invoice.pdf", &pdf);
    qpdf_check(&path);
    assert_eq!(npages(&path), 1);
    let text = pdftotext(&path);
    for needle in [
        "Invoice",
        "OGT-2027-000482",
        "14 Feb 2027",
        "Orange Grid Travel B.V.",
        "VAT NL859123456B01",
        "Ömer Çelik",
        "34728 Kadıköy, İstanbul, Türkiye",
        "PO-2027-0815",
        "0f8e6c1b2a3d4e5f60718293a4b5c6d7_bkn",
        "EVT4QZ",
        "Formula 1 Dutch Grand Prix — Circuit Zandvoort",
        "Paddock Club hospitality upgrade",
        "Booking fee",
        "21%",
        "808.26",
        "169.74",
        "978.00",
        "EUR 1,109.92",
        "EUR 233.08",
        "EUR 1,343.00",
        "Prices include VAT.",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    // Descriptions wrap inside their column; every word is there.
    for line in &view.lines {
        for word in line.description.split_whitespace() {
            assert!(text.contains(word), "missing {word:?} of {:?}", line.description);
        }
    }
    assert!(!text.contains("Credits invoice"));
    assert_eq!(pdf_title(&path), "Invoice OGT-2027-000482");
}

#[test]
fn credit_invoice_names_the_invoice_it_credits() {
    let dir = tempfile::tempdir().unwrap();
    let mut view = samples::invoice();
    view.title = "Credit invoice".to_owned();
    view.number = "OGT-2027-000517".to_owned();
    view.credits_number = "OGT-2027-000482".to_owned();
    let pdf = render_invoice(&view).unwrap();
    let path = write_temp(dir.path(), "credit.pdf", &pdf);
    qpdf_check(&path);
    let text = pdftotext(&path);
    for needle in ["Credit invoice", "OGT-2027-000517", "Credits invoice OGT-2027-000482"] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert_eq!(pdf_title(&path), "Credit invoice OGT-2027-000517");
}

#[test]
fn many_invoice_lines_continue_on_further_pages() {
    let dir = tempfile::tempdir().unwrap();
    let view = samples::invoice_with_lines(80);
    let pdf = render_invoice(&view).unwrap();
    let path = write_temp(dir.path(), "invoice-long.pdf", &pdf);
    qpdf_check(&path);
    let pages = npages(&path);
    assert!(pages >= 2, "{pages} pages");
    let text = pdftotext(&path);
    for i in 1..=80 {
        // The trailing space keeps "ticket 1" from matching "ticket 10" (the quantity column follows).
        assert!(text.contains(&format!("Booking fee, ticket {i} ")), "line {i} missing");
    }
    // The column header is repeated on every page the table continues on.
    assert_eq!(text.matches("DESCRIPTION").count(), pages);
    assert!(text.contains(&format!("Page {pages} of {pages}")));
    assert!(text.contains("EUR 1,343.00"));

    let empty = tessera_documents::InvoiceView::default();
    let path = write_temp(dir.path(), "invoice-empty.pdf", &render_invoice(&empty).unwrap());
    qpdf_check(&path);
    assert!(pdftotext(&path).contains("No lines"));
}

#[test]
fn event_ticket_and_invoice_render_deterministically() {
    let event = samples::event_ticket();
    assert_eq!(render_event_ticket(&event).unwrap(), render_event_ticket(&event).unwrap());
    let mut void = event.clone();
    void.watermark = Some("VOID".to_owned());
    assert_eq!(render_event_ticket(&void).unwrap(), render_event_ticket(&void).unwrap());
    let invoice = samples::invoice();
    assert_eq!(render_invoice(&invoice).unwrap(), render_invoice(&invoice).unwrap());
    let long = samples::invoice_with_lines(80);
    assert_eq!(render_invoice(&long).unwrap(), render_invoice(&long).unwrap());
}

/// The text of pages `first..=last` only.
fn pdftotext_pages(path: &Path, first: usize, last: usize) -> String {
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-layout", "-f", &first.to_string(), "-l", &last.to_string()])
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A document rendered with a status mark is valid, prints the mark (large, and as "Status: MARK") so that it
/// extracts as text, stays on as many pages as without it, and has other bytes and so another SHA-256.
fn check_status_mark(dir: &Path, name: &str, unmarked: &[u8], marked: &[u8], mark: &str) {
    let plain_path = write_temp(dir, &format!("{name}-plain.pdf"), unmarked);
    let path = write_temp(dir, &format!("{name}-{mark}.pdf"), marked);
    qpdf_check(&path);
    assert_eq!(npages(&path), npages(&plain_path), "{name}: the stamp must not add a page");
    let text = pdftotext(&path);
    assert!(text.contains(&format!("Status: {mark}")), "{name}: missing status line in:\n{text}");
    // Once in the stamp's large type, once in its status line.
    assert!(text.matches(mark).count() >= 2, "{name}: mark {mark:?} printed once or not at all in:\n{text}");
    assert!(!pdftotext(&plain_path).contains("Status:"), "{name}: unmarked document shows a status line");
    assert_ne!(unmarked, marked, "{name}: the mark must change the bytes");
    assert_ne!(tessera_documents::sha256_hex(unmarked), tessera_documents::sha256_hex(marked));
}

#[test]
fn status_mark_is_stamped_on_flight_ticket_emd_and_event_ticket() {
    let dir = tempfile::tempdir().unwrap();
    let flight = samples::flight_ticket();
    let emd = samples::emd();
    let event = samples::event_ticket();
    assert!(flight.status_mark.is_none() && emd.status_mark.is_none() && event.status_mark.is_none());
    let (flight_pdf, emd_pdf, event_pdf) =
        (render_flight_ticket(&flight).unwrap(), render_emd(&emd).unwrap(), render_event_ticket(&event).unwrap());
    assert_eq!(npages(&write_temp(dir.path(), "emd-one.pdf", &emd_pdf)), 1);
    assert_eq!(npages(&write_temp(dir.path(), "event-one.pdf", &event_pdf)), 1);

    for mark in ["VOID", "REFUNDED", "REFUND PENDING"] {
        let mut view = flight.clone();
        view.status_mark = Some(mark.to_owned());
        let marked = render_flight_ticket(&view).unwrap();
        assert_eq!(marked, render_flight_ticket(&view).unwrap(), "stamped rendering is deterministic");
        check_status_mark(dir.path(), "flight", &flight_pdf, &marked, mark);

        let mut view = emd.clone();
        view.status_mark = Some(mark.to_owned());
        let marked = render_emd(&view).unwrap();
        assert_eq!(marked, render_emd(&view).unwrap());
        check_status_mark(dir.path(), "emd", &emd_pdf, &marked, mark);

        let mut view = event.clone();
        view.status_mark = Some(mark.to_owned());
        let marked = render_event_ticket(&view).unwrap();
        assert_eq!(marked, render_event_ticket(&view).unwrap());
        check_status_mark(dir.path(), "event", &event_pdf, &marked, mark);
    }

    // Different marks give different files: a VOID ticket later refunded is re-rendered with a new hash.
    let with = |mark: &str| {
        let mut view = flight.clone();
        view.status_mark = Some(mark.to_owned());
        render_flight_ticket(&view).unwrap()
    };
    assert_ne!(with("VOID"), with("REFUNDED"));
    // A blank mark is no mark: the file is the unmarked one, byte for byte.
    assert_eq!(with("  "), flight_pdf);
}

#[test]
fn status_mark_stays_with_its_passenger_in_the_itinerary_and_on_continuation_pages() {
    let dir = tempfile::tempdir().unwrap();
    let plain = samples::flight_ticket();
    let mut void = samples::flight_ticket();
    void.passenger_name = "ÇELİK/ÖMER MR".to_owned();
    void.status_mark = Some("VOID".to_owned());
    let pdf = render_flight_itinerary(&[plain.clone(), void.clone()]).unwrap();
    let path = write_temp(dir.path(), "itinerary-void.pdf", &pdf);
    qpdf_check(&path);
    let plain_pages = npages(&write_temp(dir.path(), "plain.pdf", &render_flight_ticket(&plain).unwrap()));
    assert_eq!(npages(&path), 2 * plain_pages);
    assert!(!pdftotext_pages(&path, 1, plain_pages).contains("VOID"), "the unmarked passenger got the stamp");
    let first = pdftotext_pages(&path, plain_pages + 1, plain_pages + 1);
    assert!(first.contains("Status: VOID") && first.contains("ÇELİK/ÖMER MR"), "{first}");
    assert_ne!(pdf, render_flight_itinerary(&[plain.clone(), plain.clone()]).unwrap());

    // Pages after the first repeat the mark in their heading, kept whole even when it is long.
    let mut long = samples::flight_ticket_with_segments(12);
    long.status_mark = Some("REFUND PENDING".to_owned());
    let path = write_temp(dir.path(), "long-refund-pending.pdf", &render_flight_ticket(&long).unwrap());
    qpdf_check(&path);
    let pages = npages(&path);
    assert!(pages >= 2);
    for page in 2..=pages {
        let text = pdftotext_pages(&path, page, page);
        assert!(text.contains("Electronic Ticket (continued)") && text.contains("REFUND PENDING"), "{text}");
    }
}

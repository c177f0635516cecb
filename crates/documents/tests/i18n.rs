//! Documents in every language: every message exists in every locale, the font draws every character the
//! locales print, and every document kind renders in every language with its words, dates and amounts as
//! `pdftotext` reads them.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use fluent_bundle::FluentResource;
use tessera_documents::i18n::{self, Lang};
use tessera_documents::{
    render_emd, render_event_ticket, render_flight_itinerary, render_flight_ticket, render_invoice, samples,
};

fn pdftotext(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-layout"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn assert_contains(text: &str, needles: &[&str], what: &str) {
    let missing: Vec<_> = needles.iter().filter(|n| !text.contains(*n)).collect();
    assert!(missing.is_empty(), "{what}: missing {missing:?} in:\n{text}");
}

#[test]
fn every_locale_parses_and_defines_the_same_messages() {
    let reference: BTreeSet<String> = i18n::message_ids(Lang::En).into_iter().collect();
    assert!(reference.len() > 100, "the English catalog lists {} messages", reference.len());
    for lang in Lang::ALL {
        for source in lang.sources() {
            if let Err((_, errors)) = FluentResource::try_new((*source).to_owned()) {
                panic!("{}: Fluent syntax errors {errors:?}", lang.code());
            }
        }
        let ids: Vec<String> = i18n::message_ids(lang);
        let unique: BTreeSet<String> = ids.iter().cloned().collect();
        assert_eq!(unique.len(), ids.len(), "{}: a message is defined twice", lang.code());
        let missing: Vec<_> = reference.difference(&unique).collect();
        let extra: Vec<_> = unique.difference(&reference).collect();
        assert!(missing.is_empty(), "{} lacks translations of {missing:?}", lang.code());
        assert!(extra.is_empty(), "{} has messages English lacks: {extra:?}", lang.code());
        for id in &reference {
            assert!(i18n::has_message(lang, id), "{}: {id} did not load", lang.code());
        }
    }
}

/// Message ids named in the code: the arguments of `t(..)`, `ta(..)`, `t_args(..)` and every kebab-case
/// string literal (tables of ids such as the notices and the coupon statuses).
fn ids_in_code(source: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut rest = source;
    while let Some(start) = rest.find('"') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('"') else { break };
        let literal = &after[..end];
        let before = rest[..start].trim_end();
        let compact = before.replace(' ', "");
        let called = ["t(", "ta(", "t_args(lang,", "t(lang,"].iter().any(|call| {
            // `t(` and not `format(`: the call's name starts the identifier.
            compact.strip_suffix(call).is_some_and(|head| !head.ends_with(|c: char| c.is_alphanumeric() || c == '_'))
        });
        let kebab = literal.contains('-')
            && literal.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && literal.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if called || kebab {
            ids.insert(literal.to_owned());
        }
        rest = &after[end + 1..];
    }
    ids
}

#[test]
fn every_message_the_code_names_exists_in_every_locale() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = [
        "src/pdf/blocks.rs",
        "src/pdf/emd.rs",
        "src/pdf/event.rs",
        "src/pdf/flight.rs",
        "src/pdf/invoice.rs",
        "src/pdf/mod.rs",
        "../app/src/views.rs",
        "../app/src/event_views.rs",
        "../app/src/mail.rs",
    ];
    let mut named = BTreeSet::new();
    for file in files {
        let source = std::fs::read_to_string(root.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        named.extend(ids_in_code(&source));
    }
    assert!(named.len() > 100, "found only {} ids in the code: {named:?}", named.len());
    for lang in Lang::ALL {
        let missing: Vec<_> = named.iter().filter(|id| !i18n::has_message(lang, id)).collect();
        assert!(missing.is_empty(), "{} lacks {missing:?}", lang.code());
    }
}

#[test]
fn the_font_draws_every_character_of_every_locale() {
    let font = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fonts/DejaVuSans.ttf")).unwrap();
    let face = ttf_parser::Face::parse(&font, 0).unwrap();
    for lang in Lang::ALL {
        let mut chars: BTreeSet<char> = lang.sources().iter().flat_map(|s| s.chars()).collect();
        // What the formatting functions add: the đồng sign and Vietnamese names.
        chars.extend("₫ NGUYỄN Nguyễn Trần Thị Ánh Nguyệt Đức".chars());
        let missing: Vec<char> =
            chars.into_iter().filter(|c| !c.is_control() && face.glyph_index(*c).is_none()).collect();
        assert!(missing.is_empty(), "{}: no glyph for {missing:?}", lang.code());
    }
}

#[test]
fn every_document_renders_in_vietnamese() {
    let ticket = pdftotext(&render_flight_ticket(&samples::flight_ticket_vi()).unwrap());
    assert_contains(
        &ticket,
        &[
            "Vé điện tử — Phiếu hành trình",
            "HÀNH KHÁCH",
            "NGUYỄN/THỊ HƯƠNG MS",
            "Người lớn (ADT)",
            "NGÀY XUẤT",
            "14/02/2027",
            "T5, 22/07/2027 10:10",
            "KHỞI HÀNH",
            "CHI TIẾT GIÁ VÉ",
            "Giá vé cơ bản",
            "1.234.567,00 NPR",
            "2.350.000 ₫",
            "THÔNG TIN QUAN TRỌNG",
            "Trang 1/",
            "Có thể sử dụng",
        ],
        "e-ticket",
    );
    assert!(!ticket.to_lowercase().contains("passenger"), "English label on a Vietnamese ticket:\n{ticket}");

    let itinerary =
        pdftotext(&render_flight_itinerary(&[samples::flight_ticket_vi(), samples::flight_ticket_vi()]).unwrap());
    assert_contains(&itinerary, &["Vé điện tử (tiếp theo)", "NGUYỄN/THỊ HƯƠNG MS", "Chiều về"], "itinerary");

    let emd = pdftotext(&render_emd(&samples::emd_vi()).unwrap());
    assert_contains(
        &emd,
        &["Chứng từ dịch vụ điện tử (EMD) — Biên nhận", "SỐ CHỨNG TỪ", "VÉ LIÊN QUAN", "2.350.000 ₫", "14/02/2027"],
        "EMD",
    );

    let event = pdftotext(&render_event_ticket(&samples::event_ticket_vi()).unwrap());
    assert_contains(
        &event,
        &[
            "Vé sự kiện",
            "BẮT ĐẦU",
            "T7, 28/08/2027 09:00 (UTC+02:00)",
            "NGƯỜI GIỮ VÉ",
            "Trần Thị Ánh Nguyệt",
            "1.234.567,89 EUR",
            "GHẾ",
            "Vào cửa",
        ],
        "event ticket",
    );

    let invoice = pdftotext(&render_invoice(&samples::invoice_vi()).unwrap());
    assert_contains(
        &invoice,
        &["Hóa đơn", "SỐ HÓA ĐƠN", "BÊN MUA", "Nguyễn Văn Đức", "10,5%", "1.234.567,89 EUR", "Tổng cộng", "14/02/2027"],
        "invoice",
    );
}

#[test]
fn english_documents_keep_their_english_words() {
    let ticket = pdftotext(&render_flight_ticket(&samples::flight_ticket()).unwrap());
    assert_contains(
        &ticket,
        &["Electronic Ticket — Itinerary Receipt", "Passenger", "Adult (ADT)", "Page 1 of"],
        "e-ticket",
    );
    let invoice = pdftotext(&render_invoice(&samples::invoice()).unwrap());
    assert_contains(&invoice, &["INVOICE NUMBER", "Net total"], "invoice");
}

#[test]
fn the_pdf_declares_its_language_and_renders_deterministically() {
    for (view, code) in [(samples::flight_ticket(), "/Lang(en)"), (samples::flight_ticket_vi(), "/Lang(vi)")] {
        let first = render_flight_ticket(&view).unwrap();
        assert_eq!(first, render_flight_ticket(&view).unwrap(), "same view, same language, same bytes");
        let text = String::from_utf8_lossy(&first);
        assert!(text.contains(code), "{code} missing");
    }
    assert_ne!(
        render_flight_ticket(&samples::flight_ticket()).unwrap(),
        render_flight_ticket(&tessera_documents::FlightTicketView { lang: Lang::Vi, ..samples::flight_ticket() })
            .unwrap()
    );
}

//! Documents and e-mails in the booking's language: chosen in the intake document or by the agency's default,
//! validated at the edge, fixed with the booking, and seen in the PDFs and the e-mail a traveller gets.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_core::agency::Agency;
use tessera_core::user::Role;

use crate::helpers::{
    example, expect_problem, new_agency, op, readable_text, spawn_app_with, Backend, Options, TestApp,
};
use crate::smtp::SmtpSink;

/// A VND agency with an agent; returns the agency and the agent's token.
async fn hanoi(app: &TestApp) -> (Agency, String) {
    let agency = new_agency(&app.app, "Hanoi Travel", "VND", "100000000").await;
    let agent = app.app.create_user(&op(), "hanoi", "hanoi-password", Role::Agent, Some(agency.id)).await.unwrap();
    (agency, app.app.issue_token(&agent).unwrap().access_token)
}

/// The family booking with diacritics in a name, optionally in a language.
fn family(pnr: &str, language: Option<&str>) -> Value {
    let mut doc = example("family");
    doc["pnr"] = json!(pnr);
    doc["passengers"][0]["surname"] = json!("NGUYỄN");
    doc["passengers"][0]["given_name"] = json!("VĂN ĐỨC");
    if let Some(language) = language {
        doc["language"] = json!(language);
    }
    doc
}

async fn pdf(app: &TestApp, path: &str, token: &str) -> String {
    let res = app.get(path, token).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    let bytes = res.bytes().await.unwrap();
    // Words wrapped by the layout read as one phrase.
    readable_text(&bytes).split_whitespace().collect::<Vec<_>>().join(" ")
}

fn assert_shows(text: &str, what: &str, expected: &[&str]) {
    let missing: Vec<_> = expected.iter().filter(|e| !text.contains(*e)).collect();
    assert!(missing.is_empty(), "{what} lacks {missing:?}:\n{text}");
}

/// Issues the booking and returns (ticket PDF text of pax-001, itinerary text, an EMD's text, invoice text) and
/// the issuance's reference.
async fn issued_documents(app: &TestApp, token: &str, booking: &Value) -> ([String; 4], String) {
    let id = booking["id"].as_str().unwrap();
    let (status, issued) = app.issue(token, id, json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let tickets = issued["tickets"].as_array().unwrap();
    let first = tickets.iter().find(|t| t["passenger_id"] == "pax-001" && t["type"] == "TKT").unwrap();
    let emd = tickets.iter().find(|t| t["type"] == "EMD").unwrap();
    let reference = issued["ticketReferenceID"].as_str().unwrap();
    let invoices: Value = app.get(&format!("/api/v1/bookings/{id}/invoices"), token).await.json().await.unwrap();
    let invoice = invoices[0]["number"]
        .as_u64()
        .map(|n| n.to_string())
        .or_else(|| invoices[0]["number"].as_str().map(str::to_owned));
    let invoice = invoice.unwrap_or_else(|| panic!("no invoice number: {invoices}"));
    let documents = [
        pdf(app, &format!("/api/v1/tickets/{}/pdf", first["number"].as_str().unwrap()), token).await,
        pdf(app, &format!("/api/v1/issuances/{reference}/pdf"), token).await,
        pdf(app, &format!("/api/v1/tickets/{}/pdf", emd["number"].as_str().unwrap()), token).await,
        pdf(app, &format!("/api/v1/bookings/{id}/invoices/{invoice}/pdf"), token).await,
    ];
    (documents, reference.to_owned())
}

fn assert_vietnamese(documents: &[String; 4]) {
    let [ticket, itinerary, emd, invoice] = documents;
    assert_shows(
        ticket,
        "the e-ticket",
        &[
            "Vé điện tử — Phiếu hành trình",
            "HÀNH KHÁCH",
            "NGUYỄN/VĂN ĐỨC MR",
            "Người lớn (ADT)",
            "T7, 10/04/2027 08:00",
            "KHỞI HÀNH",
            "2 giờ 10 phút",
            "Giá vé cơ bản",
            "2.000.000 ₫",
            "2.350.000 ₫",
            "12 Kg xách tay, 23 Kg ký gửi",
            "THÔNG TIN QUAN TRỌNG",
            "Trang 1/",
            "MÃ LÊN CỬA",
            "phiếu bay 1",
        ],
    );
    assert!(!ticket.to_lowercase().contains("passenger"), "an English label on a Vietnamese ticket:\n{ticket}");
    assert_shows(itinerary, "the itinerary", &["Vé điện tử", "NGUYỄN/VĂN ĐỨC MR", "TRAN/THI B", "Hành trình"]);
    assert_shows(emd, "the EMD", &["Chứng từ dịch vụ điện tử (EMD) — Biên nhận", "VÉ LIÊN QUAN", "THANH TOÁN"]);
    assert_shows(invoice, "the invoice", &["Hóa đơn", "SỐ HÓA ĐƠN", "BÊN MUA", "Tổng cộng", "Thuế suất GTGT"]);
}

async fn a_booking_in_vietnamese_gets_vietnamese_documents(app: TestApp) {
    let (_, token) = hanoi(&app).await;
    let booking = app.book(&token, &family("VIE001", Some("vi-VN"))).await;
    assert_eq!(booking["language"], "vi", "the booking keeps the language it was given: {booking}");
    let (documents, _) = issued_documents(&app, &token, &booking).await;
    assert_vietnamese(&documents);

    // The same booking in English reads as before.
    let english = app.book(&token, &family("ENG001", None)).await;
    assert_eq!(english["language"], "en");
    let ([ticket, _, _, invoice], _) = issued_documents(&app, &token, &english).await;
    assert_shows(
        &ticket,
        "the English e-ticket",
        &["Electronic Ticket — Itinerary Receipt", "NGUYỄN/VĂN ĐỨC MR", "Sat 10 Apr 2027 08:00", "2,350,000"],
    );
    assert_shows(&invoice, "the English invoice", &["INVOICE NUMBER", "Net total"]);
}

async fn an_unknown_language_is_refused_and_nothing_is_stored(app: TestApp) {
    let (_, token) = hanoi(&app).await;
    for (tag, reason) in [
        ("fr", "language `fr` is not supported; supported languages: en, vi"),
        ("vietnamese", "`vietnamese` is not a BCP-47 language tag (e.g. `en`, `vi`, `vi-VN`)"),
        ("vi_VN", "`vi_VN` is not a BCP-47 language tag (e.g. `en`, `vi`, `vi-VN`)"),
    ] {
        let res = app.post("/api/v1/bookings", &token, &family("BAD001", Some(tag))).await;
        let problem = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"], json!([{"pointer": "/language", "reason": reason}]), "{problem}");
    }
    let res = app.post("/api/v1/bookings", &token, &json!({"type": "flight", "language": 7})).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let list: Value = app.get("/api/v1/bookings", &token).await.json().await.unwrap();
    assert_eq!(list["bookings"], json!([]), "nothing was stored");
}

async fn the_agency_default_decides_when_the_booking_does_not(app: TestApp) {
    let (agency, token) = hanoi(&app).await;
    let path = format!("/api/v1/agencies/{}/default-language", agency.id);
    let put = |token: &str, body: Value| app.client.put(app.url(&path)).bearer_auth(token).json(&body).send();

    // Only admins set it; another language is refused; an unknown agency is not found; nothing changes.
    let res = put(&token, json!({"language": "vi"})).await.unwrap();
    expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = put(&app.admin_token, json!({"language": "de"})).await.unwrap();
    let problem = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["pointer"], "/language", "{problem}");
    let unknown = format!("/api/v1/agencies/{}/default-language", uuid::Uuid::new_v4());
    let res = app.client.put(app.url(&unknown)).bearer_auth(&app.admin_token).json(&json!({"language": "vi"})).send();
    expect_problem(res.await.unwrap(), StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(app.agency_body(&agency).await["default_language"], "en");

    let res = put(&app.admin_token, json!({"language": "vi"})).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["default_language"], "vi");
    assert_eq!(app.agency_body(&agency).await["default_language"], "vi");

    let booking = app.book(&token, &family("DEF001", None)).await;
    assert_eq!(booking["language"], "vi");
    let (documents, reference) = issued_documents(&app, &token, &booking).await;
    assert_vietnamese(&documents);
    // A booking may still ask for English.
    assert_eq!(app.book(&token, &family("DEF002", Some("en"))).await["language"], "en");

    // A later change of the default leaves the booking, and so its documents, as they were.
    let res = put(&app.admin_token, json!({"language": "en"})).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let id = booking["id"].as_str().unwrap();
    let again: Value = app.get(&format!("/api/v1/bookings/{id}"), &token).await.json().await.unwrap();
    assert_eq!(again["language"], "vi");
    let itinerary = pdf(&app, &format!("/api/v1/issuances/{reference}/pdf"), &token).await;
    assert_eq!(itinerary, documents[1], "the itinerary is the one issued");

    // The agency's default is also set when it is created.
    let res = app
        .post(
            "/api/v1/agencies",
            &app.admin_token,
            &json!({"name": "Saigon Travel", "currency": "VND", "default_language": "vi"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.json::<Value>().await.unwrap()["default_language"], "vi");
    let res = app
        .post("/api/v1/agencies", &app.admin_token, &json!({"name": "X", "currency": "VND", "default_language": "xx"}))
        .await;
    let problem = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["pointer"], "/default_language", "{problem}");
}

async fn event_documents_follow_the_language(app: TestApp) {
    let agency = new_agency(&app.app, "Events BV", "EUR", "100000").await;
    let ev = crate::events::agent_with_booking_doc(app, agency, "events", {
        let mut doc = example("event");
        doc["language"] = json!("vi");
        doc
    })
    .await;
    let orders = ev.issue().await;
    let pass = orders
        .iter()
        .flat_map(|o| crate::events::items(o).iter().map(move |i| (o, i)))
        .find(|(_, i)| i["download_items"].as_array().is_some_and(|d| d.len() == 3))
        .expect("a three-day pass");
    let (order, item) = pass;
    let download = &item["download_items"][1];
    let file = ev
        .pdf(
            crate::events::s(&order["bookingorder_id"]),
            crate::events::s(&item["orderitem_id"]),
            crate::events::s(&download["download_link"]),
        )
        .await;
    let text = readable_text(&file.bytes).split_whitespace().collect::<Vec<_>>().join(" ");
    assert_shows(
        &text,
        "the event ticket",
        &["Vé sự kiện", "BẮT ĐẦU", "NGƯỜI GIỮ VÉ", "Ngày 2/3 — T7, 28/08/2027", "GIÁ", "649,50 EUR"],
    );

    // The order's zip names the pass's days in Vietnamese too (`/` made `-`, as in every entry name); the events
    // API keeps the stored English label.
    assert_eq!(download["label"], "Day 2 of 3 — Sat 28 Aug 2027", "{item}");
    let (_, zip) = ev.zip(crate::events::s(&order["bookingorder_id"])).await;
    let names: Vec<String> = crate::events::unzip(&zip.bytes).into_iter().map(|(name, _)| name).collect();
    for day in ["Ngày 1-3 — T6, 27-08-2027", "Ngày 2-3 — T7, 28-08-2027", "Ngày 3-3 — CN, 29-08-2027"] {
        assert!(names.iter().any(|n| n.ends_with(&format!(" - {day}.pdf"))), "{day} in {names:?}");
    }
    assert!(!names.iter().any(|n| n.contains("Day ")), "{names:?}");
}

async fn tickets_are_emailed_in_vietnamese(backend: Backend) {
    let sink = SmtpSink::start();
    let app = spawn_app_with(backend, Options { smtp_url: Some(sink.url()), ..Default::default() }).await;
    let (_, token) = hanoi(&app).await;
    app.book(&token, &family("ABC123", Some("vi"))).await;
    let create = app
        .client
        .post(app.url("/tickets"))
        .header("x-access-token", &token)
        .json(&json!({"booking_code": "ABC123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(create.status(), StatusCode::CREATED);
    let res = app.client.get(app.url("/tickets?booking_code=ABC123")).header("x-access-token", &token).send().await;
    assert_eq!(res.unwrap().status(), StatusCode::OK);
    let received = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 1);
    let mail = &received[0];
    assert_eq!(mail.subject, "Vé điện tử của bạn — đặt chỗ ABC123");
    let text = mail.text.as_deref().unwrap_or_default().replace("\r\n", "\n");
    assert!(text.starts_with("Xin chào,\n\nđính kèm là vé điện tử của bạn cho đặt chỗ ABC123: "), "{text}");
    assert!(text.contains("Vui lòng mang theo vé"), "{text}");
    let html = mail.html.as_deref().unwrap_or_default();
    assert!(html.contains("<strong>đặt chỗ ABC123</strong>"), "{html}");
    assert_eq!(mail.attachments.len(), 6);
    for (name, _, bytes) in &mail.attachments {
        let text = readable_text(bytes);
        assert!(text.contains("HÀNH KHÁCH"), "{name} is not in Vietnamese:\n{text}");
    }
}

both_backends!(
    a_booking_in_vietnamese_gets_vietnamese_documents,
    an_unknown_language_is_refused_and_nothing_is_stored,
    the_agency_default_decides_when_the_booking_does_not,
    event_documents_follow_the_language,
);
both_backends_custom!(tickets_are_emailed_in_vietnamese);

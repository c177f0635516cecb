//! The agency portal in a real headless Chromium (see `support/browser.rs`), on both backends: sign in, find a
//! booking, issue it after the confirmation, download the PDFs (checked with qpdf), void and refund and see the
//! balance move, agency isolation, a customer without agent actions, and CSRF refusals that change nothing.

use reqwest::header::{CONTENT_SECURITY_POLICY, COOKIE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::Value;

use crate::browser::Browser;
use crate::helpers::{example, readable_text, TestApp};

async fn sign_in(app: &TestApp, browser: &Browser, username: &str, password: &str) {
    browser.goto(&app.url("/portal/")).await;
    assert_eq!(browser.path().await, "/portal/sign-in", "a visitor without a session is sent to sign in");
    browser.fill("#username", username).await;
    browser.fill("#password", password).await;
    browser.click("button[type=submit]").await;
    assert_eq!(browser.path().await, "/portal/", "{}", browser.body().await);
    assert_eq!(browser.text("#signed-in-as").await, username);
}

/// A client that shows redirects instead of following them.
fn plain() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

/// GET with the browser's session cookie, from outside the browser (downloads, refusals).
async fn fetch(app: &TestApp, browser: &Browser, path: &str) -> reqwest::Response {
    let cookie = format!("tessera_portal={}", browser.cookie("tessera_portal").await);
    plain().get(app.url(path)).header(COOKIE, cookie).send().await.expect("request")
}

async fn booking_id(booking: &Value) -> String {
    booking["id"].as_str().expect("id").to_owned()
}

async fn agent_issues_downloads_and_voids(app: TestApp) {
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    let pnr = booking["pnr"].as_str().expect("pnr").to_owned();
    let browser = Browser::start(1280, 900).await;
    sign_in(&app, &browser, "agent", "agent-password").await;
    assert_eq!(browser.text("#balance").await, "1,000,000.00 NPR");

    // Find it by PNR.
    browser.click_link("Bookings").await;
    browser.fill("#pnr", &pnr.to_lowercase()).await;
    browser.click("form.search button[type=submit]").await;
    assert_eq!(browser.client.find_all(fantoccini::Locator::Css("#bookings tbody tr")).await.expect("rows").len(), 1);
    browser.click_link(&pnr).await;
    assert!(browser.text("#booking-status").await.contains("confirmed"));

    // The confirmation names the amount; nothing is debited before it is sent.
    browser.click("#issue-link").await;
    let payable = browser.text("#payable").await;
    assert_eq!(payable, "41,893.00 NPR");
    assert_eq!(app.balance(&app.agency).await, "1000000.00", "the confirmation page debits nothing");
    let confirm_path = browser.path().await;
    let key = browser.attr("input[name=key]", "value").await;
    let csrf = browser.attr("input[name=csrf]", "value").await;
    browser.click("#confirm-issue").await;
    assert!(browser.text("#notice").await.contains("Issued: 41,893.00 NPR debited"), "{}", browser.body().await);
    assert!(browser.text("#booking-status").await.contains("ticketed"));
    assert_eq!(app.balance(&app.agency).await, "958107.00");

    // The same form sent again (a double submit) issues nothing twice.
    let cookie = format!("tessera_portal={}", browser.cookie("tessera_portal").await);
    let again = plain()
        .post(app.url(&confirm_path))
        .header(COOKIE, &cookie)
        .form(&[("csrf", csrf.as_str()), ("key", key.as_str()), ("amount", "41893.00")])
        .send()
        .await
        .expect("post");
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert!(again.headers()[LOCATION].to_str().expect("location").contains("already"));
    assert_eq!(app.balance(&app.agency).await, "958107.00");
    assert_eq!(app.ledger(&app.agency).await.len(), 2, "opening balance and one issuance");

    // The PDFs are real.
    let all = browser.attr("#issuance-pdf", "href").await;
    let res = fetch(&app, &browser, &all).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert!(readable_text(&res.bytes().await.expect("bytes")).contains(&pnr));

    // The ticket: coupons, its own PDF, a signed link, then void.
    let ticket_href = browser.attr("#tickets tbody tr a", "href").await;
    browser.goto(&app.url(&ticket_href)).await;
    assert!(browser.text("#ticket-status").await.contains("OPEN"));
    assert!(browser.text("#coupons").await.contains("O"));
    let pdf = fetch(&app, &browser, &browser.attr("#ticket-pdf", "href").await).await;
    assert_eq!(pdf.status(), StatusCode::OK);
    readable_text(&pdf.bytes().await.expect("bytes"));
    browser.click("#make-link").await;
    let link = browser.attr("#signed-link", "value").await;
    let linked = app.client.get(&link).send().await.expect("link");
    assert_eq!(linked.status(), StatusCode::OK, "a signed link works without a session");
    readable_text(&linked.bytes().await.expect("bytes"));

    browser.click("#void").await;
    assert!(browser.text("#notice").await.contains("Voided"), "{}", browser.body().await);
    assert!(browser.text("#ticket-status").await.contains("VOID"));
    assert_eq!(app.balance(&app.agency).await, "1000000.00", "a void gives the money back");
    browser.goto(&app.url("/portal/")).await;
    assert_eq!(browser.text("#balance").await, "1,000,000.00 NPR");

    // The ledger shows every entry with its running balance, and exports the same as CSV.
    browser.click_link("Ledger").await;
    let ledger = browser.text("#ledger").await;
    assert!(ledger.contains("-41,893.00 NPR") && ledger.contains("958,107.00 NPR"), "{ledger}");
    let csv = fetch(&app, &browser, &browser.attr("#ledger-csv", "href").await).await;
    assert_eq!(csv.status(), StatusCode::OK);
    let csv = csv.text().await.expect("csv");
    assert_eq!(csv.lines().count(), 4, "header, top-up, issue, void:\n{csv}");
    assert!(csv.contains(",-41893.00,958107.00,NPR,"), "{csv}");
}

async fn refund_with_penalty_and_errors_in_words(app: TestApp) {
    let mut doc = example("round");
    doc["refundable"] = serde_json::json!(true);
    let booking = app.book(&app.agent_token, &doc).await;
    let (status, issued) = app.issue(&app.agent_token, &booking_id(&booking).await, serde_json::json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let number = issued["tickets"][0]["number"].as_str().expect("number").replace('-', "");
    let charged: f64 = issued["tickets"][0]["charged"].as_str().expect("charged").parse().expect("amount");
    let before = app.balance(&app.agency).await;
    let browser = Browser::start(1280, 900).await;
    sign_in(&app, &browser, "agent", "agent-password").await;
    browser.goto(&app.url(&format!("/portal/tickets/{number}"))).await;

    // A penalty that is no amount is refused next to its field, and nothing changes.
    browser.fill("#penalty", "five hundred").await;
    browser.click("#refund").await;
    assert!(browser.text("#penalty-error").await.contains("is not an amount"), "{}", browser.body().await);
    assert_eq!(browser.attr("#penalty", "aria-invalid").await, "true");
    assert!(browser.text("#ticket-status").await.contains("OPEN"));
    assert_eq!(app.balance(&app.agency).await, before);

    browser.fill("#penalty", "500").await;
    browser.click("#refund").await;
    assert!(browser.text("#notice").await.contains("Refund recorded"), "{}", browser.body().await);
    assert!(browser.text("#ticket-status").await.contains("RFND"));
    let after = app.balance(&app.agency).await;
    let diff = after.parse::<f64>().expect("after") - before.parse::<f64>().expect("before");
    assert_eq!(format!("{diff:.2}"), format!("{:.2}", charged - 500.0), "the fare less the 500.00 penalty comes back");

    // Refunding again is refused in words, not as a raw body.
    let cookie = format!("tessera_portal={}", browser.cookie("tessera_portal").await);
    let csrf = browser.attr("input[name=csrf]", "value").await;
    let res = plain()
        .post(app.url(&format!("/portal/tickets/{number}/refund")))
        .header(COOKIE, cookie)
        .form(&[("csrf", csrf.as_str()), ("penalty", "0")])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.expect("html");
    assert!(page.contains("id=\"action-error\"") && !page.contains("\"code\":"), "{page}");
    assert_eq!(app.balance(&app.agency).await, after);
}

async fn another_agency_sees_nothing(app: TestApp) {
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    let id = booking_id(&booking).await;
    let pnr = booking["pnr"].as_str().expect("pnr").to_owned();
    let browser = Browser::start(1280, 900).await;
    sign_in(&app, &browser, "other", "other-password").await;
    browser.goto(&app.url(&format!("/portal/bookings?pnr={pnr}"))).await;
    assert!(browser.exists("#no-bookings").await, "{}", browser.body().await);
    browser.goto(&app.url(&format!("/portal/bookings/{id}"))).await;
    assert_eq!(browser.text("h1").await, "Not found");
    assert!(!browser.body().await.contains(&pnr));
    for path in [format!("/portal/bookings/{id}"), format!("/portal/bookings/{id}/issue")] {
        assert_eq!(fetch(&app, &browser, &path).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let other_ledger = format!("/portal/ledger?agency={}", app.agency.id);
    assert_eq!(fetch(&app, &browser, &other_ledger).await.status(), StatusCode::NOT_FOUND);
}

async fn customer_reads_without_agent_actions(app: TestApp) {
    let booking = app.book(&app.customer_token, &example("round")).await;
    let id = booking_id(&booking).await;
    let (status, issued) = app.issue(&app.agent_token, &id, serde_json::json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let number = issued["tickets"][0]["number"].as_str().expect("number").replace('-', "");
    let browser = Browser::start(360, 740).await;
    sign_in(&app, &browser, "customer", "customer-password").await;
    assert!(!browser.exists("#balance").await, "a customer sees no agency balance");
    browser.goto(&app.url(&format!("/portal/bookings/{id}"))).await;
    assert!(browser.text("#booking-status").await.contains("ticketed"));
    assert!(!browser.exists("#issue-link").await);
    let ticket_href = browser.attr("#tickets tbody tr a", "href").await;
    browser.goto(&app.url(&ticket_href)).await;
    for action in ["#void", "#refund", "#penalty", "form[action$='/use']"] {
        assert!(!browser.exists(action).await, "a customer is offered {action}");
    }
    assert!(!browser.body().await.contains("Ledger"));
    let pdf = fetch(&app, &browser, &browser.attr("#ticket-pdf", "href").await).await;
    assert_eq!(pdf.status(), StatusCode::OK);
    readable_text(&pdf.bytes().await.expect("bytes"));

    // Even a hand-made form with the customer's own valid token is refused by the service.
    let cookie = format!("tessera_portal={}", browser.cookie("tessera_portal").await);
    let csrf = browser.attr("input[name=csrf]", "value").await;
    let res = plain()
        .post(app.url(&format!("/portal/tickets/{number}/void")))
        .header(COOKIE, cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let ticket =
        app.get(&format!("/api/v1/tickets/{number}"), &app.agent_token).await.json::<Value>().await.expect("json");
    assert_eq!(ticket["status"], "OPEN");
}

/// A POST without the session's CSRF token, or with another one, is refused with 403 and changes nothing.
async fn forms_without_the_csrf_token_are_refused(app: TestApp) {
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    let id = booking_id(&booking).await;

    // Sign in over plain HTTP: the pre-session token, then the session cookie with its attributes.
    let page = plain().get(app.url("/portal/sign-in")).send().await.expect("get");
    let csp = page.headers()[CONTENT_SECURITY_POLICY].to_str().expect("csp").to_owned();
    assert!(csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    let pre = page.headers()[SET_COOKIE].to_str().expect("cookie").split(';').next().expect("pair").to_owned();
    let html = page.text().await.expect("html");
    let token =
        html.split("name=\"csrf\" value=\"").nth(1).and_then(|t| t.split('"').next()).expect("token").to_owned();
    let creds = [("username", "agent"), ("password", "agent-password")];
    let refused =
        plain().post(app.url("/portal/sign-in")).header(COOKIE, &pre).form(&creds).send().await.expect("post");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "sign-in without the form's token");
    let mut with_token = creds.to_vec();
    with_token.push(("csrf", &token));
    let signed =
        plain().post(app.url("/portal/sign-in")).header(COOKIE, &pre).form(&with_token).send().await.expect("post");
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    let session = signed
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("tessera_portal="))
        .expect("session cookie")
        .to_owned();
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"), "{session}");
    assert!(!session.contains("Secure"), "plain http: no Secure flag");
    let cookie = session.split(';').next().expect("pair").to_owned();

    let balance = app.balance(&app.agency).await;
    let issue = format!("/portal/bookings/{id}/issue");
    let zeros = "0".repeat(64);
    let forged = [
        vec![("key", "k1"), ("amount", "41893.00")],
        vec![("csrf", zeros.as_str()), ("key", "k2"), ("amount", "41893.00")],
    ];
    for fields in &forged {
        let res = plain().post(app.url(&issue)).header(COOKIE, &cookie).form(fields).send().await.expect("post");
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(res.text().await.expect("html").contains("Form expired"));
    }
    // Another session's token is no good either.
    let other = plain()
        .get(app.url("/portal/"))
        .header(COOKIE, format!("tessera_portal={}", app.other_token))
        .send()
        .await
        .expect("get");
    let other_html = other.text().await.expect("html");
    let other_csrf =
        other_html.split("name=\"csrf\" value=\"").nth(1).and_then(|t| t.split('"').next()).expect("token").to_owned();
    let res = plain()
        .post(app.url(&issue))
        .header(COOKIE, &cookie)
        .form(&[("csrf", other_csrf.as_str()), ("key", "k3"), ("amount", "41893.00")])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.balance(&app.agency).await, balance, "nothing was issued");
    let booking =
        app.get(&format!("/api/v1/bookings/{id}"), &app.agent_token).await.json::<Value>().await.expect("json");
    assert_eq!(booking["status"], "confirmed");

    // The browser, whose page holds the token, gets through with the same session.
    let browser = Browser::start(1280, 900).await;
    sign_in(&app, &browser, "agent", "agent-password").await;
    browser.goto(&app.url(&issue)).await;
    browser.click("#confirm-issue").await;
    assert!(browser.text("#booking-status").await.contains("ticketed"));
}

async fn agent_manages_api_keys(app: TestApp) {
    let browser = Browser::start(1280, 900).await;
    sign_in(&app, &browser, "agent", "agent-password").await;
    browser.click_link("API keys").await;
    assert!(!browser.exists("#keys").await, "no keys yet");
    browser.click("#create-key").await;
    let key = browser.attr("#new-key", "value").await;
    assert!(key.starts_with("tsk_"), "{key}");
    let with_key = || app.client.get(app.url("/api/v1/bookings")).header("x-api-key", &key).send();
    assert_eq!(with_key().await.expect("get").status(), StatusCode::OK, "the new key works");
    browser.goto(&app.url("/portal/keys")).await;
    assert!(!browser.exists("#new-key").await, "a key is shown once");
    browser.click("#keys form[action$='/revoke'] button").await;
    assert_eq!(browser.path().await, "/portal/keys");
    assert!(browser.text("#keys").await.contains("revoked"));
    assert_eq!(with_key().await.expect("get").status(), StatusCode::UNAUTHORIZED, "a revoked key is refused");
}

/// A coupon used by the agent, a refund waiting for approval, approved by an admin; and an admin's top-up.
async fn coupon_use_refund_approval_and_top_up(app: TestApp) {
    app.app.set_refund_approval(&crate::helpers::op(), app.agency.id, true).await.expect("approval");
    let mut doc = example("round");
    doc["refundable"] = serde_json::json!(true);
    let booking = app.book(&app.agent_token, &doc).await;
    let (status, issued) = app.issue(&app.agent_token, &booking_id(&booking).await, serde_json::json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let number = issued["tickets"][0]["number"].as_str().expect("number").replace('-', "");
    let ticket_page = app.url(&format!("/portal/tickets/{number}"));

    let agent = Browser::start(1280, 900).await;
    sign_in(&app, &agent, "agent", "agent-password").await;
    agent.goto(&ticket_page).await;
    agent.click("#coupons form[action$='/coupons/1/use'] button").await;
    assert!(agent.text("#notice").await.contains("Coupon marked used"), "{}", agent.body().await);
    let coupons = agent.text("#coupons tbody").await;
    assert!(coupons.lines().next().expect("row").split_whitespace().any(|w| w == "F"), "coupon 1 flown: {coupons}");
    let before = app.balance(&app.agency).await;
    agent.click("#refund").await;
    assert!(agent.text("#ticket-status").await.contains("TORFND"), "{}", agent.body().await);
    assert!(!agent.exists("#approve").await, "an agent cannot approve");
    assert_eq!(app.balance(&app.agency).await, before, "nothing is credited before the approval");
    drop(agent);

    let admin = Browser::start(1280, 900).await;
    sign_in(&app, &admin, "root", "root-password").await;
    admin.goto(&ticket_page).await;
    admin.click("#approve").await;
    assert!(admin.text("#notice").await.contains("Refund approved"), "{}", admin.body().await);
    assert!(admin.text("#ticket-status").await.contains("RFND"));
    assert_ne!(app.balance(&app.agency).await, before, "the unused half comes back");

    // Top-up: a wrong amount is refused next to its field, a right one moves the balance.
    let after_refund = app.balance(&app.agency).await;
    admin.click_link("Agencies").await;
    let field = format!("#amount-{}", app.agency.id);
    admin.fill(&field, "lots").await;
    admin.click(&format!("form[action$='/agencies/{}/top-up'] button", app.agency.id)).await;
    assert_eq!(admin.attr(&field, "aria-invalid").await, "true", "{}", admin.body().await);
    assert_eq!(app.balance(&app.agency).await, after_refund);
    admin.fill(&field, "1000").await;
    admin.click(&format!("form[action$='/agencies/{}/top-up'] button", app.agency.id)).await;
    assert!(admin.text("#notice").await.contains("Topped up 1,000.00 NPR"), "{}", admin.body().await);
    let expected = after_refund.parse::<f64>().expect("balance") + 1000.0;
    assert_eq!(app.balance(&app.agency).await, format!("{expected:.2}"));

    // The audit log, filtered by action, shows the approval.
    admin.goto(&app.url("/portal/audit?action=ticket.refund_approve")).await;
    let audit = admin.text("#audit").await;
    assert!(audit.contains("ticket.refund_approve") && !audit.contains("issuance.create"), "{audit}");
}

/// Search by name, a travel window and an order, from the form and the column headings; a refused search says why
/// next to its field; signing out ends the session in the browser.
async fn agent_searches_sorts_and_signs_out(app: TestApp) {
    let mut family = example("family");
    family["passengers"][1]["surname"] = serde_json::json!("NGUYỄN");
    family["currency"] = serde_json::json!("NPR");
    let family = app.book(&app.agent_token, &family).await; // travels 2027-04-10
    let mut later = example("multicity");
    later["pnr"] = serde_json::json!("MULTI9");
    let later = app.book(&app.agent_token, &later).await; // travels 2027-08-01
    let oneway = app.book(&app.agent_token, &example("oneway")).await; // travels 2027-07-22
    let code = |b: &Value| b["pnr"].as_str().expect("pnr").to_owned();
    let browser = Browser::start(1280, 900).await;
    sign_in(&app, &browser, "agent", "agent-password").await;
    let rows = || async {
        let cells = browser.client.find_all(fantoccini::Locator::Css("#bookings tbody tr td:first-child")).await;
        let mut codes = Vec::new();
        for cell in cells.expect("rows") {
            codes.push(cell.text().await.expect("text"));
        }
        codes
    };

    // A name typed without its accents finds the booking of any of its passengers.
    browser.click_link("Bookings").await;
    browser.fill("#name", "nguyen thi b").await;
    browser.click("form.search button[type=submit]").await;
    assert_eq!(rows().await, [code(&family)]);
    assert_eq!(browser.attr("#name", "value").await, "nguyen thi b", "the form shows the search back");

    // A travel window, then ordered by travel day from its heading, latest first on a second click.
    browser.goto(&app.url("/portal/bookings?travel_from=2027-07-01&travel_to=2027-12-31")).await;
    assert_eq!(rows().await, [code(&later), code(&oneway)]);
    browser.click_link("Travel").await;
    assert_eq!(rows().await, [code(&oneway), code(&later)]);
    assert_eq!(browser.attr("th[aria-sort]", "aria-sort").await, "ascending");
    browser.click_link("Travel ▲").await;
    assert_eq!(rows().await, [code(&later), code(&oneway)]);
    assert_eq!(browser.attr("#travel_from", "value").await, "2027-07-01", "the order keeps the filters");

    // A window that ends before it starts is refused in words next to its field.
    let res = fetch(&app, &browser, "/portal/bookings?travel_from=2027-05-01&travel_to=2027-04-30").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    browser.goto(&app.url("/portal/bookings?travel_from=2027-05-01&travel_to=2027-04-30")).await;
    assert_eq!(browser.text("#travel_to-error").await, "must not be before `travel_from`");
    assert_eq!(browser.attr("#travel_to", "aria-invalid").await, "true");

    // Signing out ends the session: the cookie is gone and the pages ask to sign in again.
    browser.click("form[action='/portal/sign-out'] button").await;
    assert_eq!(browser.path().await, "/portal/sign-in");
    browser.goto(&app.url("/portal/bookings")).await;
    assert_eq!(browser.path().await, "/portal/sign-in");
}

/// An issued event booking's orders: the order's zip and each ticket's PDFs download, a refund with a penalty
/// that is no amount is refused next to its field and changes nothing, a void gives the item's money back.
async fn agent_handles_an_event_bookings_tickets(app: TestApp) {
    let mut doc = example("event");
    doc["currency"] = serde_json::json!("NPR");
    let booking = app.book(&app.agent_token, &doc).await;
    let id = booking_id(&booking).await;
    let (status, issued) = app.issue(&app.agent_token, &id, serde_json::json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let browser = Browser::start(1280, 900).await;
    sign_in(&app, &browser, "agent", "agent-password").await;
    browser.goto(&app.url(&format!("/portal/bookings/{id}"))).await;
    assert_eq!(browser.client.find_all(fantoccini::Locator::Css("section.order")).await.expect("orders").len(), 2);
    assert!(!browser.exists("#issuance-pdf").await, "no flight e-tickets to download");

    // The order's zip holds its tickets' PDFs; a ticket's own PDF is real.
    let zip = fetch(&app, &browser, &browser.attr("a.zip", "href").await).await;
    assert_eq!(zip.status(), StatusCode::OK);
    assert_eq!(zip.headers()["content-type"], "application/zip");
    let entries = crate::events::unzip(&zip.bytes().await.expect("zip"));
    assert!(!entries.is_empty() && entries.iter().all(|(_, pdf)| pdf.starts_with(b"%PDF-")), "{entries:?}");
    let pdf = fetch(&app, &browser, &browser.attr("a.item-pdf", "href").await).await;
    assert_eq!(pdf.status(), StatusCode::OK);
    readable_text(&pdf.bytes().await.expect("pdf"));

    // A penalty that is no amount: refused in words next to that item's field; nothing moves.
    let balance = app.balance(&app.agency).await;
    let row = browser.attr("tr[id^='item-']", "id").await;
    browser.fill(&format!("#{row} input[name=penalty]"), "abc").await;
    browser.click(&format!("#{row} button.item-refund")).await;
    let error = browser.text(&format!("#{row} p.error")).await;
    assert!(error.contains("is not an amount"), "{error}");
    assert_eq!(browser.attr(&format!("#{row} input[name=penalty]"), "aria-invalid").await, "true");
    assert_eq!(app.balance(&app.agency).await, balance);
    assert!(browser.text(&format!("#{row} .item-status")).await.contains("OPEN"));

    // A void: the item is VOID and its price is credited back.
    browser.click(&format!("#{row} button.item-void")).await;
    assert!(browser.text("#notice").await.contains("Ticket voided"), "{}", browser.body().await);
    assert!(browser.text(&format!("#{row} .item-status")).await.contains("VOID"));
    assert_ne!(app.balance(&app.agency).await, balance, "a void gives the money back");
}

/// The agency's webhook endpoints: a registration refused in words next to its fields registers nothing; one
/// registered shows its secret once and, after an issuance, its delivery, which can be sent again; the secret
/// rotates; another agency cannot open it, a customer has no such page; deleted, it is gone.
async fn agent_manages_webhooks(app: TestApp) {
    let browser = Browser::start(1280, 900).await;
    sign_in(&app, &browser, "agent", "agent-password").await;
    browser.click_link("Webhooks").await;
    assert!(browser.exists("#no-webhooks").await);

    browser.fill("#url", "ftp://example.com/hook").await;
    browser.click("#register-webhook").await;
    assert!(!browser.text("#url-error").await.is_empty(), "{}", browser.body().await);
    assert!(browser.text("#events-error").await.contains("at least one"), "{}", browser.body().await);
    assert_eq!(browser.attr("#url", "value").await, "ftp://example.com/hook", "the form keeps what was typed");
    let who = app.app.authenticate_token(&app.agent_token).await.expect("agent");
    assert!(app.app.list_webhooks(&who).await.expect("list").is_empty(), "a refused form registers nothing");

    browser.fill("#url", "http://127.0.0.1:9/hook").await;
    browser.tick("input[value='issuance.created']").await;
    browser.click("#register-webhook").await;
    let secret = browser.attr("#new-secret", "value").await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    browser.click_link("http://127.0.0.1:9/hook").await;
    let endpoint = browser.path().await;
    assert!(browser.exists("#no-deliveries").await);

    // An issuance makes a delivery; it is listed and can be sent again.
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    let (status, issued) = app.issue(&app.agent_token, &booking_id(&booking).await, serde_json::json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    browser.goto(&app.url(&endpoint)).await;
    assert!(browser.text("#deliveries").await.contains("issuance.created"), "{}", browser.body().await);
    browser.click("#deliveries button.retry").await;
    assert_eq!(browser.text("#notice").await, "Queued to be sent again.");

    browser.click("#rotate-secret").await;
    let rotated = browser.attr("#new-secret", "value").await;
    assert!(rotated.starts_with("whsec_") && rotated != secret);

    let other = Browser::start(1280, 900).await;
    sign_in(&app, &other, "other", "other-password").await;
    assert_eq!(fetch(&app, &other, &endpoint).await.status(), StatusCode::NOT_FOUND);
    let customer = Browser::start(360, 740).await;
    sign_in(&app, &customer, "customer", "customer-password").await;
    assert!(!customer.body().await.contains("Webhooks"));
    assert_eq!(fetch(&app, &customer, "/portal/webhooks").await.status(), StatusCode::FORBIDDEN);

    browser.click("#delete-webhook").await;
    assert_eq!(browser.path().await, "/portal/webhooks");
    assert!(browser.exists("#no-webhooks").await);
}

/// An admin makes an agency and a user of it in the portal: mistakes are named next to their fields and make
/// nothing; the new agent signs in and sees the new agency's balance. An agent cannot open these forms.
async fn admin_creates_an_agency_and_its_agent(app: TestApp) {
    let admin = Browser::start(1280, 900).await;
    sign_in(&app, &admin, "root", "root-password").await;
    admin.click_link("Agencies").await;
    admin.click("#new-agency").await;
    let before = app.app.list_agencies(&app.app.authenticate_token(&app.admin_token).await.expect("admin")).await;
    let before = before.expect("agencies").len();

    admin.fill("#name", "Saigon Travel").await;
    admin.fill("#currency", "EURO").await;
    admin.fill("#vat_percent", "abc").await;
    admin.click("#create-agency").await;
    assert!(!admin.text("#currency-error").await.is_empty(), "{}", admin.body().await);
    assert!(!admin.text("#vat_percent-error").await.is_empty());
    assert_eq!(admin.attr("#name", "value").await, "Saigon Travel", "what was typed is kept");
    let admin_who = app.app.authenticate_token(&app.admin_token).await.expect("admin");
    assert_eq!(app.app.list_agencies(&admin_who).await.expect("agencies").len(), before, "nothing was made");

    admin.fill("#currency", "VND").await;
    admin.fill("#vat_percent", "8").await;
    admin.fill("#balance", "5000000").await;
    admin.fill("#default_language", "vi").await;
    admin.click("#create-agency").await;
    assert!(admin.text("#notice").await.starts_with("Agency Saigon Travel created"), "{}", admin.body().await);
    let agency = app
        .app
        .list_agencies(&admin_who)
        .await
        .expect("agencies")
        .into_iter()
        .find(|a| a.name == "Saigon Travel")
        .expect("the new agency");
    assert_eq!(agency.vat_percent.to_string(), "8");

    admin.click("#new-user").await;
    admin.fill("#username", "saigon-agent").await;
    admin.fill("#password", "short").await;
    admin.click("#create-user").await;
    assert!(admin.text("#password-error").await.contains("at least 8"), "{}", admin.body().await);
    admin.fill("#username", "saigon-agent").await;
    admin.fill("#password", "saigon-password").await;
    let option = format!("#agency_id option[value='{}']", agency.id);
    admin.tick(&option).await;
    admin.click("#create-user").await;
    assert!(admin.text("#notice").await.starts_with("User saigon-agent created (agent)"), "{}", admin.body().await);

    let agent = Browser::start(360, 740).await;
    sign_in(&app, &agent, "saigon-agent", "saigon-password").await;
    assert_eq!(agent.text("#balance").await, "5,000,000 VND");
    for path in ["/portal/agencies/new", "/portal/users/new"] {
        assert_eq!(fetch(&app, &agent, path).await.status(), StatusCode::FORBIDDEN, "{path}");
    }
}

/// An exchange from the portal: the form starts from what the ticket flies; a change fee that is no amount and a
/// departure that is no time are refused next to their fields and nothing moves; the exchange then issues the new
/// ticket (its PDF flies the new flight), marks the old one EXCH and debits the difference and the fee.
async fn agent_exchanges_a_ticket(app: TestApp) {
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    let (status, issued) = app.issue(&app.agent_token, &booking_id(&booking).await, serde_json::json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let old = issued["tickets"][0]["number"].as_str().expect("number").replace('-', "");
    assert_eq!(app.balance(&app.agency).await, "958107.00");
    let browser = Browser::start(1280, 900).await;
    sign_in(&app, &browser, "agent", "agent-password").await;
    browser.goto(&app.url(&format!("/portal/tickets/{old}"))).await;
    browser.click("#exchange").await;

    // The form holds what the ticket flies now, and a blank row to add a segment.
    let seg = "#journeys-0-segments-0";
    assert_eq!(browser.attr(&format!("{seg}-flight_number"), "value").await, "653");
    assert_eq!(browser.attr(&format!("{seg}-departure-time"), "value").await, "2027-07-22T10:10:00+05:45");
    assert_eq!(browser.attr("#journeys-0-baggage-checked", "value").await, "30 Kg");
    assert_eq!(browser.attr("#fares-0-base", "value").await, "35000.00");
    assert_eq!(browser.attr("#fares-0-taxes-1-code", "value").await, "NP");
    assert_eq!(browser.attr(&format!("{seg}-equipment"), "value").await, "Airbus A330-300");
    assert_eq!(browser.attr("#journeys-0-segments-1-carrier", "value").await, "");

    // More rows on request: the form comes back with what was typed, and nothing is sent.
    browser.fill(&format!("{seg}-flight_number"), "655").await;
    browser.click("button[name=add_segment]").await;
    assert!(browser.exists("#journeys-0-segments-2-carrier").await, "{}", browser.body().await);
    assert_eq!(browser.attr(&format!("{seg}-flight_number"), "value").await, "655");
    browser.click("#add-journey").await;
    assert!(browser.exists("#journeys-1-segments-0-carrier").await);
    assert_eq!(app.balance(&app.agency).await, "958107.00");

    // Mistakes are refused next to their fields, with what was typed kept; nothing moves.
    browser.fill(&format!("{seg}-flight_number"), "655").await;
    browser.fill(&format!("{seg}-departure-time"), "next tuesday").await;
    browser.fill("#change_fee", "fifteen").await;
    browser.click("#exchange-submit").await;
    assert!(!browser.text(&format!("{seg}-departure-time-error")).await.is_empty(), "{}", browser.body().await);
    assert!(!browser.text("#change_fee-error").await.is_empty());
    assert_eq!(browser.attr("#change_fee", "aria-invalid").await, "true");
    assert_eq!(browser.attr(&format!("{seg}-flight_number"), "value").await, "655", "what was typed is kept");
    assert_eq!(app.balance(&app.agency).await, "958107.00", "nothing was debited");
    let res = fetch(&app, &browser, &format!("/portal/tickets/{old}")).await;
    assert!(res.text().await.expect("html").contains("status OPEN"), "the old ticket is still open");

    // New fare 46,000 + 6,893 taxes + 1,500 fee, less the old ticket's 41,893: 12,500.00 debited.
    browser.fill(&format!("{seg}-departure-time"), "2027-08-02T10:10:00+05:45").await;
    browser.fill(&format!("{seg}-arrival-time"), "2027-08-02T12:25:00+03:00").await;
    browser.fill("#fares-0-base", "46000").await;
    browser.fill("#fares-0-total", "52893").await;
    browser.fill("#change_fee", "1500").await;
    browser.click("#exchange-submit").await;
    let notice = browser.text("#notice").await;
    assert!(notice.contains("Exchanged: ticket") && notice.contains("945,607.00 NPR"), "{}", browser.body().await);
    let new = browser.path().await.rsplit('/').next().expect("number").to_owned();
    assert_ne!(new, old);
    assert!(browser.text("#ticket-status").await.contains("OPEN"));
    assert!(browser.text("#coupons").await.contains("QR 655"));
    assert_eq!(app.balance(&app.agency).await, "945607.00");
    let pdf = fetch(&app, &browser, &browser.attr("#ticket-pdf", "href").await).await;
    let text = readable_text(&pdf.bytes().await.expect("bytes"));
    assert!(text.contains("QR 655") && text.contains("02 Aug 2027"), "the new ticket flies the new flight: {text}");
    browser.goto(&app.url(&format!("/portal/tickets/{old}"))).await;
    assert!(browser.text("#ticket-status").await.contains("EXCH"));
    assert!(!browser.exists("#exchange").await, "an exchanged ticket offers no exchange");

    // Sent again (a double submit), the exchange is refused in words and nothing moves.
    let cookie = format!("tessera_portal={}", browser.cookie("tessera_portal").await);
    let csrf = browser.attr("input[name=csrf]", "value").await;
    let res = plain()
        .post(app.url(&format!("/portal/tickets/{old}/exchange")))
        .header(COOKIE, cookie)
        .form(&[("csrf", csrf.as_str()), ("journeys/0/segments/0/carrier", "QR"), ("change_fee", "0")])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.expect("html");
    assert!(page.contains("id=\"exchange-error\"") && !page.contains("\"code\":"), "{page}");
    assert_eq!(app.balance(&app.agency).await, "945607.00");
}

/// An agency's page: settings, agreements and codes change from their forms; every refusal is next to its field
/// and changes nothing; an agent sees their agency's agreements without the forms and may not send them.
async fn admin_edits_an_agency(app: TestApp) {
    let admin_who = app.app.authenticate_token(&app.admin_token).await.expect("admin");
    let agency = app.agency.id;
    let browser = Browser::start(1280, 900).await;
    sign_in(&app, &browser, "root", "root-password").await;
    browser.click_link("Agencies").await;
    browser.click_link(&app.agency.name).await;
    assert_eq!(browser.path().await, format!("/portal/agencies/{agency}"));

    let before = app.app.get_agency(&admin_who, agency).await.expect("agency");
    browser.fill("#settings-vat_percent", "12.345").await;
    browser.tick("#settings-default_language option[value=vi]").await;
    browser.tick("#settings-refund_approval").await;
    browser.click("#save-settings").await;
    assert!(
        browser.text("#settings-vat_percent-error").await.contains("at most 2 decimals"),
        "{}",
        browser.body().await
    );
    assert_eq!(browser.attr("#settings-vat_percent", "value").await, "12.345");
    assert_eq!(app.app.get_agency(&admin_who, agency).await.expect("agency"), before, "nothing changed");
    browser.fill("#settings-vat_percent", "12.5").await;
    browser.click("#save-settings").await;
    assert_eq!(browser.text("#notice").await, "Settings saved.", "{}", browser.body().await);
    assert_eq!(browser.text("#agency-vat").await, "12.5 %");
    assert_eq!(browser.text("#agency-language").await, "vi");
    assert_eq!(browser.text("#agency-approval").await, "required");
    let after = app.app.get_agency(&admin_who, agency).await.expect("agency");
    assert_eq!((after.vat_percent.to_string(), after.refund_approval), ("12.5".to_owned(), true));

    browser.fill("#agreement-carrier", "Q").await;
    browser.fill("#agreement-commission_cap", "5").await;
    browser.click("#save-agreement").await;
    assert!(!browser.text("#agreement-carrier-error").await.is_empty(), "{}", browser.body().await);
    browser.fill("#agreement-carrier", "qr").await;
    browser.click("#save-agreement").await;
    assert_eq!(browser.text("#notice").await, "Agreement with QR saved.");
    let table = browser.text("#agreements tbody").await;
    assert!(table.contains("QR yes 5 %") && table.contains("FZ yes 7 %"), "the QR cap changed, FZ's stayed: {table}");

    browser.fill("#tour-carrier", "QR").await;
    browser.fill("#tour-code", "IT27QR").await;
    browser.fill("#tour-valid_from", "2027-06-01").await;
    browser.fill("#tour-valid_to", "2027-01-01").await;
    browser.click("#add-tour-code").await;
    assert!(browser.text("#tour-valid_to-error").await.contains("not be before"), "{}", browser.body().await);
    assert!(!browser.exists("#tour-codes").await, "nothing was added");
    browser.fill("#tour-valid_to", "2027-12-31").await;
    browser.click("#add-tour-code").await;
    assert!(browser.text("#tour-codes").await.contains("IT27QR QR 2027-06-01 2027-12-31"));

    browser.fill("#corporate-code", "ACME CORP").await;
    browser.click("#add-corporate").await;
    assert!(browser.text("#corporate-code-error").await.contains("A-Z, 0-9"), "{}", browser.body().await);
    browser.fill("#corporate-code", "CORP-ACME").await;
    browser.click("#add-corporate").await;
    browser.fill("#booker-code", "AGENT007").await;
    browser.click("#add-booker").await;
    assert_eq!(browser.text("#corporate-codes code").await, "CORP-ACME");
    assert_eq!(browser.text("#booker-codes code").await, "AGENT007");
    let agreements = app.app.agreements(&admin_who, agency).await.expect("agreements");
    assert_eq!((agreements.corporate_accounts.len(), agreements.booker_codes.len()), (1, 1));

    // Entries are removed one by one; a stale remove button (a second click) finds nothing, in words.
    let stale_csrf = browser.attr("input[name=csrf]", "value").await;
    browser.click("button[aria-label='Remove booker code AGENT007']").await;
    assert_eq!(browser.text("#notice").await, "Removed.", "{}", browser.body().await);
    assert!(!browser.exists("#booker-codes").await);
    browser.click("button[aria-label='Remove the agreement with FZ']").await;
    assert!(!browser.text("#agreements").await.contains("FZ"));
    let cookie = format!("tessera_portal={}", browser.cookie("tessera_portal").await);
    let again = [("csrf", stale_csrf.as_str()), ("kind", "booker"), ("carrier", ""), ("code", "AGENT007")];
    let res = plain()
        .post(app.url(&format!("/portal/agencies/{agency}/remove")))
        .header(COOKIE, cookie)
        .form(&again)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let agreements = app.app.agreements(&admin_who, agency).await.expect("agreements");
    assert_eq!(agreements.corporate_accounts, ["CORP-ACME"], "only what was removed is gone");
    assert!(
        agreements.booker_codes.is_empty()
            && agreements.for_carrier(&tessera_core::codes::CarrierCode::parse("QR").expect("QR")).is_some()
    );

    // An agent reads their agency's page without its forms, and cannot send them.
    let agent = Browser::start(1280, 900).await;
    sign_in(&app, &agent, "agent", "agent-password").await;
    agent.click("#agency-page").await;
    assert_eq!(agent.path().await, format!("/portal/agencies/{agency}"));
    assert!(agent.text("#tour-codes").await.contains("IT27QR"));
    assert!(!agent.exists("#settings").await && !agent.exists("#agreement").await);
    let cookie = format!("tessera_portal={}", agent.cookie("tessera_portal").await);
    let csrf = agent.attr("input[name=csrf]", "value").await;
    let res = plain()
        .post(app.url(&format!("/portal/agencies/{agency}/settings")))
        .header(COOKIE, cookie)
        .form(&[("csrf", csrf.as_str()), ("vat_percent", "0"), ("default_language", "en")])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.app.get_agency(&admin_who, agency).await.expect("agency"), after);

    // Another agency's agent finds no such page.
    let other = Browser::start(1280, 900).await;
    sign_in(&app, &other, "other", "other-password").await;
    assert_eq!(fetch(&app, &other, &format!("/portal/agencies/{agency}")).await.status(), StatusCode::NOT_FOUND);
}

/// Signing out ends the session on the server: a copy of the cookie taken before no longer works, in the portal
/// or as an API token. An admin signs another user out everywhere from the users list; their API keys stay.
async fn sessions_end_on_the_server(app: TestApp) {
    let browser = Browser::start(1280, 900).await;
    sign_in(&app, &browser, "agent", "agent-password").await;
    let copied = browser.cookie("tessera_portal").await;
    assert_eq!(app.get("/api/v1/bookings", &copied).await.status(), StatusCode::OK, "the session is a token");
    browser.click("form[action='/portal/sign-out'] button").await;
    assert_eq!(browser.path().await, "/portal/sign-in");
    let cookie = format!("tessera_portal={copied}");
    let res = plain().get(app.url("/portal/bookings")).header(COOKIE, cookie).send().await.expect("get");
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "a copied cookie is worth nothing after sign-out");
    assert_eq!(res.headers()[LOCATION], "/portal/sign-in");
    assert_eq!(app.get("/api/v1/bookings", &copied).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/api/v1/bookings", &app.agent_token).await.status(),
        StatusCode::UNAUTHORIZED,
        "every earlier token of the user ends with it"
    );

    // Signing in again works; then an admin ends that session from the users list.
    sign_in(&app, &browser, "agent", "agent-password").await;
    let token = browser.cookie("tessera_portal").await;
    let res = app.post(&format!("/api/v1/users/{}/api-keys", app.agent.id), &token, &serde_json::json!({})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let key = res.json::<Value>().await.expect("json")["key"].as_str().expect("key").to_owned();
    let admin = Browser::start(1280, 900).await;
    sign_in(&app, &admin, "root", "root-password").await;
    admin.click_link("Users").await;
    let users = admin.text("#users").await;
    assert!(users.contains("agent") && users.contains("customer") && users.contains("other"), "{users}");
    admin.tick(&format!("#agency option[value='{}']", app.other_agency.id)).await;
    admin.click("form.search button[type=submit]").await;
    let users = admin.text("#users tbody").await;
    assert!(users.contains("other") && !users.contains("customer"), "filtered by agency: {users}");
    admin.goto(&app.url("/portal/users")).await;
    admin.click("button[aria-label='Sign agent out everywhere']").await;
    assert!(admin.text("#notice").await.starts_with("agent is signed out everywhere"), "{}", admin.body().await);
    browser.goto(&app.url("/portal/bookings")).await;
    assert_eq!(browser.path().await, "/portal/sign-in", "the agent's browser is signed out");
    assert_eq!(admin.text("#signed-in-as").await, "root", "the admin's own session goes on");
    assert_eq!(app.get("/api/v1/bookings", &token).await.status(), StatusCode::UNAUTHORIZED);
    let with_key = app.client.get(app.url("/api/v1/bookings")).header("x-api-key", &key).send().await.expect("get");
    assert_eq!(with_key.status(), StatusCode::OK, "API keys are not sessions and stay");

    // Nobody else may end a session that is not theirs: an agent gets 404 for another user.
    let other = Browser::start(1280, 900).await;
    sign_in(&app, &other, "other", "other-password").await;
    let root = app.app.find_user_by_username("root").await.expect("root");
    let cookie = format!("tessera_portal={}", other.cookie("tessera_portal").await);
    let csrf = other.attr("input[name=csrf]", "value").await;
    let res = plain()
        .post(app.url(&format!("/portal/users/{}/end-sessions", root.id)))
        .header(COOKIE, cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    admin.goto(&app.url("/portal/users")).await;
    assert_eq!(admin.path().await, "/portal/users", "the admin is still signed in");
}

both_backends!(
    coupon_use_refund_approval_and_top_up,
    agent_manages_api_keys,
    agent_issues_downloads_and_voids,
    refund_with_penalty_and_errors_in_words,
    another_agency_sees_nothing,
    customer_reads_without_agent_actions,
    forms_without_the_csrf_token_are_refused,
    agent_searches_sorts_and_signs_out,
    agent_handles_an_event_bookings_tickets,
    agent_manages_webhooks,
    admin_creates_an_agency_and_its_agent,
    agent_exchanges_a_ticket,
    admin_edits_an_agency,
    sessions_end_on_the_server,
);

/// The screenshots of docs/portal/ (`scripts/portal-screenshots`): the main pages on SQLite, desktop and 360 px.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes docs/portal/*.png; run by scripts/portal-screenshots"]
async fn screenshots() {
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await;
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/portal");
    std::fs::create_dir_all(&out).expect("docs/portal");
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    let id = booking_id(&booking).await;
    let round = app.book(&app.agent_token, &example("round")).await;
    let (_, issued) = app.issue(&app.agent_token, &booking_id(&round).await, serde_json::json!({})).await;
    let number = issued["tickets"][0]["number"].as_str().expect("number").replace('-', "");

    let browser = Browser::start(1100, 760).await;
    browser.goto(&app.url("/portal/sign-in")).await;
    browser.screenshot(&out.join("sign-in.png")).await;
    sign_in(&app, &browser, "agent", "agent-password").await;
    browser.screenshot(&out.join("overview.png")).await;
    browser.goto(&app.url("/portal/bookings")).await;
    browser.screenshot(&out.join("bookings.png")).await;
    browser.goto(&app.url(&format!("/portal/bookings/{id}/issue"))).await;
    browser.screenshot(&out.join("issue-confirmation.png")).await;
    browser.goto(&app.url(&format!("/portal/tickets/{number}"))).await;
    browser.screenshot(&out.join("ticket.png")).await;
    browser.goto(&app.url(&format!("/portal/tickets/{number}/exchange"))).await;
    browser.screenshot(&out.join("exchange.png")).await;
    browser.goto(&app.url("/portal/ledger")).await;
    browser.screenshot(&out.join("ledger.png")).await;
    browser.goto(&app.url("/portal/webhooks")).await;
    browser.screenshot(&out.join("webhooks.png")).await;
    drop(browser);

    let admin = Browser::start(1100, 760).await;
    sign_in(&app, &admin, "root", "root-password").await;
    admin.goto(&app.url("/portal/agencies")).await;
    admin.screenshot(&out.join("admin-agencies.png")).await;
    admin.goto(&app.url(&format!("/portal/agencies/{}", app.agency.id))).await;
    admin.screenshot(&out.join("admin-agency.png")).await;
    admin.goto(&app.url("/portal/users")).await;
    admin.screenshot(&out.join("admin-users.png")).await;
    admin.goto(&app.url("/portal/audit")).await;
    admin.screenshot(&out.join("admin-audit.png")).await;
    drop(admin);

    let phone = Browser::start(360, 740).await;
    sign_in(&app, &phone, "agent", "agent-password").await;
    phone.goto(&app.url(&format!("/portal/tickets/{number}"))).await;
    phone.screenshot(&out.join("ticket-360px.png")).await;
}

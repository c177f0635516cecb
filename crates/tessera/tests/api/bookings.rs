//! Booking intake and lookup: `POST/GET /api/v1/bookings`, `GET /api/v1/bookings/{id}`.

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use tessera_core::agency::Agency;
use tessera_core::user::Role;

use crate::helpers::{example, expect_problem, new_agency, op, TestApp};

/// A fresh agency in `currency` with one agent; returns the agency and the agent's token.
async fn agent_in(app: &TestApp, username: &str, currency: &str) -> (Agency, String) {
    let agency = new_agency(&app.app, &format!("{username} travel"), currency, "100000000").await;
    let agent = app.app.create_user(&op(), username, "agent-password", Role::Agent, Some(agency.id)).await.unwrap();
    (agency, app.app.issue_token(&agent).unwrap().access_token)
}

async fn post_raw(app: &TestApp, token: &str, body: impl Into<reqwest::Body>) -> Response {
    let request = app.client.post(app.url("/api/v1/bookings")).bearer_auth(token);
    request.header("content-type", "application/json").body(body).send().await.unwrap()
}

async fn list(app: &TestApp, token: &str, query: &str) -> Value {
    let res = app.get(&format!("/api/v1/bookings{query}"), token).await;
    assert_eq!(res.status(), StatusCode::OK, "{query}");
    res.json().await.unwrap()
}

fn ids(list: &Value) -> Vec<String> {
    list["bookings"].as_array().unwrap().iter().map(|b| b["id"].as_str().unwrap().to_owned()).collect()
}

fn sorted_pointers(problem: &Value) -> Vec<String> {
    let mut out: Vec<String> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap().to_owned()).collect();
    out.sort();
    out
}

fn reason_at<'a>(problem: &'a Value, pointer: &str) -> &'a str {
    let errors = problem["errors"].as_array().unwrap();
    let error =
        errors.iter().find(|e| e["pointer"] == pointer).unwrap_or_else(|| panic!("no error at {pointer}: {problem}"));
    error["reason"].as_str().unwrap()
}

fn with_pnr(name: &str, pnr: &str) -> Value {
    let mut doc = example(name);
    doc["pnr"] = json!(pnr);
    doc
}

async fn every_shipped_example_creates_a_booking(app: TestApp) {
    let (vnd, vnd_token) = agent_in(&app, "hanoi", "VND").await;
    let (eur, eur_token) = agent_in(&app, "amsterdam", "EUR").await;
    let cases = [
        ("oneway", &app.agent_token, &app.agency, "flight"),
        ("round", &app.agent_token, &app.agency, "flight"),
        ("multicity", &app.agent_token, &app.agency, "flight"),
        ("family", &vnd_token, &vnd, "flight"),
        ("event", &eur_token, &eur, "event"),
    ];
    let mut bodies = Vec::new();
    for (name, token, agency, kind) in cases {
        let res = app.post("/api/v1/bookings", token, &example(name)).await;
        assert_eq!(res.status(), StatusCode::CREATED, "{name}");
        let location = res.headers().get("location").expect("Location header").to_str().unwrap().to_owned();
        let body: Value = res.json().await.unwrap();
        let id = body["id"].as_str().unwrap();
        uuid::Uuid::parse_str(id).expect("id is a UUID");
        assert_eq!(location, format!("/api/v1/bookings/{id}"), "{name}");
        assert_eq!(body["status"], "confirmed", "{name}");
        assert_eq!(body["type"], kind, "{name}");
        assert_eq!(body["agency_id"], json!(agency.id.to_string()), "{name}");
        bodies.push((name, token, location, body));
    }
    let oneway = &bodies[0].3;
    assert_eq!(oneway["pnr"], "PQMJ8E");
    assert_eq!(oneway["validating_carrier_name"], "Qatar Airways");
    let segment = &oneway["journeys"][0]["segments"][0];
    assert_eq!(segment["carrier_name"], "Qatar Airways");
    assert_eq!(segment["departure"]["city"], "Kathmandu");
    assert_eq!(segment["departure"]["airport_name"], "Tribhuvan International Airport");
    assert_eq!(segment["departure"]["country"], "Nepal");
    assert_eq!(segment["arrival"]["city"], "Doha");
    assert_eq!(segment["departure"]["time"], "2027-07-22T10:10:00+05:45", "local time and offset kept");
    assert_eq!(oneway["fares"][0]["total"], json!({"amount": "41893.00", "currency": "NPR"}));
    assert_eq!(oneway["fares"][0]["taxes"][0]["amount"], json!({"amount": "4893.00", "currency": "NPR"}));
    assert_eq!(oneway["cashback"], json!({"amount": "300.00", "currency": "NPR"}));
    assert_eq!(oneway["refundable"], true, "refundable defaults to true");
    assert_eq!(bodies[1].3["journeys"].as_array().unwrap().len(), 2);
    assert_eq!(bodies[2].3["journeys"][0]["segments"][1]["arrival"]["city"], "New Delhi");
    let family = &bodies[3].3;
    assert_eq!(family["fares"][0]["total"], json!({"amount": "2350000", "currency": "VND"}));
    assert_eq!(family["services"][0]["amount"], json!({"amount": "250000", "currency": "VND"}));
    assert_eq!(family["journeys"][0]["segments"][0]["arrival"]["city"], "Ho Chi Minh City");
    let event = &bodies[4].3;
    assert_eq!(event["booking_code"], "CODE123");
    assert_eq!(event["orders"][0]["items"][0]["unit_price"], json!({"amount": "189.00", "currency": "EUR"}));
    assert_eq!(event["orders"][1]["items"][1]["distribution_channel"], "external_end_client");
    // The Location answers the very same booking, field for field (created_at included).
    for (name, token, location, body) in &bodies {
        let again = app.get(location, token).await;
        assert_eq!(again.status(), StatusCode::OK, "{name}");
        assert_eq!(&again.json::<Value>().await.unwrap(), body, "{name}: GET differs from the 201 body");
    }
}

async fn a_document_with_many_mistakes_lists_every_one_and_stores_nothing(app: TestApp) {
    // Mistakes that do not hide each other: each rule below runs whatever the others found.
    let mut first = example("round");
    first["pnr"] = json!("pq-1");
    first["journeys"].as_array_mut().unwrap().truncate(1);
    let mut early = first["journeys"][0]["segments"][0].clone();
    early["departure"] = json!({"airport": "DOH", "time": "2027-07-22T11:00:00+03:00"});
    early["arrival"] = json!({"airport": "DEL", "time": "2027-07-22T16:00:00+05:30"});
    first["journeys"][0]["segments"].as_array_mut().unwrap().push(early);
    first["fares"][0]["total"] = json!(74515);
    first["cashback"] = json!("300.001");
    first["passengers"] = json!([
        {"id": "c1", "type": "CHD", "surname": "MAHARJAN", "given_name": "SITA"},
        {"id": "i1", "type": "INF", "surname": "MAHARJAN", "given_name": "RAM"}
    ]);
    let problem = expect_problem(
        app.post("/api/v1/bookings", &app.agent_token, &first).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        sorted_pointers(&problem),
        [
            "/cashback",
            "/fares/0/total",
            "/journeys",
            "/journeys/0/segments/1/departure/time",
            "/passengers",
            "/passengers/1",
            "/pnr"
        ],
        "{problem}"
    );
    assert!(reason_at(&problem, "/fares/0/total").contains("74514.00"), "{problem}");
    assert!(reason_at(&problem, "/journeys").contains("two journeys"), "{problem}");
    assert!(reason_at(&problem, "/passengers/1").contains("adult"), "{problem}");
    assert!(reason_at(&problem, "/cashback").contains("decimal places"), "{problem}");

    let mut second = example("oneway");
    second["journeys"][0]["segments"][0]["arrival"] = json!({"airport": "ZZZ", "time": "2027-07-22T12:25:00+03:00"});
    second["passengers"].as_array_mut().unwrap().push(json!({"id": "p2", "type": "CHD", "surname": "MAHARJAN"}));
    second["services"] = json!([{"passenger_id": "p1", "type": "BAGGAGE", "code": "XBAG", "description": "10 Kg", "amount": "2500.125"}]);
    let problem = expect_problem(
        app.post("/api/v1/bookings", &app.agent_token, &second).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        sorted_pointers(&problem),
        ["/journeys/0/segments/0/arrival/airport", "/passengers/1/type", "/services/0/amount"],
        "{problem}"
    );
    assert!(reason_at(&problem, "/journeys/0/segments/0/arrival/airport").contains("ZZZ"), "{problem}");
    assert!(reason_at(&problem, "/passengers/1/type").contains("CHD"), "{problem}");

    // The same unknown airport with its names is fine.
    second["journeys"][0]["segments"][0]["arrival"] = json!({"airport": "ZZZ", "airport_name": "Zed Field", "city": "Zedtown", "country": "Nowhere", "time": "2027-07-22T12:25:00+03:00"});
    second["passengers"].as_array_mut().unwrap().pop();
    second["services"][0]["amount"] = json!("2500.12");
    let booked = app.book(&app.agent_token, &second).await;
    assert_eq!(booked["journeys"][0]["segments"][0]["arrival"]["city"], "Zedtown");
    assert_eq!(
        ids(&list(&app, &app.agent_token, "").await),
        [booked["id"].as_str().unwrap()],
        "only the valid one is stored"
    );
}

async fn structural_mistakes_are_422_and_store_nothing(app: TestApp) {
    let mut unknown_root = example("oneway");
    unknown_root["seat_map"] = json!(true);
    let mut unknown_nested = example("oneway");
    unknown_nested["passengers"][0]["nickname"] = json!("Rabi");
    let mut wrong_type = example("oneway");
    wrong_type["passengers"] = json!("MAHARJAN");
    let mut euro = example("oneway");
    euro["currency"] = json!("EUR");
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (serde_json::to_vec(&unknown_root).unwrap(), "/seat_map"),
        (serde_json::to_vec(&unknown_nested).unwrap(), "/passengers/0/nickname"),
        (serde_json::to_vec(&wrong_type).unwrap(), "/passengers"),
        (serde_json::to_vec(&euro).unwrap(), "/currency"),
        (br#"{"type": "train"}"#.to_vec(), "/type"),
        (br#"{"pnr": "PQMJ8E"}"#.to_vec(), "/type"),
        (br#"{"type": "flight", "pnr": "#.to_vec(), ""),
        (Vec::new(), ""),
        (b"[1, 2, 3]".to_vec(), ""),
        (b"\"flight\"".to_vec(), ""),
        (b"null".to_vec(), ""),
    ];
    for (body, pointer) in cases {
        let text = String::from_utf8_lossy(&body).chars().take(60).collect::<String>();
        let problem = expect_problem(
            post_raw(&app, &app.agent_token, body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        let errors = problem["errors"].as_array().unwrap();
        assert!(errors.iter().any(|e| e["pointer"] == pointer), "{text}: expected {pointer:?} in {problem}");
        assert_eq!(list(&app, &app.agent_token, "").await["bookings"], json!([]), "{text} stored something");
    }
    let problem = expect_problem(
        app.post("/api/v1/bookings", &app.agent_token, &euro).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(reason_at(&problem, "/currency").contains("NPR"), "{problem}");
    let audit: Value = app.get("/api/v1/audit", &app.agent_token).await.json().await.unwrap();
    assert!(audit["entries"].as_array().unwrap().iter().all(|e| e["action"] != "booking.create"), "{audit}");
}

async fn a_duplicate_pnr_is_a_conflict_within_one_agency_only(app: TestApp) {
    let first = app.book(&app.agent_token, &example("oneway")).await;
    let res = app.post("/api/v1/bookings", &app.agent_token, &example("oneway")).await;
    expect_problem(res, StatusCode::CONFLICT, "conflict").await;
    // A customer of the same agency collides too.
    let res = app.post("/api/v1/bookings", &app.customer_token, &example("oneway")).await;
    expect_problem(res, StatusCode::CONFLICT, "conflict").await;
    assert_eq!(ids(&list(&app, &app.agent_token, "?pnr=PQMJ8E").await), [first["id"].as_str().unwrap()]);
    let other = app.book(&app.other_token, &example("oneway")).await;
    assert_eq!(other["agency_id"], json!(app.other_agency.id.to_string()));
    assert_ne!(other["id"], first["id"]);
    assert_eq!(ids(&list(&app, &app.other_token, "").await), [other["id"].as_str().unwrap()]);
}

async fn a_booking_is_visible_only_within_reach(app: TestApp) {
    let agents = app.book(&app.agent_token, &example("oneway")).await;
    let agents_id = agents["id"].as_str().unwrap();
    let path = format!("/api/v1/bookings/{agents_id}");
    expect_problem(app.get(&path, &app.other_token).await, StatusCode::NOT_FOUND, "not_found").await;
    for bad in ["not-a-uuid", "123", uuid::Uuid::new_v4().to_string().as_str(), format!("{agents_id}x").as_str()] {
        expect_problem(
            app.get(&format!("/api/v1/bookings/{bad}"), &app.agent_token).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    assert_eq!(list(&app, &app.other_token, "").await["bookings"], json!([]));

    let customers = app.book(&app.customer_token, &example("round")).await;
    let customers_id = customers["id"].as_str().unwrap();
    assert_eq!(customers["created_by"], json!(app.customer.id.to_string()));
    assert_eq!(ids(&list(&app, &app.customer_token, "").await), [customers_id]);
    expect_problem(app.get(&path, &app.customer_token).await, StatusCode::NOT_FOUND, "not_found").await;
    let own = app.get(&format!("/api/v1/bookings/{customers_id}"), &app.customer_token).await;
    assert_eq!(own.status(), StatusCode::OK);
    assert_eq!(ids(&list(&app, &app.agent_token, "").await), [agents_id, customers_id]);
    let seen = app.get(&format!("/api/v1/bookings/{customers_id}"), &app.agent_token).await;
    assert_eq!(seen.status(), StatusCode::OK);
}

async fn listing_filters_and_pages_in_creation_order(app: TestApp) {
    let mut created = Vec::new();
    for n in 1..=5 {
        let booking = app.book(&app.agent_token, &with_pnr("oneway", &format!("PAGE0{n}"))).await;
        created.push(booking["id"].as_str().unwrap().to_owned());
    }
    let one = list(&app, &app.agent_token, "?pnr=PAGE03").await;
    assert_eq!(ids(&one), [created[2].as_str()]);
    assert_eq!(one["bookings"][0]["pnr"], "PAGE03");
    assert_eq!(list(&app, &app.agent_token, "?pnr=NOPE99").await["bookings"], json!([]));

    let (status, issued) = app.issue(&app.agent_token, &created[1], json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let ticketed = list(&app, &app.agent_token, "?status=ticketed").await;
    assert_eq!(ids(&ticketed), [created[1].as_str()]);
    assert_eq!(ticketed["bookings"][0]["status"], "ticketed");
    let confirmed: Vec<String> =
        created.iter().enumerate().filter(|(i, _)| *i != 1).map(|(_, id)| id.clone()).collect();
    assert_eq!(ids(&list(&app, &app.agent_token, "?status=confirmed").await), confirmed);
    assert_eq!(ids(&list(&app, &app.agent_token, "?status=ticketed&pnr=PAGE03").await), Vec::<String>::new());
    let problem = expect_problem(
        app.get("/api/v1/bookings?status=bogus", &app.agent_token).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["pointer"], "/query/status", "{problem}");

    let mut seen = Vec::new();
    let mut pages = Vec::new();
    let mut query = "?limit=2".to_owned();
    loop {
        let page = list(&app, &app.agent_token, &query).await;
        pages.push(ids(&page).len());
        seen.extend(ids(&page));
        match page.get("next_cursor").and_then(Value::as_str) {
            Some(cursor) => query = format!("?limit=2&cursor={cursor}"),
            None => break,
        }
        assert!(pages.len() < 10, "paging does not end");
    }
    assert_eq!(pages, [2, 2, 1]);
    assert_eq!(seen, created, "every booking once, oldest first");

    for bad in ["?cursor=garbage", "?cursor=", "?limit=abc"] {
        let res = app.get(&format!("/api/v1/bookings{bad}"), &app.agent_token).await;
        let problem = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        let pointer = problem["errors"][0]["pointer"].as_str().unwrap();
        assert!(pointer.ends_with("cursor") || pointer.ends_with("limit"), "{bad}: {problem}");
    }
}

async fn bookings_are_found_by_name_and_travel_day_in_each_order(app: TestApp) {
    let mut family = with_pnr("family", "FAM001");
    family["passengers"][0]["surname"] = json!("NGUYỄN");
    family["passengers"][0]["given_name"] = json!("VĂN ĐỨC");
    family["currency"] = json!("NPR");
    let mut event = example("event");
    event["currency"] = json!("NPR");
    let booked = [
        app.book(&app.agent_token, &with_pnr("multicity", "MUL001")).await, // 2027-08-01
        app.book(&app.agent_token, &family).await,                          // 2027-04-10
        app.book(&app.agent_token, &event).await,                           // 2027-03-02
        app.book(&app.agent_token, &with_pnr("oneway", "ONE001")).await,    // 2027-07-22
    ];
    let id = |i: usize| booked[i]["id"].as_str().unwrap().to_owned();
    let found = |query: &'static str| {
        let app = &app;
        async move { ids(&list(app, &app.agent_token, query).await) }
    };

    // Names in either order, any case, accents optional, on the booking of any passenger or guest.
    assert_eq!(found("?name=nguyen%20van%20duc").await, [id(1)]);
    assert_eq!(found("?name=V%C4%83n%20%C4%90%E1%BB%A9c").await, [id(1)], "accents and đ may be typed too");
    assert_eq!(found("?name=thi%20d").await, [id(1)], "any passenger of the booking");
    assert_eq!(found("?name=rabi%20maharjan").await, [id(0), id(3)]);
    assert_eq!(found("?name=CELIK").await, [id(2)], "an event's guest");
    assert_eq!(found("?name=duc%20tran").await, Vec::<String>::new(), "never across two people");
    assert_eq!(ids(&list(&app, &app.other_token, "?name=nguyen").await), Vec::<String>::new(), "nor agencies");

    // The travel day: a flight's first departure, local; an event booking's first event.
    assert_eq!(found("?travel_from=2027-04-10&travel_to=2027-07-22").await, [id(1), id(3)]);
    assert_eq!(found("?travel_from=2027-07-23").await, [id(0)]);
    assert_eq!(found("?travel_to=2027-03-02").await, [id(2)]);

    // Each order, paged by two, gives every booking once.
    for (sort, expected) in [
        ("created", vec![id(0), id(1), id(2), id(3)]),
        ("-created", vec![id(3), id(2), id(1), id(0)]),
        ("travel", vec![id(2), id(1), id(3), id(0)]),
        ("-travel", vec![id(0), id(3), id(1), id(2)]),
    ] {
        let mut seen = Vec::new();
        let mut query = format!("?limit=2&sort={sort}");
        for _ in 0..5 {
            let page = list(&app, &app.agent_token, &query).await;
            seen.extend(ids(&page));
            match page.get("next_cursor").and_then(Value::as_str) {
                Some(cursor) => query = format!("?limit=2&sort={sort}&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(seen, expected, "{sort}");
    }
    assert_eq!(found("?name=maharjan&sort=-travel").await, [id(0), id(3)], "filters and orders combine");

    // Refusals name the parameter.
    let travel_cursor = list(&app, &app.agent_token, "?limit=1&sort=travel").await["next_cursor"].clone();
    let travel_cursor = travel_cursor.as_str().unwrap().to_owned();
    for (query, pointer) in [
        ("?travel_from=2027-05-01&travel_to=2027-04-30".to_owned(), "/query/travel_to"),
        ("?travel_from=2027-5-1".to_owned(), "/query/travel_from"),
        ("?travel_to=tomorrow".to_owned(), "/query/travel_to"),
        ("?sort=name".to_owned(), "/query/sort"),
        (format!("?cursor={travel_cursor}"), "/query/cursor"),
        ("?name=%CC%81".to_owned(), "/query/name"),
        ("?name=%20%20".to_owned(), "/query/name"),
    ] {
        let res = app.get(&format!("/api/v1/bookings{query}"), &app.agent_token).await;
        let problem = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["pointer"], pointer, "{query}: {problem}");
    }
}

async fn an_admin_books_for_the_agency_it_names(app: TestApp) {
    let problem = expect_problem(
        app.post("/api/v1/bookings", &app.admin_token, &example("oneway")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["pointer"], "/agency_id", "{problem}");
    let mut doc = example("oneway");
    doc["agency_id"] = json!(app.other_agency.id.to_string());
    // An agent cannot book into another agency by naming it.
    let problem = expect_problem(
        app.post("/api/v1/bookings", &app.agent_token, &doc).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["pointer"], "/agency_id", "{problem}");
    assert_eq!(list(&app, &app.admin_token, "").await["bookings"], json!([]));

    let booked = app.book(&app.admin_token, &doc).await;
    assert_eq!(booked["agency_id"], json!(app.other_agency.id.to_string()));
    assert_eq!(booked["created_by"], json!(app.admin.id.to_string()));
    let id = booked["id"].as_str().unwrap();
    assert_eq!(ids(&list(&app, &app.other_token, "").await), [id]);
    assert_eq!(list(&app, &app.agent_token, "").await["bookings"], json!([]));
    expect_problem(
        app.get(&format!("/api/v1/bookings/{id}"), &app.agent_token).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // A well-formed id of no agency.
    doc["agency_id"] = json!(uuid::Uuid::new_v4().to_string());
    doc["pnr"] = json!("NOAGCY");
    let problem = expect_problem(
        app.post("/api/v1/bookings", &app.admin_token, &doc).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["pointer"], "/agency_id", "{problem}");
}

async fn names_with_diacritics_round_trip_exactly(app: TestApp) {
    let (_, vnd_token) = agent_in(&app, "saigon", "VND").await;
    let mut family = example("family");
    family["passengers"][0]["surname"] = json!("NGUYỄN");
    family["passengers"][1]["given_name"] = json!("THỊ BÍCH");
    // Typed with combining marks (E + circumflex + tilde): stored composed.
    family["passengers"][2]["surname"] = json!("NGUYE\u{0302}\u{0303}N");
    let booked = app.book(&vnd_token, &family).await;
    let read: Value = app
        .get(&format!("/api/v1/bookings/{}", booked["id"].as_str().unwrap()), &vnd_token)
        .await
        .json()
        .await
        .unwrap();
    for body in [&booked, &read] {
        assert_eq!(body["passengers"][0]["surname"], "NGUYỄN");
        assert_eq!(body["passengers"][1]["given_name"], "THỊ BÍCH");
        assert_eq!(body["passengers"][2]["surname"], "NGUY\u{1EC4}N");
    }
    let (_, eur_token) = agent_in(&app, "zandvoort", "EUR").await;
    let event = app.book(&eur_token, &example("event")).await;
    let read: Value =
        app.get(&format!("/api/v1/bookings/{}", event["id"].as_str().unwrap()), &eur_token).await.json().await.unwrap();
    let guest = &read["orders"][1]["items"][0]["guests"][0];
    assert_eq!((guest["first_name"].as_str(), guest["last_name"].as_str()), (Some("Ömer"), Some("Çelik")));
    assert_eq!(read["orders"][1]["event"]["name"], "Formula 1 Dutch Grand Prix — 3-day pass");
}

both_backends!(
    every_shipped_example_creates_a_booking,
    a_document_with_many_mistakes_lists_every_one_and_stores_nothing,
    structural_mistakes_are_422_and_store_nothing,
    a_duplicate_pnr_is_a_conflict_within_one_agency_only,
    a_booking_is_visible_only_within_reach,
    listing_filters_and_pages_in_creation_order,
    bookings_are_found_by_name_and_travel_day_in_each_order,
    an_admin_books_for_the_agency_it_names,
    names_with_diacritics_round_trip_exactly,
);

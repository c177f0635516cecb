//! The overview, bookings (search, paging, detail), issuance with its confirmation, and the ledger.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use tessera_app::bookings::BookingQuery;
use tessera_app::idempotency::{request_hash, Idempotent};
use tessera_app::issuing::IssueCommand;
use tessera_app::views::Lang;
use tessera_app::{AppError, Principal, Tessera};
use tessera_core::agency::Agency;
use tessera_core::booking::{Booking, BookingDetail, BookingStatus};
use tessera_core::ids::BookingId;
use tessera_core::intake::ValidationErrors;
use tessera_core::search::BookingSort;
use tessera_core::user::Role;

use crate::form::{Fields, Page, Posted};
use crate::layout::{csrf, fail, field_error, money, page, when, words, Nav, PageError};
use crate::session::{Meta, Session};
use crate::BASE;

/// The agency whose balance a page shows: the agent's own; none for admins and customers.
async fn own_agency(app: &Tessera, who: &Principal) -> Result<Option<Agency>, AppError> {
    match (who.role(), who.user.agency_id) {
        (Role::Agent, Some(id)) => Ok(Some(app.get_agency(who, id).await?)),
        _ => Ok(None),
    }
}

fn balance_cards(agency: &Agency) -> Markup {
    html! {
        section aria-labelledby="balance-heading" {
            h2 #balance-heading { (agency.name) }
            div.cards {
                div.card { span.label { "Balance" } span.value #balance { (money(agency.balance)) } }
                div.card { span.label { "Credit limit" } span.value #credit-limit { (money(agency.credit_limit)) } }
                div.card { span.label { "Available to issue" } span.value #available { (money(agency.available())) } }
            }
        }
    }
}

pub async fn home(State(app): State<Tessera>, Page(s): Page) -> Result<Response, PageError> {
    let agency = own_agency(&app, &s.who).await.map_err(fail(&s))?;
    let body = html! {
        h1 { "Overview" }
        @if let Some(a) = &agency { (balance_cards(a)) }
        @if let (Some(a), Role::Agent) = (&agency, s.who.role()) {
            p { "Your agency's carrier agreements, tour codes, corporate accounts and booker codes: "
                a #agency-page href=(format!("{BASE}/agencies/{}", a.id)) { (a.name) } "." }
        }
        @if s.who.role() == Role::Customer {
            p { "Your bookings and tickets, with their documents, are under " a href=(format!("{BASE}/bookings")) { "Bookings" } "." }
        }
        @if s.who.is_admin() {
            p { "Manage " a href=(format!("{BASE}/agencies")) { "agencies" } ", read the "
                a href=(format!("{BASE}/outbox")) { "outbox" } " and the " a href=(format!("{BASE}/audit")) { "audit log" } "." }
        }
        p { a.button href=(format!("{BASE}/bookings")) { "Find a booking" } }
    };
    Ok(page("Overview", Some(&s), Nav::Home, body).into_response())
}

fn query_fields(raw: Option<String>) -> Fields {
    Fields::parse(raw.unwrap_or_default().as_bytes())
}

fn status_badge(status: BookingStatus) -> Markup {
    html! { span class=(format!("status {}", status.as_str())) { (status.as_str()) } }
}

fn lead_name(booking: &Booking) -> String {
    match &booking.detail {
        BookingDetail::Flight(f) => f
            .passengers
            .first()
            .map(|p| format!("{} {}", p.given_name.clone().unwrap_or_default(), p.surname).trim().to_owned())
            .unwrap_or_default(),
        BookingDetail::Event(e) => e
            .orders
            .iter()
            .flat_map(|o| o.items.iter().flat_map(|i| i.guests.iter()))
            .find(|g| g.lead_guest)
            .map(|g| format!("{} {}", g.first_name, g.last_name))
            .unwrap_or_else(|| e.contact.email.clone()),
    }
}

/// The bookings page's search, as the query string carries it: what the form shows back and the next page keeps.
struct Search {
    pnr: Option<String>,
    name: Option<String>,
    status: Option<String>,
    travel_from: Option<String>,
    travel_to: Option<String>,
    sort: Option<String>,
}

impl Search {
    fn of(q: &Fields) -> Self {
        let get = |key: &str| q.get(key).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        Search {
            pnr: get("pnr").map(|p| p.to_uppercase()),
            name: get("name"),
            status: get("status"),
            travel_from: get("travel_from"),
            travel_to: get("travel_to"),
            sort: get("sort"),
        }
    }

    fn pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("pnr", &self.pnr),
            ("name", &self.name),
            ("status", &self.status),
            ("travel_from", &self.travel_from),
            ("travel_to", &self.travel_to),
            ("sort", &self.sort),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect()
    }

    /// The bookings URL of this search, in `sort` order if given, from `cursor` if given.
    fn url(&self, sort: Option<&str>, cursor: Option<&str>) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in self.pairs().into_iter().filter(|(k, _)| *k != "sort") {
            query.append_pair(k, v);
        }
        if let Some(sort) = sort.or(self.sort.as_deref()) {
            query.append_pair("sort", sort);
        }
        if let Some(c) = cursor {
            query.append_pair("cursor", c);
        }
        format!("{BASE}/bookings?{}", query.finish())
    }

    /// The service's query; a value the service cannot take is refused here with the field it came from.
    fn query(&self, cursor: Option<&str>) -> Result<BookingQuery, AppError> {
        let invalid = |field: &str, reason: &str| {
            AppError::Validation(ValidationErrors::single(format!("/query/{field}"), reason))
        };
        let status = match self.status.as_deref() {
            Some(text) => Some(BookingStatus::parse(text).ok_or_else(|| invalid("status", "is not a booking status"))?),
            None => None,
        };
        let date = |field: &str, value: &Option<String>| {
            value
                .as_deref()
                .map(|t| {
                    tessera_core::intake::parse_date(t).ok_or_else(|| invalid(field, "must be a date, YYYY-MM-DD"))
                })
                .transpose()
        };
        let sort = match self.sort.as_deref() {
            Some(text) => BookingSort::parse(text).ok_or_else(|| invalid("sort", "is not an order of this list"))?,
            None => BookingSort::default(),
        };
        Ok(BookingQuery {
            pnr: self.pnr.clone(),
            name: self.name.clone(),
            status,
            travel_from: date("travel_from", &self.travel_from)?,
            travel_to: date("travel_to", &self.travel_to)?,
            sort,
            limit: Some(20),
            cursor: cursor.map(str::to_owned),
        })
    }
}

/// A form field with its label and, when the last search was refused for it, the reason next to it.
fn search_field(id: &str, label: &str, kind: &str, value: &Option<String>, error: &Option<String>) -> Markup {
    let error_id = format!("{id}-error");
    html! {
        div.field {
            label for=(id) { (label) }
            input #(id) name=(id) type=(kind) value=(value.clone().unwrap_or_default())
                aria-invalid=[error.as_ref().map(|_| "true")] aria-describedby=[error.as_ref().map(|_| error_id.as_str())];
            @if let Some(e) = error { p.error role="alert" id=(error_id) { (e) } }
        }
    }
}

/// A column heading that orders the list by it: ascending first, then descending; `aria-sort` says which.
fn sort_heading(search: &Search, label: &str, key: &str) -> Markup {
    let current = search.sort.as_deref().unwrap_or("created");
    let descending = format!("-{key}");
    let (next, state) = if current == key {
        (descending.as_str(), Some("ascending"))
    } else if current == descending {
        (key, Some("descending"))
    } else {
        (key, None)
    };
    html! {
        th scope="col" aria-sort=[state] {
            a href=(search.url(Some(next), None)) { (label) @match state { Some("ascending") => " ▲", Some(_) => " ▼", None => "" } }
        }
    }
}

pub async fn bookings(
    State(app): State<Tessera>,
    Page(s): Page,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let q = query_fields(raw);
    let search = Search::of(&q);
    let cursor = q.get("cursor");
    let result = match search.query(cursor) {
        Ok(query) => app.list_bookings(&s.who, &query).await,
        Err(e) => Err(e),
    };
    let (page_of, error) = match result {
        Ok(p) => (Some(p), None),
        Err(e @ AppError::Validation(_)) => (None, Some(e)),
        Err(e) => return Err(fail(&s)(e)),
    };
    let fields = ["pnr", "name", "status", "travel_from", "travel_to", "sort"];
    let field_errors: Vec<Option<String>> = fields.iter().map(|f| field_error(error.as_ref(), f)).collect();
    let other_error = error.as_ref().filter(|_| field_errors.iter().all(Option::is_none)).map(words);
    let [pnr_error, name_error, status_error, from_error, to_error, sort_error] =
        <[Option<String>; 6]>::try_from(field_errors).unwrap_or_default();
    let next = page_of.as_ref().and_then(|p| p.next_cursor.as_deref()).map(|c| search.url(None, Some(c)));
    let body = html! {
        h1 { "Bookings" }
        form.search method="get" action=(format!("{BASE}/bookings")) role="search" aria-label="Find bookings" {
            (search_field("pnr", "PNR or booking code", "text", &search.pnr, &pnr_error))
            (search_field("name", "Passenger or guest name", "text", &search.name, &name_error))
            div.field {
                label for="status" { "Status" }
                select #status name="status" aria-invalid=[status_error.as_ref().map(|_| "true")] {
                    option value="" { "Any" }
                    @for st in ["confirmed", "ticketed", "cancelled"] {
                        option value=(st) selected[search.status.as_deref() == Some(st)] { (st) }
                    }
                }
                @if let Some(e) = &status_error { p.error role="alert" { (e) } }
            }
            (search_field("travel_from", "Travelling from", "date", &search.travel_from, &from_error))
            (search_field("travel_to", "Travelling until", "date", &search.travel_to, &to_error))
            div.field {
                label for="sort" { "Order" }
                select #sort name="sort" aria-invalid=[sort_error.as_ref().map(|_| "true")] {
                    @for (value, label) in [("created", "Oldest first"), ("-created", "Newest first"),
                        ("travel", "Soonest travel first"), ("-travel", "Latest travel first")] {
                        option value=(value) selected[search.sort.as_deref().unwrap_or("created") == value] { (label) }
                    }
                }
                @if let Some(e) = &sort_error { p.error role="alert" { (e) } }
            }
            div { button type="submit" { "Search" } }
        }
        @if let Some(e) = &other_error { p.alert role="alert" { (e) } }
        @if let Some(p) = &page_of {
            @if p.bookings.is_empty() {
                p #no-bookings { "No bookings match." }
            } @else {
                div.table-wrap {
                    table #bookings {
                        caption.skip { "Bookings" }
                        thead { tr { th scope="col" { "Code" } th scope="col" { "Kind" } th scope="col" { "Lead passenger / guest" }
                            th scope="col" { "Status" } (sort_heading(&search, "Travel", "travel")) (sort_heading(&search, "Created", "created")) } }
                        tbody {
                            @for b in &p.bookings {
                                tr {
                                    td { a href=(format!("{BASE}/bookings/{}", b.id)) { (b.code()) } }
                                    td { (b.kind()) }
                                    td { (lead_name(b)) }
                                    td { (status_badge(b.status)) }
                                    td { (tessera_core::search::travel_date(&b.detail).map(|d| d.to_string()).unwrap_or_default()) }
                                    td { (when(b.created_at)) }
                                }
                            }
                        }
                    }
                }
            }
            nav.pager aria-label="Pages" {
                @if cursor.is_some() { a href=(search.url(None, None)) { "First page" } }
                @if let Some(n) = &next { a href=(n) rel="next" { "Next page" } }
            }
        }
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, page("Bookings", Some(&s), Nav::Bookings, body)).into_response())
}

/// Passenger ids to names, for ticket lists (a ticket names its passenger by the booking's id for them).
pub(crate) fn passenger_names(booking: &Booking) -> std::collections::HashMap<String, String> {
    booking
        .as_flight()
        .map(|f| {
            f.passengers
                .iter()
                .map(|p| {
                    let name = format!("{} {}", p.given_name.clone().unwrap_or_default(), p.surname);
                    (p.id.clone(), name.trim().to_owned())
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn parse_booking_id(text: &str) -> Result<BookingId, AppError> {
    text.parse().map_err(|_| AppError::NotFound("booking"))
}

fn itinerary(booking: &Booking) -> Markup {
    match &booking.detail {
        BookingDetail::Flight(f) => html! {
            h2 { "Passengers" }
            ul { @for p in &f.passengers { li { (p.title.clone().unwrap_or_default()) " " (p.given_name.clone().unwrap_or_default()) " " (p.surname) " (" (p.kind.as_str()) ")" } } }
            h2 { "Itinerary" }
            div.table-wrap { table {
                thead { tr { th scope="col" { "Flight" } th scope="col" { "From" } th scope="col" { "To" } th scope="col" { "Departs" } th scope="col" { "Class" } } }
                tbody { @for j in &f.journeys { @for seg in &j.segments { tr {
                    td { (seg.carrier.as_str()) " " (seg.flight_number) }
                    td { (seg.departure.airport.as_str()) " " (seg.departure.city) }
                    td { (seg.arrival.airport.as_str()) " " (seg.arrival.city) }
                    td { (tessera_app::views::format_local(Lang::En, seg.departure.time)) }
                    td { (seg.booking_class) }
                } } } }
            } }
            h2 { "Fares" }
            div.table-wrap { table {
                thead { tr { th scope="col" { "Passenger type" } th.num scope="col" { "Base" } th.num scope="col" { "Taxes" } th.num scope="col" { "Total" } } }
                tbody { @for fare in &f.fares { tr {
                    td { (fare.passenger_type.as_str()) }
                    td.num { (money(fare.base)) }
                    td.num { (fare.taxes.iter().map(|t| format!("{} {}", t.code, tessera_app::views::format_amount(Lang::En, t.amount))).collect::<Vec<_>>().join(", ")) }
                    td.num { (money(fare.total)) }
                } } }
            } }
        },
        BookingDetail::Event(e) => html! {
            h2 { "Event items" }
            div.table-wrap { table {
                thead { tr { th scope="col" { "Event" } th scope="col" { "Starts" } th scope="col" { "Ticket" } th.num scope="col" { "Quantity" } th.num scope="col" { "Unit price" } } }
                tbody { @for o in &e.orders { @for i in &o.items { tr {
                    td { (o.event.name) ", " (o.event.venue) }
                    td { (tessera_app::views::format_local(Lang::En, o.event.starts_at)) }
                    td { (i.ticket_name) " (" (i.category) ")" }
                    td.num { (i.quantity) }
                    td.num { (money(i.unit_price)) }
                } } } }
            } }
        },
    }
}

pub async fn booking(
    State(app): State<Tessera>,
    Page(s): Page,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let id = parse_booking_id(&id).map_err(fail(&s))?;
    let notice = crate::form::notice(raw);
    render_booking(&app, &s, id, notice, None).await
}

/// A booking's page; `notice` tells what just happened, `refused` why an order item's action was refused (422).
pub(crate) async fn render_booking(
    app: &Tessera,
    s: &Session,
    id: BookingId,
    notice: Option<String>,
    refused: Option<&crate::orders::ItemError>,
) -> Result<Response, PageError> {
    let b = app.get_booking(&s.who, id).await.map_err(fail(s))?;
    let issued = app.booking_tickets(&s.who, id).await.map_err(fail(s))?;
    let invoices = app.booking_invoices(&s.who, id).await.map_err(fail(s))?;
    let orders = match b.detail {
        BookingDetail::Event(_) => app.booking_orders(&s.who, id).await.map_err(fail(s))?,
        BookingDetail::Flight(_) => Vec::new(),
    };
    let staff = s.who.role() != Role::Customer;
    let body = html! {
        h1 { "Booking " (b.code()) }
        @if let Some(n) = &notice { p.notice role="status" #notice { (n) } }
        dl.facts {
            dt { "Status" } dd #booking-status { (status_badge(b.status)) }
            dt { "Kind" } dd { (b.kind()) }
            dt { "Created" } dd { (when(b.created_at)) }
            @if let Some(f) = b.as_flight() {
                dt { "Carrier" } dd { (f.validating_carrier_name) " (" (f.validating_carrier.as_str()) ")" }
                dt { "Trip" } dd { (f.trip_type.as_str()) }
                dt { "Ticketing deadline" } dd { (when(f.ticketing_deadline)) }
            }
        }
        @if staff && b.status == BookingStatus::Confirmed {
            p { a.button #issue-link href=(format!("{BASE}/bookings/{}/issue", b.id)) { "Issue tickets…" } }
        }
        (itinerary(&b))
        @if let Some((record, tickets)) = &issued {
            h2 { "Tickets" }
            p { "Issued " (when(record.issued_at)) ", " (money(record.amount_charged)) " charged. "
                @if b.as_flight().is_some() {
                    a #issuance-pdf href=(format!("{BASE}/issuances/{}/pdf", record.id)) { "Download all e-tickets (PDF)" }
                } }
            @if !tickets.is_empty() { (crate::tickets::table(tickets, &passenger_names(&b))) }
        }
        @if !orders.is_empty() { (crate::orders::section(s, &orders, staff, refused)) }
        @if !invoices.is_empty() {
            h2 { "Invoices" }
            ul { @for inv in &invoices {
                li { a href=(format!("{BASE}/bookings/{}/invoices/{}/pdf", b.id, inv.number)) { (inv.draft.kind.as_str()) " " (inv.number) " (PDF)" }
                     " — " (money(inv.draft.gross)) }
            } }
        }
    };
    let status = if refused.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, page(&format!("Booking {}", b.code()), Some(s), Nav::Bookings, body)).into_response())
}

/// The confirmation: what will be debited, with a fresh idempotency key in the form, so a second submit of the
/// same form (a double click, a reload) issues nothing twice.
pub async fn confirm_issue(
    State(app): State<Tessera>,
    Page(s): Page,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = parse_booking_id(&id).map_err(fail(&s))?;
    let (b, agency, payable) = app.quote_issue(&s.who, id).await.map_err(fail(&s))?;
    let key = format!("portal-{}", uuid::Uuid::new_v4());
    let body = html! {
        h1 { "Issue booking " (b.code()) "?" }
        p { "Issuing debits the agency's balance. This cannot be undone here; a ticket may be voided or refunded afterwards." }
        dl.facts {
            dt { "Amount to be debited" } dd #payable { strong { (money(payable)) } }
            dt { "Available now" } dd { (money(agency.available())) }
            dt { "Balance after" } dd { (agency.balance.checked_sub(payable).map(money).unwrap_or_default()) }
        }
        form method="post" action=(format!("{BASE}/bookings/{}/issue", b.id)) data-once {
            (csrf(&s))
            input type="hidden" name="key" value=(key);
            input type="hidden" name="amount" value=(payable.amount_string());
            div.actions {
                button #confirm-issue type="submit" { "Issue and debit " (money(payable)) }
                a.button.secondary href=(format!("{BASE}/bookings/{}", b.id)) { "Cancel" }
            }
        }
    };
    Ok(page("Confirm issuance", Some(&s), Nav::Bookings, body).into_response())
}

fn to_booking(id: BookingId, done: &str) -> Response {
    let query = form_urlencoded::Serializer::new(String::new()).append_pair("done", done).finish();
    Redirect::to(&format!("{BASE}/bookings/{id}?{query}")).into_response()
}

pub async fn issue(
    State(app): State<Tessera>,
    meta: Meta,
    Path(id): Path<String>,
    Posted { session: s, fields }: Posted,
) -> Result<Response, PageError> {
    let id = parse_booking_id(&id).map_err(fail(&s))?;
    let key = fields.get("key").unwrap_or_default().to_owned();
    let amount = fields.get("amount").and_then(|a| a.parse::<rust_decimal::Decimal>().ok());
    let Some(amount) = amount else {
        return Err(fail(&s)(AppError::Validation(ValidationErrors::single(
            "/amount",
            "is missing; open the confirmation again",
        ))));
    };
    let hash = request_hash("POST", &format!("{BASE}/bookings/{id}/issue"), amount.to_string().as_bytes());
    let mut command = IssueCommand::default();
    command.expect.amount = Some(amount);
    match app.idempotency_claim(&s.who, &key, &hash).await.map_err(fail(&s))? {
        Idempotent::Run(guard) => {
            let result = app.idempotency_run(&guard, app.issue(&s.who, id, command, meta.actor(&s.who))).await;
            match result {
                Ok(issued) => {
                    if let Err(e) = app.idempotency_complete(guard, 201, issued.record.id.to_string().as_bytes()).await
                    {
                        tracing::error!(error = %e, "could not store the answer of an issuance");
                    }
                    Ok(to_booking(id, &format!("Issued: {} debited.", money(issued.record.amount_charged))))
                }
                Err(e) => {
                    app.idempotency_release(guard).await;
                    Err(fail(&s)(e))
                }
            }
        }
        Idempotent::Rebuild { guard, .. } => {
            if let Err(e) = app.idempotency_complete(guard, 201, b"").await {
                tracing::error!(error = %e, "could not store the answer of an issuance");
            }
            Ok(to_booking(id, "Issued."))
        }
        Idempotent::Replay { .. } => Ok(to_booking(id, "Issued (this form had already been sent).")),
        Idempotent::InProgress { .. } => {
            Ok(to_booking(id, "The issuance is still running; reload this page in a moment."))
        }
    }
}

fn ledger_rows(entries: &[tessera_core::ledger::LedgerEntry]) -> Markup {
    html! {
        div.table-wrap { table #ledger {
            thead { tr { th scope="col" { "When" } th scope="col" { "Kind" } th scope="col" { "Note" } th.num scope="col" { "Amount" } th.num scope="col" { "Balance after" } } }
            tbody { @for e in entries.iter().rev() { tr {
                td { (when(e.created_at)) }
                td { (e.kind.as_str()) }
                td { (e.note.clone().unwrap_or_default()) }
                td.num { (money(e.amount)) }
                td.num { (money(e.balance_after)) }
            } } }
        } }
    }
}

/// The agency a ledger page shows: the agent's own, or for an admin the `agency` parameter.
async fn ledger_agency(app: &Tessera, s: &Session, q: &Fields) -> Result<Agency, AppError> {
    match (s.who.user.agency_id, q.get("agency")) {
        (_, Some(id)) => app.get_agency(&s.who, id.parse().map_err(|_| AppError::NotFound("agency"))?).await,
        (Some(own), None) => app.get_agency(&s.who, own).await,
        (None, None) => Err(AppError::NotFound("agency")),
    }
}

pub async fn ledger(State(app): State<Tessera>, Page(s): Page, RawQuery(raw): RawQuery) -> Result<Response, PageError> {
    let q = query_fields(raw);
    let agency = ledger_agency(&app, &s, &q).await.map_err(fail(&s))?;
    let entries = app.ledger(&s.who, agency.id).await.map_err(fail(&s))?;
    let body = html! {
        h1 { "Ledger" }
        (balance_cards(&agency))
        p { a #ledger-csv href=(format!("{BASE}/ledger.csv?agency={}", agency.id)) download { "Export as CSV" } }
        (ledger_rows(&entries))
    };
    Ok(page("Ledger", Some(&s), Nav::Ledger, body).into_response())
}

/// A CSV field: quoted when it holds a separator, quote or line break; a leading `=`, `+`, `-` or `@` is
/// prefixed with `'` so a spreadsheet does not run it as a formula.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '@']) || (text.starts_with('-') && text.parse::<f64>().is_err()) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

pub async fn ledger_csv(
    State(app): State<Tessera>,
    Page(s): Page,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let q = query_fields(raw);
    let agency = ledger_agency(&app, &s, &q).await.map_err(fail(&s))?;
    let entries = app.ledger(&s.who, agency.id).await.map_err(fail(&s))?;
    let mut out = String::from("id,created_at,kind,amount,balance_after,currency,issuance_id,note\r\n");
    for e in &entries {
        let row = [
            e.id.to_string(),
            e.created_at.to_rfc3339(),
            e.kind.as_str().to_owned(),
            e.amount.amount_string(),
            e.balance_after.amount_string(),
            e.amount.currency().code().to_owned(),
            e.issuance_id.map(|i| i.to_string()).unwrap_or_default(),
            e.note.clone().unwrap_or_default(),
        ];
        out.push_str(&row.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    let disposition = format!("attachment; filename=\"ledger-{}.csv\"", agency.id);
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        out,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=1+1"), "'=1+1");
        assert_eq!(csv_field("-500.00"), "-500.00");
        assert_eq!(csv_field("-cmd"), "'-cmd");
    }
}

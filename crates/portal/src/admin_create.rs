//! Admin forms that make things: a new agency (currency, opening balance, credit, VAT, refund approval, language)
//! and a new user of any role. The services check every field and refuse anyone but an admin; a refusal comes
//! back next to the field it concerns, with what was typed kept.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use tessera_app::admin::AgencyInput;
use tessera_app::{AppError, Tessera};
use tessera_core::ids::AgencyId;

use crate::form::{Fields, Page, Posted};
use crate::layout::{csrf, fail, field_error, page, text_field, words, Nav, PageError};
use crate::session::Session;
use crate::BASE;

/// A labelled text input showing back what was typed and, when refused, why.
fn input(name: &str, label: &str, kind: &str, posted: Option<&Fields>, error: Option<&AppError>) -> Markup {
    let value = if kind == "password" { "" } else { posted.and_then(|f| f.get(name)).unwrap_or_default() };
    text_field(name, name, label, kind, value, field_error(error, name))
}

/// What a refusal says that no field of the form shows.
pub(crate) fn leftover(error: Option<&AppError>, fields: &[&str]) -> Option<String> {
    let error = error?;
    let shown = fields.iter().any(|f| field_error(Some(error), f).is_some());
    (!shown).then(|| words(error))
}

fn agency_form(s: &Session, posted: Option<&Fields>, error: Option<&AppError>) -> Markup {
    const FIELDS: [&str; 9] = [
        "name",
        "currency",
        "balance",
        "credit_limit",
        "office_id",
        "iata_number",
        "timezone",
        "vat_percent",
        "default_language",
    ];
    let approval = posted.is_some_and(|f| f.get("refund_approval").is_some());
    html! {
        h1 { "New agency" }
        @if let Some(a) = leftover(error, &FIELDS) { p.alert role="alert" #form-error { (a) } }
        form method="post" action=(format!("{BASE}/agencies/new")) data-once novalidate {
            (csrf(s))
            (input("name", "Name", "text", posted, error))
            (input("currency", "Account currency (ISO 4217, e.g. EUR)", "text", posted, error))
            (input("balance", "Opening balance (optional)", "text", posted, error))
            (input("credit_limit", "Credit limit (optional)", "text", posted, error))
            (input("office_id", "Office id (optional)", "text", posted, error))
            (input("iata_number", "IATA number (optional)", "text", posted, error))
            (input("timezone", "Time zone (IANA, e.g. Europe/Amsterdam; optional)", "text", posted, error))
            (input("vat_percent", "VAT included in event prices, % (optional)", "text", posted, error))
            (input("default_language", "Documents' language when a booking names none (en or vi; optional)", "text", posted, error))
            div.check {
                input #refund_approval type="checkbox" name="refund_approval" value="yes" checked[approval];
                label for="refund_approval" { "Refunds wait for an admin's approval" }
            }
            div.actions {
                button #create-agency type="submit" { "Create the agency" }
                a.button.secondary href=(format!("{BASE}/agencies")) { "Cancel" }
            }
        }
    }
}

pub async fn new_agency(State(app): State<Tessera>, Page(s): Page) -> Result<Response, PageError> {
    // Who may see the form is who may list agencies: the service decides (admins).
    app.list_agencies(&s.who).await.map_err(fail(&s))?;
    Ok(page("New agency", Some(&s), Nav::Agencies, agency_form(&s, None, None)).into_response())
}

pub async fn create_agency(
    State(app): State<Tessera>,
    Posted { session: s, fields }: Posted,
) -> Result<Response, PageError> {
    let text = |name: &str| fields.get(name).map(str::to_owned);
    let input = AgencyInput {
        name: text("name").unwrap_or_default(),
        currency: text("currency").unwrap_or_default(),
        balance: text("balance"),
        credit_limit: text("credit_limit"),
        office_id: text("office_id"),
        iata_number: text("iata_number"),
        timezone: text("timezone"),
        vat_percent: text("vat_percent"),
        refund_approval: Some(fields.get("refund_approval").is_some()),
        default_language: text("default_language"),
    };
    match app.create_agency(&s.who, &input).await {
        Ok(agency) => Ok(done("agencies", &format!("Agency {} created ({}).", agency.name, agency.id))),
        Err(e @ AppError::Validation(_)) => {
            let body = agency_form(&s, Some(&fields), Some(&e));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page("New agency", Some(&s), Nav::Agencies, body)).into_response())
        }
        Err(e) => Err(fail(&s)(e)),
    }
}

async fn user_form(
    app: &Tessera,
    s: &Session,
    posted: Option<&Fields>,
    error: Option<&AppError>,
) -> Result<Markup, PageError> {
    let agencies = app.list_agencies(&s.who).await.map_err(fail(s))?;
    let chosen = posted.and_then(|f| f.get("agency_id")).unwrap_or_default();
    let role = posted.and_then(|f| f.get("role")).unwrap_or("agent");
    let agency_error = field_error(error, "agency_id");
    let role_error = field_error(error, "role");
    Ok(html! {
        h1 { "New user" }
        @if let Some(a) = leftover(error, &["username", "password", "role", "agency_id"]) { p.alert role="alert" #form-error { (a) } }
        form method="post" action=(format!("{BASE}/users/new")) data-once novalidate {
            (csrf(s))
            (input("username", "User name", "text", posted, error))
            (input("password", "Password (at least 8 characters)", "password", posted, error))
            div.field {
                label for="role" { "Role" }
                select #role name="role" aria-invalid=[role_error.as_ref().map(|_| "true")] {
                    @for r in ["agent", "customer", "admin"] { option value=(r) selected[role == r] { (r) } }
                }
                @if let Some(e) = &role_error { p.error role="alert" { (e) } }
            }
            div.field {
                label for="agency_id" { "Agency (none for an admin)" }
                select #agency_id name="agency_id" aria-invalid=[agency_error.as_ref().map(|_| "true")] {
                    option value="" { "None" }
                    @for a in &agencies { option value=(a.id) selected[chosen == a.id.to_string()] { (a.name) } }
                }
                @if let Some(e) = &agency_error { p.error role="alert" #agency_id-error { (e) } }
            }
            div.actions {
                button #create-user type="submit" { "Create the user" }
                a.button.secondary href=(format!("{BASE}/users")) { "Cancel" }
            }
        }
    })
}

pub async fn new_user(State(app): State<Tessera>, Page(s): Page) -> Result<Response, PageError> {
    let body = user_form(&app, &s, None, None).await?;
    Ok(page("New user", Some(&s), Nav::Users, body).into_response())
}

pub async fn create_user(
    State(app): State<Tessera>,
    Posted { session: s, fields }: Posted,
) -> Result<Response, PageError> {
    let agency = match fields.get("agency_id") {
        Some(text) => Some(text.parse::<AgencyId>().map_err(|_| AppError::NotFound("agency")).map_err(fail(&s))?),
        None => None,
    };
    let username = fields.get("username").unwrap_or_default();
    let password = fields.raw("password").unwrap_or_default();
    let role = fields.get("role").unwrap_or_default();
    match app.create_user_in_role(&s.who, username, password, role, agency).await {
        Ok(user) => Ok(done("users", &format!("User {} created ({}).", user.username, user.role.as_str()))),
        Err(e @ AppError::Validation(_)) => {
            let body = user_form(&app, &s, Some(&fields), Some(&e)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page("New user", Some(&s), Nav::Users, body)).into_response())
        }
        Err(e) => Err(fail(&s)(e)),
    }
}

/// Back to the list the new thing is in (`agencies`, `users`), saying what was made.
fn done(list: &str, text: &str) -> Response {
    let query = form_urlencoded::Serializer::new(String::new()).append_pair("done", text).finish();
    Redirect::to(&format!("{BASE}/{list}?{query}")).into_response()
}

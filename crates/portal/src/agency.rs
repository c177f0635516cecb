//! One agency's page for admins: its money at a glance, its settings (VAT, refund approval, documents' language),
//! its carrier agreements and its tour, corporate and booker codes, each with the form that changes it. The
//! services check every field and who may act; a refusal comes back next to the field of the form that was sent,
//! with what was typed kept.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use tessera_app::admin::SettingsInput;
use tessera_app::{AppError, Tessera};
use tessera_core::agency::AgreementEntry;
use tessera_core::codes::CarrierCode;
use tessera_core::ids::AgencyId;
use tessera_core::language::Language;

use crate::admin_create::leftover;
use crate::form::{Fields, Page, Posted};
use crate::layout::{csrf, fail, field_error, money, page, text_field, Nav, PageError};
use crate::session::Session;
use crate::BASE;

/// The forms of the page; each names its fields' ids with its own prefix.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    Settings,
    Agreement,
    TourCode,
    Corporate,
    Booker,
}

impl Form {
    fn prefix(self) -> &'static str {
        match self {
            Self::Settings => "settings",
            Self::Agreement => "agreement",
            Self::TourCode => "tour",
            Self::Corporate => "corporate",
            Self::Booker => "booker",
        }
    }
}

/// A form the service refused: which, what was typed, and why.
struct Refused {
    form: Form,
    fields: Fields,
    error: AppError,
}

/// What the page shows of one form: the typed values and the refusal, when that form was refused.
struct View<'a> {
    form: Form,
    refused: Option<&'a Refused>,
}

impl View<'_> {
    fn error(&self) -> Option<&AppError> {
        self.refused.map(|r| &r.error)
    }

    fn typed(&self, name: &str) -> Option<&str> {
        self.refused.map(|r| r.fields.get(name).unwrap_or_default())
    }

    fn input(&self, name: &str, label: &str, kind: &str, current: &str) -> Markup {
        let id = format!("{}-{name}", self.form.prefix());
        text_field(&id, name, label, kind, self.typed(name).unwrap_or(current), field_error(self.error(), name))
    }

    fn leftover(&self, names: &[&str]) -> Markup {
        html! { @if let Some(a) = leftover(self.error(), names) { p.alert role="alert" { (a) } } }
    }
}

fn settings_form(s: &Session, agency: &tessera_core::agency::Agency, v: &View<'_>) -> Markup {
    let language = v.typed("default_language").unwrap_or(agency.default_language.code()).to_owned();
    let approval = match v.refused {
        Some(r) => r.fields.get("refund_approval").is_some(),
        None => agency.refund_approval,
    };
    let language_error = field_error(v.error(), "default_language");
    html! {
        form #settings method="post" action=(format!("{BASE}/agencies/{}/settings", agency.id)) data-once novalidate {
            (csrf(s))
            (v.leftover(&["vat_percent", "default_language"]))
            (v.input("vat_percent", "VAT included in event prices, % (applies to what is billed from now on)", "text", &agency.vat_percent.normalize().to_string()))
            div.field {
                label for="settings-default_language" { "Documents' language when a booking names none" }
                select #settings-default_language name="default_language" aria-invalid=[language_error.as_ref().map(|_| "true")] {
                    @for l in Language::ALL { option value=(l.code()) selected[language == l.code()] { (l.code()) } }
                }
                @if let Some(e) = &language_error { p.error role="alert" { (e) } }
            }
            div.check {
                input #settings-refund_approval type="checkbox" name="refund_approval" value="yes" checked[approval];
                label for="settings-refund_approval" { "Refunds wait for an admin's approval" }
            }
            button #save-settings type="submit" { "Save settings" }
        }
    }
}

async fn agency_page(
    app: &Tessera,
    s: &Session,
    id: AgencyId,
    notice: Option<String>,
    refused: Option<Refused>,
) -> Result<Response, PageError> {
    let agency = app.get_agency(&s.who, id).await.map_err(fail(s))?;
    let agreements = app.agreements(&s.who, id).await.map_err(fail(s))?;
    let view = |form: Form| View { form, refused: refused.as_ref().filter(|r| r.form == form) };
    let admin = s.who.is_admin();
    let base = format!("{BASE}/agencies/{id}");
    let (agreement, tour, corporate, booker) =
        (view(Form::Agreement), view(Form::TourCode), view(Form::Corporate), view(Form::Booker));
    let body = html! {
        h1 { (agency.name) }
        @if let Some(n) = &notice { p.notice role="status" #notice { (n) } }
        dl.facts {
            dt { "Balance" } dd #agency-balance { (money(agency.balance)) }
            dt { "Credit limit" } dd { (money(agency.credit_limit)) }
            dt { "Office id" } dd { (agency.office_id.as_ref().map(|o| o.as_str()).unwrap_or("—")) }
            dt { "IATA number" } dd { (agency.iata_number.as_ref().map(|o| o.as_str()).unwrap_or("—")) }
            dt { "Time zone" } dd { (agency.timezone.name()) }
            dt { "VAT" } dd #agency-vat { (agency.vat_percent.normalize()) " %" }
            dt { "Refund approval" } dd #agency-approval { @if agency.refund_approval { "required" } @else { "no" } }
            dt { "Documents' language" } dd #agency-language { (agency.default_language.code()) }
        }
        p { a href=(format!("{BASE}/ledger?agency={id}")) { "Ledger" } }
        @if admin {
            section aria-labelledby="settings-heading" {
                h2 #settings-heading { "Settings" }
                (settings_form(s, &agency, &view(Form::Settings)))
            }
        }
        section aria-labelledby="agreements-heading" {
            h2 #agreements-heading { "Carrier agreements" }
            @if agreements.carriers.is_empty() { p { "No agreement: every carrier may be ticketed." } } @else {
                div.table-wrap { table #agreements {
                    thead { tr { th scope="col" { "Carrier" } th scope="col" { "Authorized" } th scope="col" { "Commission cap" }
                        @if admin { th scope="col" { "Remove" } } } }
                    tbody { @for a in &agreements.carriers { tr {
                        td { (a.carrier.as_str()) }
                        td { @if a.authorized { "yes" } @else { "no" } }
                        td { @if let Some(c) = a.commission_cap_percent { (c.normalize()) " %" } @else { "—" } }
                        @if admin { td { (remove(s, &base, "carrier", a.carrier.as_str(), "", &format!("the agreement with {}", a.carrier.as_str()))) } }
                    } } }
                } }
            }
            @if admin {
                form #agreement method="post" action=(format!("{base}/agreements")) data-once novalidate {
                    (csrf(s))
                    (agreement.leftover(&["carrier", "commission_cap"]))
                    (agreement.input("carrier", "Carrier (two characters, e.g. QR)", "text", ""))
                    (agreement.input("commission_cap", "Commission cap, % (optional)", "text", ""))
                    div.check {
                        input #agreement-authorized type="checkbox" name="authorized" value="yes"
                            checked[agreement.refused.is_none_or(|r| r.fields.get("authorized").is_some())];
                        label for="agreement-authorized" { "May ticket this carrier" }
                    }
                    button #save-agreement type="submit" { "Save the agreement" }
                }
            }
        }
        section aria-labelledby="tour-heading" {
            h2 #tour-heading { "Tour codes" }
            @if agreements.tour_codes.is_empty() { p { "None." } } @else {
                div.table-wrap { table #tour-codes {
                    thead { tr { th scope="col" { "Code" } th scope="col" { "Carrier" } th scope="col" { "Valid from" } th scope="col" { "Valid to" }
                        @if admin { th scope="col" { "Remove" } } } }
                    tbody { @for t in &agreements.tour_codes { tr {
                        td { (t.code) } td { (t.carrier.as_str()) }
                        td { (t.valid_from.map(|d| d.to_string()).unwrap_or_default()) }
                        td { (t.valid_to.map(|d| d.to_string()).unwrap_or_default()) }
                        @if admin { td { (remove(s, &base, "tour", t.carrier.as_str(), &t.code, &format!("tour code {} of {}", t.code, t.carrier.as_str()))) } }
                    } } }
                } }
            }
            @if admin {
                form #tour method="post" action=(format!("{base}/tour-codes")) data-once novalidate {
                    (csrf(s))
                    (tour.leftover(&["carrier", "code", "valid_from", "valid_to"]))
                    (tour.input("carrier", "Carrier", "text", ""))
                    (tour.input("code", "Tour code", "text", ""))
                    (tour.input("valid_from", "Valid from (YYYY-MM-DD, optional)", "text", ""))
                    (tour.input("valid_to", "Valid to (YYYY-MM-DD, optional)", "text", ""))
                    button #add-tour-code type="submit" { "Add the tour code" }
                }
            }
        }
        (code_list(s, &base, "corporate", "Corporate accounts", "corporate-accounts", &agreements.corporate_accounts, &corporate, admin))
        (code_list(s, &base, "booker", "Booker codes", "booker-codes", &agreements.booker_codes, &booker, admin))
    };
    let status = if refused.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, page(&agency.name, Some(s), Nav::Agencies, body)).into_response())
}

/// A list of codes (corporate accounts, booker codes) and, for admins, the form that adds one.
#[allow(clippy::too_many_arguments)]
fn code_list(
    s: &Session,
    base: &str,
    prefix: &str,
    heading: &str,
    path: &str,
    codes: &[String],
    view: &View<'_>,
    admin: bool,
) -> Markup {
    html! {
        section aria-labelledby=(format!("{prefix}-heading")) {
            h2 id=(format!("{prefix}-heading")) { (heading) }
            @if codes.is_empty() { p { "None." } } @else {
                ul.codes id=(format!("{prefix}-codes")) { @for c in codes { li {
                    code { (c) }
                    @if admin { " " (remove(s, base, prefix, "", c, &format!("{} {c}", heading.trim_end_matches('s').to_lowercase()))) }
                } } }
            }
            @if admin {
                form id=(prefix) method="post" action=(format!("{base}/{path}")) data-once novalidate {
                    (csrf(s))
                    (view.leftover(&["code"]))
                    (view.input("code", "Code (A-Z, 0-9, - and _)", "text", ""))
                    button id=(format!("add-{prefix}")) type="submit" { "Add" }
                }
            }
        }
    }
}

/// The button that removes one entry (`kind`: carrier, tour, corporate, booker), named for screen readers.
fn remove(s: &Session, base: &str, kind: &str, carrier: &str, code: &str, what: &str) -> Markup {
    html! {
        form.inline method="post" action=(format!("{base}/remove")) data-once {
            (csrf(s))
            input type="hidden" name="kind" value=(kind);
            input type="hidden" name="carrier" value=(carrier);
            input type="hidden" name="code" value=(code);
            button.secondary type="submit" aria-label=(format!("Remove {what}")) { "Remove" }
        }
    }
}

fn parse_id(text: &str) -> Result<AgencyId, AppError> {
    text.parse().map_err(|_| AppError::NotFound("agency"))
}

pub async fn agency(
    State(app): State<Tessera>,
    Page(s): Page,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let id = parse_id(&id).map_err(fail(&s))?;
    let notice = crate::form::notice(raw);
    agency_page(&app, &s, id, notice, None).await
}

/// Back to the agency's page saying what changed, or the page again with the refusal next to its field.
async fn answer<T>(
    app: &Tessera,
    s: Session,
    id: AgencyId,
    form: Form,
    fields: Fields,
    outcome: Result<T, AppError>,
    done: &str,
) -> Result<Response, PageError> {
    match outcome {
        Ok(_) => {
            let query = form_urlencoded::Serializer::new(String::new()).append_pair("done", done).finish();
            Ok(Redirect::to(&format!("{BASE}/agencies/{id}?{query}")).into_response())
        }
        Err(error @ AppError::Validation(_)) => {
            agency_page(app, &s, id, None, Some(Refused { form, fields, error })).await
        }
        Err(e) => Err(fail(&s)(e)),
    }
}

pub async fn settings(
    State(app): State<Tessera>,
    Path(id): Path<String>,
    Posted { session: s, fields }: Posted,
) -> Result<Response, PageError> {
    let id = parse_id(&id).map_err(fail(&s))?;
    let input = SettingsInput {
        vat_percent: fields.get("vat_percent").unwrap_or_default().to_owned(),
        refund_approval: fields.get("refund_approval").is_some(),
        default_language: fields.get("default_language").unwrap_or_default().to_owned(),
    };
    let outcome = app.update_agency_settings(&s.who, id, &input).await;
    answer(&app, s, id, Form::Settings, fields, outcome, "Settings saved.").await
}

pub async fn agreement(
    State(app): State<Tessera>,
    Path(id): Path<String>,
    Posted { session: s, fields }: Posted,
) -> Result<Response, PageError> {
    let id = parse_id(&id).map_err(fail(&s))?;
    let carrier = fields.get("carrier").unwrap_or_default().to_uppercase();
    let authorized = fields.get("authorized").is_some();
    let outcome = app.set_agreement(&s.who, id, &carrier, authorized, fields.get("commission_cap")).await;
    let done = format!("Agreement with {carrier} saved.");
    answer(&app, s, id, Form::Agreement, fields, outcome, &done).await
}

pub async fn tour_code(
    State(app): State<Tessera>,
    Path(id): Path<String>,
    Posted { session: s, fields }: Posted,
) -> Result<Response, PageError> {
    let id = parse_id(&id).map_err(fail(&s))?;
    let carrier = fields.get("carrier").unwrap_or_default().to_uppercase();
    let code = fields.get("code").unwrap_or_default().to_owned();
    let outcome =
        app.add_tour_code(&s.who, id, &carrier, &code, fields.get("valid_from"), fields.get("valid_to")).await;
    let done = format!("Tour code {code} added.");
    answer(&app, s, id, Form::TourCode, fields, outcome, &done).await
}

/// Adds a corporate account or a booker code: the same one-field form, two services.
async fn add_code(app: Tessera, id: String, s: Session, fields: Fields, form: Form) -> Result<Response, PageError> {
    let id = parse_id(&id).map_err(fail(&s))?;
    let code = fields.get("code").unwrap_or_default().to_owned();
    let (outcome, what) = match form {
        Form::Booker => (app.add_booker_code(&s.who, id, &code).await, "Booker code"),
        _ => (app.add_corporate_account(&s.who, id, &code).await, "Corporate account"),
    };
    let done = format!("{what} {code} added.");
    answer(&app, s, id, form, fields, outcome, &done).await
}

pub async fn corporate_account(
    State(app): State<Tessera>,
    Path(id): Path<String>,
    Posted { session: s, fields }: Posted,
) -> Result<Response, PageError> {
    add_code(app, id, s, fields, Form::Corporate).await
}

pub async fn booker_code(
    State(app): State<Tessera>,
    Path(id): Path<String>,
    Posted { session: s, fields }: Posted,
) -> Result<Response, PageError> {
    add_code(app, id, s, fields, Form::Booker).await
}

/// Removes the entry the button stood for. An entry that is gone already (a second click, another admin) is not
/// found, in words.
pub async fn remove_entry(
    State(app): State<Tessera>,
    Path(id): Path<String>,
    Posted { session: s, fields }: Posted,
) -> Result<Response, PageError> {
    let id = parse_id(&id).map_err(fail(&s))?;
    let gone = || AppError::NotFound("agreement entry");
    let carrier = || CarrierCode::parse(fields.get("carrier").unwrap_or_default()).map_err(|_| gone());
    let code = fields.get("code").unwrap_or_default().to_owned();
    let entry = match fields.get("kind") {
        Some("carrier") => AgreementEntry::Carrier(carrier().map_err(fail(&s))?),
        Some("tour") => AgreementEntry::TourCode { carrier: carrier().map_err(fail(&s))?, code: code.clone() },
        Some("corporate") => AgreementEntry::CorporateAccount(code.clone()),
        Some("booker") => AgreementEntry::BookerCode(code.clone()),
        _ => return Err(fail(&s)(gone())),
    };
    app.remove_agreement_entry(&s.who, id, &entry).await.map_err(fail(&s))?;
    let query = form_urlencoded::Serializer::new(String::new()).append_pair("done", "Removed.").finish();
    Ok(Redirect::to(&format!("{BASE}/agencies/{id}?{query}")).into_response())
}

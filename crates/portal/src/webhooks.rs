//! The agency's webhook endpoints: register one (its secret shown once), see its deliveries with their attempts,
//! send one again, rotate the secret, delete the endpoint. Who may do what, and which URLs are allowed, is
//! decided by `tessera-app`'s webhook services.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use tessera_app::webhooks::WebhookInput;
use tessera_app::{AppError, Tessera};
use tessera_core::ids::{AgencyId, WebhookId};
use tessera_core::user::Role;
use tessera_core::webhook::EventType;

use crate::form::{Fields, Page, Posted};
use crate::layout::{csrf, fail, field_error, page, text_field, when, words, Nav, PageError};
use crate::session::Session;
use crate::BASE;

/// How many deliveries an endpoint's page lists, newest first.
const DELIVERIES: u32 = 50;

fn secret_box(secret: &str) -> Markup {
    html! {
        div.notice role="status" {
            div.link-box {
                label for="new-secret" { "The endpoint's signing secret — copy it now, it is not shown again" }
                input #new-secret type="text" readonly value=(secret);
                button.secondary type="button" data-copy="new-secret" hidden { "Copy" }
            }
        }
    }
}

/// The list with the registration form; `secret` is a new endpoint's, `error` why the last registration failed.
async fn render_list(
    app: &Tessera,
    s: &Session,
    status: StatusCode,
    secret: Option<&str>,
    posted: Option<&Fields>,
    error: Option<AppError>,
) -> Result<Response, PageError> {
    let hooks = app.list_webhooks(&s.who).await.map_err(fail(s))?;
    let e = error.as_ref();
    let url_error = field_error(e, "url");
    let events_error = field_error(e, "events").or_else(|| {
        let v = match e? {
            AppError::Validation(v) => v,
            _ => return None,
        };
        v.0.iter().find(|f| f.pointer.starts_with("/events/")).map(|f| f.reason.clone())
    });
    let agency_error = field_error(e, "agency_id");
    let description_error = field_error(e, "description");
    let any_field =
        url_error.is_some() || events_error.is_some() || agency_error.is_some() || description_error.is_some();
    let alert = e.filter(|_| !any_field).map(words);
    let value = |name: &str| posted.and_then(|f| f.get(name)).unwrap_or_default().to_owned();
    let checked = |name: &str| posted.is_some_and(|f| f.all("events").any(|v| v == name));
    let body = html! {
        h1 { "Webhooks" }
        p { "Tessera sends each event to every endpoint subscribed to it, signed as Standard Webhooks prescribe
             (headers " code { "webhook-id" } ", " code { "webhook-timestamp" } ", " code { "webhook-signature" } ")." }
        @if let Some(secret) = secret { (secret_box(secret)) }
        @if let Some(a) = &alert { p.alert role="alert" #webhook-error { (a) } }
        @if !hooks.is_empty() {
            div.table-wrap { table #webhooks {
                thead { tr { th scope="col" { "Endpoint" } th scope="col" { "Events" } th scope="col" { "State" } th scope="col" { "Registered" } } }
                tbody { @for h in &hooks { tr {
                    td { a href=(format!("{BASE}/webhooks/{}", h.id)) { (h.url) } @if let Some(d) = &h.description { br; small { (d) } } }
                    td { (h.events.join(", ")) }
                    td { span class=(format!("status {}", h.status.as_str())) { (h.status.as_str()) } }
                    td { (when(h.created_at)) }
                } } }
            } }
        } @else {
            p #no-webhooks { "No endpoint is registered." }
        }
        h2 { "Register an endpoint" }
        form method="post" action=(format!("{BASE}/webhooks")) data-once {
            (csrf(s))
            @if s.who.role() == Role::Admin {
                (text_field("agency_id", "agency_id", "Agency id", "text", &value("agency_id"), agency_error.clone()))
            }
            (text_field("url", "url", "URL (https)", "text", &value("url"), url_error.clone()))
            (text_field("description", "description", "Description (optional)", "text", &value("description"), description_error.clone()))
            fieldset aria-describedby=[events_error.as_ref().map(|_| "events-error")] {
                legend { "Events" }
                @for t in EventType::ALL {
                    div.check {
                        input type="checkbox" name="events" value=(t.as_str()) id=(format!("event-{}", t.as_str()))
                            checked[checked(t.as_str())];
                        label for=(format!("event-{}", t.as_str())) { code { (t.as_str()) } }
                    }
                }
                @if let Some(e) = &events_error { p.error role="alert" #events-error { (e) } }
            }
            div { button #register-webhook type="submit" { "Register" } }
        }
    };
    Ok((status, page("Webhooks", Some(s), Nav::Webhooks, body)).into_response())
}

pub async fn list(State(app): State<Tessera>, Page(s): Page) -> Result<Response, PageError> {
    render_list(&app, &s, StatusCode::OK, None, None, None).await
}

pub async fn create(State(app): State<Tessera>, Posted { session: s, fields }: Posted) -> Result<Response, PageError> {
    let agency_id = match fields.get("agency_id").map(str::trim).filter(|a| !a.is_empty()) {
        Some(text) => match text.parse::<AgencyId>() {
            Ok(id) => Some(id),
            Err(_) => {
                let e = AppError::Validation(tessera_core::intake::ValidationErrors::single(
                    "/agency_id",
                    "is not an agency id",
                ));
                return render_list(&app, &s, StatusCode::UNPROCESSABLE_ENTITY, None, Some(&fields), Some(e)).await;
            }
        },
        None => None,
    };
    let input = WebhookInput {
        agency_id,
        url: fields.get("url").unwrap_or_default().trim().to_owned(),
        events: fields.all("events").map(str::to_owned).collect(),
        description: fields.get("description").map(str::to_owned),
    };
    match app.create_webhook(&s.who, &input).await {
        // Rendered, not redirected: the secret must not travel in a URL.
        Ok(created) => render_list(&app, &s, StatusCode::CREATED, Some(&created.secret), None, None).await,
        Err(e @ AppError::Validation(_)) => {
            render_list(&app, &s, StatusCode::UNPROCESSABLE_ENTITY, None, Some(&fields), Some(e)).await
        }
        Err(e) => Err(fail(&s)(e)),
    }
}

fn parse_id(text: &str) -> Result<WebhookId, AppError> {
    text.parse().map_err(|_| AppError::NotFound("webhook"))
}

/// One endpoint with its deliveries; `notice` tells what just happened, `secret` is a rotated one.
async fn render_one(
    app: &Tessera,
    s: &Session,
    id: WebhookId,
    notice: Option<String>,
    secret: Option<&str>,
) -> Result<Response, PageError> {
    let hook = app.get_webhook(&s.who, id).await.map_err(fail(s))?;
    let deliveries = app.webhook_deliveries(&s.who, id, DELIVERIES).await.map_err(fail(s))?;
    let base = format!("{BASE}/webhooks/{}", hook.id);
    let body = html! {
        h1 { "Webhook endpoint" }
        @if let Some(n) = &notice { p.notice role="status" #notice { (n) } }
        @if let Some(secret) = secret { (secret_box(secret)) }
        dl.facts {
            dt { "URL" } dd #webhook-url { (hook.url) }
            dt { "Events" } dd { (hook.events.join(", ")) }
            dt { "State" } dd #webhook-state { (hook.status.as_str()) }
            dt { "Registered" } dd { (when(hook.created_at)) }
            @if let Some(d) = &hook.description { dt { "Description" } dd { (d) } }
        }
        div.actions {
            form.inline method="post" action=(format!("{base}/rotate-secret")) {
                (csrf(s))
                button.secondary #rotate-secret type="submit" { "Rotate the secret" }
            }
            form.inline method="post" action=(format!("{base}/delete")) {
                (csrf(s))
                button.danger #delete-webhook type="submit" { "Delete the endpoint" }
            }
        }
        h2 { "Deliveries" }
        @if deliveries.is_empty() {
            p #no-deliveries { "Nothing was sent yet." }
        } @else {
            div.table-wrap { table #deliveries {
                thead { tr { th scope="col" { "Event" } th scope="col" { "Happened" } th scope="col" { "State" }
                    th.num scope="col" { "Attempts" } th scope="col" { "Last answer" } th scope="col" { "Action" } } }
                tbody { @for (d, attempts) in &deliveries { tr {
                    td { code { (d.event_type) } }
                    td { (when(d.event_at)) }
                    td.delivery-state { (d.status.as_str()) }
                    td.num { (attempts.len()) }
                    td { @if let Some(code) = d.last_response_code { "HTTP " (code) } @else if let Some(e) = &d.last_error { (e) } @else { "—" } }
                    td { form.inline method="post" action=(format!("{base}/deliveries/{}/retry", d.id)) {
                        (csrf(s))
                        button.secondary.retry type="submit" { "Send again" }
                    } }
                } } }
            } }
        }
        p { a href=(format!("{BASE}/webhooks")) { "All endpoints" } }
    };
    Ok(page("Webhook endpoint", Some(s), Nav::Webhooks, body).into_response())
}

pub async fn show(
    State(app): State<Tessera>,
    Page(s): Page,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let id = parse_id(&id).map_err(fail(&s))?;
    let notice = crate::form::notice(raw);
    render_one(&app, &s, id, notice, None).await
}

pub async fn rotate(
    State(app): State<Tessera>,
    Path(id): Path<String>,
    Posted { session: s, .. }: Posted,
) -> Result<Response, PageError> {
    let id = parse_id(&id).map_err(fail(&s))?;
    let rotated = app.rotate_webhook_secret(&s.who, id).await.map_err(fail(&s))?;
    // Rendered, not redirected: the secret must not travel in a URL.
    render_one(&app, &s, id, Some("A new secret signs every delivery from now on.".into()), Some(&rotated.secret)).await
}

pub async fn delete(
    State(app): State<Tessera>,
    Path(id): Path<String>,
    Posted { session: s, .. }: Posted,
) -> Result<Response, PageError> {
    let id = parse_id(&id).map_err(fail(&s))?;
    app.delete_webhook(&s.who, id).await.map_err(fail(&s))?;
    Ok(Redirect::to(&format!("{BASE}/webhooks")).into_response())
}

pub async fn retry(
    State(app): State<Tessera>,
    Path((id, delivery)): Path<(String, String)>,
    Posted { session: s, .. }: Posted,
) -> Result<Response, PageError> {
    let id = parse_id(&id).map_err(fail(&s))?;
    let delivery = delivery.parse().map_err(|_| AppError::NotFound("delivery")).map_err(fail(&s))?;
    app.retry_webhook_delivery(&s.who, id, delivery).await.map_err(fail(&s))?;
    let query =
        form_urlencoded::Serializer::new(String::new()).append_pair("done", "Queued to be sent again.").finish();
    Ok(Redirect::to(&format!("{BASE}/webhooks/{id}?{query}")).into_response())
}

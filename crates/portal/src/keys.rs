//! The signed-in user's API keys: create one (shown once, only its hash is stored) and revoke. Whose keys may be
//! listed, made or revoked is decided by `tessera-app`'s key services.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use tessera_app::{AppError, Tessera};

use crate::form::{Page, Posted};
use crate::layout::{csrf, fail, page, when, Nav, PageError};
use crate::session::Session;
use crate::BASE;

async fn render(
    app: &Tessera,
    s: &Session,
    status: StatusCode,
    new_key: Option<String>,
) -> Result<Response, PageError> {
    let keys = app.list_api_keys(&s.who, s.who.user.id).await.map_err(fail(s))?;
    let body = html! {
        h1 { "API keys" }
        p { "A key lets a program act as you through the APIs (header " code { "X-Api-Key" } "). It is shown once." }
        @if let Some(k) = &new_key {
            div.notice role="status" {
                div.link-box {
                    label for="new-key" { "Your new key — copy it now, it is not shown again" }
                    input #new-key type="text" readonly value=(k);
                    button.secondary type="button" data-copy="new-key" hidden { "Copy" }
                }
            }
        }
        form method="post" action=(format!("{BASE}/keys")) data-once {
            (csrf(s))
            button #create-key type="submit" { "Create a key" }
        }
        @if !keys.is_empty() {
            div.table-wrap { table #keys {
                thead { tr { th scope="col" { "Key" } th scope="col" { "Created" } th scope="col" { "State" } th scope="col" { "Action" } } }
                tbody { @for k in keys.iter().rev() { tr {
                    td { code { (k.prefix) "…" } }
                    td { (when(k.created_at)) }
                    td { @if let Some(at) = k.revoked_at { "revoked " (when(at)) } @else { "active" } }
                    td { @if k.revoked_at.is_none() {
                        form.inline method="post" action=(format!("{BASE}/keys/{}/revoke", k.id)) {
                            (csrf(s))
                            button.danger type="submit" aria-label=(format!("Revoke key {}", k.prefix)) { "Revoke" }
                        }
                    } }
                } } }
            } }
        }
    };
    Ok((status, page("API keys", Some(s), Nav::Keys, body)).into_response())
}

pub async fn keys(State(app): State<Tessera>, Page(s): Page) -> Result<Response, PageError> {
    render(&app, &s, StatusCode::OK, None).await
}

pub async fn create(State(app): State<Tessera>, Posted { session: s, .. }: Posted) -> Result<Response, PageError> {
    let (_, key) = app.create_api_key(&s.who, s.who.user.id).await.map_err(fail(&s))?;
    // Rendered, not redirected: the key must not travel in a URL.
    render(&app, &s, StatusCode::CREATED, Some(key)).await
}

pub async fn revoke(
    State(app): State<Tessera>,
    Path(id): Path<String>,
    Posted { session: s, .. }: Posted,
) -> Result<Response, PageError> {
    let id = id.parse().map_err(|_| AppError::NotFound("api key")).map_err(fail(&s))?;
    app.revoke_api_key(&s.who, id).await.map_err(fail(&s))?;
    Ok(Redirect::to(&format!("{BASE}/keys")).into_response())
}

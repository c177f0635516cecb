//! Admin pages for people: every user with their role and agency, filtered by agency, and ending a user's
//! sessions (a lost laptop, a departed colleague). The services decide who may list users and end sessions.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use tessera_app::{AppError, Tessera};
use tessera_core::ids::{AgencyId, UserId};

use crate::form::{Fields, Page, Posted};
use crate::layout::{csrf, fail, page, Nav, PageError};
use crate::BASE;

pub async fn users(State(app): State<Tessera>, Page(s): Page, RawQuery(raw): RawQuery) -> Result<Response, PageError> {
    let q = Fields::parse(raw.unwrap_or_default().as_bytes());
    let notice = q.get("done").map(str::to_owned);
    // An agency that is not one (hand-typed) lists nobody rather than everybody.
    let agency = match q.get("agency") {
        Some(text) => Some(text.parse::<AgencyId>().map_err(|_| AppError::NotFound("agency")).map_err(fail(&s))?),
        None => None,
    };
    let users = app.list_users(&s.who, agency).await.map_err(fail(&s))?;
    let agencies = app.list_agencies(&s.who).await.map_err(fail(&s))?;
    let names: HashMap<AgencyId, &str> = agencies.iter().map(|a| (a.id, a.name.as_str())).collect();
    let body = html! {
        h1 { "Users" }
        @if let Some(n) = &notice { p.notice role="status" #notice { (n) } }
        p.actions { a.button #new-user href=(format!("{BASE}/users/new")) { "New user" } }
        form.search method="get" action=(format!("{BASE}/users")) role="search" aria-label="Filter users" {
            div.field {
                label for="agency" { "Agency" }
                select #agency name="agency" {
                    option value="" { "Every agency" }
                    @for a in &agencies { option value=(a.id) selected[agency == Some(a.id)] { (a.name) } }
                }
            }
            div { button type="submit" { "Filter" } }
        }
        div.table-wrap { table #users {
            thead { tr { th scope="col" { "User" } th scope="col" { "Role" } th scope="col" { "Agency" } th scope="col" { "Sessions" } } }
            tbody { @for u in &users { tr {
                td { (u.username) }
                td { (u.role.as_str()) }
                td { @if let Some(a) = u.agency_id { (names.get(&a).copied().unwrap_or("")) } }
                td {
                    form.inline method="post" action=(format!("{BASE}/users/{}/end-sessions", u.id)) data-once {
                        (csrf(&s))
                        button.secondary type="submit" aria-label=(format!("Sign {} out everywhere", u.username)) { "Sign out everywhere" }
                    }
                }
            } } }
        } }
    };
    Ok(page("Users", Some(&s), Nav::Users, body).into_response())
}

pub async fn end_sessions(
    State(app): State<Tessera>,
    Path(id): Path<String>,
    Posted { session: s, .. }: Posted,
) -> Result<Response, PageError> {
    let id: UserId = id.parse().map_err(|_| AppError::NotFound("user")).map_err(fail(&s))?;
    let user = app.end_sessions(&s.who, id).await.map_err(fail(&s))?;
    if user.id == s.who.user.id {
        // The admin ended their own sessions, this one included.
        return Ok(Redirect::to(&format!("{BASE}/sign-in")).into_response());
    }
    let text = format!("{} is signed out everywhere; their API keys still work.", user.username);
    let query = form_urlencoded::Serializer::new(String::new()).append_pair("done", &text).finish();
    Ok(Redirect::to(&format!("{BASE}/users?{query}")).into_response())
}

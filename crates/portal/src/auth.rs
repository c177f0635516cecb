//! Sign-in and sign-out. The password is checked by `tessera-app`'s sign-in (argon2id, the same path and limits as
//! `POST /api/v1/sign-in`), whose access token becomes the session cookie; signing out ends the user's sessions
//! on the server (`Tessera::end_sessions`), so a copied cookie is worth nothing afterwards.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use rand::RngCore;
use tessera_app::{AppError, Tessera};

use crate::form::{refused, Fields, Posted};
use crate::layout::{page, words, Nav};
use crate::session::{self, append, clear_cookie, cookie, set_cookie, Session, PRE_SESSION_COOKIE, SESSION_COOKIE};
use crate::BASE;

const PRE_SESSION_TTL: u64 = 3600;

fn form(token: &str, username: &str, error: Option<&str>) -> maud::Markup {
    html! {
        div.sign-in {
            h1 { "Sign in to Tessera" }
            form method="post" action=(format!("{BASE}/sign-in")) novalidate {
                input type="hidden" name="csrf" value=(token);
                div.field {
                    label for="username" { "Username" }
                    input #username name="username" type="text" autocomplete="username" required value=(username)
                        aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| "sign-in-error")];
                }
                div.field {
                    label for="password" { "Password" }
                    input #password name="password" type="password" autocomplete="current-password" required
                        aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| "sign-in-error")];
                    @if let Some(e) = error { p.error #sign-in-error role="alert" { (e) } }
                }
                button type="submit" { "Sign in" }
            }
        }
    }
}

/// The form, with a fresh pre-session cookie whose token the form carries.
fn render(app: &Tessera, status: StatusCode, username: &str, error: Option<&str>) -> Response {
    let mut nonce = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut nonce);
    let nonce = hex::encode(nonce);
    let token = session::tag(app, "sign-in", &nonce);
    let mut headers = HeaderMap::new();
    append(&mut headers, set_cookie(app, PRE_SESSION_COOKIE, &nonce, PRE_SESSION_TTL, "Strict"));
    (status, headers, page("Sign in", None, Nav::None, form(&token, username, error))).into_response()
}

pub async fn sign_in_page(State(app): State<Tessera>, headers: HeaderMap) -> Response {
    if Session::of(&app, &headers).await.is_some() {
        return Redirect::to(&format!("{BASE}/")).into_response();
    }
    render(&app, StatusCode::OK, "", None)
}

pub async fn sign_in(State(app): State<Tessera>, headers: HeaderMap, body: Bytes) -> Response {
    let fields = Fields::parse(&body);
    let nonce = cookie(&headers, PRE_SESSION_COOKIE).unwrap_or_default();
    let sent = fields.raw("csrf").unwrap_or_default();
    if nonce.is_empty() || !session::verify(&app, "sign-in", nonce, sent) {
        return refused();
    }
    let username = fields.raw("username").unwrap_or_default().to_owned();
    let password = fields.raw("password").unwrap_or_default().to_owned();
    match app.sign_in(username.trim(), &password).await {
        Ok(token) => {
            let mut out = HeaderMap::new();
            append(&mut out, set_cookie(&app, SESSION_COOKIE, &token.access_token, token.expires_in, "Lax"));
            append(&mut out, clear_cookie(&app, PRE_SESSION_COOKIE));
            (out, Redirect::to(&format!("{BASE}/"))).into_response()
        }
        Err(AppError::InvalidCredentials) => {
            render(&app, StatusCode::UNAUTHORIZED, &username, Some("The username or password is wrong."))
        }
        Err(e) => render(&app, StatusCode::UNPROCESSABLE_ENTITY, &username, Some(&words(&e))),
    }
}

/// Ends the session on the server too, not only in this browser: every access token of the user issued so far
/// (this cookie, a copy of it, the user's other browsers and API sign-ins) stops working on every node.
pub async fn sign_out(State(app): State<Tessera>, Posted { session: s, .. }: Posted) -> Response {
    if let Err(e) = app.end_sessions(&s.who, s.who.user.id).await {
        // The cookie still goes; the token itself lapses at its expiry at the latest.
        tracing::warn!(error = %e, user = %s.who.user.id, "ending the sessions at sign-out failed");
    }
    let mut out = HeaderMap::new();
    append(&mut out, clear_cookie(&app, SESSION_COOKIE));
    (out, Redirect::to(&format!("{BASE}/sign-in"))).into_response()
}

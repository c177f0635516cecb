//! The page shell (landmarks, navigation, skip link), the headers every answer carries, the embedded assets, and
//! how an [`AppError`] becomes a page in words.

use std::sync::OnceLock;

use axum::extract::{Path, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup, DOCTYPE};
use sha2::{Digest, Sha256};
use tessera_app::views::Lang;
use tessera_app::AppError;
use tessera_core::money::Money;
use tessera_core::user::Role;

use crate::session::{Session, CSRF_FIELD};
use crate::BASE;

const CSS: &str = include_str!("../assets/portal.css");
const JS: &str = include_str!("../assets/portal.js");

/// `portal.<first 16 hex of SHA-256>.css`: a new file name whenever the content changes, so it can be cached forever.
fn hashed(stem: &str, ext: &str, content: &str) -> String {
    let digest = hex::encode(Sha256::digest(content.as_bytes()));
    format!("{stem}.{}.{ext}", &digest[..16])
}

fn css_name() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| hashed("portal", "css", CSS))
}

fn js_name() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| hashed("portal", "js", JS))
}

pub async fn asset(Path(file): Path<String>) -> Response {
    let (content_type, body) = if file == css_name() {
        ("text/css; charset=utf-8", CSS)
    } else if file == js_name() {
        ("text/javascript; charset=utf-8", JS)
    } else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let headers =
        [(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=31536000, immutable")];
    (headers, body).into_response()
}

/// No inline script or style anywhere: scripts and styles come from our own origin only.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        // Pages show balances and tickets: never kept by a shared cache or the back button.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// `41,893.00 NPR`: the currency's own minor units, grouped thousands.
pub fn money(m: Money) -> String {
    format!("{} {}", tessera_app::views::format_amount(Lang::En, m), m.currency().code())
}

pub fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A hidden CSRF field for a form of this session.
pub fn csrf(session: &Session) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(session.csrf); }
}

/// Which navigation entry a page belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Home,
    Bookings,
    Ledger,
    Keys,
    Webhooks,
    Agencies,
    Users,
    Outbox,
    Audit,
    None,
}

pub fn page(title: &str, session: Option<&Session>, nav: Nav, body: Markup) -> Markup {
    let item = |target: Nav, href: &str, label: &str| {
        html! {
            li { a href=(format!("{BASE}{href}")) aria-current=[(nav == target).then_some("page")] { (label) } }
        }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Tessera" }
                link rel="stylesheet" href=(format!("{BASE}/assets/{}", css_name()));
                script src=(format!("{BASE}/assets/{}", js_name())) defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href=(format!("{BASE}/")) { "Tessera" }
                    @if let Some(s) = session {
                        nav.main aria-label="Main" {
                            ul {
                                (item(Nav::Home, "/", "Overview"))
                                (item(Nav::Bookings, "/bookings", "Bookings"))
                                @if s.who.role() != Role::Customer { (item(Nav::Ledger, "/ledger", "Ledger")) }
                                (item(Nav::Keys, "/keys", "API keys"))
                                @if s.who.role() != Role::Customer { (item(Nav::Webhooks, "/webhooks", "Webhooks")) }
                                @if s.who.is_admin() {
                                    (item(Nav::Agencies, "/agencies", "Agencies"))
                                    (item(Nav::Users, "/users", "Users"))
                                    (item(Nav::Outbox, "/outbox", "Outbox"))
                                    (item(Nav::Audit, "/audit", "Audit log"))
                                }
                            }
                        }
                        div.who {
                            span { "Signed in as " strong #signed-in-as { (s.who.user.username) } " (" (s.who.role().as_str()) ")" }
                            form.inline method="post" action=(format!("{BASE}/sign-out")) {
                                (csrf(s))
                                button.secondary type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main #main tabindex="-1" { (body) }
            }
        }
    }
}

/// A page standing for a refusal or failure, in words.
pub fn problem(status: StatusCode, session: Option<&Session>, heading: &str, text: &str) -> Response {
    let body = html! {
        h1 { (heading) }
        p.alert role="alert" { (text) }
        p { a href=(format!("{BASE}/")) { "Back to the overview" } }
    };
    (status, page(heading, session, Nav::None, body)).into_response()
}

pub async fn not_found() -> Response {
    problem(StatusCode::NOT_FOUND, None, "Not found", "There is nothing at this address.")
}

/// What a handler answers when a service refuses: a page in words, or the sign-in page for a lost session.
pub struct PageError {
    pub error: AppError,
    pub session: Option<Session>,
}

pub fn fail(session: &Session) -> impl FnOnce(AppError) -> PageError + '_ {
    move |error| PageError { error, session: Some(session.clone()) }
}

impl From<AppError> for PageError {
    fn from(error: AppError) -> Self {
        Self { error, session: None }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let s = self.session.as_ref();
        match &self.error {
            AppError::Unauthenticated | AppError::InvalidCredentials => {
                Redirect::to(&format!("{BASE}/sign-in")).into_response()
            }
            AppError::NotFound(what) => problem(
                StatusCode::NOT_FOUND,
                s,
                "Not found",
                &format!("This {what} does not exist or is not yours to see."),
            ),
            AppError::Forbidden(_) => problem(StatusCode::FORBIDDEN, s, "Not allowed", "Your account may not do this."),
            AppError::Internal(detail) => {
                tracing::error!(error = %detail, "portal page failed");
                problem(StatusCode::INTERNAL_SERVER_ERROR, s, "Something went wrong", "Please try again in a moment.")
            }
            other => problem(StatusCode::UNPROCESSABLE_ENTITY, s, "Not done", &words(other)),
        }
    }
}

/// A refusal in a sentence for people: the service's own message, field by field for invalid input.
pub fn words(error: &AppError) -> String {
    match error {
        AppError::Validation(v) => {
            v.0.iter().map(|f| format!("{}: {}", field_name(&f.pointer), f.reason)).collect::<Vec<_>>().join("; ")
        }
        AppError::Internal(_) => "Something went wrong; please try again in a moment.".to_owned(),
        other => {
            let text = other.to_string();
            let mut chars = text.chars();
            chars.next().map_or(text.clone(), |c| c.to_uppercase().chain(chars).collect::<String>() + ".")
        }
    }
}

/// `/query/pnr` → `pnr`: the last step of a pointer names the field.
pub fn field_name(pointer: &str) -> &str {
    pointer.rsplit('/').next().unwrap_or(pointer)
}

/// The message of a validation error about field `name`, if there is one.
pub fn field_error(error: Option<&AppError>, name: &str) -> Option<String> {
    match error? {
        AppError::Validation(v) => v.0.iter().find(|f| field_name(&f.pointer) == name).map(|f| f.reason.clone()),
        _ => None,
    }
}

/// A labelled text input showing `value` and, when refused, why (tied to it for screen readers). `id` tells apart
/// fields of the same name in two forms of one page.
pub fn text_field(id: &str, name: &str, label: &str, kind: &str, value: &str, message: Option<String>) -> Markup {
    let error_id = format!("{id}-error");
    html! {
        div.field {
            label for=(id) { (label) }
            input id=(id) name=(name) type=(kind) value=(value)
                aria-invalid=[message.as_ref().map(|_| "true")] aria-describedby=[message.as_ref().map(|_| error_id.as_str())];
            @if let Some(m) = &message { p.error role="alert" id=(error_id) { (m) } }
        }
    }
}

/// The sign-in page for a visitor without a session.
pub fn to_sign_in() -> Response {
    Redirect::to(&format!("{BASE}/sign-in")).into_response()
}

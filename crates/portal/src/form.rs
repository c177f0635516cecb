//! Extractors of the portal's handlers: the session of a page, and a form POST that has already passed the CSRF
//! check (a POST without a session or with a missing or wrong token is answered 403 before any handler runs).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tessera_app::Tessera;

use crate::layout::{problem, to_sign_in};
use crate::session::{Session, CSRF_FIELD};

/// A page's visitor, signed in; anyone else is sent to the sign-in page.
pub struct Page(pub Session);

impl FromRequestParts<Tessera> for Page {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Tessera) -> Result<Self, Self::Rejection> {
        Session::of(app, &parts.headers).await.map(Page).ok_or_else(to_sign_in)
    }
}

/// The fields of an `application/x-www-form-urlencoded` body, in order (a name may repeat: checkboxes).
#[derive(Default)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &[u8]) -> Self {
        Self(form_urlencoded::parse(body).into_owned().collect())
    }

    /// The value of `name` as sent (the last, when it repeats).
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The trimmed value of `name` (the last, when it repeats), None when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.raw(name).map(str::trim).filter(|v| !v.is_empty())
    }

    /// The names sent, in order (repeated when a name repeats).
    pub fn names(&self) -> impl Iterator<Item = &str> + '_ {
        self.0.iter().map(|(n, _)| n.as_str())
    }

    /// Every trimmed, non-blank value of `name`, in order: the boxes of a checkbox group that are ticked.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(n, _)| n == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }
}

/// The notice a page shows after a redirect: what was just done, carried in its `done` query parameter.
pub fn notice(raw_query: Option<String>) -> Option<String> {
    Fields::parse(raw_query.unwrap_or_default().as_bytes()).get("done").map(str::to_owned)
}

/// A form sent by a page of this session: the session and the fields, CSRF token checked.
pub struct Posted {
    pub session: Session,
    pub fields: Fields,
}

pub fn refused() -> Response {
    problem(
        StatusCode::FORBIDDEN,
        None,
        "Form expired",
        "This form was not sent from a current page of your session. Go back, reload the page and try again.",
    )
}

impl FromRequest<Tessera> for Posted {
    type Rejection = Response;

    async fn from_request(request: Request, app: &Tessera) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let session = Session::of(app, &parts.headers).await;
        let bytes =
            Bytes::from_request(Request::from_parts(parts, body), app).await.map_err(IntoResponse::into_response)?;
        let fields = Fields::parse(&bytes);
        match session {
            Some(session) if session.csrf_ok(app, fields.raw(CSRF_FIELD)) => Ok(Posted { session, fields }),
            _ => Err(refused()),
        }
    }
}

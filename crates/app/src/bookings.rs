//! Booking intake and lookup, within the caller's reach.

use chrono::NaiveDate;
use tessera_core::booking::{Booking, BookingStatus};
use tessera_core::ids::{AgencyId, BookingId};
use tessera_core::intake::{self, ValidationErrors};
use tessera_core::search::{self, BookingCursor, BookingSort};
use tessera_core::user::Role;
use tessera_storage::{Actor, BookingFilter, NewAuditEntry};

use crate::{AppError, Principal, Tessera};

pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 200;

/// One page of bookings and the cursor for the next.
#[derive(Debug, Clone)]
pub struct BookingPage {
    pub bookings: Vec<Booking>,
    pub next_cursor: Option<String>,
}

impl Tessera {
    /// Validates an intake document and stores it as a confirmed booking of the caller's agency.
    pub async fn create_booking(&self, who: &Principal, body: &[u8], actor: Actor) -> Result<Booking, AppError> {
        let now = self.now();
        let valid = intake::parse(body, now.date_naive())?;
        let agency_id = self.booking_agency(who, valid.agency_id)?;
        self.store_booking(who, valid, agency_id, actor).await
    }

    /// Stores a validated booking as a confirmed booking of `agency_id`, with its audit entry.
    pub(crate) async fn store_booking(
        &self,
        who: &Principal,
        valid: intake::ValidBooking,
        agency_id: AgencyId,
        actor: Actor,
    ) -> Result<Booking, AppError> {
        let now = self.now();
        let agency = self.db.get_agency(agency_id).await?.ok_or_else(|| {
            AppError::Validation(ValidationErrors::single("/agency_id", format!("no agency {agency_id}")))
        })?;
        // The language is fixed here, with the booking: its documents are re-rendered from the database
        // byte for byte, so a later change of the agency's default must not reach them.
        let mut detail = valid.detail;
        detail.set_language(valid.language.unwrap_or(agency.default_language));
        let booking = Booking {
            id: BookingId::generate(),
            agency_id,
            created_by: Some(who.user.id),
            status: BookingStatus::Confirmed,
            created_at: now,
            detail,
        };
        if booking.currency() != agency.currency {
            return Err(AppError::Validation(ValidationErrors::single(
                "/currency",
                format!("must be the agency's account currency {}", agency.currency),
            )));
        }
        // An event booking becomes its booking orders right away (logistic status `processing`).
        let orders = tessera_core::orders::booking_orders(&booking, &mut uuid::Uuid::new_v4);
        // The audit entry commits with the booking: one flush, and never a booking without its entry.
        let audit = NewAuditEntry {
            agency_id: Some(agency_id),
            actor,
            action: "booking.create".into(),
            booking_id: Some(booking.id),
            ticket_number: None,
            issuance_id: None,
            outcome: "success".into(),
            detail: serde_json::json!({"type": booking.kind(), "code": booking.code()}),
            created_at: now,
        };
        self.db.insert_booking(&booking, &orders, Some(&audit)).await?;
        Ok(booking)
    }

    fn booking_agency(&self, who: &Principal, requested: Option<AgencyId>) -> Result<AgencyId, AppError> {
        match (who.user.role, who.user.agency_id, requested) {
            (Role::Admin, _, Some(agency)) => Ok(agency),
            (Role::Admin, Some(own), None) => Ok(own),
            (Role::Admin, None, None) => Err(AppError::Validation(ValidationErrors::single(
                "/agency_id",
                "admins name the agency they book for",
            ))),
            (_, Some(own), Some(agency)) if agency != own => Err(AppError::Validation(ValidationErrors::single(
                "/agency_id",
                "you can only book for your own agency",
            ))),
            (_, Some(own), _) => Ok(own),
            (_, None, _) => Err(AppError::Forbidden(who.user.role.as_str())),
        }
    }

    pub async fn get_booking(&self, who: &Principal, id: BookingId) -> Result<Booking, AppError> {
        self.db.get_booking(who.scope, id).await?.ok_or(AppError::NotFound("booking"))
    }

    pub async fn find_booking_by_code(&self, who: &Principal, code: &str) -> Result<Booking, AppError> {
        self.db.find_booking_by_code(who.scope, code).await?.ok_or(AppError::NotFound("booking"))
    }

    /// Keyset-paged listing in the query's order; the cursor is where the previous page ended.
    pub async fn list_bookings(&self, who: &Principal, q: &BookingQuery) -> Result<BookingPage, AppError> {
        let limit = q.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
        if let Some(p) = &q.pnr {
            crate::admin::plain_text(p, "/query/pnr", 16)?;
        }
        let name = match &q.name {
            Some(n) => {
                let folded = search::fold(&crate::admin::plain_text(n, "/query/name", 64)?);
                if folded.is_empty() {
                    return Err(invalid("/query/name", "must hold a letter or digit"));
                }
                Some(folded)
            }
            None => None,
        };
        if let (Some(from), Some(to)) = (q.travel_from, q.travel_to) {
            if to < from {
                return Err(invalid("/query/travel_to", "must not be before `travel_from`"));
            }
        }
        let after = match &q.cursor {
            Some(c) => Some(
                BookingCursor::parse(c, q.sort)
                    .ok_or_else(|| invalid("/query/cursor", "is not a cursor from a previous page in this order"))?,
            ),
            None => None,
        };
        // One extra row tells whether another page exists without a count query.
        let filter = BookingFilter {
            pnr: q.pnr.clone(),
            status: q.status,
            name,
            travel_from: q.travel_from,
            travel_to: q.travel_to,
            sort: q.sort,
            after,
            limit: limit + 1,
        };
        let mut bookings = self.db.list_bookings(who.scope, &filter).await?;
        let next_cursor = if bookings.len() > limit as usize {
            bookings.truncate(limit as usize);
            bookings.last().map(|b| {
                let travel_date = if q.sort.by_travel() { search::travel_date(&b.detail) } else { None };
                BookingCursor { travel_date, id: b.id }.encode()
            })
        } else {
            None
        };
        Ok(BookingPage { bookings, next_cursor })
    }
}

/// What a listing of bookings asks for: every filter optional, oldest first by default.
#[derive(Debug, Clone, Default)]
pub struct BookingQuery {
    /// The PNR or booking code, exactly.
    pub pnr: Option<String>,
    /// Part of a passenger's or guest's name, any case, accents optional (`nguyen van` finds `NGUYỄN/VĂN`).
    pub name: Option<String>,
    pub status: Option<BookingStatus>,
    /// Travelling on or after / on or before these days ([`search::travel_date`]).
    pub travel_from: Option<NaiveDate>,
    pub travel_to: Option<NaiveDate>,
    pub sort: BookingSort,
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page, in the same order.
    pub cursor: Option<String>,
}

fn invalid(pointer: &str, reason: &str) -> AppError {
    AppError::Validation(ValidationErrors::single(pointer, reason))
}

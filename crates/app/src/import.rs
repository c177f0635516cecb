//! Bulk import: one intake document at a time, as `tessera import` feeds them, into one agency.
//!
//! The same validation and storage as `POST /api/v1/bookings`, plus what makes a re-run safe: a booking is
//! known by its natural key, the agency's booking code (PNR or event booking code), which storage already keeps
//! unique per agency. A document whose code the agency already has is skipped, not stored twice; with `issue`,
//! such a booking that is still only confirmed is issued, so a run that stopped half-way is finished by running
//! it again.

use tessera_core::booking::{Booking, BookingDetail, BookingStatus};
use tessera_core::ids::AgencyId;
use tessera_core::intake::{self, ValidationErrors};
use tessera_core::user::Scope;
use tessera_storage::{Actor, StorageError};

use crate::issuing::IssueCommand;
use crate::telemetry::Profile;
use crate::{AppError, Principal, Tessera};

/// What became of one imported document.
#[derive(Debug, Clone, PartialEq)]
pub enum Imported {
    /// Stored now (and issued, when asked).
    Created { booking: Booking, issued: bool },
    /// The agency already had a booking with this code; it was issued now when asked and still confirmed.
    Skipped { booking: Booking, issued: bool },
}

impl Tessera {
    /// Imports one intake document into `agency` (admins only). A document that names another agency in
    /// `agency_id` is refused as `/agency_id`. A refused issuance is an error even though the booking was
    /// stored: a re-run finds the booking and tries the issuance again.
    pub async fn import_booking(
        &self,
        who: &Principal,
        agency: AgencyId,
        body: &[u8],
        issue: bool,
        actor: Actor,
    ) -> Result<Imported, AppError> {
        who.require_admin()?;
        let valid = intake::parse(body, self.now().date_naive())?;
        if valid.agency_id.is_some_and(|named| named != agency) {
            return Err(AppError::Validation(ValidationErrors::single(
                "/agency_id",
                format!("names another agency than the import's {agency}"),
            )));
        }
        let code = match &valid.detail {
            BookingDetail::Flight(f) => f.pnr.as_str().to_owned(),
            BookingDetail::Event(e) => e.booking_code.as_str().to_owned(),
        };
        let (booking, created) = match self.store_booking(who, valid, agency, actor.clone()).await {
            Ok(booking) => (booking, true),
            Err(AppError::Conflict(_)) => {
                let existing = self.db.find_booking_by_code(Scope::Agency(agency), &code).await?;
                (existing.ok_or(AppError::from(StorageError::NotFound))?, false)
            }
            Err(e) => return Err(e),
        };
        let issued = issue && booking.status == BookingStatus::Confirmed;
        let booking = if issued {
            let cmd = IssueCommand { profile: Profile::Import, ..IssueCommand::default() };
            self.issue_booking(booking, cmd, actor).await?.booking
        } else {
            booking
        };
        Ok(if created { Imported::Created { booking, issued } } else { Imported::Skipped { booking, issued } })
    }
}

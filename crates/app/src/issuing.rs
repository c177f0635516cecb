//! Ticketing a booking: the core's rules, one atomic storage transaction (in a group commit), and the documents,
//! named in the transaction and rendered after it.

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use tessera_core::agency::Agency;
use tessera_core::booking::{Booking, BookingDetail, FlightBooking};
use tessera_core::codes::TicketNumber;
use tessera_core::ids::{BookingId, IssuanceId};
use tessera_core::issuance::{self, Expectations, IssueError, IssueOptions};
use tessera_core::money::Money;
use tessera_core::orders::BookingOrder;
use tessera_core::ticket::Ticket;
use tessera_core::user::Scope;
use tessera_storage::{
    Actor, DocumentSink, IssuanceRecord, IssuedTickets, NewAuditEntry, NewDocument, NewIssuance, SinkError,
    StorageError,
};

use crate::gate::GateKeys;
use crate::render::{self, RenderedFile};
use crate::{AppError, Principal, Tessera};

/// What the documents of a committed issuance are rendered from.
struct RenderJob {
    issuance: IssuanceId,
    booking: Booking,
    orders: Vec<BookingOrder>,
    agency: Agency,
    attributes: serde_json::Value,
    issued: IssuedTickets,
}

/// What the caller asks for beyond the booking itself.
#[derive(Debug, Clone, Default)]
pub struct IssueCommand {
    pub options: IssueOptions,
    /// The caller's own reference for this transaction, kept with the issuance.
    pub reference_code: Option<String>,
    /// What the caller believes the booking to be; any difference refuses the issuance.
    pub expect: Expectations,
    /// Which API asks, for the issuance metrics.
    pub profile: crate::telemetry::Profile,
}

impl IssueCommand {
    /// The caller's codes are stored and printed on tickets: bounded text without control characters.
    fn validate(&self) -> Result<(), AppError> {
        let fields = [
            ("/reference_code", &self.reference_code),
            ("/tour_code", &self.options.tour_code),
            ("/corporate_code", &self.options.corporate_code),
            ("/booker_code", &self.options.booker_code),
        ];
        for (pointer, value) in fields {
            if let Some(v) = value {
                crate::admin::plain_text(v, pointer, 64)?;
            }
        }
        Ok(())
    }
}

/// A completed issuance with everything a profile needs to answer.
#[derive(Debug, Clone)]
pub struct Issued {
    pub record: IssuanceRecord,
    pub booking: Booking,
    pub agency: Agency,
    pub tickets: Vec<Ticket>,
}

impl Tessera {
    pub async fn issue(
        &self,
        who: &Principal,
        booking_id: BookingId,
        cmd: IssueCommand,
        actor: Actor,
    ) -> Result<Issued, AppError> {
        let booking = self.get_booking(who, booking_id).await?;
        self.issue_booking(booking, cmd, actor).await
    }

    /// Issues `booking` and counts the attempt by profile and outcome (`tessera_issuances_total`).
    pub async fn issue_booking(&self, booking: Booking, cmd: IssueCommand, actor: Actor) -> Result<Issued, AppError> {
        let profile = cmd.profile;
        let result = self.issue_booking_uncounted(booking, cmd, actor).await;
        match &result {
            Ok(issued) => {
                crate::telemetry::issuance(profile, "success");
                let emds = issued.tickets.iter().filter(|t| t.kind == tessera_core::ticket::TicketType::EMD).count();
                let tkts = issued.tickets.len() - emds;
                for (kind, n) in [("TKT", tkts), ("EMD", emds)] {
                    if n > 0 {
                        crate::telemetry::tickets_issued(kind, n as u64);
                    }
                }
            }
            Err(AppError::Issue(e)) => crate::telemetry::issuance(profile, issue_error_code(e)),
            Err(AppError::Validation(_)) => crate::telemetry::issuance(profile, "invalid"),
            Err(_) => crate::telemetry::issuance(profile, "error"),
        }
        result
    }

    async fn issue_booking_uncounted(
        &self,
        booking: Booking,
        cmd: IssueCommand,
        actor: Actor,
    ) -> Result<Issued, AppError> {
        cmd.validate()?;
        let agency = self.db.get_agency(booking.agency_id).await?.ok_or(AppError::NotFound("agency"))?;
        let agreements = self.db.agreements(agency.id).await?;
        let now = self.now();
        let orders = match booking.detail {
            BookingDetail::Event(_) => self.db.orders_of_booking(Scope::All, booking.id).await?,
            BookingDetail::Flight(_) => Vec::new(),
        };
        let planned = issuance::check_expectations(&booking, &cmd.expect)
            .and_then(|()| match booking.detail {
                BookingDetail::Event(_) => {
                    issuance::plan_event(&booking, &orders, &agency, &agreements, &cmd.options, now)
                }
                BookingDetail::Flight(_) => issuance::plan(&booking, &agency, &agreements, &cmd.options, now),
            })
            .and_then(|draft| issuance::check_amount(&draft, &cmd.expect).map(|()| draft));
        let draft = match planned {
            Ok(draft) => draft,
            Err(e) => return Err(self.refused(&booking, &actor, e).await),
        };
        let payable = draft.payable;
        let attributes = serde_json::json!({
            "reference_code": cmd.reference_code,
            "tour_code": cmd.options.tour_code,
            "corporate_code": cmd.options.corporate_code,
            "booker_code": cmd.options.booker_code,
        });
        let new = NewIssuance { id: IssuanceId::generate(), draft, issued_at: now, actor: actor.clone(), attributes };
        let flight = match &booking.detail {
            BookingDetail::Flight(flight) => Some(flight.clone()),
            BookingDetail::Event(_) => None,
        };
        let sink = Arc::new(PlanSink { flight, orders: orders.clone(), issued: Mutex::new(None) });
        let record = match self.db.issue(&new, sink.clone()).await {
            Ok(record) => record,
            Err(StorageError::InsufficientBalance) => {
                // Someone else spent the money between our check and the transaction.
                let available = self.db.get_agency(agency.id).await?.map_or(agency.available(), |a| a.available());
                return Err(self
                    .refused(&booking, &actor, IssueError::InsufficientBalance { payable, available })
                    .await);
            }
            Err(StorageError::BookingNotConfirmed(status)) => {
                let e = match status {
                    tessera_core::booking::BookingStatus::Cancelled => IssueError::Cancelled,
                    _ => IssueError::AlreadyIssued,
                };
                return Err(self.refused(&booking, &actor, e).await);
            }
            Err(e) => return Err(e.into()),
        };
        let issued =
            sink.issued().ok_or_else(|| AppError::Internal("issuance committed without its tickets".into()))?;
        let job = RenderJob {
            issuance: record.id,
            booking: booking.clone(),
            orders,
            agency: agency.clone(),
            attributes: new.attributes.clone(),
            issued: issued.clone(),
        };
        match booking.detail {
            // The events API publishes each PDF's and the zip's SHA-256 in its answer, so those are rendered first.
            BookingDetail::Event(_) => self.render_now(&job).await,
            BookingDetail::Flight(_) => self.render_ahead(job),
        }
        let tickets = issued.tickets;
        let mut booking = booking;
        booking.status = tessera_core::booking::BookingStatus::Ticketed;
        Ok(Issued { record, booking, agency, tickets })
    }

    /// The documents of a committed flight issuance are a cache of what was just written: they are rendered after
    /// the answer, in the background, at most `render_ahead` issuances at a time. Past that (a burst), or with
    /// `render_ahead` 0, they stay pending and the first read renders them. Either way a failure does not undo
    /// the issuance (its money and numbers are on disk), and the task is not the request's, so a client that
    /// goes away cannot cut it short.
    fn render_ahead(&self, job: RenderJob) {
        let Ok(permit) = self.render_ahead.clone().try_acquire_owned() else {
            crate::telemetry::documents_deferred();
            return;
        };
        let this = self.clone();
        tokio::spawn(async move {
            this.render_now(&job).await;
            drop(permit);
        });
    }

    async fn render_now(&self, job: &RenderJob) {
        if let Err(e) = self.render_issuance(job).await {
            tracing::error!(alarm = "issuance_render_failed", issuance = %job.issuance, error = ?e,
                "documents of a committed issuance not rendered; they will be rendered when first read");
        }
    }

    /// Renders, stores and records the documents of a committed issuance.
    async fn render_issuance(&self, job: &RenderJob) -> Result<(), AppError> {
        let RenderJob { booking, orders, agency, attributes, issued, .. } = job;
        let documents = match &booking.detail {
            BookingDetail::Flight(flight) => {
                let keys = self.gate_keys().await?;
                let inputs = (flight.clone(), agency.clone(), issued.clone(), attributes.clone());
                let files = render_all(inputs, keys).await?;
                let mut documents = Vec::with_capacity(files.len());
                for file in files {
                    documents.push(self.store_rendered(agency.id, file).await?);
                }
                documents
            }
            BookingDetail::Event(event) => {
                let job = crate::orders::EventRender {
                    event: event.clone(),
                    orders: orders.to_vec(),
                    agency: agency.clone(),
                    invoices: issued.invoices.clone(),
                };
                self.produce_event_documents(job).await?
            }
        };
        Ok(self.db.fill_documents(agency.id, &documents).await?)
    }

    /// Records a refused issuance in the audit trail (nothing else changes) and hands the error back.
    async fn refused(&self, booking: &Booking, actor: &Actor, error: IssueError) -> AppError {
        let entry = NewAuditEntry {
            agency_id: Some(booking.agency_id),
            actor: actor.clone(),
            action: "issuance.create".into(),
            booking_id: Some(booking.id),
            ticket_number: None,
            issuance_id: None,
            outcome: format!("refused:{}", issue_error_code(&error)),
            detail: serde_json::json!({"reason": error.to_string()}),
            created_at: self.now(),
        };
        if let Err(e) = self.db.append_audit(&entry).await {
            tracing::error!(error = %e, "could not audit a refused issuance");
        }
        AppError::Issue(error)
    }

    pub async fn get_issuance(
        &self,
        who: &Principal,
        id: IssuanceId,
    ) -> Result<(IssuanceRecord, Vec<Ticket>), AppError> {
        let record = self.db.get_issuance(who.scope, id).await?.ok_or(AppError::NotFound("issuance"))?;
        let tickets = self.db.tickets_of_issuance(who.scope, id).await?;
        Ok((record, tickets))
    }

    /// What issuing `booking_id` now would debit, planned by the same rules as [`Tessera::issue`] without
    /// writing anything: the portal shows it on its confirmation page and issues with it as the expected amount,
    /// so a price that changed in between refuses the issuance instead of debiting something else.
    pub async fn quote_issue(
        &self,
        who: &Principal,
        booking_id: BookingId,
    ) -> Result<(Booking, Agency, Money), AppError> {
        let booking = self.get_booking(who, booking_id).await?;
        who.require_agency_staff(booking.agency_id)?;
        let agency = self.db.get_agency(booking.agency_id).await?.ok_or(AppError::NotFound("agency"))?;
        let agreements = self.db.agreements(agency.id).await?;
        let options = IssueOptions::default();
        let draft = match booking.detail {
            BookingDetail::Event(_) => {
                let orders = self.db.orders_of_booking(Scope::All, booking.id).await?;
                issuance::plan_event(&booking, &orders, &agency, &agreements, &options, self.now())
            }
            BookingDetail::Flight(_) => issuance::plan(&booking, &agency, &agreements, &options, self.now()),
        }?;
        Ok((booking, agency, draft.payable))
    }

    /// The issuance of a booking (if it was issued) and its tickets, within the caller's reach.
    pub async fn booking_tickets(
        &self,
        who: &Principal,
        booking: BookingId,
    ) -> Result<Option<(IssuanceRecord, Vec<Ticket>)>, AppError> {
        match self.db.find_issuance_by_booking(who.scope, booking).await? {
            Some(record) => {
                let tickets = self.db.tickets_of_issuance(who.scope, record.id).await?;
                Ok(Some((record, tickets)))
            }
            None => Ok(None),
        }
    }

    pub async fn get_ticket(&self, who: &Principal, number: &TicketNumber) -> Result<Ticket, AppError> {
        self.db.get_ticket(who.scope, number).await?.ok_or(AppError::NotFound("ticket"))
    }
}

/// A stable machine name for each refusal; profiles map these to their own codes and strings.
pub fn issue_error_code(e: &IssueError) -> &'static str {
    match e {
        IssueError::AlreadyIssued => "already_issued",
        IssueError::Cancelled => "booking_cancelled",
        IssueError::NotAFlight => "not_a_flight",
        IssueError::EventStarted => "event_started",
        IssueError::NotApplicable(_) => "not_applicable",
        IssueError::DeadlinePassed(_) => "ticketing_deadline_passed",
        IssueError::Departed => "flight_departed",
        IssueError::IncompletePassenger { .. } => "passenger_incomplete",
        IssueError::NdcPaymentMissing => "ndc_payment_missing",
        IssueError::CarrierNotAuthorized(_) => "carrier_not_authorized",
        IssueError::InvalidCommission(_) => "invalid_commission",
        IssueError::CommissionAboveCap { .. } => "commission_above_cap",
        IssueError::UnknownTourCode(_) => "unknown_tour_code",
        IssueError::TourCodeWrongCarrier(..) => "tour_code_wrong_carrier",
        IssueError::TourCodeInactive(_) => "tour_code_inactive",
        IssueError::UnknownCorporateAccount(_) => "unknown_corporate_account",
        IssueError::UnknownBookerCode(_) => "unknown_booker_code",
        IssueError::CurrencyMismatch { .. } => "currency_mismatch",
        IssueError::InsufficientBalance { .. } => "insufficient_balance",
        IssueError::UnknownPrefix(_) => "unknown_ticketing_prefix",
        IssueError::RequestMismatch(_) => "request_mismatch",
        IssueError::PnrMismatch => "pnr_mismatch",
        IssueError::Money(_) => "amount_out_of_range",
    }
}

/// Names the documents of an issuance inside its transaction (quick: no rendering under the database's
/// locks) and keeps what was issued, which the files are rendered from after the commit.
struct PlanSink {
    /// The flight booking; `None` for an event booking, whose documents follow its orders.
    flight: Option<FlightBooking>,
    orders: Vec<BookingOrder>,
    /// What the last run of the transaction issued: the one that committed, when the issuance succeeds.
    issued: Mutex<Option<IssuedTickets>>,
}

impl PlanSink {
    fn issued(&self) -> Option<IssuedTickets> {
        self.issued.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

#[async_trait]
impl DocumentSink for PlanSink {
    async fn produce(&self, issued: &IssuedTickets) -> Result<Vec<NewDocument>, SinkError> {
        let documents = match &self.flight {
            Some(flight) => render::flight_documents(flight, issued),
            None => render::event_documents(&self.orders, &issued.invoices),
        };
        *self.issued.lock().unwrap_or_else(PoisonError::into_inner) = Some(issued.clone());
        Ok(documents)
    }
}

/// Every PDF of a flight issuance: a ticket's each, every invoice's, and the combined itinerary. CPU work: runs
/// on the blocking pool.
async fn render_all(
    (flight, agency, issued, attributes): (FlightBooking, Agency, IssuedTickets, serde_json::Value),
    keys: GateKeys,
) -> Result<Vec<RenderedFile>, AppError> {
    tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        for ticket in &issued.tickets {
            out.push(render::flight_ticket(&flight, &agency, ticket, &issued.tickets, &attributes, &keys)?);
        }
        for invoice in &issued.invoices {
            out.push(render::flight_invoice(issued.booking_id, &flight, &agency, invoice)?);
        }
        out.push(render::itinerary(issued.issuance_id, &flight, &agency, &issued.tickets, &attributes, &keys)?);
        Ok(out)
    })
    .await
    .map_err(|e| AppError::Internal(format!("render task: {e}")))?
    .map_err(|e: tessera_documents::DocumentError| AppError::DocumentGeneration(e.to_string()))
}

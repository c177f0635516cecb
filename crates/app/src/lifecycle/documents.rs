//! Documents a lifecycle change re-renders inside its transaction: the ticket's PDF with its new status (a new
//! SHA-256), an exchange's new ticket and the issuance's combined PDF; for an event ticket its PDFs, the
//! order's zip without it once it no longer counts, and the credit invoice.
//!
//! Every re-rendered file goes to a fresh key in the store (`.../r/{document id}/{name}`), so a transaction
//! that rolls back never leaves a stored record pointing at bytes it did not commit.

use async_trait::async_trait;
use tessera_core::booking::{BookingDetail, FlightBooking};
use tessera_core::ids::DocumentId;
use tessera_core::orders::{BookingOrder, LogisticStatus};
use tessera_core::ticket::{RelatedType, Ticket};
use tessera_documents::DocumentKey;
use tessera_storage::{NewDocument, NewTransition, SinkError, Subject, TransitionOutcome, TransitionSink};

use super::Facts;
use crate::gate::GateKeys;
use crate::render::{self, RenderedFile};
use crate::{AppError, Tessera};

pub(crate) struct LifecycleSink<'a> {
    pub app: &'a Tessera,
    pub facts: &'a Facts,
    pub change: &'a NewTransition,
    /// The gate keys, for the QR codes of a ticket's PDFs.
    pub keys: &'a GateKeys,
}

#[async_trait]
impl TransitionSink for LifecycleSink<'_> {
    async fn produce(&self, done: &TransitionOutcome) -> Result<Vec<NewDocument>, SinkError> {
        let files = match &done.subject {
            Subject::Ticket { .. } => self.flight_files(done).await,
            Subject::Item { .. } => self.event_files(done).await,
        }
        .map_err(|e| SinkError(e.to_string()))?;
        let mut out = Vec::with_capacity(files.len());
        for file in files {
            out.push(self.store(file).await.map_err(|e| SinkError(e.to_string()))?);
        }
        Ok(out)
    }
}

impl LifecycleSink<'_> {
    async fn store(&self, file: RenderedFile) -> Result<NewDocument, AppError> {
        let id = DocumentId::generate();
        let folder = match (&file.owner.order(), self.facts.issuance_id) {
            (Some(order), _) => format!("orders/{order}"),
            (None, Some(issuance)) => format!("issuances/{issuance}"),
            (None, None) => "documents".to_owned(),
        };
        let key = format!("agencies/{}/{folder}/r/{id}/{}", self.facts.agency.id, file.filename);
        let key = DocumentKey::parse(&key)?;
        let stored = self.app.docs.put(&key, file.bytes).await?;
        Ok(NewDocument {
            id,
            owner: file.owner,
            storage_key: key.to_string(),
            sha256: stored.sha256,
            size: stored.size as i64,
            content_type: file.content_type.into(),
            filename: file.filename,
        })
    }

    /// The subject ticket as the change leaves it, the reissue, and every ticket of the issuance.
    fn tickets_after(&self, done: &TransitionOutcome) -> Result<(Ticket, Vec<Ticket>), AppError> {
        let before = self.facts.ticket.as_ref().ok_or(AppError::Internal("flight change without ticket".into()))?;
        let mut ticket = before.clone();
        ticket.status = self.change.to;
        ticket.pending_penalty = self.change.pending_penalty;
        for (coupon, state) in ticket.coupons.iter_mut().zip(&self.change.coupons) {
            coupon.status = state.status;
            coupon.used_at = state.used_at;
        }
        if let Some(new) = &done.reissued {
            ticket.related_number = Some(new.number.clone());
            ticket.related_type = Some(RelatedType::EXCH);
        }
        let mut all: Vec<Ticket> = self
            .facts
            .siblings
            .iter()
            .map(|t| if t.number == ticket.number { ticket.clone() } else { t.clone() })
            .collect();
        all.extend(done.reissued.clone());
        Ok((ticket, all))
    }

    async fn flight_files(&self, done: &TransitionOutcome) -> Result<Vec<RenderedFile>, AppError> {
        let (ticket, all) = self.tickets_after(done)?;
        let detail = self.change.reissue.as_ref().map_or(&self.facts.booking.detail, |r| &r.booking);
        let BookingDetail::Flight(flight) = detail else {
            return Err(AppError::Internal("ticket of a booking that is not a flight".into()));
        };
        let job = FlightJob {
            invoice: done.invoice.clone(),
            booking_id: self.facts.booking.id,
            flight: flight.clone(),
            agency: self.facts.agency.clone(),
            changed: std::iter::once(ticket).chain(done.reissued.clone()).collect(),
            all,
            attributes: self.facts.attributes.clone(),
            issuance: self.facts.issuance_id,
            keys: self.keys.clone(),
        };
        tokio::task::spawn_blocking(move || job.render())
            .await
            .map_err(|e| AppError::Internal(format!("render task: {e}")))?
    }

    async fn event_files(&self, done: &TransitionOutcome) -> Result<Vec<RenderedFile>, AppError> {
        let (Some(order), Some(item_id)) = (&self.facts.order, &self.facts.item) else {
            return Err(AppError::Internal("event change without its order".into()));
        };
        let BookingDetail::Event(event) = &self.facts.booking.detail else {
            return Err(AppError::Internal("order item of a booking that is not an event".into()));
        };
        let mut order = order.clone();
        let item = order.item_mut(item_id).ok_or(AppError::NotFound("order item"))?;
        let was_downloadable = item.downloadable();
        item.status = self.change.to;
        item.pending_penalty = self.change.pending_penalty;
        for (d, state) in item.downloads.iter_mut().zip(&self.change.coupons) {
            d.status = state.status;
            d.activated = state.used_at;
        }
        let item = order.item(item_id.as_str()).cloned().ok_or(AppError::NotFound("order item"))?;
        // Only a ticket that stops counting (void, refunded) gets new PDFs, and it leaves the bundle with them; a
        // gate scan or a refund still pending changes no document, so the zip always holds the single downloads.
        let mut files = Vec::new();
        if !item.counts() {
            for d in &item.downloads {
                let payload = self.keys.event_payload(&order, &item, d)?;
                files.push(render::event_ticket(&self.facts.agency, event, &order, &item, d, payload)?);
            }
        }
        if was_downloadable != item.downloadable() && order.logistic_status == LogisticStatus::Completed {
            files.push(self.zip(&order, &files).await?);
        }
        if let Some(invoice) = &done.invoice {
            files.push(render::event_invoice(&self.facts.agency, event, &order, invoice)?);
        }
        Ok(files)
    }

    /// The order's bundle of what can be downloaded now: fresh PDFs where this change made them, the recorded
    /// ones otherwise (read through the cache, so a lost one is re-rendered and verified first).
    async fn zip(&self, order: &BookingOrder, fresh: &[RenderedFile]) -> Result<RenderedFile, AppError> {
        let mut entries = Vec::new();
        let lang = crate::views::lang(self.facts.booking.language());
        for (name, owner) in render::zip_contents(order, lang) {
            let bytes = match fresh.iter().find(|f| f.owner == owner) {
                Some(f) => f.bytes.clone(),
                None => {
                    let doc = self
                        .facts
                        .documents
                        .iter()
                        .find(|doc| doc.owner == owner)
                        .ok_or(AppError::Internal(format!("missing PDF {}", owner.key())))?;
                    self.app.document_bytes(doc).await?
                }
            };
            entries.push((name, bytes));
        }
        Ok(render::order_zip(order, &entries)?)
    }
}

/// A flight re-render, moved to the blocking pool: PDF rendering is CPU work.
struct FlightJob {
    invoice: Option<tessera_core::invoice::Invoice>,
    booking_id: tessera_core::ids::BookingId,
    flight: FlightBooking,
    agency: tessera_core::agency::Agency,
    changed: Vec<Ticket>,
    all: Vec<Ticket>,
    attributes: serde_json::Value,
    issuance: Option<tessera_core::ids::IssuanceId>,
    keys: GateKeys,
}

impl FlightJob {
    fn render(self) -> Result<Vec<RenderedFile>, AppError> {
        let mut files = Vec::new();
        for ticket in &self.changed {
            files.push(render::flight_ticket(
                &self.flight,
                &self.agency,
                ticket,
                &self.all,
                &self.attributes,
                &self.keys,
            )?);
        }
        if let Some(invoice) = &self.invoice {
            files.push(render::flight_invoice(self.booking_id, &self.flight, &self.agency, invoice)?);
        }
        if let Some(issuance) = self.issuance {
            files.push(render::itinerary(
                issuance,
                &self.flight,
                &self.agency,
                &self.all,
                &self.attributes,
                &self.keys,
            )?);
        }
        Ok(files)
    }
}

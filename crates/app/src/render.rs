//! Documents are a cache of the database. This module is the one place that knows, per kind of document, how
//! its bytes are made: a pure function per kind (used alike by issuance, by lifecycle changes and by zip
//! rebuilds) and [`Tessera::render_owner`], which gathers the inputs of any recorded document from the database
//! as they stand now. An issuance records its documents as pending and renders them right after its commit
//! (the first read renders one still pending); every later change to a document's inputs re-renders it in the
//! same transaction; so what the database holds now is exactly what the stored file was rendered from.
//!
//! [`Tessera::document_bytes`] is how every read gets a recorded document's bytes: from the in-memory cache of
//! verified bytes (`doc_cache`), else from the store, checked against the recorded SHA-256; when the store lacks
//! them (a lost disk, a wiped bucket, another node's local folder) or holds other bytes (a corrupted or foreign
//! file), re-rendered, checked against the recorded SHA-256, put back and served. Bytes that do not match the
//! record are never served: a re-render that differs is logged as an alarm and answered as
//! [`AppError::DocumentUnavailable`].

use bytes::Bytes;
use tessera_core::agency::Agency;
use tessera_core::booking::{BookingDetail, EventBooking, FlightBooking};
use tessera_core::codes::TicketNumber;
use tessera_core::ids::{AgencyId, BookingId, DocumentId, IssuanceId};
use tessera_core::invoice::Invoice;
use tessera_core::orders::{BookingOrder, DownloadItem, OrderItem};
use tessera_core::ticket::{Ticket, TicketType};
use tessera_core::user::Scope;
use tessera_documents::{pdf, sha256_hex, zip_bundle, DocumentError, DocumentKey};
use tessera_storage::{DocumentOwner, DocumentRecord, IssuedTickets, NewDocument};

use crate::gate::GateKeys;
use crate::views::Lang;
use crate::{event_views, views, AppError, Tessera};

/// One rendered document, before it is stored.
#[derive(Debug, Clone)]
pub(crate) struct RenderedFile {
    pub owner: DocumentOwner,
    pub filename: String,
    pub content_type: &'static str,
    pub bytes: Bytes,
}

const PDF: &str = "application/pdf";
const ZIP: &str = "application/zip";

fn ticket_filename(ticket: &Ticket) -> String {
    match ticket.kind {
        TicketType::TKT => format!("eticket-{}.pdf", ticket.number.compact()),
        TicketType::EMD => format!("emd-{}.pdf", ticket.number.compact()),
    }
}

fn itinerary_filename(flight: &FlightBooking) -> String {
    format!("itinerary-{}.pdf", flight.pnr)
}

fn invoice_filename(invoice: &Invoice) -> String {
    format!("invoice-{}.pdf", invoice.number)
}

/// The documents a flight issuance records, named as the functions below name them and not rendered yet
/// ([`NewDocument::pending`]): a ticket's each, every invoice's, and the combined itinerary.
pub(crate) fn flight_documents(flight: &FlightBooking, issued: &IssuedTickets) -> Vec<NewDocument> {
    let tickets = issued.tickets.iter().map(|t| (DocumentOwner::Ticket(t.number.clone()), ticket_filename(t), PDF));
    let invoices = issued
        .invoices
        .iter()
        .map(|i| (DocumentOwner::BookingInvoice(issued.booking_id, i.number), invoice_filename(i), PDF));
    let itinerary = (DocumentOwner::Issuance(issued.issuance_id), itinerary_filename(flight), PDF);
    tickets.chain(invoices).chain([itinerary]).map(pending).collect()
}

/// The documents an event issuance records, not rendered yet: each ticket's PDF, each order's zip bundle and
/// invoice.
pub(crate) fn event_documents(orders: &[BookingOrder], invoices: &[Invoice]) -> Vec<NewDocument> {
    let mut out = Vec::new();
    for order in orders {
        for d in order.items.iter().flat_map(|i| &i.downloads) {
            out.push((DocumentOwner::Download(order.id.clone(), d.id.clone()), d.link.as_str().to_owned(), PDF));
        }
        out.push((DocumentOwner::OrderZip(order.id.clone()), crate::orders::zip_name(order), ZIP));
        for invoice in invoices.iter().filter(|i| i.draft.order_id.as_ref() == Some(&order.id)) {
            out.push((DocumentOwner::Invoice(order.id.clone(), invoice.number), invoice_filename(invoice), PDF));
        }
    }
    out.into_iter().map(pending).collect()
}

fn pending((owner, filename, content_type): (DocumentOwner, String, &str)) -> NewDocument {
    NewDocument::pending(DocumentId::generate(), owner, filename, content_type)
}

/// The ticket an exchange's new ticket replaced, which names the amendment it flies.
pub(crate) fn reissue_of(ticket: &Ticket) -> Option<&TicketNumber> {
    ticket.is_reissue().then_some(ticket.related_number.as_ref()).flatten()
}

/// A flight ticket's PDF (an e-ticket or an EMD) as its status and coupons stand in `ticket`; `all` is every
/// ticket of its issuance (an e-ticket lists its passenger's EMDs, an EMD names its e-ticket).
pub(crate) fn flight_ticket(
    flight: &FlightBooking,
    agency: &Agency,
    ticket: &Ticket,
    all: &[Ticket],
    attributes: &serde_json::Value,
    keys: &GateKeys,
) -> Result<RenderedFile, DocumentError> {
    let seen = flight.as_seen_by(reissue_of(ticket));
    let bytes = match ticket.kind {
        TicketType::TKT => {
            let view = views::flight_ticket(&seen, agency, ticket, all, attributes, keys);
            crate::telemetry::timed("eticket", || pdf::render_flight_ticket(&view))?
        }
        TicketType::EMD => {
            let view = views::emd(&seen, agency, ticket, all);
            crate::telemetry::timed("emd", || pdf::render_emd(&view))?
        }
    };
    let filename = ticket_filename(ticket);
    Ok(RenderedFile {
        owner: DocumentOwner::Ticket(ticket.number.clone()),
        filename,
        content_type: PDF,
        bytes: bytes.into(),
    })
}

/// An issuance's combined PDF: every e-ticket of `all`, in issuance order.
pub(crate) fn itinerary(
    issuance: IssuanceId,
    flight: &FlightBooking,
    agency: &Agency,
    all: &[Ticket],
    attributes: &serde_json::Value,
    keys: &GateKeys,
) -> Result<RenderedFile, DocumentError> {
    let views: Vec<_> = all
        .iter()
        .filter(|t| t.kind == TicketType::TKT)
        .map(|t| views::flight_ticket(&flight.as_seen_by(reissue_of(t)), agency, t, all, attributes, keys))
        .collect();
    Ok(RenderedFile {
        owner: DocumentOwner::Issuance(issuance),
        filename: itinerary_filename(flight),
        content_type: PDF,
        bytes: crate::telemetry::timed("itinerary", || pdf::render_flight_itinerary(&views))?.into(),
    })
}

/// A flight booking's invoice (issuance, credit or exchange invoice).
pub(crate) fn flight_invoice(
    booking: BookingId,
    flight: &FlightBooking,
    agency: &Agency,
    invoice: &Invoice,
) -> Result<RenderedFile, DocumentError> {
    Ok(RenderedFile {
        owner: DocumentOwner::BookingInvoice(booking, invoice.number),
        filename: invoice_filename(invoice),
        content_type: PDF,
        bytes: crate::telemetry::timed("invoice", || {
            pdf::render_invoice(&views::flight_invoice(agency, flight, invoice))
        })?
        .into(),
    })
}

/// One PDF of an event ticket. A ticket that no longer counts (void, refunded) carries its status as a
/// watermark and a stamp; one that counts is printed as issued.
pub(crate) fn event_ticket(
    agency: &Agency,
    event: &EventBooking,
    order: &BookingOrder,
    item: &OrderItem,
    download: &DownloadItem,
    gate_payload: String,
) -> Result<RenderedFile, DocumentError> {
    let mut view = event_views::event_ticket(agency, event, order, item, download, gate_payload);
    if !item.counts() {
        view.watermark = views::watermark(view.lang, item.status);
        view.status_mark = views::status_mark(view.lang, item.status);
    }
    Ok(RenderedFile {
        owner: DocumentOwner::Download(order.id.clone(), download.id.clone()),
        filename: download.link.as_str().to_owned(),
        content_type: PDF,
        bytes: crate::telemetry::timed("event_ticket", || pdf::render_event_ticket(&view))?.into(),
    })
}

/// An event order's invoice (issuance or credit invoice).
pub(crate) fn event_invoice(
    agency: &Agency,
    event: &EventBooking,
    order: &BookingOrder,
    invoice: &Invoice,
) -> Result<RenderedFile, DocumentError> {
    Ok(RenderedFile {
        owner: DocumentOwner::Invoice(order.id.clone(), invoice.number),
        filename: invoice_filename(invoice),
        content_type: PDF,
        bytes: crate::telemetry::timed("invoice", || {
            pdf::render_invoice(&event_views::invoice(agency, event, order, invoice))
        })?
        .into(),
    })
}

/// What an order's zip bundle holds: the PDFs of every ticket that can be downloaded now, by entry name (in the
/// booking's language `lang`).
pub(crate) fn zip_contents(order: &BookingOrder, lang: Lang) -> Vec<(String, DocumentOwner)> {
    order
        .items
        .iter()
        .enumerate()
        .filter(|(_, item)| item.downloadable())
        .flat_map(|(index, item)| {
            item.downloads.iter().map(move |d| {
                let name = event_views::zip_entry_name(index, item, &event_views::pass_label(lang, order, item, d));
                (name, DocumentOwner::Download(order.id.clone(), d.id.clone()))
            })
        })
        .collect()
}

/// The order's zip bundle from the bytes of the entries [`zip_contents`] names, in that order.
pub(crate) fn order_zip(order: &BookingOrder, entries: &[(String, Bytes)]) -> Result<RenderedFile, DocumentError> {
    Ok(RenderedFile {
        owner: DocumentOwner::OrderZip(order.id.clone()),
        filename: crate::orders::zip_name(order),
        content_type: ZIP,
        bytes: crate::telemetry::timed("zip", || zip_bundle(entries))?.into(),
    })
}

/// PDF rendering is CPU work: it runs on the blocking pool, never on the async executor.
async fn blocking<T: Send + 'static>(
    job: impl FnOnce() -> Result<T, DocumentError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| AppError::Internal(format!("render task: {e}")))?
        .map_err(|e| AppError::DocumentGeneration(e.to_string()))
}

impl Tessera {
    /// The bytes of a recorded document: from the store, or re-rendered from the database when the store lacks
    /// them, verified against the recorded SHA-256 and put back. Anything else than the recorded bytes is
    /// answered as [`AppError::DocumentUnavailable`], never served.
    pub(crate) async fn document_bytes(&self, record: &DocumentRecord) -> Result<Bytes, AppError> {
        let unavailable = |why: String| {
            AppError::DocumentUnavailable(format!(
                "{} {} ({}): {why}",
                record.owner.kind(),
                record.owner.key(),
                record.storage_key
            ))
        };
        if record.is_pending() {
            return self.render_pending(record).await.map_err(|e| unavailable(format!("rendering: {e:?}")));
        }
        if let Some(bytes) = self.doc_cache.get(&record.storage_key, &record.sha256) {
            return Ok(bytes);
        }
        let key = DocumentKey::parse(&record.storage_key).map_err(|e| unavailable(e.to_string()))?;
        match self.docs.get(&key).await {
            // Checked once, here, on the way into the cache; later reads are served from memory.
            Ok(bytes) if sha256_hex(&bytes) == record.sha256 => {
                self.doc_cache.insert(&record.storage_key, &record.sha256, &bytes);
                return Ok(bytes);
            }
            Ok(_) => tracing::warn!(
                owner_kind = record.owner.kind(),
                owner = %record.owner.key(),
                key = %record.storage_key,
                "document in the store differs from its recorded SHA-256; re-rendering it from the database"
            ),
            Err(DocumentError::NotFound(_)) => tracing::warn!(
                owner_kind = record.owner.kind(),
                owner = %record.owner.key(),
                key = %record.storage_key,
                "document missing from the store; re-rendering it from the database"
            ),
            Err(e) => return Err(unavailable(e.to_string())),
        }
        // A zip's entries are read through here in turn: boxed, as async recursion must be.
        let file = Box::pin(self.render_owner(&record.owner))
            .await
            .map_err(|e| unavailable(format!("re-rendering: {e:?}")))?;
        let actual = sha256_hex(&file.bytes);
        if actual != record.sha256 && self.superseded(record).await? {
            // A lifecycle change re-rendered the document between our read of its record and the rendering: no
            // fault, the caller may simply ask again for the current version.
            return Err(AppError::Stale);
        }
        if actual != record.sha256 {
            tracing::error!(
                alarm = "document_mismatch",
                owner_kind = record.owner.kind(),
                owner = %record.owner.key(),
                key = %record.storage_key,
                expected = %record.sha256,
                actual = %actual,
                "re-rendered document differs from the recorded SHA-256; not served and not stored"
            );
            return Err(unavailable(format!(
                "re-rendered SHA-256 {actual} differs from the recorded {}",
                record.sha256
            )));
        }
        // The bytes are verified: serve them even if putting them back fails (the next read tries again).
        if let Err(e) = self.docs.put(&key, file.bytes.clone()).await {
            tracing::warn!(key = %record.storage_key, error = %e, "could not put a re-rendered document back");
        }
        self.doc_cache.insert(&record.storage_key, &record.sha256, &file.bytes);
        Ok(file.bytes)
    }

    /// A document its issuance recorded but did not render yet (the issuing request is still rendering it, or
    /// died first): rendered from the database, stored and recorded here. Rendering is deterministic, so when
    /// the issuing request records its own copy too, both are the same bytes and whichever comes second is
    /// skipped.
    async fn render_pending(&self, record: &DocumentRecord) -> Result<Bytes, AppError> {
        let file = Box::pin(self.render_owner(&record.owner)).await?;
        let bytes = file.bytes.clone();
        let document = self.store_rendered(record.agency_id, file).await?;
        self.db.fill_documents(record.agency_id, std::slice::from_ref(&document)).await?;
        Ok(bytes)
    }

    /// Puts a rendered file in the store under a key named by its content
    /// (`agencies/{agency}/{orders/{order} or documents}/{SHA-256 prefix}/{file name}`): every node rendering the
    /// same document writes the same bytes to the same key, and a key a record points to is never overwritten
    /// with other bytes.
    pub(crate) async fn store_rendered(&self, agency: AgencyId, file: RenderedFile) -> Result<NewDocument, AppError> {
        let folder = match file.owner.order() {
            Some(order) => format!("agencies/{agency}/orders/{order}"),
            None => format!("agencies/{agency}/documents"),
        };
        let stored = self.docs.put_addressed(&folder, &file.filename, file.bytes).await?;
        Ok(NewDocument {
            id: DocumentId::generate(),
            owner: file.owner,
            storage_key: stored.key.to_string(),
            sha256: stored.sha256,
            size: i64::try_from(stored.size).map_err(|_| AppError::Internal("document too large".into()))?,
            content_type: file.content_type.into(),
            filename: file.filename,
        })
    }

    /// Whether the document's owner has a newer version than `record` by now.
    async fn superseded(&self, record: &DocumentRecord) -> Result<bool, AppError> {
        let current = self.db.get_document(Scope::All, &record.owner).await?;
        Ok(current.is_some_and(|c| c.storage_key != record.storage_key))
    }

    /// Renders the document `owner` names from what the database holds now: the same function, with the same
    /// inputs, that rendered it last.
    pub(crate) async fn render_owner(&self, owner: &DocumentOwner) -> Result<RenderedFile, AppError> {
        match owner {
            DocumentOwner::Ticket(number) => {
                let ticket = self.db.get_ticket(Scope::All, number).await?.ok_or(AppError::NotFound("ticket"))?;
                let (flight, agency, all, attributes) = self.flight_inputs(ticket.issuance_id).await?;
                let keys = self.gate_keys().await?;
                blocking(move || flight_ticket(&flight, &agency, &ticket, &all, &attributes, &keys)).await
            }
            DocumentOwner::Issuance(id) => {
                let id = *id;
                let (flight, agency, all, attributes) = self.flight_inputs(id).await?;
                let keys = self.gate_keys().await?;
                blocking(move || itinerary(id, &flight, &agency, &all, &attributes, &keys)).await
            }
            DocumentOwner::BookingInvoice(booking_id, number) => {
                let booking =
                    self.db.get_booking(Scope::All, *booking_id).await?.ok_or(AppError::NotFound("booking"))?;
                let BookingDetail::Flight(flight) = booking.detail else {
                    return Err(AppError::Internal("flight invoice of a booking that is not a flight".into()));
                };
                let invoice = self.invoice(*booking_id, *number).await?;
                let agency = self.render_agency(booking.agency_id).await?;
                let booking_id = *booking_id;
                blocking(move || flight_invoice(booking_id, &flight, &agency, &invoice)).await
            }
            DocumentOwner::Download(order_id, download_id) => {
                let (record, event, agency) = self.event_inputs(order_id).await?;
                let order = record.order;
                let (item, download) = order
                    .items
                    .iter()
                    .find_map(|i| i.downloads.iter().find(|d| &d.id == download_id).map(|d| (i.clone(), d.clone())))
                    .ok_or(AppError::NotFound("download item"))?;
                let payload = self.gate_keys().await?.event_payload(&order, &item, &download)?;
                blocking(move || event_ticket(&agency, &event, &order, &item, &download, payload)).await
            }
            DocumentOwner::Invoice(order_id, number) => {
                let (record, event, agency) = self.event_inputs(order_id).await?;
                let invoice = record
                    .invoices
                    .iter()
                    .find(|i| i.number == *number)
                    .cloned()
                    .ok_or(AppError::NotFound("invoice"))?;
                let order = record.order;
                blocking(move || event_invoice(&agency, &event, &order, &invoice)).await
            }
            DocumentOwner::OrderZip(order_id) => {
                let (record, event, _) = self.event_inputs(order_id).await?;
                self.zip_of(&record, views::lang(event.language)).await
            }
        }
    }

    /// An order's bundle from its PDFs as recorded (each read through [`Tessera::document_bytes`], so a missing
    /// one is re-rendered and verified first).
    pub(crate) async fn zip_of(
        &self,
        record: &tessera_storage::OrderRecord,
        lang: Lang,
    ) -> Result<RenderedFile, AppError> {
        let mut entries = Vec::new();
        for (name, owner) in zip_contents(&record.order, lang) {
            let doc =
                record.document(&owner).ok_or_else(|| AppError::Internal(format!("missing PDF {}", owner.key())))?;
            entries.push((name, self.document_bytes(doc).await?));
        }
        let order = record.order.clone();
        blocking(move || order_zip(&order, &entries)).await
    }

    /// A flight issuance's booking, agency, tickets (in issuance order) and the caller's codes.
    async fn flight_inputs(
        &self,
        issuance: IssuanceId,
    ) -> Result<(FlightBooking, Agency, Vec<Ticket>, serde_json::Value), AppError> {
        let record = self.db.get_issuance(Scope::All, issuance).await?.ok_or(AppError::NotFound("issuance"))?;
        let all = self.db.tickets_of_issuance(Scope::All, issuance).await?;
        let booking = self.db.get_booking(Scope::All, record.booking_id).await?.ok_or(AppError::NotFound("booking"))?;
        let BookingDetail::Flight(flight) = booking.detail else {
            return Err(AppError::Internal("flight document of a booking that is not a flight".into()));
        };
        let agency = self.render_agency(record.agency_id).await?;
        Ok((flight, agency, all, record.attributes))
    }

    /// An event order with its documents and invoices, its booking's event and its agency.
    async fn event_inputs(
        &self,
        order: &tessera_core::orders::BookingOrderId,
    ) -> Result<(tessera_storage::OrderRecord, EventBooking, Agency), AppError> {
        let record = self.db.get_booking_order(Scope::All, order).await?.ok_or(AppError::NotFound("booking order"))?;
        let booking =
            self.db.get_booking(Scope::All, record.order.booking_id).await?.ok_or(AppError::NotFound("booking"))?;
        let BookingDetail::Event(event) = booking.detail else {
            return Err(AppError::Internal("order of a booking that is not an event".into()));
        };
        let agency = self.render_agency(record.order.agency_id).await?;
        Ok((record, event, agency))
    }

    async fn render_agency(&self, id: tessera_core::ids::AgencyId) -> Result<Agency, AppError> {
        self.db.get_agency(id).await?.ok_or(AppError::NotFound("agency"))
    }

    async fn invoice(&self, booking: BookingId, number: u64) -> Result<Invoice, AppError> {
        let invoices = self.db.invoices_of_booking(Scope::All, booking).await?;
        invoices.into_iter().find(|i| i.number == number).ok_or(AppError::NotFound("invoice"))
    }
}

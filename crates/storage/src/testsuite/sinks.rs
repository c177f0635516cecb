//! Document and transition sinks for the checks: they record what the database hands them and return fake
//! document records (or fail), without rendering or storing anything.

use std::sync::Mutex;

use async_trait::async_trait;
use tessera_core::ids::DocumentId;
use tessera_core::orders::BookingOrder;
use uuid::Uuid;

use crate::{
    DocumentOwner, DocumentSink, IssuedTickets, NewDocument, SinkError, Subject, TransitionOutcome, TransitionSink,
};

/// A document sink that records what it was handed and returns one document per ticket and one for the
/// whole issuance, without rendering anything.
#[derive(Default)]
pub struct RecordingSink {
    calls: Mutex<Vec<(IssuedTickets, Vec<NewDocument>)>>,
}

impl RecordingSink {
    /// Every call so far: what it was handed and what it returned.
    pub fn calls(&self) -> Vec<(IssuedTickets, Vec<NewDocument>)> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

pub(super) fn fake_document(owner: DocumentOwner, filename: String, content_type: &str) -> NewDocument {
    let id = DocumentId::generate();
    NewDocument {
        id,
        storage_key: format!("documents/{}/{filename}", id),
        owner,
        sha256: format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple()),
        size: 4_096,
        content_type: content_type.into(),
        filename,
    }
}

#[async_trait]
impl DocumentSink for RecordingSink {
    async fn produce(&self, issued: &IssuedTickets) -> Result<Vec<NewDocument>, SinkError> {
        let mut documents: Vec<NewDocument> = issued
            .tickets
            .iter()
            .map(|t| {
                fake_document(
                    DocumentOwner::Ticket(t.number.clone()),
                    format!("{}.pdf", t.number.dashed()),
                    "application/pdf",
                )
            })
            .collect();
        documents.push(fake_document(
            DocumentOwner::Issuance(issued.issuance_id),
            format!("issuance-{}.zip", issued.issuance_id),
            "application/zip",
        ));
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).push((issued.clone(), documents.clone()));
        Ok(documents)
    }
}

/// A document sink for event bookings, like the real one without rendering: a PDF per download item, a zip
/// per order and a PDF per invoice (by the number it was handed). It knows the orders of the bookings it
/// serves, since issuance hands it only their invoices. [`EventSink::failing`] records the call, then fails.
pub struct EventSink {
    orders: Vec<BookingOrder>,
    fail: bool,
    calls: Mutex<Vec<(IssuedTickets, Vec<NewDocument>)>>,
}

impl EventSink {
    pub fn new(orders: Vec<BookingOrder>) -> Self {
        Self { orders, fail: false, calls: Mutex::default() }
    }

    pub fn failing(orders: Vec<BookingOrder>) -> Self {
        Self { fail: true, ..Self::new(orders) }
    }

    /// Every call so far: what it was handed and what it returned (or would have).
    pub fn calls(&self) -> Vec<(IssuedTickets, Vec<NewDocument>)> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[async_trait]
impl DocumentSink for EventSink {
    async fn produce(&self, issued: &IssuedTickets) -> Result<Vec<NewDocument>, SinkError> {
        let mut documents = Vec::new();
        for order in self.orders.iter().filter(|o| o.booking_id == issued.booking_id) {
            for download in order.items.iter().flat_map(|i| &i.downloads) {
                documents.push(fake_document(
                    DocumentOwner::Download(order.id.clone(), download.id.clone()),
                    download.link.as_str().to_owned(),
                    "application/pdf",
                ));
            }
            documents.push(fake_document(
                DocumentOwner::OrderZip(order.id.clone()),
                format!("tickets-{}.zip", order.id),
                "application/zip",
            ));
        }
        for invoice in &issued.invoices {
            let Some(order) = &invoice.draft.order_id else { continue };
            documents.push(fake_document(
                DocumentOwner::Invoice(order.clone(), invoice.number),
                format!("invoice-{}.pdf", invoice.number),
                "application/pdf",
            ));
        }
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).push((issued.clone(), documents.clone()));
        if self.fail {
            return Err(SinkError("document store unavailable".into()));
        }
        Ok(documents)
    }
}

/// A document sink that always fails, as a renderer or a document store might.
pub struct FailingSink;

#[async_trait]
impl DocumentSink for FailingSink {
    async fn produce(&self, _issued: &IssuedTickets) -> Result<Vec<NewDocument>, SinkError> {
        Err(SinkError("document store unavailable".into()))
    }
}

/// A transition sink like the real one without rendering: a PDF for the subject ticket and for an exchange's
/// new ticket; for an order item a PDF per download item, the order's zip, and the PDF of an invoice of the
/// order. It knows the orders of the bookings it serves, since a transition hands it only ids.
/// [`TransitionRecorder::failing`] records the call, then fails.
#[derive(Default)]
pub struct TransitionRecorder {
    orders: Vec<BookingOrder>,
    fail: bool,
    calls: Mutex<Vec<(TransitionOutcome, Vec<NewDocument>)>>,
}

impl TransitionRecorder {
    pub fn new(orders: Vec<BookingOrder>) -> Self {
        Self { orders, ..Self::default() }
    }

    pub fn failing() -> Self {
        Self { fail: true, ..Self::default() }
    }

    /// Every call so far: what it was handed and what it returned (or would have).
    pub fn calls(&self) -> Vec<(TransitionOutcome, Vec<NewDocument>)> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[async_trait]
impl TransitionSink for TransitionRecorder {
    async fn produce(&self, done: &TransitionOutcome) -> Result<Vec<NewDocument>, SinkError> {
        let mut documents = Vec::new();
        match &done.subject {
            Subject::Ticket { number } => {
                for number in std::iter::once(number).chain(done.reissued.as_ref().map(|t| &t.number)) {
                    let filename = format!("{}.pdf", number.dashed());
                    documents.push(fake_document(DocumentOwner::Ticket(number.clone()), filename, "application/pdf"));
                }
            }
            Subject::Item { order, item } => {
                let downloads = self
                    .orders
                    .iter()
                    .filter(|o| &o.id == order)
                    .flat_map(|o| &o.items)
                    .filter(|i| &i.id == item)
                    .flat_map(|i| &i.downloads);
                for download in downloads {
                    documents.push(fake_document(
                        DocumentOwner::Download(order.clone(), download.id.clone()),
                        download.link.as_str().to_owned(),
                        "application/pdf",
                    ));
                }
                let filename = format!("tickets-{order}.zip");
                documents.push(fake_document(DocumentOwner::OrderZip(order.clone()), filename, "application/zip"));
            }
        }
        if let Some(invoice) = &done.invoice {
            if let Some(order) = &invoice.draft.order_id {
                documents.push(fake_document(
                    DocumentOwner::Invoice(order.clone(), invoice.number),
                    format!("invoice-{}.pdf", invoice.number),
                    "application/pdf",
                ));
            }
        }
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).push((done.clone(), documents.clone()));
        if self.fail {
            return Err(SinkError("document store unavailable".into()));
        }
        Ok(documents)
    }
}

/// A document sink that names one pending document for the whole issuance, as the real one does before
/// rendering after the commit.
pub struct PendingSink;

#[async_trait]
impl DocumentSink for PendingSink {
    async fn produce(&self, issued: &IssuedTickets) -> Result<Vec<NewDocument>, SinkError> {
        let itinerary = DocumentOwner::Issuance(issued.issuance_id);
        let tickets = issued.tickets.iter().map(|t| DocumentOwner::Ticket(t.number.clone()));
        Ok(std::iter::once(itinerary)
            .chain(tickets)
            .map(|owner| NewDocument::pending(DocumentId::generate(), owner, "file.pdf".into(), "application/pdf"))
            .collect())
    }
}

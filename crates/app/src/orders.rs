//! Booking orders of event bookings: the documents issuance produces for them (a PDF per ticket and day, a
//! zip bundle per order, an invoice per order), the listing partners page through, and downloads that only
//! ever open one of the order's own files.

use std::collections::HashMap;

use bytes::Bytes;
use tessera_core::agency::Agency;
use tessera_core::booking::{DistributionChannel, EventBooking};
use tessera_core::ids::BookingId;
use tessera_core::invoice::Invoice;
use tessera_core::orders::{BookingOrder, BookingOrderId, DownloadItemId, LogisticStatus, OrderFilter, OrderItemId};
use tessera_core::user::Scope;
use tessera_storage::{
    Actor, AuditEntry, AuditFilter, DocumentOwner, NewAuditEntry, NewDocument, OrderPage, OrderRecord,
};

use crate::links::{Download, SignedLink};
use crate::render::{self, RenderedFile};
use crate::views::Lang;
use crate::{AppError, Principal, Tessera};

/// The most orders one page of the listing holds; the events profile's default page is 50.
pub const MAX_PAGE_SIZE: u32 = 200;
pub const DEFAULT_PAGE_SIZE: u32 = 50;

/// Everything the documents of an event issuance are rendered from.
pub(crate) struct EventRender {
    pub event: EventBooking,
    pub orders: Vec<BookingOrder>,
    pub agency: Agency,
    pub invoices: Vec<Invoice>,
}

impl Tessera {
    /// Renders and stores every ticket PDF, each order's zip bundle and invoice of an event issuance, after its
    /// commit, for [`Tessera::fill_documents`] to record.
    pub(crate) async fn produce_event_documents(&self, job: EventRender) -> Result<Vec<NewDocument>, AppError> {
        let keys = self.gate_keys().await?;
        let payloads: HashMap<DownloadItemId, String> = job
            .orders
            .iter()
            .flat_map(|o| o.items.iter().flat_map(move |i| i.downloads.iter().map(move |d| (o, i, d))))
            .map(|(o, i, d)| Ok((d.id.clone(), keys.event_payload(o, i, d)?)))
            .collect::<Result<_, AppError>>()?;
        let agency = job.agency.id;
        let rendered = tokio::task::spawn_blocking(move || render_event(&job, &payloads))
            .await
            .map_err(|e| AppError::Internal(format!("render task: {e}")))??;
        let mut out = Vec::with_capacity(rendered.len());
        for doc in rendered {
            out.push(self.store_rendered(agency, doc).await?);
        }
        Ok(out)
    }

    pub async fn list_orders(
        &self,
        who: &Principal,
        filter: &OrderFilter,
        page: u64,
        page_size: u32,
    ) -> Result<OrderPage, AppError> {
        let page_size = page_size.clamp(1, MAX_PAGE_SIZE);
        let offset = page.saturating_sub(1).saturating_mul(u64::from(page_size));
        Ok(self.db.list_booking_orders(who.scope, filter, offset, page_size).await?)
    }

    /// An order within the caller's reach; an id of the wrong shape is simply not found.
    pub async fn get_order(&self, who: &Principal, id: &str) -> Result<OrderRecord, AppError> {
        let id = BookingOrderId::parse(id).map_err(|_| AppError::NotFound("booking order"))?;
        self.db.get_booking_order(who.scope, &id).await?.ok_or(AppError::NotFound("booking order"))
    }

    /// One ticket PDF, only by one of the item's own links, only for tickets we distribute.
    pub async fn download_ticket(
        &self,
        who: &Principal,
        order: &str,
        item: &str,
        link: &str,
    ) -> Result<Download, AppError> {
        let record = self.get_order(who, order).await?;
        let item = record.order.item(item).ok_or(AppError::NotFound("order item"))?;
        let download = item.download(link).ok_or(AppError::NotFound("download link"))?;
        ensure_deliverable(&record, item)?;
        self.download(who.scope, &DocumentOwner::Download(record.order.id.clone(), download.id.clone())).await
    }

    /// The orders of a booking within the caller's reach, in booking order (none before it is issued).
    pub async fn booking_orders(&self, who: &Principal, booking: BookingId) -> Result<Vec<BookingOrder>, AppError> {
        self.get_booking(who, booking).await?;
        Ok(self.db.orders_of_booking(who.scope, booking).await?)
    }

    /// The order's zip bundle itself, once the order is completed (what its signed link opens).
    pub async fn order_zip(&self, who: &Principal, order: &str) -> Result<Download, AppError> {
        let record = self.get_order(who, order).await?;
        if record.order.logistic_status != LogisticStatus::Completed {
            return Err(AppError::NotReady);
        }
        self.download(who.scope, &DocumentOwner::OrderZip(record.order.id.clone())).await
    }

    /// A link to the order's zip bundle that needs no credentials and expires within minutes.
    pub async fn order_zip_link(&self, who: &Principal, order: &str) -> Result<SignedLink, AppError> {
        let record = self.get_order(who, order).await?;
        if record.order.logistic_status != LogisticStatus::Completed {
            return Err(AppError::NotReady);
        }
        let owner = DocumentOwner::OrderZip(record.order.id.clone());
        self.sign_link_for(who.scope, owner, self.settings.zip_link_ttl).await
    }

    pub async fn invoice_pdf(&self, who: &Principal, order: &str, number: &str) -> Result<Download, AppError> {
        let record = self.get_order(who, order).await?;
        // Only the canonical spelling names an invoice (`1`, not `01` or `+1`).
        let number: u64 =
            number.parse().ok().filter(|n: &u64| n.to_string() == number).ok_or(AppError::NotFound("invoice"))?;
        let invoice = record.invoices.iter().find(|i| i.number == number).ok_or(AppError::NotFound("invoice"))?;
        self.download(who.scope, &DocumentOwner::Invoice(record.order.id.clone(), invoice.number)).await
    }

    /// Moves a ticket to another distribution channel (admins only). A completed order's zip is rebuilt so
    /// that it holds exactly the tickets that can be downloaded now.
    pub async fn set_distribution_channel(
        &self,
        who: &Principal,
        order: &str,
        item: &str,
        channel: &str,
        actor: Actor,
    ) -> Result<OrderRecord, AppError> {
        who.require_admin()?;
        let channel = DistributionChannel::parse(channel).ok_or_else(|| {
            AppError::Validation(tessera_core::intake::ValidationErrors::single(
                "/distribution_channel",
                "must be `xs2event`, `external` or `external_end_client`",
            ))
        })?;
        let order_id = BookingOrderId::parse(order).map_err(|_| AppError::NotFound("booking order"))?;
        let item_id = OrderItemId::parse(item).map_err(|_| AppError::NotFound("order item"))?;
        let before = self.get_order(who, order).await?;
        let previous =
            before.order.item(item).map(|i| i.distribution_channel).ok_or(AppError::NotFound("order item"))?;
        let updated = self
            .db
            .set_distribution_channel(who.scope, &order_id, &item_id, channel)
            .await?
            .ok_or(AppError::NotFound("order item"))?;
        if updated.logistic_status == LogisticStatus::Completed {
            self.rebuild_zip(who, order).await?;
        }
        self.db
            .append_audit(&NewAuditEntry {
                agency_id: Some(updated.agency_id),
                actor,
                action: "order_item.distribution_channel".into(),
                booking_id: Some(updated.booking_id),
                ticket_number: None,
                issuance_id: None,
                outcome: "success".into(),
                detail: serde_json::json!({
                    "bookingorder_id": updated.id,
                    "orderitem_id": item_id,
                    "from": previous.as_str(),
                    "to": channel.as_str(),
                }),
                created_at: self.now(),
            })
            .await?;
        self.get_order(who, order).await
    }

    /// Re-zips the downloadable PDFs of `order` as recorded and replaces the bundle (an order with nothing
    /// downloadable keeps an empty bundle, as at issuance).
    ///
    /// Several nodes may change one order and rebuild its bundle at once. Each writes the bundle of the order as
    /// it read it, then reads the order again and rebuilds while the bundle's inputs (entry names and the PDFs'
    /// SHA-256) are no longer what it zipped; since every writer checks after its own write, the last bundle
    /// written is the newest order's. Comparing inputs, not bytes, spares a second render per change.
    async fn rebuild_zip(&self, who: &Principal, order: &str) -> Result<(), AppError> {
        const ROUNDS: usize = 5;
        let mut current = self.get_order(who, order).await?;
        // The entries' names are in the booking's language: a booking that cannot be read is not found, never
        // silently another language (that would be a different zip).
        let booking =
            self.db.get_booking(who.scope, current.order.booking_id).await?.ok_or(AppError::NotFound("booking"))?;
        let lang = crate::views::lang(booking.language());
        for _ in 0..ROUNDS {
            let doc = self.zip_of(&current, lang).await?;
            let new = self.store_rendered(current.order.agency_id, doc).await?;
            self.db.replace_document(current.order.agency_id, &new, self.now()).await?;
            let after = self.get_order(who, order).await?;
            if zip_inputs(&after, lang) == zip_inputs(&current, lang) {
                return Ok(());
            }
            current = after;
        }
        Err(AppError::Stale)
    }

    /// The access log: every download of a ticket, bundle or invoice, oldest first, at most `limit` (admins only).
    pub async fn access_log(&self, who: &Principal, limit: u32) -> Result<Vec<AuditEntry>, AppError> {
        who.require_admin()?;
        let filter = AuditFilter { action: Some("document.download".into()), limit, ..Default::default() };
        // Downloads answered before this read are listed: their queued entries are written first.
        self.access_log.flush().await;
        Ok(self.db.list_audit(Scope::All, &filter).await?)
    }
}

/// What an order's bundle is made of: each entry's name and the SHA-256 of the PDF it holds. Rendering is
/// deterministic, so equal inputs make byte-identical bundles.
fn zip_inputs(record: &OrderRecord, lang: Lang) -> Vec<(String, Option<&str>)> {
    crate::render::zip_contents(&record.order, lang)
        .into_iter()
        .map(|(name, owner)| {
            let sha = record.document(&owner).map(|d| d.sha256.as_str());
            (name, sha)
        })
        .collect()
}

pub(crate) fn zip_name(order: &BookingOrder) -> String {
    format!("tickets-{}.zip", order.id)
}

/// Every PDF of every ticket, a zip per order of the downloadable ones, an invoice PDF per order. CPU work:
/// runs on the blocking pool.
fn render_event(job: &EventRender, payloads: &HashMap<DownloadItemId, String>) -> Result<Vec<RenderedFile>, AppError> {
    let mut out = Vec::new();
    let gen = |e: tessera_documents::DocumentError| AppError::DocumentGeneration(e.to_string());
    for order in &job.orders {
        let mut tickets = Vec::new();
        for item in &order.items {
            for d in &item.downloads {
                let payload = payloads.get(&d.id).cloned().unwrap_or_default();
                tickets.push(render::event_ticket(&job.agency, &job.event, order, item, d, payload).map_err(gen)?);
            }
        }
        let entries: Vec<(String, Bytes)> = render::zip_contents(order, crate::views::lang(job.event.language))
            .into_iter()
            .filter_map(|(name, owner)| tickets.iter().find(|t| t.owner == owner).map(|t| (name, t.bytes.clone())))
            .collect();
        let zip = render::order_zip(order, &entries).map_err(gen)?;
        out.extend(tickets);
        out.push(zip);
        for invoice in job.invoices.iter().filter(|i| i.draft.order_id.as_ref() == Some(&order.id)) {
            out.push(render::event_invoice(&job.agency, &job.event, order, invoice).map_err(gen)?);
        }
    }
    Ok(out)
}

/// Whether an order item's tickets may be handed out (as PDFs or wallet passes): only tickets we distribute, of an
/// item that still counts, in an order whose logistics are complete.
pub(crate) fn ensure_deliverable(record: &OrderRecord, item: &tessera_core::orders::OrderItem) -> Result<(), AppError> {
    if !item.distribution_channel.downloadable() {
        return Err(AppError::NotDownloadable(item.distribution_channel.as_str()));
    }
    if !item.counts() {
        return Err(AppError::NotFound("order item"));
    }
    if record.order.logistic_status != LogisticStatus::Completed {
        return Err(AppError::NotReady);
    }
    Ok(())
}

//! A booking's invoices, flight or event: the issuance invoice, credit invoices and exchange invoices, as
//! records and as the PDFs rendered when each was issued.

use tessera_core::ids::BookingId;
use tessera_core::invoice::Invoice;
use tessera_storage::DocumentOwner;

use crate::links::Download;
use crate::{AppError, Principal, Tessera};

impl Tessera {
    /// Every invoice of a booking within the caller's reach, oldest first.
    pub async fn booking_invoices(&self, who: &Principal, booking: BookingId) -> Result<Vec<Invoice>, AppError> {
        self.get_booking(who, booking).await?;
        Ok(self.db.invoices_of_booking(who.scope, booking).await?)
    }

    /// One invoice's PDF, by its number as written (`7`, not `07`).
    pub async fn booking_invoice_pdf(
        &self,
        who: &Principal,
        booking: BookingId,
        number: &str,
    ) -> Result<Download, AppError> {
        let number: u64 =
            number.parse().ok().filter(|n: &u64| n.to_string() == number).ok_or(AppError::NotFound("invoice"))?;
        let invoices = self.booking_invoices(who, booking).await?;
        let invoice = invoices.iter().find(|i| i.number == number).ok_or(AppError::NotFound("invoice"))?;
        let owner = match &invoice.draft.order_id {
            Some(order) => DocumentOwner::Invoice(order.clone(), number),
            None => DocumentOwner::BookingInvoice(booking, number),
        };
        self.download(who.scope, &owner).await
    }
}

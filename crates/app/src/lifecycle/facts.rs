//! What a plan is made from: the ticket or order item, its booking, agency, issuance and invoices, read fresh
//! for every attempt.

use tessera_core::agency::Agency;
use tessera_core::lifecycle;
use tessera_core::user::Scope;
use tessera_storage::Subject;

use super::Facts;
use crate::{AppError, Principal, Tessera};

impl Tessera {
    pub(super) async fn facts(&self, who: &Principal, subject: &Subject) -> Result<Facts, AppError> {
        match subject {
            Subject::Ticket { number } => {
                let ticket = self.db.get_ticket(who.scope, number).await?.ok_or(AppError::NotFound("ticket"))?;
                let booking =
                    self.db.get_booking(Scope::All, ticket.booking_id).await?.ok_or(AppError::NotFound("booking"))?;
                let agency = self.agency_of(ticket.agency_id).await?;
                let issuance = self.db.get_issuance(Scope::All, ticket.issuance_id).await?;
                let siblings = self.db.tickets_of_issuance(Scope::All, ticket.issuance_id).await?;
                let invoices = self.db.invoices_of_booking(Scope::All, booking.id).await?;
                let refundable = booking.as_flight().is_none_or(|f| f.refundable);
                let state = lifecycle::Subject {
                    status: ticket.status,
                    coupons: ticket.coupon_states(),
                    charged: ticket.charged,
                    issued_at: ticket.issued_at,
                    refundable,
                    reissue: ticket.is_reissue(),
                    pending_penalty: ticket.pending_penalty,
                };
                Ok(Facts {
                    agency,
                    booking,
                    subject: subject.clone(),
                    state,
                    issuance_id: Some(ticket.issuance_id),
                    attributes: issuance.map(|i| i.attributes).unwrap_or(serde_json::Value::Null),
                    ticket: Some(ticket),
                    siblings,
                    order: None,
                    item: None,
                    invoices,
                    documents: Vec::new(),
                })
            }
            Subject::Item { order, item } => {
                let record =
                    self.db.get_booking_order(who.scope, order).await?.ok_or(AppError::NotFound("booking order"))?;
                let found = record.order.item(item.as_str()).ok_or(AppError::NotFound("order item"))?;
                let booking = self
                    .db
                    .get_booking(Scope::All, record.order.booking_id)
                    .await?
                    .ok_or(AppError::NotFound("booking"))?;
                let issuance = self.db.find_issuance_by_booking(Scope::All, booking.id).await?;
                // An order not yet issued has nothing to void, refund or scan.
                let Some(issuance) = issuance else { return Err(AppError::NotReady) };
                let agency = self.agency_of(record.order.agency_id).await?;
                let state = lifecycle::Subject {
                    status: found.status,
                    coupons: found.coupon_states(),
                    charged: found.unit_price,
                    issued_at: issuance.issued_at,
                    refundable: true,
                    reissue: false,
                    pending_penalty: found.pending_penalty,
                };
                Ok(Facts {
                    agency,
                    booking,
                    subject: subject.clone(),
                    state,
                    ticket: None,
                    siblings: Vec::new(),
                    attributes: issuance.attributes.clone(),
                    item: Some(item.clone()),
                    order: Some(record.order),
                    issuance_id: Some(issuance.id),
                    // An item's credit invoice credits its order's invoice, which the order record holds.
                    invoices: record.invoices,
                    documents: record.documents,
                })
            }
        }
    }

    pub(super) async fn agency_of(&self, id: tessera_core::ids::AgencyId) -> Result<Agency, AppError> {
        self.db.get_agency(id).await?.ok_or(AppError::NotFound("agency"))
    }
}

//! The audit trail as callers may read it: staff of an agency see their agency's entries, admins everyone's;
//! customers see none. A read first writes the access-log entries queued on this node (see
//! [`crate::access_log`]), so what this node served is listed.

use tessera_core::codes::TicketNumber;
use tessera_core::intake::ValidationErrors;
use tessera_core::user::Role;
use tessera_storage::{AuditEntry, AuditFilter};

use crate::{AppError, Principal, Tessera};

/// What to look for, as the caller typed it; every field is optional.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub booking: Option<String>,
    pub ticket: Option<String>,
    pub tracking_id: Option<String>,
    /// e.g. `document.download` (the access log), `issuance.create`
    pub action: Option<String>,
    /// 1-1000, default 200
    pub limit: Option<u32>,
}

impl Tessera {
    /// Entries matching `query` within the caller's reach, oldest first. A booking or ticket that is not even
    /// well-formed is answered like a missing one.
    pub async fn audit(&self, who: &Principal, query: AuditQuery) -> Result<Vec<AuditEntry>, AppError> {
        if who.role() == Role::Customer {
            return Err(AppError::Forbidden("customer"));
        }
        if let Some(t) = &query.tracking_id {
            // Tracking ids are request ids, which the edge keeps only as 1-128 visible ASCII characters.
            if t.is_empty() || t.len() > 128 || !t.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(AppError::Validation(ValidationErrors::single(
                    "/query/tracking_id",
                    "is not a tracking id",
                )));
            }
        }
        let filter = AuditFilter {
            action: query.action.filter(|a| !a.is_empty()),
            booking_id: match query.booking.as_deref() {
                Some(b) => Some(b.parse().map_err(|_| AppError::NotFound("booking"))?),
                None => None,
            },
            ticket_number: match query.ticket.as_deref() {
                Some(t) => Some(TicketNumber::parse(t).map_err(|_| AppError::NotFound("ticket"))?.compact()),
                None => None,
            },
            tracking_id: query.tracking_id,
            limit: query.limit.unwrap_or(200).clamp(1, 1000),
        };
        // Downloads answered before this read are listed: their queued entries are written first.
        self.access_log.flush().await;
        Ok(self.db.list_audit(who.scope, &filter).await?)
    }
}

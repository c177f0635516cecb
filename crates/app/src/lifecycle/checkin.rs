//! Gate check-in: a QR payload we signed uses the coupon it names, an event ticket's PDF or a flight coupon.

use tessera_core::codes::TicketNumber;
use tessera_core::gate::{self, GateSubject};
use tessera_core::orders::DownloadItemId;
use tessera_storage::{Actor, Subject};

use super::{Changed, Command};
use crate::{AppError, Principal, Tessera};

impl Tessera {
    /// A gate scan: the QR payload of an event ticket's PDF uses that PDF's coupon; that of a flight coupon (its
    /// e-ticket's gate code or its boarding pass) uses the coupon. The first scan is accepted; later ones are
    /// refused with the time of the first, and a coupon that no longer admits (void, refunded, exchanged) is
    /// refused as its use would be. A payload that does not verify with our active keys now (tampered, unknown
    /// or retired key, outside its validity window, malformed), or one of another agency's tickets, is not
    /// found.
    pub async fn checkin(&self, who: &Principal, payload: &str, actor: Actor) -> Result<Changed, AppError> {
        let unknown = || AppError::NotFound("ticket");
        let keys = self.gate_keys().await?;
        let claims = gate::verify(payload, &keys.verifying(), self.clock.now()).map_err(|e| {
            tracing::debug!(reason = e.code(), "gate payload refused: {e}");
            unknown()
        })?;
        let hex = match claims.subject {
            GateSubject::Download(hex) => hex,
            GateSubject::Coupon { ticket, coupon } => {
                let number = TicketNumber::parse(&ticket).map_err(|_| unknown())?;
                return self.run(who, Subject::Ticket { number }, Command::Use(coupon.into()), actor).await;
            }
        };
        let download = DownloadItemId::parse(&format!("{hex}{}", DownloadItemId::SUFFIX)).map_err(|_| unknown())?;
        let order = self.db.order_of_download(who.scope, &download).await?.ok_or_else(unknown)?;
        let record = self.db.get_booking_order(who.scope, &order).await?.ok_or_else(unknown)?;
        let (item, coupon) = record
            .order
            .items
            .iter()
            .find_map(|i| i.downloads.iter().position(|d| d.id == download).map(|p| (i.id.clone(), p as u32 + 1)))
            .ok_or_else(unknown)?;
        self.run(who, Subject::Item { order, item }, Command::Use(coupon), actor).await
    }
}

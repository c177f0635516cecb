//! Gate check-in: a QR payload we signed uses the coupon of the PDF it was printed on.

use tessera_core::gate::{self, GateSubject};
use tessera_core::orders::DownloadItemId;
use tessera_storage::{Actor, Subject};

use super::{Changed, Command};
use crate::{AppError, Principal, Tessera};

impl Tessera {
    /// A gate scan: the QR payload of an event ticket's PDF uses that PDF's coupon. The first scan is accepted;
    /// later ones are refused with the time of the first. A payload that does not verify with our active keys
    /// now (tampered, unknown or retired key, outside its validity window, malformed), one of a flight coupon,
    /// or one of another agency's tickets, is not found.
    pub async fn checkin(&self, who: &Principal, payload: &str, actor: Actor) -> Result<Changed, AppError> {
        let unknown = || AppError::NotFound("ticket");
        let keys = self.gate_keys().await?;
        let claims = gate::verify(payload, &keys.verifying(), self.clock.now()).map_err(|e| {
            tracing::debug!(reason = e.code(), "gate payload refused: {e}");
            unknown()
        })?;
        let GateSubject::Download(hex) = claims.subject else {
            return Err(unknown());
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

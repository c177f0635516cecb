//! Gate check-in: a QR payload we signed uses the coupon of the PDF it was printed on.

use tessera_storage::{Actor, Subject};

use super::{Changed, Command};
use crate::{AppError, Principal, Tessera};

impl Tessera {
    /// A gate scan: the QR payload of an event ticket's PDF uses that PDF's coupon. The first scan is accepted;
    /// later ones are refused with the time of the first. A payload we did not sign, or one of another agency's
    /// tickets, is not found.
    pub async fn checkin(&self, who: &Principal, payload: &str, actor: Actor) -> Result<Changed, AppError> {
        use subtle::ConstantTimeEq;
        let unknown = || AppError::NotFound("ticket");
        let download = payload
            .strip_prefix("TSR1.")
            .and_then(|rest| rest.split_once('.'))
            .and_then(|(id, _)| tessera_core::orders::DownloadItemId::parse(id).ok())
            .ok_or_else(unknown)?;
        let expected = self.gate_payload(&download)?;
        if !bool::from(expected.as_bytes().ct_eq(payload.as_bytes())) {
            return Err(unknown());
        }
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

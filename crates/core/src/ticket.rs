//! Tickets and their coupons: the records issuance creates and the lifecycle later changes.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::booking::{ServiceType, Tax};
use crate::codes::{AccountingPrefix, TicketNumber};
use crate::ids::{AgencyId, BookingId, IssuanceId};
use crate::lifecycle::CouponState;
use crate::money::{Money, MoneyError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TicketType {
    /// A flight ticket.
    TKT,
    /// An electronic miscellaneous document for a paid service.
    EMD,
}

impl TicketType {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::TKT => "TKT",
            Self::EMD => "EMD",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "TKT" => Some(Self::TKT),
            "EMD" => Some(Self::EMD),
            _ => None,
        }
    }
}

/// Ticket statuses as the trade writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TicketStatus {
    // The aliases read event order items stored before they shared this status.
    #[serde(rename = "OPEN", alias = "active")]
    Open,
    #[serde(rename = "VOID", alias = "cancelled")]
    Void,
    #[serde(rename = "USED")]
    Used,
    #[serde(rename = "RFND")]
    Refunded,
    #[serde(rename = "EXCH")]
    Exchanged,
    /// Refund requested, awaiting approval.
    #[serde(rename = "TORFND")]
    RefundPending,
}

impl TicketStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Open => "OPEN",
            Self::Void => "VOID",
            Self::Used => "USED",
            Self::Refunded => "RFND",
            Self::Exchanged => "EXCH",
            Self::RefundPending => "TORFND",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Open, Self::Void, Self::Used, Self::Refunded, Self::Exchanged, Self::RefundPending]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// Coupon statuses, one letter as on a ticket display.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CouponStatus {
    /// Open for use.
    #[default]
    #[serde(rename = "O")]
    Open,
    /// Flown / used.
    #[serde(rename = "F")]
    Flown,
    #[serde(rename = "V")]
    Void,
    #[serde(rename = "R")]
    Refunded,
    #[serde(rename = "E")]
    Exchanged,
}

impl CouponStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Open => "O",
            Self::Flown => "F",
            Self::Void => "V",
            Self::Refunded => "R",
            Self::Exchanged => "E",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Open, Self::Flown, Self::Void, Self::Refunded, Self::Exchanged].into_iter().find(|v| v.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RelatedType {
    EXCH,
    RFND,
    ORGN,
}

impl RelatedType {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::EXCH => "EXCH",
            Self::RFND => "RFND",
            Self::ORGN => "ORGN",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::EXCH, Self::RFND, Self::ORGN].into_iter().find(|v| v.as_str() == s)
    }
}

/// One flight coupon (a segment) or the single coupon of an EMD.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coupon {
    /// From 1, in itinerary order.
    pub number: u32,
    pub status: CouponStatus,
    pub origin: Option<String>,
    pub destination: Option<String>,
    pub carrier: Option<String>,
    pub flight_number: Option<String>,
    pub departure_date: Option<NaiveDate>,
    pub booking_class: Option<String>,
    pub fare_basis: Option<String>,
    /// For EMD coupons, the service code.
    pub service_code: Option<String>,
    /// When it was flown (first use); a second use answers with this time.
    #[serde(default)]
    pub used_at: Option<DateTime<Utc>>,
}

impl Coupon {
    pub fn state(&self) -> CouponState {
        CouponState { status: self.status, used_at: self.used_at }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceInfo {
    #[serde(rename = "type")]
    pub kind: ServiceType,
    pub code: String,
    pub description: String,
}

/// A ticket as planned, before it has a number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketDraft {
    pub kind: TicketType,
    pub prefix: AccountingPrefix,
    pub passenger_id: String,
    pub base: Money,
    pub taxes: Vec<Tax>,
    pub total: Money,
    /// What the agency pays for it: the total less its share of the commission.
    pub charged: Money,
    pub service: Option<ServiceInfo>,
    pub coupons: Vec<Coupon>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub number: TicketNumber,
    pub kind: TicketType,
    pub status: TicketStatus,
    pub issuance_id: IssuanceId,
    pub booking_id: BookingId,
    pub agency_id: AgencyId,
    pub passenger_id: String,
    pub base: Money,
    pub taxes: Vec<Tax>,
    pub total: Money,
    /// What the agency paid for it; voids credit this back and refunds prorate it.
    pub charged: Money,
    pub service: Option<ServiceInfo>,
    pub related_number: Option<TicketNumber>,
    pub related_type: Option<RelatedType>,
    pub coupons: Vec<Coupon>,
    pub issued_at: DateTime<Utc>,
    /// The penalty asked for with a refund that awaits approval (`TORFND`).
    pub pending_penalty: Option<Money>,
}

impl Ticket {
    pub fn coupon_states(&self) -> Vec<CouponState> {
        self.coupons.iter().map(Coupon::state).collect()
    }

    /// Issued by an exchange.
    pub fn is_reissue(&self) -> bool {
        self.related_type == Some(RelatedType::ORGN)
    }

    /// All taxes together: the total less the base fare. Fails, rather than guessing, when the two are in
    /// different currencies or out of range.
    pub fn tax_amount(&self) -> Result<Money, MoneyError> {
        self.total.checked_sub(self.base)
    }
}

impl Ticket {
    pub fn from_draft(
        draft: TicketDraft,
        number: TicketNumber,
        issuance_id: IssuanceId,
        booking_id: BookingId,
        agency_id: AgencyId,
        issued_at: DateTime<Utc>,
    ) -> Self {
        Self {
            number,
            kind: draft.kind,
            status: TicketStatus::Open,
            issuance_id,
            booking_id,
            agency_id,
            passenger_id: draft.passenger_id,
            base: draft.base,
            taxes: draft.taxes,
            total: draft.total,
            charged: draft.charged,
            service: draft.service,
            related_number: None,
            related_type: None,
            coupons: draft.coupons,
            issued_at,
            pending_penalty: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn ticket(base: Money, total: Money) -> Ticket {
        let draft = TicketDraft {
            kind: TicketType::TKT,
            prefix: AccountingPrefix::parse("738").unwrap(),
            passenger_id: "pax-001".into(),
            base,
            taxes: Vec::new(),
            total,
            charged: total,
            service: None,
            coupons: Vec::new(),
        };
        let number = TicketNumber::parse("738-2300031330").unwrap();
        Ticket::from_draft(
            draft,
            number,
            IssuanceId::generate(),
            BookingId::generate(),
            AgencyId::generate(),
            Utc::now(),
        )
    }

    #[test]
    fn taxes_are_the_total_less_the_base() {
        let vnd = Currency::parse("VND").unwrap();
        let t = ticket(Money::from_minor(2_000_000, vnd), Money::from_minor(2_350_000, vnd));
        assert_eq!(t.tax_amount(), Ok(Money::from_minor(350_000, vnd)));
    }

    #[test]
    fn taxes_across_currencies_are_an_error_not_a_number() {
        let vnd = Currency::parse("VND").unwrap();
        let usd = Currency::parse("USD").unwrap();
        let t = ticket(Money::from_minor(2_000_000, vnd), Money::from_minor(2_350_000, usd));
        assert_eq!(t.tax_amount(), Err(MoneyError::CurrencyMismatch(usd, vnd)));
    }
}

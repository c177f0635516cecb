//! Agencies, their money position and their agreements with validating carriers.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::codes::{CarrierCode, IataNumber, OfficeId};
use crate::ids::AgencyId;
use crate::money::{Currency, Money};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agency {
    pub id: AgencyId,
    pub name: String,
    pub currency: Currency,
    /// Prepaid balance; may go negative down to `-credit_limit`.
    pub balance: Money,
    pub credit_limit: Money,
    pub office_id: Option<OfficeId>,
    pub iata_number: Option<IataNumber>,
    /// IANA time zone name, e.g. `Asia/Kathmandu`.
    pub timezone: String,
    /// VAT included in the event ticket prices this agency sells, in percent (0 when it charges none).
    pub vat_percent: Decimal,
    /// Refunds wait in `TORFND` until an admin approves them.
    pub refund_approval: bool,
}

impl Agency {
    /// What can still be spent: balance plus credit limit.
    pub fn available(&self) -> Money {
        Money::from_minor(self.balance.minor().saturating_add(self.credit_limit.minor()), self.currency)
    }
}

/// What an agency may do with one validating carrier. Without a row, a carrier is authorized with no
/// commission (the default a new agency starts with).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CarrierAgreement {
    pub carrier: CarrierCode,
    pub authorized: bool,
    /// Highest commission allowed, in percent of the fares; `None` means no commission may be taken.
    pub commission_cap_percent: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TourCode {
    pub code: String,
    pub carrier: CarrierCode,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
}

impl TourCode {
    pub fn active_on(&self, day: NaiveDate) -> bool {
        self.valid_from.is_none_or(|from| from <= day) && self.valid_to.is_none_or(|to| day <= to)
    }
}

/// Everything the issuance rules need to know about an agency's contracts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Agreements {
    pub carriers: Vec<CarrierAgreement>,
    pub tour_codes: Vec<TourCode>,
    pub corporate_accounts: Vec<String>,
    /// Agents or representatives allowed to book in the agency's name (`bookerCode`).
    pub booker_codes: Vec<String>,
}

impl Agreements {
    pub fn for_carrier(&self, carrier: &CarrierCode) -> Option<&CarrierAgreement> {
        self.carriers.iter().find(|a| &a.carrier == carrier)
    }
}

//! Agencies, their money position and their agreements with validating carriers.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::codes::{CarrierCode, IataNumber, OfficeId};
use crate::ids::AgencyId;
use crate::language::Language;
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
    /// Where the agency's days begin and end (issue dates, the void window).
    pub timezone: TimeZone,
    /// VAT included in the event ticket prices this agency sells, in percent (0 when it charges none).
    pub vat_percent: Decimal,
    /// Refunds wait in `TORFND` until an admin approves them.
    pub refund_approval: bool,
    /// The language of documents and e-mails of bookings that do not choose one.
    #[serde(default)]
    pub default_language: Language,
}

/// What an admin may change about an agency after opening it, all at once.
#[derive(Debug, Clone, PartialEq)]
pub struct AgencySettings {
    /// Applies to what is billed from now on: an invoice keeps the rate its lines were billed at.
    pub vat_percent: Decimal,
    pub refund_approval: bool,
    /// Applies to bookings taken from now on: a booking keeps the language it was taken with.
    pub default_language: Language,
}

/// An IANA time zone, e.g. `Asia/Kathmandu`: parsed once where a name enters (the admin API, the CLI, a stored
/// row), so no rule ever meets an unknown zone or falls back to UTC silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeZone(Tz);

/// Why a time zone name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an IANA time zone")]
pub struct UnknownTimeZone(pub String);

impl TimeZone {
    pub const UTC: Self = Self(Tz::UTC);

    pub fn tz(self) -> Tz {
        self.0
    }

    /// The IANA name, as stored and written on the wire.
    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

impl From<Tz> for TimeZone {
    fn from(tz: Tz) -> Self {
        Self(tz)
    }
}

impl FromStr for TimeZone {
    type Err = UnknownTimeZone;
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        name.parse().map(Self).map_err(|_| UnknownTimeZone(name.to_owned()))
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Reads as its IANA name, so code that formats or stores the name keeps working unchanged.
impl Serialize for TimeZone {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for TimeZone {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
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

/// One entry of an agency's agreements, as an admin removes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgreementEntry {
    /// The agreement with a carrier: without one, the carrier may be ticketed with no commission cap.
    Carrier(CarrierCode),
    TourCode {
        carrier: CarrierCode,
        code: String,
    },
    CorporateAccount(String),
    BookerCode(String),
}

impl Agreements {
    pub fn for_carrier(&self, carrier: &CarrierCode) -> Option<&CarrierAgreement> {
        self.carriers.iter().find(|a| &a.carrier == carrier)
    }
}

#[cfg(test)]
mod time_zone_tests {
    use super::*;

    #[test]
    fn time_zones_parse_by_iana_name_only() {
        let ktm: TimeZone = "Asia/Kathmandu".parse().unwrap();
        assert_eq!((ktm.name(), ktm.to_string()), ("Asia/Kathmandu", "Asia/Kathmandu".to_owned()));
        assert_eq!(ktm.tz(), chrono_tz::Asia::Kathmandu);
        assert_eq!("Mars/Olympus_Mons".parse::<TimeZone>(), Err(UnknownTimeZone("Mars/Olympus_Mons".into())));
        assert!(serde_json::from_str::<TimeZone>("\"Not/AZone\"").is_err());
        assert_eq!(serde_json::to_string(&TimeZone::UTC).unwrap(), "\"UTC\"");
    }
}

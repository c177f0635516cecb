//! Identifiers of the travel trade, parsed once at the edge so no invalid one travels further.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a code was refused; the caller adds the field it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CodeError(pub String);

macro_rules! string_code {
    ($(#[$doc:meta])* $name:ident, $check:expr, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: &str) -> Result<Self, CodeError> {
                let check: fn(&str) -> bool = $check;
                if check(value) {
                    Ok(Self(value.to_owned()))
                } else {
                    Err(CodeError(format!(concat!("`{}` is not ", $what), value)))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

fn upper_alnum(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

string_code!(
    /// A passenger name record locator: 5 to 8 characters A-Z0-9.
    Pnr,
    |s| (5..=8).contains(&s.len()) && upper_alnum(s),
    "a PNR (5-8 characters A-Z, 0-9)"
);
string_code!(
    /// An IATA airport code: three letters.
    AirportCode,
    |s| s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()),
    "an IATA airport code (3 letters)"
);
string_code!(
    /// An IATA airline designator: two characters A-Z0-9, not both digits.
    CarrierCode,
    |s| s.len() == 2 && upper_alnum(s) && !s.bytes().all(|b| b.is_ascii_digit()),
    "an IATA airline code (2 characters)"
);
string_code!(
    /// A ticketing system (GDS or airline host) code such as `1A`, `VN`, `VJ`.
    SystemCode,
    |s| (2..=3).contains(&s.len()) && upper_alnum(s),
    "a ticketing system code (2-3 characters A-Z, 0-9)"
);
string_code!(
    /// An agency's office id in its ticketing system, e.g. `HANVN28DB`.
    OfficeId,
    |s| (4..=12).contains(&s.len()) && upper_alnum(s),
    "an office id (4-12 characters A-Z, 0-9)"
);
string_code!(
    /// An IATA accredited agency number: eight digits.
    IataNumber,
    |s| s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()),
    "an IATA agency number (8 digits)"
);
string_code!(
    /// An event booking code, e.g. `CODE123` or `s-34468-t-1535535727125`.
    BookingCode,
    |s| (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
    "a booking code (1-64 characters A-Z, a-z, 0-9, - and _)"
);
string_code!(
    /// A 3-digit airline accounting (ticketing) prefix, e.g. `157` for Qatar Airways.
    AccountingPrefix,
    |s| s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()),
    "an airline accounting prefix (3 digits)"
);

/// A 13-digit ticket or EMD number: accounting prefix + 10-digit serial, shown as `157-6752209683`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TicketNumber {
    prefix: AccountingPrefix,
    serial: u64,
}

/// The largest serial that fits in ten digits.
pub const MAX_SERIAL: u64 = 9_999_999_999;

impl TicketNumber {
    pub fn new(prefix: AccountingPrefix, serial: u64) -> Result<Self, CodeError> {
        if serial > MAX_SERIAL {
            return Err(CodeError(format!("serial {serial} does not fit in 10 digits")));
        }
        Ok(Self { prefix, serial })
    }

    /// Accepts `1576752209683` and `157-6752209683`.
    pub fn parse(value: &str) -> Result<Self, CodeError> {
        let digits: String = match value.split_once('-') {
            Some((p, s)) if p.len() == 3 => format!("{p}{s}"),
            Some(_) => String::new(),
            None => value.to_owned(),
        };
        if digits.len() != 13 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodeError(format!("`{value}` is not a 13-digit ticket number")));
        }
        let prefix = AccountingPrefix::parse(&digits[..3])?;
        let serial = digits[3..].parse().map_err(|_| CodeError(format!("`{value}` is not a ticket number")))?;
        Self::new(prefix, serial)
    }

    pub fn prefix(&self) -> &AccountingPrefix {
        &self.prefix
    }

    pub fn serial(&self) -> u64 {
        self.serial
    }

    /// The 13 digits without a dash, as GDS records write it.
    pub fn compact(&self) -> String {
        format!("{}{:010}", self.prefix, self.serial)
    }

    /// `157-6752209683`
    pub fn dashed(&self) -> String {
        format!("{}-{:010}", self.prefix, self.serial)
    }
}

impl fmt::Display for TicketNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.dashed())
    }
}

impl Serialize for TicketNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.dashed())
    }
}

impl<'de> Deserialize<'de> for TicketNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pnr_rules() {
        assert!(Pnr::parse("PQMJ8E").is_ok());
        assert!(Pnr::parse("ABCDE").is_ok());
        assert!(Pnr::parse("ABCD").is_err());
        assert!(Pnr::parse("ABCDEFGHI").is_err());
        assert!(Pnr::parse("pqmj8e").is_err());
        assert!(Pnr::parse("PQ-J8E").is_err());
    }

    #[test]
    fn carrier_and_airport_codes() {
        assert!(CarrierCode::parse("QR").is_ok());
        assert!(CarrierCode::parse("6E").is_ok());
        assert!(CarrierCode::parse("66").is_err());
        assert!(CarrierCode::parse("QRX").is_err());
        assert!(AirportCode::parse("KTM").is_ok());
        assert!(AirportCode::parse("KT1").is_err());
        assert!(AirportCode::parse("ktm").is_err());
    }

    #[test]
    fn ticket_numbers_round_trip() {
        let t = TicketNumber::parse("157-6752209683").unwrap();
        assert_eq!(t.compact(), "1576752209683");
        assert_eq!(t.to_string(), "157-6752209683");
        assert_eq!(TicketNumber::parse("1576752209683").unwrap(), t);
        let small = TicketNumber::new(AccountingPrefix::parse("738").unwrap(), 42).unwrap();
        assert_eq!(small.compact(), "7380000000042");
        assert!(TicketNumber::parse("15-76752209683").is_err());
        assert!(TicketNumber::parse("157675220968").is_err());
        assert!(TicketNumber::parse("157-675220968x").is_err());
        assert!(TicketNumber::new(AccountingPrefix::parse("157").unwrap(), MAX_SERIAL + 1).is_err());
    }

    #[test]
    fn codes_deserialize_through_their_parser() {
        let v: Result<Pnr, _> = serde_json::from_str("\"pq\"");
        assert!(v.is_err());
        let v: Pnr = serde_json::from_str("\"PQMJ8E\"").unwrap();
        assert_eq!(v.as_str(), "PQMJ8E");
    }
}

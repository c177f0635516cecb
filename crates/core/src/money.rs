//! Exact money: an amount in the currency's minor units, never a float.
//!
//! Amounts arrive as JSON numbers or decimal strings in major units; they are parsed once into [`Money`]
//! and refused if they carry more decimals than the currency has (0.001 USD is not money).

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// An ISO 4217 currency code (three upper-case letters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        let bytes = code.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(MoneyError::BadCurrency(code.to_owned()));
        }
        Ok(Self([bytes[0], bytes[1], bytes[2]]))
    }

    pub fn code(&self) -> &str {
        // Only ASCII upper-case letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Decimal places of the currency's minor unit (ISO 4217), 2 unless listed.
    pub fn minor_units(&self) -> u32 {
        match self.code() {
            "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "UYI" | "VND"
            | "VUV" | "XAF" | "XOF" | "XPF" => 0,
            "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
            _ => 2,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("`{0}` is not an ISO 4217 currency code")]
    BadCurrency(String),
    #[error("`{0}` is not a decimal amount")]
    NotANumber(String),
    #[error("{currency} amounts have at most {places} decimal places")]
    TooPrecise { currency: Currency, places: u32 },
    #[error("amount is out of range")]
    Overflow,
    #[error("currency mismatch: {0} and {1}")]
    CurrencyMismatch(Currency, Currency),
}

/// An exact amount of one currency, held in minor units. On the wire and in stored JSON it reads
/// `{"amount": "41893.00", "currency": "NPR"}`: a decimal string, so no client parses money as a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    pub fn from_minor(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Self::from_minor(0, currency)
    }

    /// Exact conversion from a decimal in major units; refuses sub-minor precision.
    pub fn from_decimal(value: Decimal, currency: Currency) -> Result<Self, MoneyError> {
        let places = currency.minor_units();
        let normalized = value.normalize();
        if normalized.scale() > places {
            return Err(MoneyError::TooPrecise { currency, places });
        }
        let scaled = normalized.checked_mul(Decimal::from(10i64.pow(places))).ok_or(MoneyError::Overflow)?;
        let minor = i64::try_from(scaled.trunc()).map_err(|_| MoneyError::Overflow)?;
        Ok(Self { minor, currency })
    }

    /// Parses a decimal string in major units (`"189.00"`, `"41893"`).
    pub fn parse(text: &str, currency: Currency) -> Result<Self, MoneyError> {
        let trimmed = text.trim();
        // Money is written out in full, as plain decimal digits: "1e3", "+5", ".5", "5." and "1_000" are refused
        // rather than guessed at (the decimal parser alone would take some of them).
        if !is_plain_decimal(trimmed) {
            return Err(MoneyError::NotANumber(text.to_owned()));
        }
        let value = Decimal::from_str(trimmed).map_err(|_| MoneyError::NotANumber(text.to_owned()))?;
        Self::from_decimal(value, currency)
    }

    pub fn minor(&self) -> i64 {
        self.minor
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn to_decimal(&self) -> Decimal {
        Decimal::new(self.minor, self.currency.minor_units())
    }

    pub fn is_negative(&self) -> bool {
        self.minor < 0
    }

    pub fn is_zero(&self) -> bool {
        self.minor == 0
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let minor = self.minor.checked_add(other.minor).ok_or(MoneyError::Overflow)?;
        Ok(Self { minor, ..self })
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let minor = self.minor.checked_sub(other.minor).ok_or(MoneyError::Overflow)?;
        Ok(Self { minor, ..self })
    }

    pub fn negate(self) -> Money {
        Self { minor: -self.minor, ..self }
    }

    /// `percent` % of this amount, rounded half-up to the minor unit.
    pub fn percent(self, percent: Decimal) -> Result<Money, MoneyError> {
        let value = self
            .to_decimal()
            .checked_mul(percent)
            .and_then(|v| v.checked_div(Decimal::from(100)))
            .ok_or(MoneyError::Overflow)?
            .round_dp_with_strategy(self.currency.minor_units(), rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        Self::from_decimal(value, self.currency)
    }

    /// Sums amounts of one currency; an empty list sums to zero of `currency`.
    pub fn sum<I: IntoIterator<Item = Money>>(items: I, currency: Currency) -> Result<Money, MoneyError> {
        items.into_iter().try_fold(Money::zero(currency), Money::checked_add)
    }

    /// Plain decimal string with exactly the currency's places: `"41893.00"`, `"2350000"`.
    pub fn amount_string(&self) -> String {
        format!("{:.*}", self.currency.minor_units() as usize, self.to_decimal())
    }

    fn same_currency(&self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }
}

#[derive(Serialize, Deserialize)]
struct MoneyWire {
    amount: String,
    currency: Currency,
}

impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        MoneyWire { amount: self.amount_string(), currency: self.currency }.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wire = MoneyWire::deserialize(d)?;
        Money::parse(&wire.amount, wire.currency).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount_string(), self.currency)
    }
}

/// `-?[0-9]+(\.[0-9]+)?`: how an amount is written.
fn is_plain_decimal(text: &str) -> bool {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && fraction.is_none_or(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(c: &str) -> Currency {
        Currency::parse(c).unwrap()
    }

    #[test]
    fn parses_major_units_exactly() {
        let m = Money::parse("189.00", cur("EUR")).unwrap();
        assert_eq!(m.minor(), 18900);
        assert_eq!(m.amount_string(), "189.00");
        let v = Money::parse("2350000", cur("VND")).unwrap();
        assert_eq!(v.minor(), 2_350_000);
        assert_eq!(v.amount_string(), "2350000");
        let k = Money::parse("1.234", cur("KWD")).unwrap();
        assert_eq!(k.minor(), 1234);
        assert_eq!(k.amount_string(), "1.234");
    }

    #[test]
    fn refuses_sub_minor_precision_and_garbage() {
        assert!(matches!(Money::parse("0.001", cur("USD")), Err(MoneyError::TooPrecise { .. })));
        assert!(matches!(Money::parse("1.5", cur("VND")), Err(MoneyError::TooPrecise { .. })));
        assert!(matches!(Money::parse("abc", cur("USD")), Err(MoneyError::NotANumber(_))));
        for odd in ["+5", ".5", "5.", "1_000", "1e3", "--1", "-", "", "0x10", "1.2.3"] {
            assert!(matches!(Money::parse(odd, cur("USD")), Err(MoneyError::NotANumber(_))), "{odd:?}");
        }
        assert_eq!(Money::parse(" -12.50 ", cur("USD")).map(|m| m.minor()), Ok(-1250));
        assert!(matches!(Money::parse("1e400", cur("USD")), Err(MoneyError::NotANumber(_))));
        assert!(matches!(Money::parse("1e3", cur("USD")), Err(MoneyError::NotANumber(_))));
        // Trailing zeros beyond the minor unit are still exact.
        assert_eq!(Money::parse("1.500", cur("USD")).unwrap().minor(), 150);
    }

    #[test]
    fn currency_codes() {
        assert!(Currency::parse("usd").is_err());
        assert!(Currency::parse("US").is_err());
        assert!(Currency::parse("USDX").is_err());
        assert_eq!(cur("JPY").minor_units(), 0);
        assert_eq!(cur("NPR").minor_units(), 2);
    }

    #[test]
    fn arithmetic_is_checked() {
        let usd = cur("USD");
        let a = Money::from_minor(100, usd);
        assert_eq!(a.checked_add(a).unwrap().minor(), 200);
        assert!(a.checked_add(Money::from_minor(1, cur("EUR"))).is_err());
        assert!(Money::from_minor(i64::MAX, usd).checked_add(a).is_err());
        assert_eq!(Money::sum([a, a, a], usd).unwrap().minor(), 300);
        assert_eq!(Money::sum([], usd).unwrap().minor(), 0);
    }

    #[test]
    fn serializes_as_decimal_string() {
        let m = Money::from_minor(4_189_300, cur("NPR"));
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"amount":"41893.00","currency":"NPR"}"#);
        assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), m);
        assert!(serde_json::from_str::<Money>(r#"{"amount":"1.001","currency":"USD"}"#).is_err());
    }

    #[test]
    fn percent_rounds_half_up() {
        let usd = cur("USD");
        assert_eq!(Money::from_minor(1000, usd).percent(Decimal::new(5, 0)).unwrap().minor(), 50);
        // 0.05 * 0.01 USD = 0.0005 -> 0.00; 10.01 * 5% = 0.5005 -> 0.50
        assert_eq!(Money::from_minor(1001, usd).percent(Decimal::new(5, 0)).unwrap().minor(), 50);
        assert_eq!(Money::from_minor(1010, usd).percent(Decimal::new(5, 0)).unwrap().minor(), 51);
    }
}

//! Amounts as bare JSON numbers, for the vendor profiles whose documents show them that way. Both directions
//! keep the number's decimal text: nothing passes through a float, so `0.1` stays `0.1` and large amounts keep
//! every digit.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{Error as _, Unexpected};
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use tessera_core::money::Money;

/// An amount written as a JSON number: an integer when it has no fraction (as the vendors' samples show),
/// else the shortest exact decimal (`41893`, `41893.5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount(Decimal);

impl From<Money> for Amount {
    fn from(m: Money) -> Self {
        Self(m.to_decimal().normalize())
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // A decimal's text is a valid JSON number; RawValue writes it as is.
        RawValue::from_string(self.0.to_string()).map_err(S::Error::custom)?.serialize(s)
    }
}

/// A JSON number from a request, kept as its text until it is read as a decimal. Any JSON number is accepted
/// here (as `serde_json::Number` did); one that no decimal can hold is refused where it is read.
#[derive(Debug)]
pub struct JsonNumber(Box<RawValue>);

impl JsonNumber {
    /// The exact value, exponent notation included (`5.0`, `1e3`, `-12.75`); None beyond a decimal's range.
    pub fn to_decimal(&self) -> Option<Decimal> {
        let text = self.0.get();
        if text.contains(['e', 'E']) {
            Decimal::from_scientific(text).ok()
        } else {
            Decimal::from_str(text).ok()
        }
    }
}

impl<'de> Deserialize<'de> for JsonNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        match raw.get().as_bytes().first() {
            Some(b'-' | b'0'..=b'9') => Ok(Self(raw)),
            // The same words serde_json uses for a number of the wrong type.
            _ => {
                let value: serde_json::Value = serde_json::from_str(raw.get()).map_err(D::Error::custom)?;
                let unexpected = match &value {
                    serde_json::Value::Null => Unexpected::Unit,
                    serde_json::Value::Bool(b) => Unexpected::Bool(*b),
                    serde_json::Value::String(s) => Unexpected::Str(s),
                    serde_json::Value::Array(_) => Unexpected::Seq,
                    serde_json::Value::Object(_) => Unexpected::Map,
                    serde_json::Value::Number(_) => Unexpected::Other("number"),
                };
                Err(D::Error::invalid_type(unexpected, &"a JSON number"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_core::money::Currency;

    fn written(m: Money) -> String {
        serde_json::to_string(&Amount::from(m)).unwrap()
    }

    #[test]
    fn amounts_are_numbers() {
        let npr = Currency::parse("NPR").unwrap();
        assert_eq!(written(Money::from_minor(4_189_300, npr)), "41893");
        assert_eq!(written(Money::from_minor(4_189_350, npr)), "41893.5");
        assert_eq!(written(Money::from_minor(-50, npr)), "-0.5");
        assert_eq!(written(Money::from_minor(0, npr)), "0");
        let vnd = Currency::parse("VND").unwrap();
        assert_eq!(written(Money::from_minor(2_350_000, vnd)), "2350000");
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(written(Money::from_minor(1_234, kwd)), "1.234");
    }

    #[test]
    fn amounts_keep_every_digit_a_float_would_lose() {
        let npr = Currency::parse("NPR").unwrap();
        // 2^53 + 1 minor units: no f64 holds 90071992547409.93 exactly.
        assert_eq!(written(Money::from_minor(9_007_199_254_740_993, npr)), "90071992547409.93");
        assert_eq!(written(Money::from_minor(i64::MAX, npr)), "92233720368547758.07");
    }

    fn read(json: &str) -> Result<Option<Decimal>, String> {
        serde_json::from_str::<JsonNumber>(json).map(|n| n.to_decimal()).map_err(|e| e.to_string())
    }

    fn dec(s: &str) -> Option<Decimal> {
        Some(Decimal::from_str(s).unwrap())
    }

    #[test]
    fn numbers_are_read_exactly() {
        assert_eq!(read("42149"), Ok(dec("42149")));
        assert_eq!(read("5.0"), Ok(dec("5")));
        assert_eq!(read("0.1"), Ok(dec("0.1")));
        assert_eq!(read("-12.75"), Ok(dec("-12.75")));
        assert_eq!(read("1e3"), Ok(dec("1000")));
        assert_eq!(read("1.5E+2"), Ok(dec("150")));
        assert_eq!(read("25e-2"), Ok(dec("0.25")));
        assert_eq!(read("90071992547409.93"), Ok(dec("90071992547409.93")));
        // A JSON number beyond any decimal is read, then refused where its value is needed.
        assert_eq!(read("1e300"), Ok(None));
    }

    #[test]
    fn other_json_is_refused_in_serde_json_words() {
        assert_eq!(read(r#""five""#), Err(r#"invalid type: string "five", expected a JSON number"#.to_owned()));
        assert_eq!(read("true"), Err("invalid type: boolean `true`, expected a JSON number".to_owned()));
        assert_eq!(read("{}"), Err("invalid type: map, expected a JSON number".to_owned()));
        assert!(read("12abc").is_err());
    }
}

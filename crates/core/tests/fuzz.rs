//! Fuzz targets of the core's parsers, with bolero: under `cargo test` each runs a bounded number of generated
//! inputs (and any corpus under `tests/__fuzz__/`); `cargo bolero test -p tessera-core --test fuzz <target>` runs
//! one coverage-guided (libFuzzer) for as long as wanted. A target fails on a panic or a broken property.

use bolero::check;
use chrono::NaiveDate;
use serde_json::{json, Value};
use tessera_core::money::{Currency, Money};

/// Whatever text parses as money writes back as text that parses to the same amount.
#[test]
fn money_parsing() {
    check!().with_type::<(String, u8)>().for_each(|(text, which)| {
        let code = ["NPR", "VND", "KWD", "EUR", "JPY"][usize::from(*which) % 5];
        let currency = Currency::parse(code).expect("a listed currency");
        if let Ok(money) = Money::parse(text, currency) {
            assert_eq!(Money::parse(&money.amount_string(), currency), Ok(money), "{text:?}");
        }
    });
}

/// Currency codes: three upper-case letters or a refusal, never a panic.
#[test]
fn currency_parsing() {
    check!().with_type::<String>().for_each(|code| {
        if let Ok(currency) = Currency::parse(code) {
            assert_eq!(currency.code(), code.as_str());
        }
    });
}

/// Raw bytes as an intake document: a booking or a list of refusals, never a panic.
#[test]
fn booking_intake_bytes() {
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date");
    check!().for_each(|bytes: &[u8]| {
        let _ = tessera_core::intake::parse(bytes, today);
    });
}

/// The example booking with one field replaced by a generated value (text, number, or a JSON value of the
/// generated text): every refusal names its field, and nothing panics.
#[test]
fn booking_intake_fields() {
    let example: Value =
        serde_json::from_str(include_str!("../../../examples/bookings/flight-oneway.json")).expect("the example");
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date");
    let pointers = leaf_pointers(&example);
    check!().with_type::<(u16, u8, String, i64)>().for_each(|(which, kind, text, number)| {
        let mut doc = example.clone();
        let pointer = &pointers[usize::from(*which) % pointers.len()];
        let value = match kind % 4 {
            0 => json!(text),
            1 => json!(number),
            2 => serde_json::from_str(text).unwrap_or(Value::Null),
            _ => Value::Null,
        };
        if let Some(slot) = doc.pointer_mut(pointer) {
            *slot = value;
        }
        let bytes = serde_json::to_vec(&doc).expect("serializable");
        if let Err(errors) = tessera_core::intake::parse(&bytes, today) {
            assert!(!errors.0.is_empty());
            assert!(errors.0.iter().all(|e| e.pointer.is_empty() || e.pointer.starts_with('/')), "{errors:?}");
        }
    });
}

fn leaf_pointers(value: &Value) -> Vec<String> {
    fn walk(value: &Value, at: String, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => map.iter().for_each(|(k, v)| walk(v, format!("{at}/{k}"), out)),
            Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| walk(v, format!("{at}/{i}"), out)),
            _ => out.push(at),
        }
    }
    let mut out = Vec::new();
    walk(value, String::new(), &mut out);
    out
}

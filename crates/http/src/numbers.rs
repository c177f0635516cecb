//! Amounts as JSON numbers, for the vendor profiles whose documents show them that way.

use tessera_core::money::Money;

/// An integer when the amount has no fraction (as the vendors' samples show), else a decimal number.
pub fn amount(m: Money) -> serde_json::Value {
    let d = m.to_decimal().normalize();
    if d.scale() == 0 {
        i64::try_from(d.mantissa()).map_or(serde_json::Value::Null, serde_json::Value::from)
    } else {
        d.to_string()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(serde_json::Value::Null, serde_json::Value::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_numbers() {
        let npr = tessera_core::money::Currency::parse("NPR").unwrap();
        assert_eq!(amount(Money::from_minor(4_189_300, npr)), serde_json::json!(41893));
        assert_eq!(amount(Money::from_minor(4_189_350, npr)), serde_json::json!(41893.5));
        let vnd = tessera_core::money::Currency::parse("VND").unwrap();
        assert_eq!(amount(Money::from_minor(2_350_000, vnd)), serde_json::json!(2350000));
    }
}

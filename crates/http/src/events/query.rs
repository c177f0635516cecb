//! The listing's query string: the seed's filters (`booking_id=in:[a,b]` with ids like `…_bkn`, plain `booking_id=`,
//! `bookingorder_id=in:[…]`, `logistic_status`, `booking_code`, `event_id`) and paging (`page`, `page_size`).
//! Anything malformed is a 400 naming the parameter, never an empty list.

use std::borrow::Cow;

use tessera_app::orders::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use tessera_core::orders::{parse_events_booking_id, BookingOrderId, LogisticStatus, OrderFilter};

use super::error::EventsError;

#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub filter: OrderFilter,
    pub page: u64,
    pub page_size: u32,
    /// The filter parameters as sent (still encoded), to carry into `next_page`/`previous_page`.
    kept: Vec<String>,
}

fn bad(message: impl Into<String>) -> EventsError {
    EventsError::BadRequest(message.into())
}

/// One `name=value` pair, decoded as forms are (`+` is a space; a `%` without two hex digits stays as it is, as
/// the URL standard says). Bytes that are not UTF-8 are refused rather than replaced.
fn decode(pair: &str) -> Result<(String, String), EventsError> {
    let (name, value) = form_urlencoded::parse(pair.as_bytes()).next().unwrap_or_default();
    if [&name, &value].iter().any(|text| text.contains(char::REPLACEMENT_CHARACTER)) && !pair.contains('\u{FFFD}') {
        return Err(bad("query parameters must be UTF-8"));
    }
    Ok((name.into_owned(), value.into_owned()))
}

/// `in:[a,b]` → `[a, b]`; a plain value → `[value]`.
fn values<'a>(name: &str, value: &'a str) -> Result<Vec<Cow<'a, str>>, EventsError> {
    let Some(list) = value.strip_prefix("in:") else { return Ok(vec![Cow::Borrowed(value)]) };
    let inner = list
        .strip_prefix('[')
        .and_then(|l| l.strip_suffix(']'))
        .ok_or_else(|| bad(format!("{name}: `in:` takes a list in brackets, like in:[a,b]")))?;
    if inner.trim().is_empty() {
        return Ok(Vec::new());
    }
    inner
        .split(',')
        .map(|v| {
            let v = v.trim().trim_matches(|c| c == '"' || c == '\'');
            if v.is_empty() {
                Err(bad(format!("{name}: empty value in the in:[...] list")))
            } else {
                Ok(Cow::Owned(v.to_owned()))
            }
        })
        .collect()
}

fn number<T: std::str::FromStr + PartialOrd + Copy + std::fmt::Display>(
    name: &str,
    value: &str,
    min: T,
    max: T,
) -> Result<T, EventsError> {
    value
        .parse::<T>()
        .ok()
        .filter(|n| *n >= min && *n <= max)
        .ok_or_else(|| bad(format!("{name} must be a whole number from {min} to {max}")))
}

pub fn parse(raw: Option<&str>) -> Result<ListQuery, EventsError> {
    let mut filter = OrderFilter::default();
    let mut page = 1u64;
    let mut page_size = DEFAULT_PAGE_SIZE;
    let mut kept = Vec::new();
    for pair in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (name, value) = decode(pair)?;
        match name.as_str() {
            "page" => page = number("page", &value, 1, u64::MAX / u64::from(MAX_PAGE_SIZE))?,
            "page_size" => page_size = number("page_size", &value, 1, MAX_PAGE_SIZE)?,
            "booking_id" => {
                let ids = values("booking_id", &value)?
                    .iter()
                    .map(|v| {
                        parse_events_booking_id(v).map_err(|_| bad(format!("booking_id: `{v}` is not a booking id")))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                filter.booking_ids = Some(ids);
            }
            "bookingorder_id" => {
                let ids = values("bookingorder_id", &value)?
                    .iter()
                    .map(|v| BookingOrderId::parse(v).map_err(|e| bad(format!("bookingorder_id: {e}"))))
                    .collect::<Result<Vec<_>, _>>()?;
                filter.order_ids = Some(ids);
            }
            "logistic_status" => {
                filter.logistic_status = Some(
                    LogisticStatus::parse(&value)
                        .ok_or_else(|| bad("logistic_status must be processing, completed or cancelled"))?,
                );
            }
            "booking_code" => filter.booking_code = Some(value.trim().to_owned()),
            "event_id" => filter.event_id = Some(value.trim().to_owned()),
            // Unknown parameters are ignored, as most APIs do, and not carried into the paging links.
            _ => continue,
        }
        if !matches!(name.as_str(), "page" | "page_size") {
            kept.push(pair.to_owned());
        }
    }
    Ok(ListQuery { filter, page, page_size, kept })
}

impl ListQuery {
    /// The relative URL of another page of the same listing.
    pub fn link(&self, page: u64) -> String {
        let mut parts = self.kept.clone();
        parts.push(format!("page={page}"));
        parts.push(format!("page_size={}", self.page_size));
        format!("/v1/bookingorders?{}", parts.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_lists_plain_values_and_paging() {
        let id = "0193a7a0-0000-7000-8000-000000000001";
        let q =
            parse(Some(&format!("booking_id=in:[{id},{id}]&logistic_status=completed&page=2&page_size=10"))).unwrap();
        assert_eq!(q.filter.booking_ids.as_ref().map(Vec::len), Some(2));
        assert_eq!(q.filter.logistic_status, Some(LogisticStatus::Completed));
        assert_eq!((q.page, q.page_size), (2, 10));
        assert_eq!(
            q.link(3),
            format!("/v1/bookingorders?booking_id=in:[{id},{id}]&logistic_status=completed&page=3&page_size=10")
        );
        let encoded = parse(Some(&format!("booking_id=in%3A%5B{id}%5D"))).unwrap();
        assert_eq!(encoded.filter.booking_ids.map(|v| v.len()), Some(1));
        assert_eq!(parse(Some("booking_id=in:[]")).unwrap().filter.booking_ids, Some(vec![]));
        assert_eq!(parse(None).unwrap().page_size, DEFAULT_PAGE_SIZE);
        let vendor = "0193a7a0000070008000000000000001_bkn";
        let shaped = parse(Some(&format!("booking_id=in:[{vendor},{id}]"))).unwrap();
        assert_eq!(shaped.filter.booking_ids.as_ref().map(|v| v[0] == v[1]), Some(true), "one booking, two spellings");
        // `+` is a space and a stray `%` is kept, as forms are decoded.
        let code = parse(Some("booking_code=A+B%zz&event_id=%41")).unwrap();
        assert_eq!((code.filter.booking_code.as_deref(), code.filter.event_id.as_deref()), (Some("A B%zz"), Some("A")));
    }

    #[test]
    fn malformed_queries_are_refused_with_the_parameter_named() {
        for (q, needle) in [
            ("booking_id=in:[abc", "booking_id"),
            ("booking_id=in:abc", "booking_id"),
            ("booking_id=nope", "booking_id"),
            ("bookingorder_id=in:[x_bkn]", "bookingorder_id"),
            ("booking_id=in:[a,,b]", "booking_id"),
            ("logistic_status=done", "logistic_status"),
            ("page=0", "page"),
            ("page_size=201", "page_size"),
            ("page_size=abc", "page_size"),
            ("booking_code=%ff", "UTF-8"),
        ] {
            match parse(Some(q)) {
                Err(EventsError::BadRequest(m)) => assert!(m.contains(needle), "{q}: {m}"),
                other => panic!("{q}: {other:?}"),
            }
        }
    }

    /// Fuzz target (bolero): query strings generated whole, and `in:[…]` lists of generated values for each
    /// filter. Parsed or refused with a 400, never a panic; a page link of what parses parses to the same filter.
    #[test]
    fn fuzz_query_strings() {
        let names =
            ["booking_id", "bookingorder_id", "booking_code", "event_id", "logistic_status", "page", "page_size"];
        bolero::check!().with_type::<(String, Vec<String>, u8)>().for_each(|(raw, items, which)| {
            let list = format!("{}=in:[{}]", names[usize::from(*which) % names.len()], items.join(","));
            for q in [raw.as_str(), list.as_str()] {
                if let Ok(parsed) = parse(Some(q)) {
                    let link = parsed.link(parsed.page);
                    let again = parse(link.split_once('?').map(|(_, query)| query));
                    assert_eq!(again.ok().map(|a| a.filter), Some(parsed.filter.clone()), "{q:?}");
                }
            }
        });
    }
}

//! Airports and airlines known to Tessera, compiled into the binary.
//!
//! Issuing a ticket needs the airport's time zone and the airline's three-digit ticketing prefix, and
//! both must be the same on every node and in every test. So the tables ship inside the crate (see
//! `crates/core/data/` and `tools/reference/README.md` for where they come from) rather than being
//! fetched or read from disk, and are parsed on first use, once per process.
//!
//! A row that does not parse, or carries a code of the wrong shape, is dropped instead of panicking:
//! the data is ours and tested, so one bad line should cost one entry, not the server.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::geo::GeoPoint;

const AIRPORTS_CSV: &str = include_str!("../data/airports.csv");
const AIRLINES_CSV: &str = include_str!("../data/airlines.csv");

/// An airport with an IATA code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Airport {
    /// Three upper-case letters, e.g. `KTM`.
    pub iata: String,
    pub name: String,
    /// The city served; empty for some small airfields where the source has none.
    pub city: String,
    /// English short name, e.g. `Vietnam` rather than ISO's `Viet Nam`.
    pub country: String,
    /// IANA time zone, e.g. `Asia/Kathmandu`; never empty.
    pub tz: String,
    /// Where it is, to four decimals (about 11 m).
    pub location: GeoPoint,
}

/// An airline that issues tickets under its own prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Airline {
    /// IATA designator: two characters A-Z, 0-9, e.g. `QR`, `6E`.
    pub iata: String,
    /// Three-digit accounting code that starts the airline's ticket numbers, e.g. `157`. A string,
    /// because the leading zeros of `001` are part of it.
    pub prefix: String,
    pub name: String,
}

static AIRPORTS: LazyLock<HashMap<String, Airport>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    for record in records(AIRPORTS_CSV) {
        let Ok([iata, name, city, country, tz, lat, lon]) = <[String; 7]>::try_from(record) else {
            continue;
        };
        let location = lat.parse().ok().zip(lon.parse().ok()).and_then(|(lat, lon)| GeoPoint::from_degrees(lat, lon));
        let Some(location) = location else {
            continue;
        };
        if iata.len() == 3 && iata.bytes().all(|b| b.is_ascii_uppercase()) && !tz.is_empty() {
            // First row wins, so a duplicate appended by mistake cannot silently replace a good one.
            map.entry(iata.clone()).or_insert(Airport { iata, name, city, country, tz, location });
        }
    }
    map
});

static AIRLINES: LazyLock<HashMap<String, Airline>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    for record in records(AIRLINES_CSV) {
        let Ok([iata, prefix, name]) = <[String; 3]>::try_from(record) else {
            continue;
        };
        let code_ok = iata.len() == 2 && iata.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        let prefix_ok = prefix.len() == 3 && prefix.bytes().all(|b| b.is_ascii_digit());
        if code_ok && prefix_ok && !name.is_empty() {
            map.entry(iata.clone()).or_insert(Airline { iata, prefix, name });
        }
    }
    map
});

/// The airport with this IATA code. The code must already be upper case, as `AirportCode` ensures.
pub fn airport(code: &str) -> Option<&'static Airport> {
    AIRPORTS.get(code)
}

/// The airline with this IATA designator. The code must already be upper case, as `CarrierCode` ensures.
pub fn airline(code: &str) -> Option<&'static Airline> {
    AIRLINES.get(code)
}

pub fn airport_count() -> usize {
    AIRPORTS.len()
}

pub fn airline_count() -> usize {
    AIRLINES.len()
}

/// The data rows of an embedded CSV file: header skipped, malformed lines left out.
fn records(text: &'static str) -> impl Iterator<Item = Vec<String>> {
    text.strip_prefix('\u{feff}').unwrap_or(text).lines().skip(1).filter_map(split_record)
}

/// One RFC 4180 record. Quoted fields may hold commas and `""` for a quote; line breaks inside a
/// field are not supported, since the generator never writes them. `None` if the line is malformed
/// (an unclosed quote, a quote inside an unquoted field, or text after a closing quote), so that
/// the caller drops the row rather than keeping a half-read one.
fn split_record(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.next_if_eq(&'"').is_some() {
            loop {
                match chars.next()? {
                    '"' if chars.next_if_eq(&'"').is_some() => field.push('"'),
                    '"' => break,
                    c => field.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|&c| c != ',') {
                if c == '"' {
                    return None;
                }
                field.push(c);
            }
        }
        fields.push(field);
        match chars.next() {
            None => return Some(fields),
            Some(',') => {}
            Some(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_lines(text: &str) -> usize {
        text.lines().skip(1).filter(|l| !l.is_empty()).count()
    }

    #[test]
    fn headers_are_the_expected_columns() {
        assert_eq!(AIRPORTS_CSV.lines().next(), Some("iata,name,city,country,tz,lat,lon"));
        assert_eq!(AIRLINES_CSV.lines().next(), Some("iata,prefix,name"));
    }

    #[test]
    fn kathmandu() {
        let a = airport("KTM").unwrap();
        assert_eq!(a.iata, "KTM");
        assert_eq!(a.name, "Tribhuvan International Airport");
        assert_eq!(a.city, "Kathmandu");
        assert_eq!(a.country, "Nepal");
        assert_eq!(a.tz, "Asia/Kathmandu");
        assert_eq!(a.location, GeoPoint::from_degrees(27.6966, 85.3591).unwrap());
    }

    #[test]
    fn doha_and_delhi() {
        let doh = airport("DOH").unwrap();
        assert_eq!(doh.name, "Hamad International Airport");
        assert_eq!(doh.city, "Doha");
        assert_eq!(doh.country, "Qatar");
        assert_eq!(doh.tz, "Asia/Qatar");

        let del = airport("DEL").unwrap();
        assert_eq!(del.name, "Indira Gandhi International Airport");
        assert_eq!(del.city, "New Delhi");
        assert_eq!(del.country, "India");
        assert_eq!(del.tz, "Asia/Kolkata");
    }

    #[test]
    fn countries_use_everyday_names() {
        assert_eq!(airport("HAN").unwrap().country, "Vietnam");
        assert_eq!(airport("SGN").unwrap().tz, "Asia/Ho_Chi_Minh");
        assert_eq!(airport("ICN").unwrap().country, "South Korea");
        assert_eq!(airport("SVO").unwrap().country, "Russia");
        assert_eq!(airport("JFK").unwrap().country, "United States");
        assert_eq!(airport("LHR").unwrap().country, "United Kingdom");
    }

    #[test]
    fn quoted_fields_in_the_data_are_unescaped() {
        assert_eq!(airport("AAP").unwrap().city, "Samarinda, Borneo Island");
        assert_eq!(airport("PAQ").unwrap().name, "Warren \"Bud\" Woods Palmer Municipal Airport");
    }

    #[test]
    fn airlines_by_designator() {
        let qr = airline("QR").unwrap();
        assert_eq!((qr.iata.as_str(), qr.prefix.as_str(), qr.name.as_str()), ("QR", "157", "Qatar Airways"));
        assert_eq!(airline("VN").unwrap().prefix, "738");
        assert_eq!(airline("FZ").unwrap().prefix, "141");
        assert_eq!(airline("AA").unwrap().prefix, "001");
        assert_eq!(airline("6E").unwrap().name, "IndiGo");
    }

    #[test]
    fn unknown_codes_are_none() {
        assert_eq!(airport("QQQ"), None);
        assert_eq!(airport("ktm"), None);
        assert_eq!(airport(""), None);
        assert_eq!(airline("Q0"), None);
        assert_eq!(airline("qr"), None);
    }

    #[test]
    fn no_row_of_the_embedded_files_is_dropped() {
        assert!(airport_count() >= 7000, "{} airports", airport_count());
        assert!(airline_count() >= 270, "{} airlines", airline_count());
        assert_eq!(airport_count(), data_lines(AIRPORTS_CSV));
        assert_eq!(airline_count(), data_lines(AIRLINES_CSV));
    }

    #[test]
    fn every_prefix_is_three_digits_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for a in AIRLINES.values() {
            assert!(a.prefix.len() == 3 && a.prefix.bytes().all(|b| b.is_ascii_digit()), "{a:?}");
            assert!(seen.insert(a.prefix.as_str()), "prefix {} used twice", a.prefix);
        }
    }

    #[test]
    fn every_airport_has_a_time_zone() {
        for a in AIRPORTS.values() {
            assert!(!a.tz.is_empty() && a.tz.is_ascii() && !a.tz.contains(' '), "{a:?}");
        }
    }

    #[test]
    fn splits_rfc4180_records() {
        let s = |v: &[&str]| Some(v.iter().map(|f| f.to_string()).collect::<Vec<_>>());
        assert_eq!(split_record("a,b,c"), s(&["a", "b", "c"]));
        assert_eq!(
            split_record(r#"KTM,"Kathmandu, Nepal","say ""hi""",x"#),
            s(&["KTM", "Kathmandu, Nepal", "say \"hi\"", "x"])
        );
        assert_eq!(split_record(r#""",,"#), s(&["", "", ""]));
        assert_eq!(split_record(""), s(&[""]));
        assert_eq!(split_record(r#""ends with quote""""#), s(&["ends with quote\""]));
    }

    #[test]
    fn malformed_records_are_refused() {
        assert_eq!(split_record(r#"a,"unclosed"#), None);
        assert_eq!(split_record(r#"a,b"c"#), None);
        assert_eq!(split_record(r#""quoted"tail,b"#), None);
    }
}

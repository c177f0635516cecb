//! The booking intake contract: a JSON document in, a validated [`BookingDetail`] or every offending field out.
//!
//! Parsing happens in two steps: serde turns the document into loose wire structs (unknown fields refused, most
//! fields optional so that missing ones are reported together), then [`validate`] checks every rule and resolves
//! names from the reference data, collecting all problems as JSON pointers.

mod event;
mod exchange;
mod flight;
mod wire;

use chrono::NaiveDate;
use serde::Serialize;

use crate::booking::BookingDetail;
use crate::ids::AgencyId;
use crate::language::Language;
use crate::money::{Currency, Money};

pub use exchange::{parse_exchange, ExchangeTerms};
pub use wire::{AmountInput, BookingRequest};

/// One offending field: where (RFC 6901 JSON pointer) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub pointer: String,
    pub reason: String,
}

/// Every problem found in one document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{} invalid field(s)", .0.len())]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn single(pointer: impl Into<String>, reason: impl Into<String>) -> Self {
        Self(vec![FieldError { pointer: pointer.into(), reason: reason.into() }])
    }
}

/// Collects errors while walking a document.
#[derive(Default)]
pub(crate) struct Report {
    errors: Vec<FieldError>,
}

impl Report {
    pub(crate) fn add(&mut self, pointer: impl Into<String>, reason: impl Into<String>) {
        self.errors.push(FieldError { pointer: pointer.into(), reason: reason.into() });
    }

    /// Records a missing required field and returns None.
    pub(crate) fn required<'a, T>(&mut self, value: &'a Option<T>, pointer: &str) -> Option<&'a T> {
        if value.is_none() {
            self.add(pointer, "is required");
        }
        value.as_ref()
    }

    /// Runs a parser on an optional field, recording its error under `pointer`.
    pub(crate) fn parse<T, E: std::fmt::Display>(&mut self, pointer: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(pointer, e.to_string());
                None
            }
        }
    }

    pub(crate) fn text(&mut self, value: &Option<String>, pointer: &str, max: usize) -> Option<String> {
        let text = self.required(value, pointer)?;
        self.optional_text(text, pointer, max)
    }

    /// Trimmed, NFC-normalized text: a name typed with combining accents (e + ◌̃) is stored as the composed
    /// characters (ẽ) that fonts and search expect.
    pub(crate) fn optional_text(&mut self, text: &str, pointer: &str, max: usize) -> Option<String> {
        use unicode_normalization::UnicodeNormalization;
        // Limits count the characters as sent, which is what the booking schema states and a client can check;
        // only the stored text is composed (found by the schema-versus-parser fuzz target: a Hangul syllable
        // sent as jamo was within the limit composed, over it as sent).
        let trimmed = text.trim();
        if trimmed.is_empty() {
            self.add(pointer, "must not be empty");
            None
        } else if trimmed.chars().count() > max {
            self.add(pointer, format!("must be at most {max} characters"));
            None
        } else if trimmed.chars().any(char::is_control) {
            self.add(pointer, "must not contain control characters");
            None
        } else {
            Some(trimmed.nfc().collect())
        }
    }

    pub(crate) fn money(
        &mut self,
        value: &Option<AmountInput>,
        currency: Option<Currency>,
        pointer: &str,
    ) -> Option<Money> {
        let input = self.required(value, pointer)?;
        self.amount(input, currency, pointer)
    }

    pub(crate) fn amount(&mut self, input: &AmountInput, currency: Option<Currency>, pointer: &str) -> Option<Money> {
        let currency = currency?;
        let text = input.as_text();
        let money = self.parse(pointer, Money::parse(&text, currency))?;
        // "-0" is no amount owed either way, but a sign says the writer meant a negative one.
        if money.is_negative() || text.trim_start().starts_with('-') {
            self.add(pointer, "must not be negative");
            return None;
        }
        Some(money)
    }

    fn finish(self) -> Result<(), ValidationErrors> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(self.errors))
        }
    }
}

/// A booking request that passed every rule.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidBooking {
    /// Set when an admin books on behalf of an agency.
    pub agency_id: Option<AgencyId>,
    pub detail: BookingDetail,
    /// The language the request asked for (also set on `detail`); `None` leaves the choice to the agency's
    /// default.
    pub language: Option<Language>,
}

/// Parses a raw intake document. Structural problems (wrong JSON type, unknown field) are reported with the
/// pointer where serde stopped; everything else is collected by [`validate`].
pub fn parse(document: &[u8], today: NaiveDate) -> Result<ValidBooking, ValidationErrors> {
    let request = wire::parse(document)?;
    validate(&request, today)
}

/// Checks every rule of the contract; `today` bounds dates of birth.
pub fn validate(request: &BookingRequest, today: NaiveDate) -> Result<ValidBooking, ValidationErrors> {
    let mut report = Report::default();
    let tag = match request {
        BookingRequest::Flight(f) => f.language.as_deref(),
        BookingRequest::Event(e) => e.language.as_deref(),
    };
    let language = tag.and_then(|tag| report.parse("/language", tag.parse::<Language>()));
    let (agency_id, detail) = match request {
        BookingRequest::Flight(f) => (f.agency_id, flight::validate(f, today, &mut report).map(BookingDetail::Flight)),
        BookingRequest::Event(e) => (e.agency_id, event::validate(e, &mut report).map(BookingDetail::Event)),
    };
    report.finish()?;
    match detail {
        Some(mut detail) => {
            detail.set_language(language.unwrap_or_default());
            Ok(ValidBooking { agency_id, detail, language })
        }
        // A rule returned nothing without saying why: treat as a bug in validation, never as success.
        None => Err(ValidationErrors::single("", "booking could not be validated")),
    }
}

#[cfg(test)]
mod tests;

/// A date written exactly `YYYY-MM-DD` (RFC 3339's full-date, JSON Schema's `date` format). chrono's `%Y-%m-%d`
/// also takes leading spaces, signs, one-digit months and days and five-digit years, which the schemas refuse.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() });
    if !shaped {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text.get(range).and_then(|t| t.parse::<u32>().ok());
    NaiveDate::from_ymd_opt(i32::try_from(number(0..4)?).ok()?, number(5..7)?, number(8..10)?)
}

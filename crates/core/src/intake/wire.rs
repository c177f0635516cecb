//! The intake document as it arrives: loose enough to report every missing field, strict about unknown ones.

use serde::Deserialize;

use super::ValidationErrors;
use crate::ids::AgencyId;

/// An amount written as a JSON number or a decimal string, in major units.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum AmountInput {
    Number(serde_json::Number),
    Text(String),
}

impl AmountInput {
    pub fn as_text(&self) -> String {
        match self {
            Self::Number(n) => n.to_string(),
            Self::Text(s) => s.clone(),
        }
    }
}

// Parsed once per request and consumed by validation; its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum BookingRequest {
    Flight(FlightRequest),
    Event(EventRequest),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlightRequest {
    #[serde(rename = "type")]
    pub kind: String,
    pub agency_id: Option<AgencyId>,
    pub pnr: Option<String>,
    pub system: Option<String>,
    pub validating_carrier: Option<String>,
    pub trip_type: Option<String>,
    pub currency: Option<String>,
    pub ticketing_deadline: Option<String>,
    pub contact: Option<ContactRequest>,
    pub passengers: Option<Vec<PassengerRequest>>,
    pub journeys: Option<Vec<JourneyRequest>>,
    pub fares: Option<Vec<FareRequest>>,
    pub cashback: Option<AmountInput>,
    pub services: Option<Vec<ServiceRequest>>,
    pub endorsement: Option<String>,
    pub refundable: Option<bool>,
    pub distribution: Option<String>,
    pub payment: Option<serde_json::Map<String, serde_json::Value>>,
    /// BCP-47 tag of the documents' and e-mails' language; the agency's default when absent.
    pub language: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactRequest {
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PassengerRequest {
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub title: Option<String>,
    pub surname: Option<String>,
    pub given_name: Option<String>,
    pub date_of_birth: Option<String>,
    pub accompanied_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JourneyRequest {
    pub airline_confirmation_code: Option<String>,
    pub baggage: Option<BaggageRequest>,
    pub segments: Option<Vec<SegmentRequest>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaggageRequest {
    pub cabin: Option<String>,
    pub checked: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentRequest {
    pub carrier: Option<String>,
    pub carrier_name: Option<String>,
    pub flight_number: Option<String>,
    pub equipment: Option<String>,
    pub booking_class: Option<String>,
    pub fare_basis: Option<String>,
    pub departure: Option<PlaceRequest>,
    pub arrival: Option<PlaceRequest>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceRequest {
    pub airport: Option<String>,
    pub airport_name: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub terminal: Option<String>,
    pub time: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FareRequest {
    pub passenger_type: Option<String>,
    pub base: Option<AmountInput>,
    pub taxes: Option<Vec<TaxRequest>>,
    pub total: Option<AmountInput>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaxRequest {
    pub code: Option<String>,
    pub amount: Option<AmountInput>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceRequest {
    pub passenger_id: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub code: Option<String>,
    pub description: Option<String>,
    pub amount: Option<AmountInput>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventRequest {
    #[serde(rename = "type")]
    pub kind: String,
    pub agency_id: Option<AgencyId>,
    pub booking_code: Option<String>,
    pub currency: Option<String>,
    pub contact: Option<ContactRequest>,
    pub invoice_reference: Option<String>,
    pub orders: Option<Vec<OrderRequest>>,
    /// BCP-47 tag of the documents' and e-mails' language; the agency's default when absent.
    pub language: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    pub event: Option<EventInfoRequest>,
    pub items: Option<Vec<ItemRequest>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventInfoRequest {
    pub id: Option<String>,
    pub name: Option<String>,
    pub venue: Option<String>,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub location: Option<LocationRequest>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationRequest {
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemRequest {
    pub ticket_name: Option<String>,
    pub category: Option<String>,
    pub quantity: Option<u32>,
    pub unit_price: Option<AmountInput>,
    pub distribution_channel: Option<String>,
    pub pdfs_per_ticket: Option<u32>,
    pub guests: Option<Vec<GuestRequest>>,
    pub seats: Option<Vec<SeatRequest>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuestRequest {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub lead_guest: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeatRequest {
    pub section: Option<String>,
    pub row: Option<String>,
    pub seat: Option<String>,
}

/// Turns a serde path (`journeys[0].segments[1].carrier`) into a JSON pointer (`/journeys/0/segments/1/carrier`).
fn pointer_of(path: &str) -> String {
    let mut out = String::new();
    for part in path.split('.').filter(|p| !p.is_empty() && *p != "?") {
        let mut rest = part;
        if let Some(i) = rest.find('[') {
            out.push('/');
            out.push_str(&rest[..i].replace('~', "~0").replace('/', "~1"));
            rest = &rest[i..];
            while let Some(end) = rest.find(']') {
                out.push('/');
                out.push_str(&rest[1..end]);
                rest = &rest[end + 1..];
            }
        } else {
            out.push('/');
            out.push_str(&rest.replace('~', "~0").replace('/', "~1"));
        }
    }
    out
}

pub(super) fn structural<T: for<'de> Deserialize<'de>>(value: serde_json::Value) -> Result<T, ValidationErrors> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let pointer = pointer_of(&e.path().to_string());
        ValidationErrors::single(pointer, e.into_inner().to_string())
    })
}

pub(super) fn parse(document: &[u8]) -> Result<BookingRequest, ValidationErrors> {
    let value: serde_json::Value = serde_json::from_slice(document)
        .map_err(|e| ValidationErrors::single("", format!("body is not valid JSON: {e}")))?;
    let kind = value.get("type").and_then(|t| t.as_str()).map(str::to_owned);
    if !value.is_object() {
        return Err(ValidationErrors::single("", "body must be a JSON object"));
    }
    match kind.as_deref() {
        Some("flight") => structural(value).map(BookingRequest::Flight),
        Some("event") => structural(value).map(BookingRequest::Event),
        Some(_) => Err(ValidationErrors::single("/type", "must be `flight` or `event`")),
        None => Err(ValidationErrors::single("/type", "is required")),
    }
}

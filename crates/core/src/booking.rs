//! Validated bookings: what the intake contract turns into, and what issuance reads.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::codes::{AirportCode, BookingCode, CarrierCode, Pnr, SystemCode, TicketNumber};
use crate::geo::GeoPoint;
use crate::ids::{AgencyId, BookingId, UserId};
use crate::language::Language;
use crate::money::{Currency, Money, MoneyError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BookingStatus {
    Confirmed,
    Ticketed,
    Cancelled,
}

impl BookingStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::Ticketed => "ticketed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "confirmed" => Some(Self::Confirmed),
            "ticketed" => Some(Self::Ticketed),
            "cancelled" => Some(Self::Cancelled),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Booking {
    pub id: BookingId,
    pub agency_id: AgencyId,
    /// The user who created it; a customer sees only the bookings they created.
    pub created_by: Option<UserId>,
    pub status: BookingStatus,
    pub created_at: DateTime<Utc>,
    pub detail: BookingDetail,
}

impl Booking {
    /// The code a traveller or partner quotes: the PNR of a flight, the booking code of an event.
    pub fn code(&self) -> &str {
        match &self.detail {
            BookingDetail::Flight(f) => f.pnr.as_str(),
            BookingDetail::Event(e) => e.booking_code.as_str(),
        }
    }

    pub fn currency(&self) -> Currency {
        match &self.detail {
            BookingDetail::Flight(f) => f.currency,
            BookingDetail::Event(e) => e.currency,
        }
    }

    /// The language of the booking's documents and e-mails.
    pub fn language(&self) -> Language {
        self.detail.language()
    }

    pub fn kind(&self) -> &'static str {
        match &self.detail {
            BookingDetail::Flight(_) => "flight",
            BookingDetail::Event(_) => "event",
        }
    }

    pub fn as_flight(&self) -> Option<&FlightBooking> {
        match &self.detail {
            BookingDetail::Flight(f) => Some(f),
            BookingDetail::Event(_) => None,
        }
    }
}

// A booking is built once per request and moved, never copied in bulk: boxing the flight variant would only
// add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum BookingDetail {
    Flight(FlightBooking),
    Event(EventBooking),
}

impl BookingDetail {
    /// The language of the booking's documents and e-mails.
    pub fn language(&self) -> Language {
        match self {
            BookingDetail::Flight(f) => f.language,
            BookingDetail::Event(e) => e.language,
        }
    }

    pub fn set_language(&mut self, language: Language) {
        match self {
            BookingDetail::Flight(f) => f.language = language,
            BookingDetail::Event(e) => e.language = language,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TripType {
    Oneway,
    Round,
    Multicity,
}

impl TripType {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Oneway => "oneway",
            Self::Round => "round",
            Self::Multicity => "multicity",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Distribution {
    Gds,
    Ndc,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub email: String,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PassengerType {
    ADT,
    CHD,
    INF,
}

impl PassengerType {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::ADT => "ADT",
            Self::CHD => "CHD",
            Self::INF => "INF",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ADT" => Some(Self::ADT),
            "CHD" => Some(Self::CHD),
            "INF" => Some(Self::INF),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Passenger {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: PassengerType,
    pub title: Option<String>,
    pub surname: String,
    pub given_name: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub accompanied_by: Option<String>,
}

impl Passenger {
    /// `SURNAME/GIVEN TITLE`, the way tickets print names.
    pub fn ticket_name(&self) -> String {
        let mut name = self.surname.clone();
        if let Some(given) = &self.given_name {
            name.push('/');
            name.push_str(given);
        }
        if let Some(title) = &self.title {
            name.push(' ');
            name.push_str(title);
        }
        name
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baggage {
    pub cabin: Option<String>,
    pub checked: Option<String>,
}

/// An airport with its display names, resolved at intake from the request or the reference data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Place {
    pub airport: AirportCode,
    pub airport_name: String,
    pub city: String,
    pub country: String,
    pub terminal: String,
    /// Local time with the offset in force there.
    pub time: DateTime<FixedOffset>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub carrier: CarrierCode,
    pub carrier_name: String,
    pub flight_number: String,
    pub equipment: Option<String>,
    pub booking_class: String,
    pub fare_basis: String,
    pub departure: Place,
    pub arrival: Place,
}

impl Segment {
    /// Real elapsed time, whatever the two local offsets.
    pub fn duration(&self) -> TimeDelta {
        self.arrival.time.signed_duration_since(self.departure.time)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Journey {
    pub airline_confirmation_code: Option<String>,
    pub baggage: Baggage,
    pub segments: Vec<Segment>,
}

impl Journey {
    /// Door to door: first departure to last arrival, layovers included.
    pub fn duration(&self) -> TimeDelta {
        match (self.segments.first(), self.segments.last()) {
            (Some(first), Some(last)) => last.arrival.time.signed_duration_since(first.departure.time),
            _ => TimeDelta::zero(),
        }
    }

    /// Time on the ground before segment `index` (None for the first segment).
    pub fn layover_before(&self, index: usize) -> Option<TimeDelta> {
        let previous = self.segments.get(index.checked_sub(1)?)?;
        let segment = self.segments.get(index)?;
        Some(segment.departure.time.signed_duration_since(previous.arrival.time))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tax {
    pub code: String,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fare {
    pub passenger_type: PassengerType,
    pub base: Money,
    pub taxes: Vec<Tax>,
    pub total: Money,
}

impl Fare {
    pub fn tax_total(&self) -> Money {
        Money::from_minor(self.total.minor() - self.base.minor(), self.total.currency())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ServiceType {
    Baggage,
    Seat,
    Ssr,
}

impl ServiceType {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Baggage => "BAGGAGE",
            Self::Seat => "SEAT",
            Self::Ssr => "SSR",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "BAGGAGE" => Some(Self::Baggage),
            "SEAT" => Some(Self::Seat),
            "SSR" => Some(Self::Ssr),
            _ => None,
        }
    }
}

/// A paid extra; becomes an EMD at issuance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub passenger_id: String,
    #[serde(rename = "type")]
    pub kind: ServiceType,
    pub code: String,
    pub description: String,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlightBooking {
    pub pnr: Pnr,
    pub system: SystemCode,
    pub validating_carrier: CarrierCode,
    pub validating_carrier_name: String,
    pub trip_type: TripType,
    pub currency: Currency,
    pub ticketing_deadline: DateTime<Utc>,
    pub contact: Contact,
    pub passengers: Vec<Passenger>,
    pub journeys: Vec<Journey>,
    pub fares: Vec<Fare>,
    pub cashback: Money,
    pub services: Vec<Service>,
    pub endorsement: Option<String>,
    pub refundable: bool,
    pub distribution: Distribution,
    pub payment: Option<serde_json::Value>,
    /// Exchanges, oldest first: each gives one passenger a new itinerary and fare.
    #[serde(default)]
    pub amendments: Vec<Amendment>,
    /// The language of the booking's documents and e-mails (bookings stored before languages: English).
    #[serde(default)]
    pub language: Language,
}

/// What an exchange changed: the itinerary and fare of the ticket that replaced `replaces`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Amendment {
    pub replaces: TicketNumber,
    pub passenger_id: String,
    pub journeys: Vec<Journey>,
    pub fare: Fare,
    pub change_fee: Money,
}

impl FlightBooking {
    /// The booking as a ticket sees it: a ticket issued by an exchange (`ORGN`, related to the ticket it
    /// replaced) flies the amendment's journeys at its fare; every other ticket flies the original ones.
    pub fn as_seen_by(&self, reissue_of: Option<&TicketNumber>) -> std::borrow::Cow<'_, FlightBooking> {
        let amendment = reissue_of.and_then(|old| self.amendments.iter().find(|a| &a.replaces == old));
        match amendment {
            None => std::borrow::Cow::Borrowed(self),
            Some(a) => {
                let mut seen = self.clone();
                seen.journeys = a.journeys.clone();
                seen.fares.retain(|f| f.passenger_type != a.fare.passenger_type);
                seen.fares.push(a.fare.clone());
                std::borrow::Cow::Owned(seen)
            }
        }
    }

    pub fn fare_for(&self, kind: PassengerType) -> Option<&Fare> {
        self.fares.iter().find(|f| f.passenger_type == kind)
    }

    pub fn passenger(&self, id: &str) -> Option<&Passenger> {
        self.passengers.iter().find(|p| p.id == id)
    }

    pub fn segments(&self) -> impl Iterator<Item = &Segment> {
        self.journeys.iter().flat_map(|j| j.segments.iter())
    }

    pub fn first_departure(&self) -> Option<DateTime<FixedOffset>> {
        self.segments().next().map(|s| s.departure.time)
    }

    /// The airline's own reference for a journey, or the booking's PNR when the airline gave none.
    pub fn confirmation_code(&self, journey: &Journey) -> String {
        journey.airline_confirmation_code.clone().unwrap_or_else(|| self.pnr.to_string())
    }

    /// What all passengers of one type pay for their fares together (zero when there are none).
    pub fn fare_total(&self, kind: PassengerType) -> Result<Money, MoneyError> {
        let fares = self.passengers.iter().filter(|p| p.kind == kind).filter_map(|p| self.fare_for(p.kind));
        Money::sum(fares.map(|fare| fare.total), self.currency)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DistributionChannel {
    Xs2event,
    External,
    ExternalEndClient,
}

impl DistributionChannel {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Xs2event => "xs2event",
            Self::External => "external",
            Self::ExternalEndClient => "external_end_client",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "xs2event" => Some(Self::Xs2event),
            "external" => Some(Self::External),
            "external_end_client" => Some(Self::ExternalEndClient),
            _ => None,
        }
    }

    /// Only tickets we distribute ourselves may be downloaded through us.
    pub fn downloadable(&self) -> bool {
        matches!(self, Self::Xs2event)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub name: String,
    pub venue: String,
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: Option<DateTime<FixedOffset>>,
    /// Where the venue is, when the booking says: the place its wallet passes surface near.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<GeoPoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Guest {
    pub first_name: String,
    pub last_name: String,
    pub lead_guest: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Seat {
    pub section: Option<String>,
    pub row: Option<String>,
    pub seat: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventItem {
    pub ticket_name: String,
    pub category: String,
    pub quantity: u32,
    pub unit_price: Money,
    pub distribution_channel: DistributionChannel,
    pub pdfs_per_ticket: u32,
    pub guests: Vec<Guest>,
    pub seats: Vec<Seat>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventOrder {
    pub event: Event,
    pub items: Vec<EventItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventBooking {
    pub booking_code: BookingCode,
    pub currency: Currency,
    pub contact: Contact,
    pub invoice_reference: Option<String>,
    pub orders: Vec<EventOrder>,
    /// The language of the booking's documents and e-mails (bookings stored before languages: English).
    #[serde(default)]
    pub language: Language,
}

impl EventBooking {
    pub fn total(&self) -> Option<Money> {
        let mut total = Money::zero(self.currency);
        for item in self.orders.iter().flat_map(|o| o.items.iter()) {
            let line = item.unit_price.minor().checked_mul(i64::from(item.quantity))?;
            total = total.checked_add(Money::from_minor(line, self.currency)).ok()?;
        }
        Some(total)
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::intake;

    fn family() -> FlightBooking {
        let doc = include_str!("../../../examples/bookings/flight-vn-family.json");
        let valid = intake::parse(doc.as_bytes(), NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()).unwrap();
        match valid.detail {
            BookingDetail::Flight(f) => f,
            BookingDetail::Event(_) => panic!("a flight example"),
        }
    }

    #[test]
    fn fare_totals_add_each_passengers_fare_exactly() {
        let f = family();
        let vnd = Currency::parse("VND").unwrap();
        assert_eq!(f.fare_total(PassengerType::ADT), Ok(Money::from_minor(4_700_000, vnd)));
        assert_eq!(f.fare_total(PassengerType::CHD), Ok(Money::from_minor(1_750_000, vnd)));
        assert_eq!(f.fare_total(PassengerType::INF), Ok(Money::from_minor(200_000, vnd)));
    }

    #[test]
    fn fare_totals_refuse_a_fare_in_another_currency() {
        let mut f = family();
        let usd = Currency::parse("USD").unwrap();
        f.fares[0].total = Money::from_minor(100, usd);
        assert!(matches!(f.fare_total(PassengerType::ADT), Err(MoneyError::CurrencyMismatch(..))));
    }

    #[test]
    fn a_journey_without_an_airline_reference_is_known_by_the_pnr() {
        let mut f = family();
        assert_eq!(f.confirmation_code(&f.journeys[0]), "ABC123");
        f.journeys[0].airline_confirmation_code = Some("197IJB".into());
        assert_eq!(f.confirmation_code(&f.journeys[0]), "197IJB");
        f.journeys[0].airline_confirmation_code = None;
        f.pnr = crate::codes::Pnr::parse("XYZ789").unwrap();
        assert_eq!(f.confirmation_code(&f.journeys[0]), "XYZ789");
    }
}

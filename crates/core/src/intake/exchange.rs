//! The body of an exchange: a booking amendment in the intake's own shapes (`journeys`, `fares`) plus the
//! change fee, checked by the same rules as a new booking.

use serde::Deserialize;

use super::flight::{fares, journeys};
use super::wire::{structural, AmountInput, FareRequest, FlightRequest, JourneyRequest};
use super::{Report, ValidationErrors};
use crate::booking::{Fare, FlightBooking, Journey, Passenger};
use crate::money::Money;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExchangeRequest {
    journeys: Option<Vec<JourneyRequest>>,
    fares: Option<Vec<FareRequest>>,
    change_fee: Option<AmountInput>,
}

/// A validated exchange for one passenger's ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct ExchangeTerms {
    pub journeys: Vec<Journey>,
    /// The fare for the passenger's type, taken from the request's `fares`.
    pub fare: Fare,
    pub change_fee: Money,
}

/// Parses an exchange of `passenger`'s ticket on `flight`: every problem is reported with its JSON pointer.
pub fn parse_exchange(
    document: &[u8],
    flight: &FlightBooking,
    passenger: &Passenger,
) -> Result<ExchangeTerms, ValidationErrors> {
    let value: serde_json::Value = serde_json::from_slice(document)
        .map_err(|e| ValidationErrors::single("", format!("body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ValidationErrors::single("", "body must be a JSON object"));
    }
    let request: ExchangeRequest = structural(value)?;
    // The shared rules read a whole flight request; an exchange fills in only what it changes.
    let as_booking = FlightRequest {
        kind: "flight".into(),
        agency_id: None,
        pnr: None,
        system: None,
        validating_carrier: None,
        trip_type: None,
        currency: None,
        ticketing_deadline: None,
        contact: None,
        passengers: None,
        journeys: request.journeys,
        fares: request.fares,
        cashback: None,
        services: None,
        endorsement: None,
        refundable: None,
        distribution: None,
        payment: None,
        language: None,
    };
    let mut r = Report::default();
    let currency = Some(flight.currency);
    let journeys = journeys(&as_booking, None, &mut r);
    let fares = fares(&as_booking, currency, None, &mut r);
    let change_fee = match &request.change_fee {
        Some(fee) => r.amount(fee, currency, "/change_fee"),
        None => Some(Money::zero(flight.currency)),
    };
    let fare = fares.as_ref().and_then(|f| f.iter().find(|f| f.passenger_type == passenger.kind).cloned());
    if fares.is_some() && fare.is_none() {
        r.add("/fares", format!("no fare for passenger type `{}`", passenger.kind.as_str()));
    }
    r.finish()?;
    match (journeys, fare, change_fee) {
        (Some(journeys), Some(fare), Some(change_fee)) => Ok(ExchangeTerms { journeys, fare, change_fee }),
        _ => Err(ValidationErrors::single("", "exchange could not be validated")),
    }
}

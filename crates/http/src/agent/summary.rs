//! The seed's ticket summary, built from a completed issuance: one shape per trip type, keys and value formats
//! exactly as the vendor's samples (`Tue, Feb 14, 2023`, `15:45 PM`, `05 Hr 00 Min`, `05:00:00`).

use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use serde::Serialize;
use tessera_app::issuing::Issued;
use tessera_app::AppError;
use tessera_core::booking::PassengerType;
use tessera_core::booking::{FlightBooking, Journey, Place, Segment, TripType};
use tessera_core::ticket::TicketType;

use crate::numbers::Amount;

/// `10:10 AM`, `15:45 PM`: the vendor writes a 24-hour clock followed by AM/PM, and so do we.
pub fn clock(t: DateTime<FixedOffset>) -> String {
    let suffix = if t.format("%H").to_string().as_str() < "12" { "AM" } else { "PM" };
    format!("{} {suffix}", t.format("%H:%M"))
}

pub fn date(t: DateTime<FixedOffset>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// `05 Hr 00 Min` — a journey, door to door.
pub fn journey_hours(d: TimeDelta) -> String {
    let m = d.num_minutes().max(0);
    format!("{:02} Hr {:02} Min", m / 60, m % 60)
}

/// `05:00:00` — one flight.
pub fn segment_hours(d: TimeDelta) -> String {
    let s = d.num_seconds().max(0);
    format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

/// `05 hr 10 min` — time on the ground before a connection.
pub fn layover(d: TimeDelta) -> String {
    let m = d.num_minutes().max(0);
    format!("{:02} hr {:02} min", m / 60, m % 60)
}

/// How carrier logos are linked: a URL template with `{code}`.
#[derive(Clone)]
pub struct Logos(pub String);

impl Logos {
    fn url(&self, code: &str) -> String {
        self.0.replace("{code}", code)
    }
}

#[derive(Serialize)]
pub struct TicketSummary {
    #[serde(rename = "ticketReferenceID")]
    pub ticket_reference_id: String,
    #[serde(rename = "PNR")]
    pub pnr: String,
    #[serde(rename = "tripType")]
    pub trip_type: String,
    pub currency: String,
    pub issued_date: String,
}

#[derive(Serialize)]
pub struct SegmentSummary {
    #[serde(rename = "carrierCode")]
    carrier_code: String,
    #[serde(rename = "carrierName")]
    carrier_name: String,
    #[serde(rename = "carrierLogo")]
    carrier_logo: String,
    flight_number: String,
    flight_equipment: String,
    cabin_class: String,
    seg_departure_date: String,
    seg_departure_time: String,
    seg_arrival_date: String,
    seg_arrival_time: String,
    seg_total_flying_hours: String,
    seg_departure_airport_code: String,
    seg_departure_airport: String,
    seg_departure_city: String,
    seg_departure_country: String,
    seg_departure_terminal: String,
    seg_arrival_airport_code: String,
    seg_arrival_airport: String,
    seg_arrival_city: String,
    seg_arrival_country: String,
    seg_arrival_terminal: String,
    /// `false` for a journey's first flight, else the layover before it.
    seg_connection_time: serde_json::Value,
}

fn segments(journey: &Journey, logos: &Logos) -> Vec<SegmentSummary> {
    journey
        .segments
        .iter()
        .enumerate()
        .map(|(i, s)| SegmentSummary {
            carrier_code: s.carrier.to_string(),
            carrier_name: s.carrier_name.clone(),
            carrier_logo: logos.url(s.carrier.as_str()),
            flight_number: s.flight_number.clone(),
            flight_equipment: s.equipment.clone().unwrap_or_default(),
            cabin_class: s.booking_class.clone(),
            seg_departure_date: date(s.departure.time),
            seg_departure_time: clock(s.departure.time),
            seg_arrival_date: date(s.arrival.time),
            seg_arrival_time: clock(s.arrival.time),
            seg_total_flying_hours: segment_hours(s.duration()),
            seg_departure_airport_code: s.departure.airport.to_string(),
            seg_departure_airport: s.departure.airport_name.clone(),
            seg_departure_city: s.departure.city.clone(),
            seg_departure_country: s.departure.country.clone(),
            seg_departure_terminal: s.departure.terminal.clone(),
            seg_arrival_airport_code: s.arrival.airport.to_string(),
            seg_arrival_airport: s.arrival.airport_name.clone(),
            seg_arrival_city: s.arrival.city.clone(),
            seg_arrival_country: s.arrival.country.clone(),
            seg_arrival_terminal: s.arrival.terminal.clone(),
            seg_connection_time: journey
                .layover_before(i)
                .map_or(serde_json::Value::Bool(false), |d| layover(d).into()),
        })
        .collect()
}

/// The first departure and last arrival of a journey, and its marketing carrier (the first flight's).
struct Ends<'a> {
    from: &'a Place,
    to: &'a Place,
    first: &'a Segment,
}

fn ends(journey: &Journey) -> Option<Ends<'_>> {
    let first = journey.segments.first()?;
    let last = journey.segments.last()?;
    Some(Ends { from: &first.departure, to: &last.arrival, first })
}

#[derive(Serialize)]
pub struct OnewaySummary {
    airline_confirmation_code: String,
    departure_date: String,
    departure_time: String,
    arrival_date: String,
    arrival_time: String,
    total_flying_hours: String,
    depart_city_airport_code: String,
    depart_city_airport_name: String,
    depart_city_name: String,
    depart_city_country: String,
    #[serde(rename = "carrierCode")]
    carrier_code: String,
    #[serde(rename = "carrierLogo")]
    carrier_logo: String,
    #[serde(rename = "carrierName")]
    carrier_name: String,
    dest_city_airport_code: String,
    dest_city_airport_name: String,
    dest_city_name: String,
    dest_city_country: String,
    flight_segments: Vec<SegmentSummary>,
}

#[derive(Serialize)]
pub struct RoundSummary {
    airline_confirmation_code: String,
    departure_date: String,
    departure_time: String,
    depart_city_airport_code: String,
    depart_city_airport_name: String,
    depart_city_name: String,
    depart_city_country: String,
    arrival_date: String,
    arrival_time: String,
    total_flying_hours: String,
    dest_city_airport_code: String,
    dest_city_airport_name: String,
    dest_city_name: String,
    dest_city_country: String,
    #[serde(rename = "carrierCode")]
    carrier_code: String,
    #[serde(rename = "carrierLogo")]
    carrier_logo: String,
    #[serde(rename = "carrierName")]
    carrier_name: String,
    return_departure_date: String,
    return_departure_time: String,
    return_depart_city_airport_code: String,
    return_depart_city_airport_name: String,
    return_depart_city_name: String,
    return_depart_city_country: String,
    return_arrival_date: String,
    return_arrival_time: String,
    return_total_flying_hours: String,
    return_dest_city_airport_code: String,
    return_dest_city_airport_name: String,
    return_dest_city_name: String,
    return_dest_city_country: String,
    #[serde(rename = "carrierCodeReturn")]
    carrier_code_return: String,
    #[serde(rename = "carrierLogoReturn")]
    carrier_logo_return: String,
    #[serde(rename = "carrierNameReturn")]
    carrier_name_return: String,
    flight_segments_outbound: Vec<SegmentSummary>,
    flight_segments_return: Vec<SegmentSummary>,
}

/// One journey of a multi-city trip, with its flights as `connecting_segments`.
#[derive(Serialize)]
pub struct JourneySummary {
    airline_confirmation_code: String,
    seg_departure_date: String,
    seg_departure_time: String,
    seg_arrival_date: String,
    seg_arrival_time: String,
    seg_total_flying_hours: String,
    seg_departure_airport_code: String,
    seg_departure_airport: String,
    seg_departure_city: String,
    seg_departure_country: String,
    seg_arrival_airport_code: String,
    seg_arrival_airport: String,
    seg_arrival_city: String,
    seg_arrival_country: String,
    #[serde(rename = "carrierCode")]
    carrier_code: String,
    #[serde(rename = "carrierLogo")]
    carrier_logo: String,
    #[serde(rename = "carrierName")]
    carrier_name: String,
    connecting_segments: Vec<SegmentSummary>,
}

#[derive(Serialize)]
pub struct MulticitySummary {
    flight_segments: Vec<JourneySummary>,
}

// Built once per response and serialized straight away: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Serialize)]
#[serde(untagged)]
pub enum FlightSummary {
    Oneway(OnewaySummary),
    Round(RoundSummary),
    Multicity(MulticitySummary),
}

#[derive(Serialize)]
pub struct FareInformation {
    total_adt: Amount,
    total_chd: Amount,
    total_inf: Amount,
    total_cost: Amount,
    #[serde(rename = "cashBack")]
    cash_back: Amount,
}

#[derive(Serialize)]
pub struct Bags {
    cabin: String,
    baggage: String,
}

#[derive(Serialize)]
#[serde(untagged)]
pub enum BaggageDetails {
    Single(Bags),
    PerDirection {
        outbound: Bags,
        #[serde(rename = "return")]
        back: Bags,
    },
}

#[derive(Serialize)]
pub struct PassengerSummary {
    passenger_type: String,
    passenger_name: String,
    eticket_number: String,
    #[serde(rename = "PNR")]
    pnr: String,
    airlines_confirmation: String,
}

#[derive(Serialize)]
pub struct ContactDetails {
    email: String,
    phone: String,
}

#[derive(Serialize)]
pub struct IssueSummary {
    #[serde(rename = "ticketSummary")]
    pub ticket_summary: TicketSummary,
    #[serde(rename = "flightSummary")]
    pub flight_summary: FlightSummary,
    #[serde(rename = "fareInformation")]
    pub fare_information: FareInformation,
    #[serde(rename = "baggageDetails")]
    pub baggage_details: BaggageDetails,
    pub passengers: Vec<PassengerSummary>,
    #[serde(rename = "contactDetails")]
    pub contact_details: ContactDetails,
    #[serde(rename = "eticketLink")]
    pub eticket_link: String,
}

fn bags(j: &Journey) -> Bags {
    Bags { cabin: j.baggage.cabin.clone().unwrap_or_default(), baggage: j.baggage.checked.clone().unwrap_or_default() }
}

/// `MAHARJAN` + `RABI` → `Maharjan Rabi`, as the vendor prints names.
fn display_name(surname: &str, given: Option<&str>) -> String {
    let title = |w: &str| {
        let mut chars = w.chars();
        chars.next().map_or(String::new(), |c| c.to_uppercase().chain(chars.flat_map(char::to_lowercase)).collect())
    };
    std::iter::once(surname)
        .chain(given)
        .flat_map(|part| part.split_whitespace())
        .map(title)
        .collect::<Vec<_>>()
        .join(" ")
}

fn oneway(f: &FlightBooking, logos: &Logos) -> Option<OnewaySummary> {
    let j = f.journeys.first()?;
    let e = ends(j)?;
    Some(OnewaySummary {
        airline_confirmation_code: f.confirmation_code(j),
        departure_date: date(e.from.time),
        departure_time: clock(e.from.time),
        arrival_date: date(e.to.time),
        arrival_time: clock(e.to.time),
        total_flying_hours: journey_hours(j.duration()),
        depart_city_airport_code: e.from.airport.to_string(),
        depart_city_airport_name: e.from.airport_name.clone(),
        depart_city_name: e.from.city.clone(),
        depart_city_country: e.from.country.clone(),
        carrier_code: e.first.carrier.to_string(),
        carrier_logo: logos.url(e.first.carrier.as_str()),
        carrier_name: e.first.carrier_name.clone(),
        dest_city_airport_code: e.to.airport.to_string(),
        dest_city_airport_name: e.to.airport_name.clone(),
        dest_city_name: e.to.city.clone(),
        dest_city_country: e.to.country.clone(),
        flight_segments: segments(j, logos),
    })
}

fn round(f: &FlightBooking, logos: &Logos) -> Option<RoundSummary> {
    let (out, back) = (f.journeys.first()?, f.journeys.get(1)?);
    let (o, r) = (ends(out)?, ends(back)?);
    Some(RoundSummary {
        airline_confirmation_code: f.confirmation_code(out),
        departure_date: date(o.from.time),
        departure_time: clock(o.from.time),
        depart_city_airport_code: o.from.airport.to_string(),
        depart_city_airport_name: o.from.airport_name.clone(),
        depart_city_name: o.from.city.clone(),
        depart_city_country: o.from.country.clone(),
        arrival_date: date(o.to.time),
        arrival_time: clock(o.to.time),
        total_flying_hours: journey_hours(out.duration()),
        dest_city_airport_code: o.to.airport.to_string(),
        dest_city_airport_name: o.to.airport_name.clone(),
        dest_city_name: o.to.city.clone(),
        dest_city_country: o.to.country.clone(),
        carrier_code: o.first.carrier.to_string(),
        carrier_logo: logos.url(o.first.carrier.as_str()),
        carrier_name: o.first.carrier_name.clone(),
        return_departure_date: date(r.from.time),
        return_departure_time: clock(r.from.time),
        return_depart_city_airport_code: r.from.airport.to_string(),
        return_depart_city_airport_name: r.from.airport_name.clone(),
        return_depart_city_name: r.from.city.clone(),
        return_depart_city_country: r.from.country.clone(),
        return_arrival_date: date(r.to.time),
        return_arrival_time: clock(r.to.time),
        return_total_flying_hours: journey_hours(back.duration()),
        return_dest_city_airport_code: r.to.airport.to_string(),
        return_dest_city_airport_name: r.to.airport_name.clone(),
        return_dest_city_name: r.to.city.clone(),
        return_dest_city_country: r.to.country.clone(),
        carrier_code_return: r.first.carrier.to_string(),
        carrier_logo_return: logos.url(r.first.carrier.as_str()),
        carrier_name_return: r.first.carrier_name.clone(),
        flight_segments_outbound: segments(out, logos),
        flight_segments_return: segments(back, logos),
    })
}

fn multicity(f: &FlightBooking, logos: &Logos) -> Option<MulticitySummary> {
    let journeys = f
        .journeys
        .iter()
        .map(|j| {
            let e = ends(j)?;
            Some(JourneySummary {
                airline_confirmation_code: f.confirmation_code(j),
                seg_departure_date: date(e.from.time),
                seg_departure_time: clock(e.from.time),
                seg_arrival_date: date(e.to.time),
                seg_arrival_time: clock(e.to.time),
                seg_total_flying_hours: journey_hours(j.duration()),
                seg_departure_airport_code: e.from.airport.to_string(),
                seg_departure_airport: e.from.airport_name.clone(),
                seg_departure_city: e.from.city.clone(),
                seg_departure_country: e.from.country.clone(),
                seg_arrival_airport_code: e.to.airport.to_string(),
                seg_arrival_airport: e.to.airport_name.clone(),
                seg_arrival_city: e.to.city.clone(),
                seg_arrival_country: e.to.country.clone(),
                carrier_code: e.first.carrier.to_string(),
                carrier_logo: logos.url(e.first.carrier.as_str()),
                carrier_name: e.first.carrier_name.clone(),
                connecting_segments: segments(j, logos),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(MulticitySummary { flight_segments: journeys })
}

/// Builds the whole `data` object of a successful `/issue-ticket`. Every issuance this profile makes is of a
/// flight with journeys; anything else is an internal error, as is a fare sum that does not add up.
pub fn build(issued: &Issued, link: String, logos: &Logos) -> Result<IssueSummary, AppError> {
    let unusable = || AppError::Internal(format!("issuance {} has no flight summary", issued.record.id));
    let f = issued.booking.as_flight().ok_or_else(unusable)?;
    let tz = issued.agency.timezone.tz();
    let issued_at: DateTime<Utc> = issued.record.issued_at;
    let flight_summary = match f.trip_type {
        TripType::Oneway => oneway(f, logos).map(FlightSummary::Oneway),
        TripType::Round => round(f, logos).map(FlightSummary::Round),
        TripType::Multicity => multicity(f, logos).map(FlightSummary::Multicity),
    }
    .ok_or_else(unusable)?;
    let first = f.journeys.first().ok_or_else(unusable)?;
    let baggage_details = match (f.trip_type, f.journeys.get(1)) {
        (TripType::Round, Some(back)) => BaggageDetails::PerDirection { outbound: bags(first), back: bags(back) },
        _ => BaggageDetails::Single(bags(first)),
    };
    let per_type = |kind| {
        f.fare_total(kind).map(Amount::from).map_err(|e| AppError::Internal(format!("fare total of {kind:?}: {e}")))
    };
    let confirmation = f.confirmation_code(first);
    let passengers = issued
        .tickets
        .iter()
        .filter(|t| t.kind == TicketType::TKT)
        .filter_map(|t| {
            let p = f.passenger(&t.passenger_id)?;
            Some(PassengerSummary {
                passenger_type: p.kind.as_str().to_owned(),
                passenger_name: display_name(&p.surname, p.given_name.as_deref()),
                eticket_number: t.number.to_string(),
                pnr: f.pnr.to_string(),
                airlines_confirmation: confirmation.clone(),
            })
        })
        .collect();
    Ok(IssueSummary {
        ticket_summary: TicketSummary {
            ticket_reference_id: issued.record.id.to_string(),
            pnr: f.pnr.to_string(),
            trip_type: f.trip_type.as_str().to_owned(),
            currency: f.currency.to_string(),
            issued_date: issued_at.with_timezone(&tz).format("%a, %b %d, %Y").to_string(),
        },
        flight_summary,
        fare_information: FareInformation {
            total_adt: per_type(PassengerType::ADT)?,
            total_chd: per_type(PassengerType::CHD)?,
            total_inf: per_type(PassengerType::INF)?,
            total_cost: issued.record.amount_charged.into(),
            cash_back: f.cashback.into(),
        },
        baggage_details,
        passengers,
        contact_details: ContactDetails {
            email: f.contact.email.clone(),
            phone: f.contact.phone.clone().unwrap_or_default(),
        },
        eticket_link: link,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn formats_match_the_vendor_samples() {
        assert_eq!(clock(t("2027-07-22T10:10:00+05:45")), "10:10 AM");
        assert_eq!(clock(t("2027-08-01T15:45:00+05:45")), "15:45 PM");
        assert_eq!(clock(t("2027-07-30T00:35:00+03:00")), "00:35 AM");
        assert_eq!(clock(t("2027-07-30T12:00:00+03:00")), "12:00 PM");
        assert_eq!(journey_hours(TimeDelta::minutes(300)), "05 Hr 00 Min");
        assert_eq!(segment_hours(TimeDelta::minutes(285)), "04:45:00");
        assert_eq!(layover(TimeDelta::minutes(310)), "05 hr 10 min");
        assert_eq!(display_name("MAHARJAN", Some("RABI")), "Maharjan Rabi");
        assert_eq!(display_name("NGUYỄN", Some("VĂN A")), "Nguyễn Văn A");
    }
}

//! Wallet passes of tickets: an Apple Wallet `.pkpass` for one PDF of an event ticket (eventTicket style) or one
//! coupon of a flight ticket (boardingPass style), its barcode the signed gate payload ([`crate::gate`]).
//!
//! Who may fetch a pass is who may download the ticket: the event ticket's download rules
//! ([`Tessera::download_ticket`]) or the flight ticket within the caller's agency. Passes are made on request,
//! not stored: the signature carries a signing time, so the bytes differ from one request to the next.

use std::sync::Arc;

use chrono::SecondsFormat;
use serde_json::{json, Value};
use tessera_core::booking::{BookingDetail, Seat, Segment};
use tessera_core::codes::TicketNumber;
use tessera_documents::wallet::{render_pkpass, PassField, PassStyle, PassView, WalletSigner};

use crate::event_views::holder;
use crate::{AppError, Principal, Tessera};

/// The media type of a `.pkpass` archive.
pub const PKPASS: &str = "application/vnd.apple.pkpass";

/// A wallet pass ready to send.
#[derive(Debug, Clone)]
pub struct WalletPass {
    pub filename: String,
    pub bytes: Vec<u8>,
}

impl Tessera {
    /// Signs passes with this identity; without one, pass requests answer [`AppError::WalletNotConfigured`].
    pub fn with_wallet(mut self, signer: Option<Arc<WalletSigner>>) -> Self {
        self.wallet = signer;
        self
    }

    fn wallet_signer(&self) -> Result<Arc<WalletSigner>, AppError> {
        self.wallet.clone().ok_or(AppError::WalletNotConfigured("Apple Wallet"))
    }

    /// The pass of the `n`-th PDF (from 1) of an event ticket, under the same rules as downloading that PDF.
    pub async fn event_pkpass(&self, who: &Principal, order: &str, item: &str, n: u32) -> Result<WalletPass, AppError> {
        let (view, _) = self.event_pass(who, order, item, n).await?;
        let signer = self.wallet_signer()?;
        let filename = format!("{}.pkpass", view.serial_number);
        render(view, signer, filename).await
    }

    /// What the pass of an event ticket's `n`-th PDF shows, for Apple's and Google's wallets.
    pub(crate) async fn event_pass(
        &self,
        who: &Principal,
        order: &str,
        item: &str,
        n: u32,
    ) -> Result<(PassView, Value), AppError> {
        let record = self.get_order(who, order).await?;
        let item = record.order.item(item).ok_or(AppError::NotFound("order item"))?;
        let download = (n as usize)
            .checked_sub(1)
            .and_then(|i| item.downloads.get(i))
            .ok_or(AppError::NotFound("download item"))?;
        crate::orders::ensure_deliverable(&record, item)?;
        let payload = self.gate_keys().await?.event_payload(&record.order, item, download)?;
        let agency = self.db.get_agency(record.order.agency_id).await?.ok_or(AppError::NotFound("agency"))?;
        let event = &record.order.event;
        let seat = item.seat.clone().unwrap_or(Seat { section: None, row: None, seat: None });
        let view = PassView {
            style: PassStyle::EventTicket,
            serial_number: download.id.to_string(),
            organization_name: agency.name.clone(),
            description: format!("Ticket: {}", event.name),
            barcode: payload,
            relevant_date: Some(event.starts_at.to_rfc3339_opts(SecondsFormat::Secs, false)),
            location: event.location.map(|p| (p.latitude(), p.longitude())),
            header: vec![PassField::new("label", "TICKET", download.label.clone())],
            primary: vec![PassField::new("event", "EVENT", event.name.clone())],
            secondary: vec![
                PassField::new("venue", "VENUE", event.venue.clone()),
                PassField::new("starts", "STARTS", event.starts_at.format("%a %d %b %Y %H:%M").to_string()),
            ],
            auxiliary: vec![
                PassField::new("holder", "HOLDER", holder(item)),
                PassField::new("section", "SECTION", seat.section.unwrap_or_default()),
                PassField::new("row", "ROW", seat.row.unwrap_or_default()),
                PassField::new("seat", "SEAT", seat.seat.unwrap_or_default()),
            ],
            back: vec![
                PassField::new("ticket", "Ticket", format!("{} · {}", item.ticket_name, item.category)),
                PassField::new("order", "Order", record.order.id.to_string()),
                PassField::new("item", "Order item", item.id.to_string()),
            ],
        };
        let google = json!({
            "kind": "event",
            "class": {
                "id": google_id(&format!("event-{}", event.id)),
                "eventName": {"defaultValue": {"language": "en", "value": event.name}},
                "venue": {"name": {"defaultValue": {"language": "en", "value": event.venue}},
                          "address": {"defaultValue": {"language": "en", "value": event.venue}}},
                "dateTime": {"start": view.relevant_date, "end": event.ends_at.map(|e| e.to_rfc3339())},
                "issuerName": agency.name,
                "reviewStatus": "UNDER_REVIEW",
            },
            "object": {
                "id": google_id(download.id.as_str()),
                "state": "ACTIVE",
                "ticketHolderName": holder(item),
                "ticketNumber": download.id.to_string(),
                "seatInfo": {
                    "section": {"defaultValue": {"language": "en", "value": seat_part(&item.seat, |s| &s.section)}},
                    "row": {"defaultValue": {"language": "en", "value": seat_part(&item.seat, |s| &s.row)}},
                    "seat": {"defaultValue": {"language": "en", "value": seat_part(&item.seat, |s| &s.seat)}},
                },
                "barcode": {"type": "QR_CODE", "value": view.barcode},
            },
        });
        Ok((view, google))
    }

    /// The boarding pass of coupon `coupon` of a flight ticket within the caller's agency.
    pub async fn coupon_pkpass(
        &self,
        who: &Principal,
        number: &TicketNumber,
        coupon: u32,
    ) -> Result<WalletPass, AppError> {
        let (view, _) = self.coupon_pass(who, number, coupon).await?;
        let signer = self.wallet_signer()?;
        let filename = format!("{}.pkpass", view.serial_number);
        render(view, signer, filename).await
    }

    /// What the boarding pass of a flight coupon shows, for Apple's and Google's wallets.
    pub(crate) async fn coupon_pass(
        &self,
        who: &Principal,
        number: &TicketNumber,
        coupon: u32,
    ) -> Result<(PassView, Value), AppError> {
        let ticket = self.get_ticket(who, number).await?;
        use tessera_core::ticket::TicketStatus;
        if !matches!(ticket.status, TicketStatus::Open | TicketStatus::Used | TicketStatus::RefundPending) {
            return Err(AppError::NotFound("ticket"));
        }
        let booking = self.db.get_booking(who.scope, ticket.booking_id).await?.ok_or(AppError::NotFound("ticket"))?;
        let BookingDetail::Flight(booked) = &booking.detail else {
            return Err(AppError::NotFound("coupon"));
        };
        // An exchange's new ticket flies the amendment's segments, as its e-ticket prints them.
        let flight = booked.as_seen_by(crate::render::reissue_of(&ticket));
        let segments: Vec<&Segment> = flight.journeys.iter().flat_map(|j| j.segments.iter()).collect();
        let (Some(found), Some(segment)) = (
            ticket.coupons.iter().find(|c| c.number == coupon && c.flight_number.is_some()),
            (coupon as usize).checked_sub(1).and_then(|i| segments.get(i)),
        ) else {
            return Err(AppError::NotFound("coupon"));
        };
        let passenger = flight.passengers.iter().find(|p| p.id == ticket.passenger_id);
        let flight_no = format!("{}{}", segment.carrier.as_str(), segment.flight_number);
        let payload = self.gate_keys().await?.coupon_payload(&ticket, found.number, segment, passenger);
        let agency = self.db.get_agency(ticket.agency_id).await?.ok_or(AppError::NotFound("agency"))?;
        let view = PassView {
            style: PassStyle::BoardingPass,
            serial_number: format!("{}-{coupon}", number.compact()),
            organization_name: flight.validating_carrier_name.clone(),
            description: format!("Flight {flight_no} {} to {}", segment.departure.city, segment.arrival.city),
            barcode: payload,
            relevant_date: Some(segment.departure.time.to_rfc3339_opts(SecondsFormat::Secs, false)),
            // The departure airport, from the reference data every node embeds.
            location: tessera_core::reference::airport(segment.departure.airport.as_str())
                .map(|a| (a.location.latitude(), a.location.longitude())),
            header: vec![PassField::new("flight", "FLIGHT", flight_no.clone())],
            primary: vec![
                PassField::new("origin", segment.departure.city.as_str(), segment.departure.airport.as_str()),
                PassField::new("destination", segment.arrival.city.as_str(), segment.arrival.airport.as_str()),
            ],
            secondary: vec![
                PassField::new("passenger", "PASSENGER", passenger.map(|p| p.ticket_name()).unwrap_or_default()),
                PassField::new("departs", "DEPARTS", segment.departure.time.format("%d %b %H:%M").to_string()),
            ],
            auxiliary: vec![
                PassField::new("class", "CLASS", segment.booking_class.clone()),
                PassField::new("terminal", "TERMINAL", segment.departure.terminal.clone()),
                PassField::new("pnr", "BOOKING", flight.pnr.to_string()),
            ],
            back: vec![
                PassField::new("ticket", "E-ticket", number.dashed()),
                PassField::new("agency", "Issued by", agency.name.clone()),
            ],
        };
        let departure = segment.departure.time.naive_local().format("%Y-%m-%dT%H:%M:%S").to_string();
        let google = json!({
            "kind": "flight",
            "class": {
                "id": google_id(&format!("flight-{flight_no}-{}", segment.departure.time.format("%Y%m%d"))),
                "issuerName": flight.validating_carrier_name,
                "reviewStatus": "UNDER_REVIEW",
                "localScheduledDepartureDateTime": departure,
                "flightHeader": {
                    "carrier": {"carrierIataCode": segment.carrier.as_str()},
                    "flightNumber": segment.flight_number,
                },
                "origin": {"airportIataCode": segment.departure.airport.as_str(), "terminal": segment.departure.terminal},
                "destination": {"airportIataCode": segment.arrival.airport.as_str(), "terminal": segment.arrival.terminal},
            },
            "object": {
                "id": google_id(&format!("{}-{coupon}", number.compact())),
                "state": "ACTIVE",
                "passengerName": passenger.map(|p| p.ticket_name()).unwrap_or_default(),
                "reservationInfo": {"confirmationCode": flight.pnr.to_string(), "eTicketNumber": number.compact()},
                "barcode": {"type": "QR_CODE", "value": view.barcode},
            },
        });
        Ok((view, google))
    }
}

/// A Google Wallet id part: only `A-Z a-z 0-9 . _ -`; the issuer id is put in front when the link is signed.
fn google_id(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect()
}

fn seat_part(seat: &Option<Seat>, part: impl Fn(&Seat) -> &Option<String>) -> String {
    seat.as_ref().and_then(|s| part(s).clone()).unwrap_or_default()
}

async fn render(view: PassView, signer: Arc<WalletSigner>, filename: String) -> Result<WalletPass, AppError> {
    let bytes = tokio::task::spawn_blocking(move || render_pkpass(&view, &signer))
        .await
        .map_err(|e| AppError::Internal(format!("pass task: {e}")))??;
    Ok(WalletPass { filename, bytes })
}

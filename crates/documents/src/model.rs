//! What a document shows, already formatted for people.
//!
//! The renderer stays dumb: the application layer turns domain objects into these views (dates, amounts and
//! durations as display strings, in the view's language), so the same PDF code serves every profile and never
//! re-derives business facts. The renderer prints its own labels in `lang`.

use crate::i18n::Lang;

/// The issuing agency, as printed in every document header.
#[derive(Debug, Clone, Default)]
pub struct AgencyView {
    pub name: String,
    pub office_id: String,
    pub iata_number: String,
}

/// One flight coupon / itinerary line.
#[derive(Debug, Clone, Default)]
pub struct SegmentView {
    pub coupon_number: u32,
    /// e.g. `QR 653`
    pub flight: String,
    pub carrier_name: String,
    pub equipment: String,
    /// e.g. `KTM`
    pub from_code: String,
    /// e.g. `Tribhuvan International Airport, Kathmandu`
    pub from_name: String,
    pub from_terminal: String,
    pub to_code: String,
    pub to_name: String,
    pub to_terminal: String,
    /// Local departure, e.g. `Thu 22 Jul 2027 10:10`
    pub departure_local: String,
    pub arrival_local: String,
    /// Elapsed time across time zones, e.g. `5h 00m`
    pub duration: String,
    pub booking_class: String,
    pub fare_basis: String,
    /// e.g. `7 Kg cabin, 30 Kg checked`
    pub baggage: String,
    /// Coupon status code, e.g. `O` (open), `F` (flown), `V`, `R`, `E`
    pub status: String,
    pub airline_confirmation: String,
    /// The signed gate payload of this coupon (`TG1.…`), drawn as its QR code under "Gate codes"; empty for a
    /// coupon that admits nobody (flown, void, refunded, exchanged, or a ticket no longer open).
    pub gate_code: String,
    /// Under the coupon's QR code, e.g. `22 Jul 2027 · KTM–DOH`.
    pub gate_caption: String,
}

/// A connection between two segments of a journey, e.g. `Layover in Dubai 3h 20m`.
#[derive(Debug, Clone, Default)]
pub struct JourneyView {
    /// e.g. `Outbound`, `Return`, `Journey 2`
    pub title: String,
    /// e.g. `Total travel time 10h 05m`
    pub summary: String,
    pub segments: Vec<SegmentView>,
    /// One entry per gap between consecutive segments (len = segments.len() - 1).
    pub layovers: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct TaxLine {
    pub code: String,
    /// e.g. `4,893.00`
    pub amount: String,
}

#[derive(Debug, Clone, Default)]
pub struct FareView {
    pub currency: String,
    pub base: String,
    pub taxes: Vec<TaxLine>,
    pub total: String,
    pub form_of_payment: String,
}

/// A paid service (EMD) attached to the passenger, shown on the itinerary receipt.
#[derive(Debug, Clone, Default)]
pub struct ServiceView {
    pub document_number: String,
    pub description: String,
    pub amount: String,
}

/// One passenger's flight e-ticket / itinerary receipt.
#[derive(Debug, Clone, Default)]
pub struct FlightTicketView {
    /// The language of the labels (the values above come already written in it).
    pub lang: Lang,
    pub agency: AgencyView,
    /// e.g. `14 Feb 2023`
    pub issue_date: String,
    pub pnr: String,
    /// e.g. `MAHARJAN/RABI MR` — may carry diacritics (Nguyễn), which must render.
    pub passenger_name: String,
    /// `ADT`, `CHD`, `INF`
    pub passenger_type: String,
    /// e.g. `157-6752209683`
    pub ticket_number: String,
    /// Validating carrier, e.g. `Qatar Airways (QR)`
    pub validating_carrier: String,
    /// e.g. `OPEN`, `VOID`
    pub status: String,
    pub journeys: Vec<JourneyView>,
    pub fare: FareView,
    pub services: Vec<ServiceView>,
    pub endorsement: String,
    /// Extra lines printed under "Ticket details" (tour code, corporate code, booker code, ...).
    pub remarks: Vec<String>,
    /// A QR code in the header; empty for none. An e-ticket leaves it empty: its coupons carry their own signed
    /// codes ([`SegmentView::gate_code`]), and a second, unsigned code on the page would only mislead a scanner.
    pub qr_payload: String,
    /// When set, a large diagonal mark over the page (e.g. `VOID`).
    pub watermark: Option<String>,
    /// Printed across the page when the ticket no longer stands as issued, e.g. `VOID`, `REFUNDED`,
    /// `EXCHANGED`, `USED`, `REFUND PENDING`: a red stamp under the header of its first page (and the
    /// mark in the heading of continuation pages). `None` renders exactly as a ticket without it.
    pub status_mark: Option<String>,
}

/// A paid-service document (EMD) receipt.
#[derive(Debug, Clone, Default)]
pub struct EmdView {
    /// The language of the labels (the values above come already written in it).
    pub lang: Lang,
    pub agency: AgencyView,
    pub issue_date: String,
    pub pnr: String,
    pub passenger_name: String,
    pub document_number: String,
    pub related_ticket: String,
    pub service_type: String,
    pub service_code: String,
    pub description: String,
    pub fare: FareView,
    pub qr_payload: String,
    pub watermark: Option<String>,
    /// Printed across the page when the ticket no longer stands as issued, e.g. `VOID`, `REFUNDED`,
    /// `EXCHANGED`, `USED`, `REFUND PENDING`: a red stamp under the header of its first page (and the
    /// mark in the heading of continuation pages). `None` renders exactly as a ticket without it.
    pub status_mark: Option<String>,
}

/// One event ticket (one PDF of an order item; a multi-day pass has one per day).
#[derive(Debug, Clone, Default)]
pub struct EventTicketView {
    /// The language of the labels (the values above come already written in it).
    pub lang: Lang,
    pub agency: AgencyView,
    pub event_name: String,
    pub venue: String,
    /// Local start, e.g. `Tue 02 Mar 2027 20:00 (UTC+00:00)`
    pub starts: String,
    /// Local end, may be empty
    pub ends: String,
    /// The ticket holder, e.g. `Ömer Çelik`; may be empty (then print "—" or leave the line out)
    pub holder: String,
    pub ticket_name: String,
    pub category: String,
    pub section: String,
    pub row: String,
    pub seat: String,
    pub booking_code: String,
    pub order_id: String,
    pub order_item_id: String,
    /// Which PDF of the ticket this is, e.g. `Day 1 of 3 — Fri 27 Aug 2027`; empty for single-PDF tickets
    pub label: String,
    /// e.g. `EUR 189.00`
    pub price: String,
    /// The QR code payload: a secret a gate verifies. Print it in small text under the QR too.
    pub qr_payload: String,
    /// When set, a large diagonal mark over the page (e.g. `VOID`, `CANCELLED`).
    pub watermark: Option<String>,
    /// Printed across the page when the ticket no longer stands as issued, e.g. `VOID`, `REFUNDED`,
    /// `EXCHANGED`, `USED`, `REFUND PENDING`: a red stamp under the header of its first page (and the
    /// mark in the heading of continuation pages). `None` renders exactly as a ticket without it.
    pub status_mark: Option<String>,
}

/// The seller or the buyer of an invoice.
#[derive(Debug, Clone, Default)]
pub struct PartyView {
    pub name: String,
    /// address lines, VAT/office ids, e-mail …
    pub lines: Vec<String>,
}

/// One line of an invoice, amounts already formatted (without currency).
#[derive(Debug, Clone, Default)]
pub struct InvoiceLineView {
    pub description: String,
    pub quantity: String,
    pub unit_price: String,
    /// e.g. `21%`
    pub vat_rate: String,
    pub net: String,
    pub vat: String,
    pub gross: String,
}

/// An invoice or a credit invoice.
#[derive(Debug, Clone, Default)]
pub struct InvoiceView {
    /// The language of the labels (the values above come already written in it).
    pub lang: Lang,
    /// `Invoice` or `Credit invoice`
    pub title: String,
    pub number: String,
    pub issue_date: String,
    /// For a credit invoice, the number of the invoice it credits; else empty
    pub credits_number: String,
    pub seller: PartyView,
    pub buyer: PartyView,
    /// The buyer's reference (purchase order), may be empty
    pub reference: String,
    pub order_id: String,
    pub booking_code: String,
    /// e.g. `Liverpool FC vs Arsenal — Anfield, Liverpool, Tue 02 Mar 2027 20:00`
    pub event: String,
    pub currency: String,
    pub lines: Vec<InvoiceLineView>,
    pub net_total: String,
    pub vat_total: String,
    pub gross_total: String,
    /// Free lines printed at the bottom (e.g. "Prices include VAT.")
    pub notes: Vec<String>,
}

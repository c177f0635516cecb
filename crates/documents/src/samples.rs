//! Realistic example views, used by the tests, the render benchmark and anyone who needs a preview PDF
//! without a database (e.g. an admin "preview ticket layout" page).

use crate::model::*;

fn agency() -> AgencyView {
    AgencyView {
        name: "Himalayan Wings Travel & Tours Pvt. Ltd.".to_owned(),
        office_id: "KTMNP2100".to_owned(),
        iata_number: "35312345".to_owned(),
    }
}

fn fare() -> FareView {
    FareView {
        currency: "NPR".to_owned(),
        base: "98,560.00".to_owned(),
        taxes: vec![
            TaxLine { code: "YQ".to_owned(), amount: "4,893.00".to_owned() },
            TaxLine { code: "NP".to_owned(), amount: "1,130.00".to_owned() },
            TaxLine { code: "OI".to_owned(), amount: "565.00".to_owned() },
            TaxLine { code: "G4".to_owned(), amount: "1,250.00".to_owned() },
            TaxLine { code: "ZR".to_owned(), amount: "2,012.00".to_owned() },
        ],
        total: "108,410.00".to_owned(),
        form_of_payment: "Cash".to_owned(),
    }
}

#[allow(clippy::too_many_arguments)]
fn segment(
    coupon: u32,
    flight: &str,
    from: (&str, &str, &str),
    to: (&str, &str, &str),
    departure: &str,
    arrival: &str,
    duration: &str,
    confirmation: &str,
) -> SegmentView {
    SegmentView {
        coupon_number: coupon,
        flight: flight.to_owned(),
        carrier_name: "Qatar Airways".to_owned(),
        equipment: "Boeing 787-8".to_owned(),
        from_code: from.0.to_owned(),
        from_name: from.1.to_owned(),
        from_terminal: from.2.to_owned(),
        to_code: to.0.to_owned(),
        to_name: to.1.to_owned(),
        to_terminal: to.2.to_owned(),
        departure_local: departure.to_owned(),
        arrival_local: arrival.to_owned(),
        duration: duration.to_owned(),
        booking_class: "Y".to_owned(),
        fare_basis: "YLR1R1NP".to_owned(),
        baggage: "7 Kg cabin, 30 Kg checked".to_owned(),
        status: "O".to_owned(),
        airline_confirmation: confirmation.to_owned(),
    }
}

const KTM: (&str, &str, &str) = ("KTM", "Tribhuvan International Airport, Kathmandu", "I");
const DOH: (&str, &str, &str) = ("DOH", "Hamad International Airport, Doha", "");
const CDG: (&str, &str, &str) = ("CDG", "Paris Charles de Gaulle Airport, Paris", "1");

/// A two-journey round trip (the outbound with a connection in Doha), taxes and one EMD service; the
/// passenger name carries Vietnamese diacritics.
pub fn flight_ticket() -> FlightTicketView {
    FlightTicketView {
        agency: agency(),
        issue_date: "14 Feb 2027".to_owned(),
        pnr: "X7K2PQ".to_owned(),
        passenger_name: "NGUYỄN/VĂN A MR".to_owned(),
        passenger_type: "ADT".to_owned(),
        ticket_number: "157-6752209683".to_owned(),
        validating_carrier: "Qatar Airways (QR)".to_owned(),
        status: "OPEN".to_owned(),
        journeys: vec![
            JourneyView {
                title: "Outbound · Kathmandu to Paris".to_owned(),
                summary: "Total travel time 16h 35m · 1 stop".to_owned(),
                segments: vec![
                    segment(
                        1,
                        "QR 653",
                        KTM,
                        DOH,
                        "Thu 22 Jul 2027 10:10",
                        "Thu 22 Jul 2027 13:25",
                        "5h 00m",
                        "QR7HJK2",
                    ),
                    segment(
                        2,
                        "QR 39",
                        DOH,
                        CDG,
                        "Thu 22 Jul 2027 16:45",
                        "Thu 22 Jul 2027 22:00",
                        "7h 15m",
                        "QR7HJK2",
                    ),
                ],
                layovers: vec!["Layover in Doha 3h 20m".to_owned()],
            },
            JourneyView {
                title: "Return · Paris to Kathmandu".to_owned(),
                summary: "Total travel time 6h 40m · Nonstop".to_owned(),
                segments: vec![segment(
                    3,
                    "QR 40",
                    CDG,
                    KTM,
                    "Sun 08 Aug 2027 09:05",
                    "Sun 08 Aug 2027 21:30",
                    "6h 40m",
                    "QR7HJK2",
                )],
                layovers: vec![],
            },
        ],
        fare: fare(),
        services: vec![ServiceView {
            document_number: "157-2400012345".to_owned(),
            description: "Prepaid extra baggage 10 Kg (KTM–CDG)".to_owned(),
            amount: "NPR 6,500.00".to_owned(),
        }],
        endorsement: "NON-ENDORSABLE. CHANGE FEE APPLIES. REFUNDABLE WITH PENALTY. VALID ON QR ONLY.".to_owned(),
        remarks: vec!["Tour code: HWT27SUMMER   ·   Corporate code: NPGOV-114".to_owned()],
        qr_payload: "157-6752209683".to_owned(),
        watermark: None,
    }
}

/// [`flight_ticket`] with `segments` one-way segments in a single journey, for pagination tests.
pub fn flight_ticket_with_segments(segments: usize) -> FlightTicketView {
    let mut view = flight_ticket();
    let mut journey = JourneyView {
        title: "Round the world".to_owned(),
        summary: format!("{segments} flights"),
        ..JourneyView::default()
    };
    for i in 0..segments {
        let (from, to) = if i % 2 == 0 { (KTM, DOH) } else { (DOH, KTM) };
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        journey.segments.push(segment(
            n,
            &format!("QR {}", 600 + i),
            from,
            to,
            "Mon 02 Aug 2027 10:10",
            "Mon 02 Aug 2027 13:25",
            "5h 00m",
            "QR7HJK2",
        ));
        if i + 1 < segments {
            journey.layovers.push(format!("Layover {} 2h 10m", i + 1));
        }
    }
    view.journeys = vec![journey];
    view
}

/// An EMD receipt for prepaid extra baggage.
pub fn emd() -> EmdView {
    EmdView {
        agency: agency(),
        issue_date: "14 Feb 2027".to_owned(),
        pnr: "X7K2PQ".to_owned(),
        passenger_name: "ÇELİK/ÖMER MR".to_owned(),
        document_number: "157-2400012345".to_owned(),
        related_ticket: "157-6752209683".to_owned(),
        service_type: "EMD-A (associated)".to_owned(),
        service_code: "0C3 · Prepaid baggage".to_owned(),
        description: "Prepaid extra checked baggage, one piece up to 10 Kg, Kathmandu (KTM) to Paris (CDG) via \
                      Doha, valid on the flights of the related ticket only."
            .to_owned(),
        fare: FareView {
            currency: "NPR".to_owned(),
            base: "6,500.00".to_owned(),
            taxes: vec![],
            total: "6,500.00".to_owned(),
            form_of_payment: "Credit card VI ************4242".to_owned(),
        },
        qr_payload: "157-2400012345".to_owned(),
        watermark: None,
    }
}

//! Realistic example views for the tests, the render benchmark and the `samples` example, which render them
//! without a database. Behind the `samples` feature, so production builds do not carry them.

use crate::i18n::Lang;
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
        gate_code: gate_code(coupon, flight),
        gate_caption: format!("{} · {}–{}", &departure[4..15], from.0, to.0),
    }
}

/// A gate payload shaped as the real ones (`TG1.<kid>.F<ticket>-<coupon>.<flight>.<initials>.<window>.<86
/// signature characters>`), its signature pseudo-random so the QR code is as dense as a real one.
fn gate_code(coupon: u32, flight: &str) -> String {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ u64::from(coupon);
    let signature: String = (0..86)
        .map(|_| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            char::from(B64[(state >> 58) as usize])
        })
        .collect();
    let flight: String = flight.chars().filter(|c| !c.is_whitespace()).collect();
    format!("TG1.q2nZ3kPd.F1576752209683-{coupon}.{flight}.NVA.1802563200.1802736000.{signature}")
}

const KTM: (&str, &str, &str) = ("KTM", "Tribhuvan International Airport, Kathmandu", "I");
const DOH: (&str, &str, &str) = ("DOH", "Hamad International Airport, Doha", "");
const CDG: (&str, &str, &str) = ("CDG", "Paris Charles de Gaulle Airport, Paris", "1");

/// A two-journey round trip (the outbound with a connection in Doha), taxes and one EMD service; the
/// passenger name carries Vietnamese diacritics.
pub fn flight_ticket() -> FlightTicketView {
    FlightTicketView {
        lang: Lang::En,
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
        qr_payload: String::new(),
        watermark: None,
        status_mark: None,
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
        lang: Lang::En,
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
        status_mark: None,
    }
}

/// A European agency selling event tickets, for the event ticket and invoice samples.
fn event_agency() -> AgencyView {
    AgencyView {
        name: "Orange Grid Travel B.V.".to_owned(),
        office_id: "HAANL2100".to_owned(),
        iata_number: String::new(),
    }
}

const EVENT_ORDER_ID: &str = "0f8e6c1b2a3d4e5f60718293a4b5c6d7_bkn";

/// Day 2 of a three-day Grand Prix pass with a grandstand seat; the holder's name carries Turkish diacritics.
pub fn event_ticket() -> EventTicketView {
    EventTicketView {
        lang: Lang::En,
        agency: event_agency(),
        event_name: "Formula 1 Dutch Grand Prix — 3-day pass".to_owned(),
        venue: "Circuit Zandvoort, Burgemeester van Alphenstraat 108, 2041 KP Zandvoort, Netherlands".to_owned(),
        starts: "Sat 28 Aug 2027 09:00 (UTC+02:00)".to_owned(),
        ends: "Sat 28 Aug 2027 18:30 (UTC+02:00)".to_owned(),
        holder: "Ömer Çelik".to_owned(),
        ticket_name: "Grandstand Hairpin 1".to_owned(),
        category: "Category 1".to_owned(),
        section: "Hairpin 1 · Block C".to_owned(),
        row: "12".to_owned(),
        seat: "27".to_owned(),
        booking_code: "EVT4QZ".to_owned(),
        order_id: EVENT_ORDER_ID.to_owned(),
        order_item_id: "3c9a2b7e5d1f4a6b8c0d2e4f6a8b0c1d_bkd".to_owned(),
        label: "Day 2 of 3 — Sat 28 Aug 2027".to_owned(),
        price: "EUR 489.00".to_owned(),
        qr_payload: "TSR1-3C9A2B7E-Q7XK2MP9VR4TW8YZBN3C".to_owned(),
        watermark: None,
        status_mark: None,
    }
}

fn invoice_line(description: &str, quantity: &str, unit_price: &str, amounts: [&str; 3]) -> InvoiceLineView {
    InvoiceLineView {
        description: description.to_owned(),
        quantity: quantity.to_owned(),
        unit_price: unit_price.to_owned(),
        vat_rate: "21%".to_owned(),
        net: amounts[0].to_owned(),
        vat: amounts[1].to_owned(),
        gross: amounts[2].to_owned(),
    }
}

/// An invoice for two Grand Prix passes, a hospitality upgrade and a booking fee, prices including 21% VAT.
pub fn invoice() -> InvoiceView {
    InvoiceView {
        lang: Lang::En,
        title: "Invoice".to_owned(),
        number: "OGT-2027-000482".to_owned(),
        issue_date: "14 Feb 2027".to_owned(),
        credits_number: String::new(),
        seller: PartyView {
            name: "Orange Grid Travel B.V.".to_owned(),
            lines: vec![
                "Stationsplein 12".to_owned(),
                "2011 LR Haarlem, Netherlands".to_owned(),
                "VAT NL859123456B01   ·   KvK 81234567".to_owned(),
                "invoices@orangegrid.example".to_owned(),
            ],
        },
        buyer: PartyView {
            name: "Ömer Çelik".to_owned(),
            lines: vec![
                "Bağdat Caddesi 221/4".to_owned(),
                "34728 Kadıköy, İstanbul, Türkiye".to_owned(),
                "omer.celik@example.com".to_owned(),
            ],
        },
        reference: "PO-2027-0815".to_owned(),
        order_id: EVENT_ORDER_ID.to_owned(),
        booking_code: "EVT4QZ".to_owned(),
        event: "Formula 1 Dutch Grand Prix — Circuit Zandvoort, Zandvoort, Fri 27 Aug – Sun 29 Aug 2027".to_owned(),
        currency: "EUR".to_owned(),
        lines: vec![
            invoice_line(
                "Formula 1 Dutch Grand Prix — 3-day pass, Grandstand Hairpin 1 (Category 1)",
                "2",
                "489.00",
                ["808.26", "169.74", "978.00"],
            ),
            invoice_line(
                "Paddock Club hospitality upgrade, Saturday 28 Aug 2027",
                "1",
                "350.00",
                ["289.26", "60.74", "350.00"],
            ),
            invoice_line("Booking fee", "1", "15.00", ["12.40", "2.60", "15.00"]),
        ],
        net_total: "1,109.92".to_owned(),
        vat_total: "233.08".to_owned(),
        gross_total: "1,343.00".to_owned(),
        notes: vec![
            "Prices include VAT.".to_owned(),
            "Paid in full by credit card on 14 Feb 2027. Thank you for your booking.".to_owned(),
        ],
    }
}

/// [`invoice`] with `lines` booking-fee lines, for pagination tests (totals are not recomputed).
pub fn invoice_with_lines(lines: usize) -> InvoiceView {
    let mut view = invoice();
    view.lines = (0..lines)
        .map(|i| invoice_line(&format!("Booking fee, ticket {}", i + 1), "1", "15.00", ["12.40", "2.60", "15.00"]))
        .collect();
    view
}

/// [`flight_ticket`] as the application writes it for a Vietnamese booking: labels in Vietnamese, dates
/// `22/07/2027`, amounts `41.893,00`, and a traveller whose name keeps its diacritics.
pub fn flight_ticket_vi() -> FlightTicketView {
    let mut view = flight_ticket();
    view.lang = Lang::Vi;
    view.issue_date = "14/02/2027".to_owned();
    view.passenger_name = "NGUYỄN/THỊ HƯƠNG MS".to_owned();
    for journey in &mut view.journeys {
        journey.summary = "Tổng thời gian di chuyển 16 giờ 35 phút".to_owned();
        for segment in &mut journey.segments {
            segment.departure_local = "T5, 22/07/2027 10:10".to_owned();
            segment.arrival_local = "T5, 22/07/2027 13:25".to_owned();
            segment.baggage = "7 Kg xách tay, 30 Kg ký gửi".to_owned();
        }
        journey.layovers = vec!["Nối chuyến tại Doha — 3 giờ 20 phút".to_owned(); journey.layovers.len()];
    }
    view.journeys[0].title = "Chiều đi".to_owned();
    view.journeys[1].title = "Chiều về".to_owned();
    view.fare.base = "1.234.567,00".to_owned();
    view.fare.total = "1.278.460,00".to_owned();
    view.fare.form_of_payment = "Tài khoản đại lý (tiền mặt)".to_owned();
    for service in &mut view.services {
        service.amount = "2.350.000 ₫".to_owned();
    }
    view
}

/// [`emd`] for a Vietnamese booking.
pub fn emd_vi() -> EmdView {
    let mut view = emd();
    view.lang = Lang::Vi;
    view.issue_date = "14/02/2027".to_owned();
    view.passenger_name = "NGUYỄN/THỊ HƯƠNG MS".to_owned();
    view.fare.base = "2.350.000".to_owned();
    view.fare.total = "2.350.000".to_owned();
    view.fare.currency = "VND".to_owned();
    view.fare.form_of_payment = "Tài khoản đại lý (tiền mặt)".to_owned();
    view
}

/// [`event_ticket`] for a Vietnamese booking.
pub fn event_ticket_vi() -> EventTicketView {
    let mut view = event_ticket();
    view.lang = Lang::Vi;
    view.starts = "T7, 28/08/2027 09:00 (UTC+02:00)".to_owned();
    view.ends = "T7, 28/08/2027 18:30 (UTC+02:00)".to_owned();
    view.holder = "Trần Thị Ánh Nguyệt".to_owned();
    view.price = "1.234.567,89 EUR".to_owned();
    view
}

/// [`invoice`] for a Vietnamese booking.
pub fn invoice_vi() -> InvoiceView {
    let mut view = invoice();
    view.lang = Lang::Vi;
    view.title = "Hóa đơn".to_owned();
    view.issue_date = "14/02/2027".to_owned();
    view.buyer.name = "Nguyễn Văn Đức".to_owned();
    for line in &mut view.lines {
        line.vat_rate = "10,5%".to_owned();
    }
    view.gross_total = "1.234.567,89".to_owned();
    view.notes = vec!["Giá đã bao gồm thuế GTGT.".to_owned()];
    view
}

//! Fuzz targets of the PDF renderer, with bolero: every document kind fed arbitrary booking data (any text in any
//! field — names in any script, empty or very long values, many segments, taxes and invoice lines). Under
//! `cargo test` each runs a bounded number of generated inputs and the committed corpus under `tests/__fuzz__/`;
//! `cargo +nightly bolero test -p tessera-documents --test fuzz <target> --engine libfuzzer -T 10min` runs one
//! coverage-guided (docs/fuzzing.md). A target fails on a panic, an error, a file that is not a PDF, or two renders
//! of the same data that differ (documents are a cache of the database: same data, same bytes).

use bolero::check;
use tessera_documents::model::{EventTicketView, FlightTicketView, InvoiceLineView, InvoiceView, TaxLine};
use tessera_documents::pdf;
use tessera_documents::samples;

/// Generated text for a document: which fields get it, and how many repeated parts (segments, lines) there are.
type Input = (Vec<String>, u8, bool);

/// Hands out the generated texts round-robin; an empty list leaves the sample as it is.
struct Texts<'a> {
    texts: &'a [String],
    next: usize,
}

impl Texts<'_> {
    fn fill(&mut self, fields: Vec<&mut String>) {
        for field in fields {
            if self.texts.is_empty() {
                return;
            }
            field.clone_from(&self.texts[self.next % self.texts.len()]);
            self.next += 1;
        }
    }
}

fn assert_pdf(render: impl Fn() -> Result<Vec<u8>, tessera_documents::DocumentError>) {
    let bytes = render().unwrap_or_else(|e| panic!("render failed: {e}"));
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    assert_eq!(render().ok(), Some(bytes), "two renders of the same data differ");
}

fn flight(input: &Input) -> FlightTicketView {
    let (texts, count, marks) = input;
    let mut view = samples::flight_ticket_with_segments(usize::from(*count % 12) + 1);
    let mut t = Texts { texts, next: 0 };
    let v = &mut view;
    t.fill(vec![&mut v.passenger_name, &mut v.pnr, &mut v.agency.name, &mut v.endorsement, &mut v.ticket_number]);
    for journey in &mut v.journeys {
        t.fill(vec![&mut journey.title, &mut journey.summary]);
        journey.layovers.iter_mut().for_each(|l| t.fill(vec![l]));
        for s in &mut journey.segments {
            t.fill(vec![&mut s.carrier_name, &mut s.from_name, &mut s.to_name, &mut s.equipment, &mut s.baggage]);
            t.fill(vec![&mut s.flight, &mut s.departure_local, &mut s.from_terminal, &mut s.fare_basis]);
            t.fill(vec![&mut s.gate_caption]);
        }
    }
    v.fare.taxes.extend((0..*count % 20).map(|i| TaxLine { code: format!("T{i}"), amount: format!("{i}.00") }));
    v.fare.taxes.iter_mut().for_each(|tax| t.fill(vec![&mut tax.amount]));
    t.fill(vec![&mut v.fare.total, &mut v.fare.form_of_payment, &mut v.qr_payload]);
    v.remarks.extend(texts.iter().take(usize::from(*count % 8)).cloned());
    if *marks {
        v.watermark = texts.first().cloned();
        v.status_mark = texts.last().cloned();
    }
    view
}

/// The e-ticket and the itinerary of one or more passengers.
#[test]
fn flight_documents() {
    check!().with_type::<Input>().for_each(|input| {
        let view = flight(input);
        assert_pdf(|| pdf::render_flight_ticket(&view));
        let others = usize::from(input.1 % 4);
        let views: Vec<FlightTicketView> = std::iter::repeat_n(view.clone(), others + 1).collect();
        assert_pdf(|| pdf::render_flight_itinerary(&views));
    });
}

/// The EMD of a paid service.
#[test]
fn emd_documents() {
    check!().with_type::<Input>().for_each(|(texts, _, marks)| {
        let mut view = samples::emd();
        let mut t = Texts { texts, next: 0 };
        let v = &mut view;
        t.fill(vec![&mut v.passenger_name, &mut v.description, &mut v.service_type, &mut v.related_ticket]);
        t.fill(vec![&mut v.fare.base, &mut v.fare.total, &mut v.qr_payload, &mut v.agency.office_id]);
        if *marks {
            v.watermark = texts.first().cloned();
        }
        assert_pdf(|| pdf::render_emd(&view));
    });
}

/// An event ticket.
#[test]
fn event_documents() {
    check!().with_type::<Input>().for_each(|(texts, _, marks)| {
        let mut view: EventTicketView = samples::event_ticket();
        let mut t = Texts { texts, next: 0 };
        let v = &mut view;
        t.fill(vec![&mut v.event_name, &mut v.venue, &mut v.starts, &mut v.holder, &mut v.ticket_name]);
        t.fill(vec![&mut v.category, &mut v.section, &mut v.row, &mut v.seat, &mut v.label, &mut v.price]);
        t.fill(vec![&mut v.qr_payload, &mut v.booking_code]);
        if *marks {
            v.status_mark = texts.first().cloned();
        }
        assert_pdf(|| pdf::render_event_ticket(&view));
    });
}

/// An invoice or credit note with any number of lines.
#[test]
fn invoice_documents() {
    check!().with_type::<Input>().for_each(|(texts, count, _)| {
        let mut view: InvoiceView = samples::invoice_with_lines(usize::from(*count % 40) + 1);
        let mut t = Texts { texts, next: 0 };
        let v = &mut view;
        t.fill(vec![&mut v.title, &mut v.number, &mut v.seller.name, &mut v.buyer.name, &mut v.event]);
        v.buyer.lines.extend(texts.iter().take(3).cloned());
        v.lines.push(InvoiceLineView::default());
        for line in &mut v.lines {
            t.fill(vec![&mut line.description, &mut line.quantity, &mut line.gross]);
        }
        t.fill(vec![&mut v.net_total, &mut v.vat_total, &mut v.gross_total]);
        v.notes.extend(texts.iter().take(usize::from(*count % 5)).cloned());
        assert_pdf(|| pdf::render_invoice(&view));
    });
}

//! Writes sample PDFs to the system temp directory for visual review of the layout:
//! `cargo run -p tessera-documents --example samples`, then open `/tmp/tessera-sample*.pdf`
//! (or `pdftoppm -png -r 60` them).

use tessera_documents::{
    render_emd, render_event_ticket, render_flight_itinerary, render_flight_ticket, render_invoice, samples, TaxLine,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir();
    let write = |name: &str, bytes: Vec<u8>| std::fs::write(dir.join(name), bytes);

    let ticket = samples::flight_ticket();
    write("tessera-sample.pdf", render_flight_ticket(&ticket)?)?;

    let mut long = samples::flight_ticket_with_segments(12);
    long.watermark = Some("VOID".to_owned());
    long.status_mark = Some("VOID".to_owned());
    write("tessera-sample-long.pdf", render_flight_ticket(&long)?)?;

    write("tessera-sample-emd.pdf", render_emd(&samples::emd())?)?;
    let mut refunded = samples::emd();
    refunded.status_mark = Some("REFUNDED".to_owned());
    write("tessera-sample-emd-refunded.pdf", render_emd(&refunded)?)?;

    let event = samples::event_ticket();
    write("tessera-sample-event.pdf", render_event_ticket(&event)?)?;
    let mut cancelled = event;
    cancelled.watermark = Some("CANCELLED".to_owned());
    cancelled.status_mark = Some("REFUND PENDING".to_owned());
    cancelled.holder = String::new();
    cancelled.label = String::new();
    cancelled.section = String::new();
    cancelled.event_name = "Liverpool FC vs Arsenal — Premier League Matchday 27, a very long fixture name".repeat(2);
    write("tessera-sample-event-stress.pdf", render_event_ticket(&cancelled)?)?;

    write("tessera-sample-invoice.pdf", render_invoice(&samples::invoice())?)?;
    let mut credit = samples::invoice_with_lines(60);
    credit.title = "Credit invoice".to_owned();
    credit.credits_number = "OGT-2027-000482".to_owned();
    credit.number = "OGT-2027-000517".to_owned();
    write("tessera-sample-invoice-long.pdf", render_invoice(&credit)?)?;

    let mut stress = samples::flight_ticket();
    stress.watermark = Some("SPECIMEN".to_owned());
    stress.passenger_name = "WOLFESCHLEGELSTEINHAUSENBERGERDORFF/HUBERT BLAINE WOLFE MR".repeat(2);
    stress.agency.name = "An Extraordinarily Long Travel Agency Name That Would Never Fit".repeat(3);
    stress.journeys[0].segments[0].from_name = "Aéroport international ".repeat(20);
    stress.journeys[0].segments[0].baggage = "2 pieces of 23 Kg each plus one personal item".to_owned();
    stress.journeys[0].summary = "Total travel time 16h 35m · 1 stop · operated by a partner airline".repeat(3);
    stress.endorsement = "VALID ON QR ONLY. ".repeat(40);
    stress.fare.taxes = (0..25).map(|i| TaxLine { code: format!("T{i}"), amount: format!("{i},000.00") }).collect();
    write("tessera-sample-stress.pdf", render_flight_ticket(&stress)?)?;

    let all = vec![ticket.clone(), long, ticket];
    write("tessera-sample-itinerary.pdf", render_flight_itinerary(&all)?)?;
    write("tessera-sample-vi.pdf", render_flight_ticket(&samples::flight_ticket_vi())?)?;
    write("tessera-sample-emd-vi.pdf", render_emd(&samples::emd_vi())?)?;
    write("tessera-sample-event-vi.pdf", render_event_ticket(&samples::event_ticket_vi())?)?;
    write("tessera-sample-invoice-vi.pdf", render_invoice(&samples::invoice_vi())?)?;
    eprintln!("samples written to {}", dir.display());
    Ok(())
}

//! Writes sample PDFs to the system temp directory for visual review of the layout:
//! `cargo run -p tessera-documents --example samples`, then open `/tmp/tessera-sample*.pdf`
//! (or `pdftoppm -png -r 60` them).

use tessera_documents::{render_emd, render_flight_itinerary, render_flight_ticket, samples, TaxLine};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir();
    let write = |name: &str, bytes: Vec<u8>| std::fs::write(dir.join(name), bytes);

    let ticket = samples::flight_ticket();
    write("tessera-sample.pdf", render_flight_ticket(&ticket)?)?;

    let mut long = samples::flight_ticket_with_segments(12);
    long.watermark = Some("VOID".to_owned());
    write("tessera-sample-long.pdf", render_flight_ticket(&long)?)?;

    write("tessera-sample-emd.pdf", render_emd(&samples::emd())?)?;

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
    eprintln!("samples written to {}", dir.display());
    Ok(())
}

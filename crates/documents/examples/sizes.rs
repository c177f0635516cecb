//! Prints the size of each document kind for one-passenger samples, and writes them to a directory for
//! inspection (`qpdf --qdf`, `pdffonts`): `cargo run --release -p tessera-documents --example sizes -- DIR`.
//! The "flight issuance" line is what one one-passenger flight issuance stores: e-ticket, itinerary, invoice.

use tessera_documents::{
    render_emd, render_event_ticket, render_flight_itinerary, render_flight_ticket, render_invoice, samples,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).map_or_else(std::env::temp_dir, Into::into);
    let ticket = samples::flight_ticket();
    let docs = [
        ("eticket", render_flight_ticket(&ticket)?),
        ("itinerary", render_flight_itinerary(std::slice::from_ref(&ticket))?),
        ("invoice", render_invoice(&samples::invoice())?),
        ("emd", render_emd(&samples::emd())?),
        ("event", render_event_ticket(&samples::event_ticket())?),
    ];
    for (name, bytes) in &docs {
        std::fs::write(dir.join(format!("{name}.pdf")), bytes)?;
        eprintln!("{name:<10} {:>7} bytes", bytes.len());
    }
    let issuance: usize = docs[..3].iter().map(|(_, b)| b.len()).sum();
    eprintln!("{:<10} {issuance:>7} bytes (e-ticket + itinerary + invoice)", "issuance");
    Ok(())
}

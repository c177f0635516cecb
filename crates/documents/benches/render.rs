//! Render-time benchmark: `cargo bench -p tessera-documents` prints the mean time and the size of one
//! single-passenger e-ticket PDF, with the font subset cache warm and cold (plus an EMD receipt and a
//! three-passenger itinerary for comparison), and of an event ticket and a three-line invoice.
//!
//! Besides wall time it prints the CPU time the thread spent on a render (from
//! `/proc/thread-self/schedstat`, Linux only), which stays meaningful when other processes share the cores.
//!
//! Every render starts with an empty memo of encoded QR codes, as a render of a new ticket does; the one exception
//! is the pair an issuance renders (its e-ticket, then its itinerary with the same codes), measured as a pair.

use std::hint::black_box;
use std::time::Instant;

use tessera_documents::{
    clear_qr_memo, render_emd, render_event_ticket, render_flight_itinerary, render_flight_ticket, render_invoice,
    samples, DocumentError,
};

fn measure(
    name: &str,
    iterations: u32,
    mut render: impl FnMut() -> Result<Vec<u8>, DocumentError>,
) -> Result<(), DocumentError> {
    // Warm-up: font parsing happens once per process and is not what we want to quote.
    let size = render()?.len();
    let cpu_start = thread_cpu_ns();
    let start = Instant::now();
    for _ in 0..iterations {
        black_box(render()?);
    }
    let mean = start.elapsed() / iterations;
    let cpu = match (cpu_start, thread_cpu_ns()) {
        (Some(a), Some(b)) => format!("{:>7.3} ms CPU", (b - a) as f64 / f64::from(iterations) / 1e6),
        _ => "CPU time n/a".to_owned(),
    };
    println!(
        "{name:<36} {:>8.3} ms/render  {cpu}  {size:>7} bytes  ({iterations} iterations)",
        mean.as_secs_f64() * 1e3
    );
    Ok(())
}

/// Nanoseconds this thread has run on a CPU so far.
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

fn main() -> Result<(), DocumentError> {
    let ticket = samples::flight_ticket();
    let emd = samples::emd();
    let passengers = vec![ticket.clone(), ticket.clone(), ticket.clone()];
    let event = samples::event_ticket();
    let invoice = samples::invoice();

    let start = Instant::now();
    render_flight_ticket(&ticket)?;
    println!("first render (includes font parsing)  {:>8.3} ms", start.elapsed().as_secs_f64() * 1e3);

    measure("e-ticket, 1 passenger, 3 segments", 2000, || {
        clear_qr_memo();
        render_flight_ticket(black_box(&ticket))
    })?;
    // What a one-passenger issuance renders for its traveller: the e-ticket, then the itinerary printing the
    // same gate codes (the EMD and invoice aside).
    measure("issuance: e-ticket + itinerary, 1 pax", 1000, || {
        clear_qr_memo();
        render_flight_ticket(black_box(&ticket))?;
        render_flight_itinerary(std::slice::from_ref(black_box(&ticket)))
    })?;
    measure("  same, each code encoded twice", 1000, || {
        clear_qr_memo();
        render_flight_ticket(black_box(&ticket))?;
        clear_qr_memo();
        render_flight_itinerary(std::slice::from_ref(black_box(&ticket)))
    })?;

    // A different extra letter in every name gives every render a new glyph set, so the font subset
    // cache never hits: the cost of a ticket whose characters were not seen recently.
    let mut uncached = ticket.clone();
    let mut n = 0u32;
    measure("  same, font subset not cached", 2000, || {
        n += 1;
        let letter = char::from_u32(0x100 + n % 0x80).unwrap_or('A');
        uncached.passenger_name = format!("NGUYỄN/VĂN {letter} MR");
        clear_qr_memo();
        render_flight_ticket(black_box(&uncached))
    })?;
    measure("EMD receipt", 2000, || render_emd(black_box(&emd)))?;
    measure("itinerary, 3 passengers", 500, || {
        clear_qr_memo();
        render_flight_itinerary(black_box(&passengers))
    })?;
    measure("event ticket", 2000, || {
        clear_qr_memo();
        render_event_ticket(black_box(&event))
    })?;
    let mut uncached_event = event.clone();
    let mut n = 0u32;
    measure("  same, font subset not cached", 2000, || {
        n += 1;
        let letter = char::from_u32(0x100 + n % 0x80).unwrap_or('A');
        uncached_event.holder = format!("Ömer {letter} Çelik");
        clear_qr_memo();
        render_event_ticket(black_box(&uncached_event))
    })?;
    measure("invoice, 3 lines", 2000, || render_invoice(black_box(&invoice)))?;

    // The same documents in Vietnamese: labels come from the Fluent catalogs, formatted once per process.
    let ticket_vi = samples::flight_ticket_vi();
    measure("e-ticket in Vietnamese", 2000, || {
        clear_qr_memo();
        render_flight_ticket(black_box(&ticket_vi))
    })?;
    let event_vi = samples::event_ticket_vi();
    measure("event ticket in Vietnamese", 2000, || {
        clear_qr_memo();
        render_event_ticket(black_box(&event_vi))
    })?;
    let invoice_vi = samples::invoice_vi();
    measure("invoice in Vietnamese", 2000, || render_invoice(black_box(&invoice_vi)))?;
    Ok(())
}

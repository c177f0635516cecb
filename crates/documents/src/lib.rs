#![forbid(unsafe_code)]
//! Tessera's document layer: renders tickets, receipts and invoices to PDF, bundles them into zip files and keeps
//! them in an object store, addressed by validated keys and fingerprinted with SHA-256.

pub mod bundle;
pub mod error;
pub mod hash;
pub mod i18n;
pub mod model;
pub mod pdf;
#[cfg(feature = "samples")]
pub mod samples;
pub mod store;
pub mod wallet;

pub use bundle::zip_bundle;
pub use error::DocumentError;
pub use hash::sha256_hex;
pub use i18n::Lang;
pub use model::{
    AgencyView, EmdView, EventTicketView, FareView, FlightTicketView, InvoiceLineView, InvoiceView, JourneyView,
    PartyView, SegmentView, ServiceView, TaxLine,
};
#[doc(hidden)]
pub use pdf::clear_qr_memo;
pub use pdf::{render_emd, render_event_ticket, render_flight_itinerary, render_flight_ticket, render_invoice};
pub use store::{DocumentKey, DocumentStore, StoredDocument};

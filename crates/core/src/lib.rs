//! Tessera's domain: bookings, tickets, money and the rules of issuing them.
//!
//! Pure Rust with no I/O: no HTTP, no SQL, and no clock or randomness it is not handed. Every other crate
//! translates to and from these types.
#![forbid(unsafe_code)]

pub mod agency;
pub mod booking;
pub mod codes;
pub mod gate;
pub mod geo;
pub mod ids;
pub mod intake;
pub mod invoice;
pub mod issuance;
pub mod language;
pub mod ledger;
pub mod lifecycle;
pub mod money;
pub mod orders;
pub mod reference;
pub mod search;
pub mod ticket;
pub mod user;
pub mod webhook;

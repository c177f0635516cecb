//! The `tessera` binary's library: configuration, command line, wiring and the demo seed. Kept as a library
//! so the integration tests start exactly the server the binary runs.
#![forbid(unsafe_code)]

pub mod admin;
pub mod cli;
pub mod config;
pub mod demo;
pub mod import;
pub mod metrics;
pub mod server;
pub mod verify;

//! HTTP integration tests: a real server on a random port, over real HTTP, on SQLite and on PostgreSQL.
//! Every test runs once per backend (`<module>::sqlite::<test>` and `<module>::postgres::<test>`).

#[macro_use]
mod helpers;

mod admin;
mod agent;
mod auth;
mod bookings;
#[path = "../support/browser.rs"]
mod browser;
mod cache;
mod concurrency;
mod documents;
mod edge;
mod events;
mod gate;
mod gds;
mod group;
mod i18n;
mod idempotency;
mod issuance;
mod ledger_randomized;
mod lifecycle;
mod lifecycle_events;
mod limits;
#[path = "../support/moto.rs"]
mod moto;
mod object_store;
mod portal;
mod smtp;
mod snapshots;
mod wallet;
#[path = "../support/webhook_receiver.rs"]
mod webhook_receiver;
mod webhooks;

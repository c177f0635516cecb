//! Seeding through the public API: agencies with a large balance and a carrier agreement, an agent and an API key
//! per agency, and bookings made from the examples with unique PNRs / booking codes.

use std::sync::Arc;

use anyhow::{bail, Context};
use serde_json::{json, Value};

use crate::server::AdminCli;

/// The intake examples the bookings are made from (the same files the demo and the tests use).
const FLIGHT: &str = include_str!("../../examples/bookings/flight-oneway.json");
const EVENT: &str = include_str!("../../examples/bookings/event.json");

/// Large enough that no run can exhaust it (41,893 NPR per flight issuance × 10⁶ issuances ≈ 4.2·10¹⁰).
pub const BALANCE: &str = "1000000000000";

/// A small JSON client for setup and invariant reads (not measured).
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub admin_key: Arc<str>,
    client: reqwest::Client,
}

impl Api {
    pub fn new(base: &str, admin_key: &str) -> anyhow::Result<Self> {
        Ok(Self { base: base.to_owned(), admin_key: admin_key.into(), client: reqwest::Client::builder().build()? })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    async fn send(&self, rb: reqwest::RequestBuilder, what: &str) -> anyhow::Result<Value> {
        let resp = rb.send().await.with_context(|| what.to_owned())?;
        let status = resp.status();
        let text = resp.text().await?;
        if !status.is_success() {
            bail!("{what}: {status} {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn get(&self, key: &str, path: &str) -> anyhow::Result<Value> {
        self.send(self.client.get(self.url(path)).header("X-API-KEY", key), &format!("GET {path}")).await
    }

    pub async fn post(&self, key: &str, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.send(self.client.post(self.url(path)).header("X-API-KEY", key).json(body), &format!("POST {path}")).await
    }

    pub async fn put(&self, key: &str, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.send(self.client.put(self.url(path)).header("X-API-KEY", key).json(body), &format!("PUT {path}")).await
    }
}

/// A seeded agency and the API key of its agent.
#[derive(Clone)]
pub struct Agency {
    pub id: String,
    pub key: Arc<str>,
}

/// Creates `count` agencies in `currency` through the API, each authorized for the example's carrier (QR), with an
/// agent and an API key made by the CLI.
pub async fn agencies(api: &Api, admin: &AdminCli, count: usize, currency: &str) -> anyhow::Result<Vec<Agency>> {
    let mut out = Vec::with_capacity(count);
    for n in 0..count {
        let a = api
            .post(
                &api.admin_key,
                "/api/v1/agencies",
                &json!({"name": format!("Bench {n}"), "currency": currency, "balance": BALANCE}),
            )
            .await?;
        let id = a["id"].as_str().context("agency without id")?.to_owned();
        api.put(&api.admin_key, &format!("/api/v1/agencies/{id}/agreements/QR"), &json!({"authorized": true})).await?;
        let username = format!("bench-agent-{n}");
        admin.run(&[
            "create-user",
            "--username",
            &username,
            "--password",
            "bench-agent-password",
            "--role",
            "agent",
            "--agency",
            &id,
        ])?;
        let key_out = admin.run(&["create-api-key", "--username", &username])?;
        let key = key_out.split_whitespace().last().context("create-api-key printed nothing")?;
        out.push(Agency { id, key: key.into() });
    }
    Ok(out)
}

/// A unique valid PNR for booking `i` (5–8 characters A-Z0-9): `B` + 7 base-36 digits.
pub fn pnr(i: u64) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut s = vec![b'0'; 7];
    let mut n = i;
    for slot in s.iter_mut().rev() {
        *slot = DIGITS[(n % 36) as usize];
        n /= 36;
    }
    format!("B{}", String::from_utf8_lossy(&s))
}

/// Intake document of flight booking `i` (the one-way example, one adult, 41,893.00 NPR).
pub fn flight_booking(i: u64) -> anyhow::Result<Vec<u8>> {
    let mut doc: Value = serde_json::from_str(FLIGHT)?;
    let p = pnr(i);
    doc["pnr"] = json!(p);
    if let Some(journeys) = doc["journeys"].as_array_mut() {
        for j in journeys {
            j["airline_confirmation_code"] = json!(p);
        }
    }
    Ok(serde_json::to_vec(&doc)?)
}

/// Intake document of event booking `i` (the event example: two events, five tickets, seven PDFs, 5,227.50 EUR).
pub fn event_booking(i: u64) -> anyhow::Result<Vec<u8>> {
    let mut doc: Value = serde_json::from_str(EVENT)?;
    doc["booking_code"] = json!(format!("BENCH-{i}"));
    Ok(serde_json::to_vec(&doc)?)
}

/// The currency the event example is priced in.
pub const EVENT_CURRENCY: &str = "EUR";
/// The currency the flight example is priced in.
pub const FLIGHT_CURRENCY: &str = "NPR";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pnrs_are_valid_and_distinct() {
        let a = pnr(0);
        let b = pnr(36u64.pow(7) - 1);
        assert_eq!(a, "B0000000");
        assert_eq!(b, "BZZZZZZZ");
        assert_ne!(pnr(1), pnr(36));
        assert!(pnr(12345).bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
    }

    #[test]
    fn templates_parse_and_are_renamed() {
        let f: Value = serde_json::from_slice(&flight_booking(7).unwrap()).unwrap();
        assert_eq!(f["pnr"], "B0000007");
        let e: Value = serde_json::from_slice(&event_booking(7).unwrap()).unwrap();
        assert_eq!(e["booking_code"], "BENCH-7");
    }
}

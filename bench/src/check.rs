//! Invariants read back through the API after a run: money (ledger sum = balance, one debit per issuance, one credit
//! per void or refund), no booking issued twice, ticket numbers unique. A broken one fails the run.

use std::collections::{BTreeMap, HashSet};

use anyhow::{bail, ensure, Context};
use serde_json::Value;

use crate::seed::{Agency, Api};

/// What the run says happened, to compare with what the server stored.
#[derive(Default)]
pub struct Expect {
    /// Bookings created (seeding and measured intake).
    pub bookings: u64,
    /// Bodies of every 201 answer of an issue call (seeding and measured).
    pub issues: Vec<Value>,
    pub voids: u64,
    pub refunds: u64,
}

/// An amount string such as `-41893.00` in ten-thousandths, exactly.
fn units(s: &str) -> anyhow::Result<i128> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    ensure!(frac.len() <= 4, "amount `{s}` has more than 4 decimals");
    let v: i128 = format!("{int}{frac:0<4}").parse().with_context(|| format!("amount `{s}`"))?;
    Ok(if neg { -v } else { v })
}

/// Every booking of the server (admin view), by keyset paging.
async fn all_bookings(api: &Api) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/bookings?limit=200&cursor={c}"),
            None => "/api/v1/bookings?limit=200".to_owned(),
        };
        let page = api.get(&api.admin_key, &path).await?;
        out.extend(page["bookings"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return Ok(out),
        }
    }
}

/// Checks every invariant; the error names the first broken one.
pub async fn verify(api: &Api, agencies: &[Agency], expect: &Expect) -> anyhow::Result<()> {
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    let mut debited = HashSet::new();
    for a in agencies {
        let agency = api.get(&api.admin_key, &format!("/api/v1/agencies/{}", a.id)).await?;
        let balance = units(agency["balance"].as_str().context("agency without balance")?)?;
        let ledger = api.get(&api.admin_key, &format!("/api/v1/agencies/{}/ledger", a.id)).await?;
        let entries = ledger.as_array().context("ledger is not a list")?;
        let mut sum = 0i128;
        for e in entries {
            sum += units(e["amount"].as_str().context("entry without amount")?)?;
            let kind = e["kind"].as_str().unwrap_or("?").to_owned();
            if kind == "issuance_debit" {
                let reference = e["ticketReferenceID"].as_str().context("debit without ticketReferenceID")?;
                if !debited.insert(reference.to_owned()) {
                    bail!("issuance {reference} debited twice");
                }
            }
            *kinds.entry(kind).or_default() += 1;
        }
        if sum != balance {
            bail!("agency {}: ledger sums to {sum} but the balance is {balance} (1/10000 units)", a.id);
        }
        if let Some(last) = entries.last() {
            let after = units(last["balance_after"].as_str().context("entry without balance_after")?)?;
            ensure!(after == balance, "agency {}: last balance_after {after} ≠ balance {balance}", a.id);
        }
    }
    let count = |k: &str| kinds.get(k).copied().unwrap_or(0);
    let issued = expect.issues.len() as u64;
    ensure!(
        count("issuance_debit") == issued,
        "{} issuance debits for {issued} successful issues",
        count("issuance_debit")
    );
    ensure!(
        count("void_credit") == expect.voids,
        "{} void credits for {} successful voids",
        count("void_credit"),
        expect.voids
    );
    ensure!(
        count("refund_credit") == expect.refunds,
        "{} refund credits for {} successful refunds",
        count("refund_credit"),
        expect.refunds
    );

    check_issue_answers(&expect.issues, &debited)?;

    let bookings = all_bookings(api).await?;
    ensure!(
        bookings.len() as u64 == expect.bookings,
        "{} bookings stored for {} created",
        bookings.len(),
        expect.bookings
    );
    let not_confirmed = bookings.iter().filter(|b| b["status"] != "confirmed").count() as u64;
    ensure!(not_confirmed == issued, "{not_confirmed} bookings left `confirmed` for {issued} successful issues");
    Ok(())
}

/// Every issue answer's booking appears once, its issuance has a ledger debit, and no ticket number repeats.
fn check_issue_answers(issues: &[Value], debited: &HashSet<String>) -> anyhow::Result<()> {
    let mut numbers = HashSet::new();
    let mut bookings_issued = HashSet::new();
    for body in issues {
        let booking = body["booking_id"].as_str().context("issuance without booking_id")?;
        ensure!(bookings_issued.insert(booking.to_owned()), "booking {booking} was issued twice");
        let reference = body["ticketReferenceID"].as_str().context("issuance without ticketReferenceID")?;
        ensure!(debited.contains(reference), "issuance {reference} answered 201 but has no ledger debit");
        for t in body["tickets"].as_array().into_iter().flatten() {
            let n = t["number"].as_str().context("ticket without number")?;
            ensure!(numbers.insert(n.to_owned()), "ticket number {n} given out twice");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn issue(booking: &str, reference: &str, numbers: &[&str]) -> Value {
        let tickets: Vec<Value> = numbers.iter().map(|n| json!({"number": n})).collect();
        json!({"booking_id": booking, "ticketReferenceID": reference, "tickets": tickets})
    }

    #[test]
    fn issue_answers_catch_double_issue_duplicate_numbers_and_missing_debits() {
        let debited: HashSet<String> = ["r1", "r2"].iter().map(|s| s.to_string()).collect();
        let good = [issue("b1", "r1", &["157-1"]), issue("b2", "r2", &["157-2"])];
        assert!(check_issue_answers(&good, &debited).is_ok());
        let twice = [issue("b1", "r1", &["157-1"]), issue("b1", "r2", &["157-2"])];
        assert!(check_issue_answers(&twice, &debited).unwrap_err().to_string().contains("issued twice"));
        let dup = [issue("b1", "r1", &["157-1"]), issue("b2", "r2", &["157-1"])];
        assert!(check_issue_answers(&dup, &debited).unwrap_err().to_string().contains("given out twice"));
        let undebited = [issue("b3", "r3", &["157-3"])];
        assert!(check_issue_answers(&undebited, &debited).unwrap_err().to_string().contains("no ledger debit"));
    }

    #[test]
    fn amounts_are_exact() {
        assert_eq!(units("-41893.00").unwrap(), -418_930_000);
        assert_eq!(units("12").unwrap(), 120_000);
        assert_eq!(units("0.5").unwrap(), 5_000);
        assert!(units("1.23456").is_err());
    }
}

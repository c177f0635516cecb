//! The ledger stays the balance whatever happens: a randomized sequence of top-ups, issuances, voids, refunds,
//! exchanges and coupon uses (allowed and refused alike), checked after every step. The seed is fixed so a
//! failure reproduces; `TESSERA_LEDGER_SEED` picks another.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::lifecycle::{act, exchange_body, issued_round_trip};

/// A small xorshift generator: deterministic, and no dependency for a test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn minor(text: &str) -> i64 {
    let negative = text.starts_with('-');
    let (units, cents) = text.trim_start_matches('-').split_once('.').expect("two decimals");
    let value: i64 = format!("{units}{cents}").parse().expect("decimal");
    if negative {
        -value
    } else {
        value
    }
}

/// Sum of the ledger = balance, each `balance_after` the running sum; returns the number of entries.
async fn check(app: &TestApp) -> usize {
    let ledger = app.ledger(&app.agency).await;
    let mut running = 0;
    for entry in &ledger {
        running += minor(entry["amount"].as_str().unwrap());
        assert_eq!(running, minor(entry["balance_after"].as_str().unwrap()), "balance_after at {entry}");
    }
    assert_eq!(running, minor(&app.balance(&app.agency).await), "the ledger sums to the balance");
    ledger.len()
}

async fn random_operations_keep_the_ledger_equal_to_the_balance(app: TestApp) {
    let seed = std::env::var("TESSERA_LEDGER_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x7e55_e7a1_u64);
    let mut rng = Rng(seed);
    let mut tickets: Vec<String> = Vec::new();
    let mut entries = check(&app).await;
    let mut pnrs = 0usize;
    for step in 0..36 {
        let op = if tickets.is_empty() { 0 } else { rng.below(7) };
        // How many ledger entries this step must add: one where money moved, none otherwise.
        let expected = match op {
            0 | 1 => {
                if op == 1 {
                    let res = app
                        .post(
                            &format!("/api/v1/agencies/{}/top-ups", app.agency.id),
                            &app.admin_token,
                            &json!({"amount": "100000.00"}),
                        )
                        .await;
                    assert_eq!(res.status(), StatusCode::CREATED, "top-up");
                } else {
                    pnrs += 1;
                    let pnr = format!("RND{:03}", pnrs);
                    let (tkt, emd) = issued_round_trip(&app, &pnr, rng.below(3) > 0).await;
                    tickets.extend([tkt, emd]);
                }
                1
            }
            _ => {
                let number = tickets[rng.below(tickets.len())].clone();
                let (path, body) = match op {
                    2 => ("void".to_owned(), json!({})),
                    3 => ("refund".to_owned(), json!({"penalty": rng.below(200)})),
                    4 | 5 => (format!("coupons/{}/use", 1 + rng.below(2)), json!({})),
                    _ => (
                        "exchange".to_owned(),
                        exchange_body("2027-09-01", 40_000 + 1_000 * rng.below(60) as i64, rng.below(3) as i64 * 500),
                    ),
                };
                let (status, answer): (StatusCode, Value) =
                    act(&app, &app.agent_token, &format!("/api/v1/tickets/{number}/{path}"), body).await;
                assert!(
                    [
                        StatusCode::OK,
                        StatusCode::CONFLICT,
                        StatusCode::NOT_FOUND,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        StatusCode::PAYMENT_REQUIRED
                    ]
                    .contains(&status),
                    "step {step} {path} on {number}: {status} {answer}"
                );
                if let Some(new) = answer["new_ticket"]["number"].as_str() {
                    tickets.push(new.to_owned());
                }
                usize::from(status == StatusCode::OK && !answer["ledger_entry"].is_null())
            }
        };
        let now = check(&app).await;
        assert_eq!(now, entries + expected, "step {step} (op {op}, seed {seed}) added the wrong number of entries");
        entries = now;
    }
}

both_backends!(random_operations_keep_the_ledger_equal_to_the_balance);

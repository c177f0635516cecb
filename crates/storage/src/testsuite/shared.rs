//! State every node shares: generated secrets and rate-limit buckets.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::{Database, RateDecision, RateQuota, SigningKeyRecord};

fn at(millis: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_800_000_000, 0).expect("a valid instant") + TimeDelta::milliseconds(millis)
}

fn signing_key(kid: &str, seed: &str, millis: i64) -> SigningKeyRecord {
    SigningKeyRecord { kid: kid.into(), seed: seed.into(), created_at: at(millis), retired_at: None }
}

checks! {
    async fn signing_keys_are_listed_oldest_first_and_retired_once(db: Arc<dyn Database>) {
        assert_eq!(db.signing_keys().await.expect("keys"), vec![], "a fresh database has no keys");
        db.add_signing_key(&signing_key("new", "seed-b", 2_000)).await.expect("add");
        db.add_signing_key(&signing_key("old", "seed-a", 1_000)).await.expect("add");
        db.add_signing_key(&signing_key("old", "another seed", 3_000)).await.expect("a known kid is left alone");
        let keys = db.signing_keys().await.expect("keys");
        assert_eq!(keys, vec![signing_key("old", "seed-a", 1_000), signing_key("new", "seed-b", 2_000)]);

        assert!(db.retire_signing_key("old", at(5_000)).await.expect("retire"));
        assert!(!db.retire_signing_key("old", at(6_000)).await.expect("retire"), "retired once");
        assert!(!db.retire_signing_key("nope", at(6_000)).await.expect("retire"), "no such key");
        let keys = db.signing_keys().await.expect("keys");
        assert_eq!(keys[0].retired_at, Some(at(5_000)), "the first retirement's time stays");
        assert_eq!(keys[1], signing_key("new", "seed-b", 2_000), "other keys are untouched");
        assert!(!format!("{:?}", keys[1]).contains("seed-b"), "Debug never shows a seed");
    }

    async fn shared_secret_keeps_the_first_candidate(db: Arc<dyn Database>) {
        let first = db.shared_secret("jwt", b"first candidate").await.expect("secret");
        assert_eq!(first, b"first candidate");
        let again = db.shared_secret("jwt", b"another node's candidate").await.expect("secret");
        assert_eq!(again, b"first candidate", "a later node gets the stored secret");
        assert_eq!(db.shared_secret("links", b"links").await.expect("secret"), b"links", "names are separate");
    }

    async fn shared_secret_races_settle_on_one_value(db: Arc<dyn Database>) {
        let mut tasks = Vec::new();
        for i in 0..8u8 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move { db.shared_secret("race", &[i; 32]).await.expect("secret") }));
        }
        let mut seen = Vec::new();
        for task in tasks {
            seen.push(task.await.expect("task"));
        }
        assert!(seen.windows(2).all(|w| w[0] == w[1]), "every racer reads the same secret: {seen:?}");
    }

    async fn rate_tokens_allow_a_burst_then_refuse_with_the_wait(db: Arc<dyn Database>) {
        // 10 a second (one per 100 ms), 3 at once.
        let quota = RateQuota::per_second(10, 3);
        for i in 0..3 {
            assert_eq!(db.take_rate_token("key", at(0), quota).await.expect("take"), RateDecision::Allowed, "{i}");
        }
        let refused = db.take_rate_token("key", at(0), quota).await.expect("take");
        assert_eq!(refused, RateDecision::Wait(Duration::from_millis(100)));
        // A refusal takes nothing: 40 ms later the wait is 60 ms.
        let refused = db.take_rate_token("key", at(40), quota).await.expect("take");
        assert_eq!(refused, RateDecision::Wait(Duration::from_millis(60)));
        assert_eq!(db.take_rate_token("key", at(100), quota).await.expect("take"), RateDecision::Allowed);
        assert!(matches!(db.take_rate_token("key", at(100), quota).await.expect("take"), RateDecision::Wait(_)));
        // Another key has its own bucket; an idle bucket fills up to the burst and no further.
        assert_eq!(db.take_rate_token("other", at(100), quota).await.expect("take"), RateDecision::Allowed);
        for i in 0..3 {
            let taken = db.take_rate_token("key", at(60_000), quota).await.expect("take");
            assert_eq!(taken, RateDecision::Allowed, "after a minute idle, {i}");
        }
        assert!(matches!(db.take_rate_token("key", at(60_000), quota).await.expect("take"), RateDecision::Wait(_)));
    }

    async fn rate_tokens_taken_concurrently_never_exceed_the_burst(db: Arc<dyn Database>) {
        let quota = RateQuota::per_second(1, 5);
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move { db.take_rate_token("busy", at(0), quota).await.expect("take") }));
        }
        let mut allowed = 0;
        for task in tasks {
            if task.await.expect("task") == RateDecision::Allowed {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 5, "exactly the burst passes, whatever the interleaving");
    }
}

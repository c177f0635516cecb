//! State every node shares: generated secrets and rate-limit buckets.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::{Database, RateDecision, RateQuota};

fn at(millis: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_800_000_000, 0).expect("a valid instant") + TimeDelta::milliseconds(millis)
}

checks! {
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

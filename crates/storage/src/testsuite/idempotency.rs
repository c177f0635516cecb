//! Idempotency keys: claims as leases, completion and replays, and the effect recorded in the transaction
//! that has it.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use tessera_core::user::Scope;

use super::data::*;
use super::sinks::*;
use crate::scripts::with_claim;
use crate::{ClaimMark, Database, IdempotencyClaim, StorageError};

fn mark(scope: &str, key: &str, token: &str) -> ClaimMark {
    ClaimMark { scope_key: scope.into(), key: key.into(), token: token.into() }
}

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000 + secs, 0).expect("instant")
}

const LEASE: TimeDelta = TimeDelta::seconds(30);

checks! {
    async fn idempotency_lifecycle(db: Arc<dyn Database>) {
        let db = &*db;
        let (scope, other_scope) = ("user:7f9c", "user:0a1b");
        let (key, hash, other_hash) = ("3f1e-idem", "sha256:aaaa", "sha256:bbbb");
        let claim = |scope: &'static str, key: &'static str, hash: &'static str, token: &'static str| async move {
            db.claim_idempotency(&mark(scope, key, token), hash, at(0), LEASE).await.expect("claim")
        };

        assert_eq!(claim(scope, key, hash, "t1").await, IdempotencyClaim::Claimed);
        assert_eq!(claim(scope, key, hash, "t2").await, IdempotencyClaim::InProgress { until: at(30) });
        assert_eq!(claim(scope, key, other_hash, "t2").await, IdempotencyClaim::Mismatch);
        assert_eq!(claim(other_scope, key, other_hash, "t3").await, IdempotencyClaim::Claimed, "keys are per scope");

        let body = br#"{"ticketReferenceID":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}"#;
        db.complete_idempotency(scope, key, 201, body).await.expect("complete");
        assert_eq!(claim(scope, key, hash, "t4").await, IdempotencyClaim::Completed { status: 201, body: body.to_vec() });
        assert_eq!(claim(scope, key, other_hash, "t4").await, IdempotencyClaim::Mismatch);

        // Only the holder releases: another token leaves the claim in place.
        db.release_idempotency(&mark(other_scope, key, "not-the-holder")).await.expect("release");
        assert_eq!(claim(other_scope, key, other_hash, "t5").await, IdempotencyClaim::InProgress { until: at(30) });
        // A released claim can be taken again, by any request.
        db.release_idempotency(&mark(other_scope, key, "t3")).await.expect("release");
        assert_eq!(claim(other_scope, key, hash, "t6").await, IdempotencyClaim::Claimed);
        db.release_idempotency(&mark(other_scope, "never-claimed", "t")).await.expect("releasing nothing is fine");

        // An empty body replays as empty.
        assert_eq!(claim(scope, "empty", hash, "t7").await, IdempotencyClaim::Claimed);
        db.complete_idempotency(scope, "empty", 204, b"").await.expect("complete");
        assert_eq!(claim(scope, "empty", hash, "t8").await, IdempotencyClaim::Completed { status: 204, body: Vec::new() });
    }

    async fn idempotency_expired_lease_is_taken_over_by_the_same_request_only(db: Arc<dyn Database>) {
        let db = &*db;
        let (scope, key, hash) = ("user:1", "stranded", "sha256:aaaa");
        let first = mark(scope, key, "first");
        assert_eq!(db.claim_idempotency(&first, hash, at(0), LEASE).await.expect("claim"), IdempotencyClaim::Claimed);

        // Live until the lease ends (exclusive), refused meanwhile.
        let second = mark(scope, key, "second");
        assert_eq!(
            db.claim_idempotency(&second, hash, at(29), LEASE).await.expect("claim"),
            IdempotencyClaim::InProgress { until: at(30) }
        );
        // Another request with the key is a mismatch even after the lease: the key names one request.
        assert_eq!(
            db.claim_idempotency(&second, "sha256:bbbb", at(31), LEASE).await.expect("claim"),
            IdempotencyClaim::Mismatch
        );
        // Ended: the same request takes it over, with a lease of its own.
        assert_eq!(db.claim_idempotency(&second, hash, at(30), LEASE).await.expect("claim"), IdempotencyClaim::Claimed);
        assert_eq!(
            db.claim_idempotency(&mark(scope, key, "third"), hash, at(31), LEASE).await.expect("claim"),
            IdempotencyClaim::InProgress { until: at(60) }
        );
        // The first holder lost it: it can no longer release it.
        db.release_idempotency(&first).await.expect("release");
        assert_eq!(
            db.claim_idempotency(&mark(scope, key, "third"), hash, at(31), LEASE).await.expect("claim"),
            IdempotencyClaim::InProgress { until: at(60) }
        );
        db.complete_idempotency(scope, key, 200, b"{}").await.expect("complete");
        assert_eq!(
            db.claim_idempotency(&mark(scope, key, "fourth"), hash, at(999), LEASE).await.expect("claim"),
            IdempotencyClaim::Completed { status: 200, body: b"{}".to_vec() }
        );
    }

    async fn idempotency_effect_commits_with_the_issuance(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        top_up(db, agency.id, 200_000).await;
        let (_, issuance) = booked(db, agency.id, None).await;
        let (scope, key, hash) = ("user:2", "issue-1", "sha256:issue");
        let holder = mark(scope, key, "holder");
        assert_eq!(db.claim_idempotency(&holder, hash, at(0), LEASE).await.expect("claim"), IdempotencyClaim::Claimed);

        // A failed issuance under the claim rolls back with its effect: nothing recorded, the claim is
        // reclaimable once the lease ends.
        let failed = with_claim(holder.clone(), db.issue(&issuance, Arc::new(FailingSink))).await;
        assert!(matches!(failed, Err(StorageError::Documents(_))), "got {failed:?}");
        assert_eq!(
            db.claim_idempotency(&mark(scope, key, "early"), hash, at(10), LEASE).await.expect("claim"),
            IdempotencyClaim::InProgress { until: at(30) }
        );
        let retry = mark(scope, key, "retry");
        assert_eq!(db.claim_idempotency(&retry, hash, at(30), LEASE).await.expect("claim"), IdempotencyClaim::Claimed);

        // The dead holder cannot record an effect any more: its issuance rolls back.
        let stale = with_claim(holder, db.issue(&issuance, Arc::new(RecordingSink::default()))).await;
        assert!(matches!(stale, Err(StorageError::ClaimLost)), "got {stale:?}");
        assert!(db.get_issuance(Scope::All, issuance.id).await.expect("get").is_none(), "rolled back");
        assert_eq!(balance(db, agency.id).await, 200_000);

        // The holder's issuance records its effect in its own transaction; the answer is never stored (a
        // crash after the commit): once the lease ends, the next copy is told what was done.
        with_claim(retry, db.issue(&issuance, Arc::new(RecordingSink::default()))).await.expect("issue");
        assert_eq!(
            db.claim_idempotency(&mark(scope, key, "during"), hash, at(40), LEASE).await.expect("claim"),
            IdempotencyClaim::InProgress { until: at(60) },
            "the holder may still be storing its answer"
        );
        let effect = serde_json::json!({ "issuance": issuance.id.to_string() }).to_string();
        assert_eq!(
            db.claim_idempotency(&mark(scope, key, "after"), hash, at(60), LEASE).await.expect("claim"),
            IdempotencyClaim::Done { effect }
        );
        // A claim with an effect is never released: it is answered from the effect.
        db.release_idempotency(&mark(scope, key, "retry")).await.expect("release");
        assert!(matches!(
            db.claim_idempotency(&mark(scope, key, "later"), hash, at(99), LEASE).await.expect("claim"),
            IdempotencyClaim::Done { .. }
        ));
        assert_eq!(
            db.claim_idempotency(&mark(scope, key, "later"), "sha256:other", at(99), LEASE).await.expect("claim"),
            IdempotencyClaim::Mismatch
        );
        // Writes outside any claim record nothing.
        top_up(db, agency.id, 1).await;
    }
}

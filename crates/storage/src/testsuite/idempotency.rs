//! Idempotency keys: claims, completion and replays.

use std::sync::Arc;

use crate::{Database, IdempotencyClaim};

checks! {
    async fn idempotency_lifecycle(db: Arc<dyn Database>) {
        let db = &*db;
        let (scope, other_scope) = ("user:7f9c", "user:0a1b");
        let (key, hash, other_hash) = ("3f1e-idem", "sha256:aaaa", "sha256:bbbb");

        assert_eq!(db.claim_idempotency(scope, key, hash).await.expect("claim"), IdempotencyClaim::Claimed);
        assert_eq!(db.claim_idempotency(scope, key, hash).await.expect("claim"), IdempotencyClaim::InProgress);
        assert_eq!(db.claim_idempotency(scope, key, other_hash).await.expect("claim"), IdempotencyClaim::Mismatch);
        assert_eq!(
            db.claim_idempotency(other_scope, key, other_hash).await.expect("claim"),
            IdempotencyClaim::Claimed,
            "keys are per scope"
        );

        let body = br#"{"ticketReferenceID":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}"#;
        db.complete_idempotency(scope, key, 201, body).await.expect("complete");
        assert_eq!(
            db.claim_idempotency(scope, key, hash).await.expect("claim"),
            IdempotencyClaim::Completed { status: 201, body: body.to_vec() }
        );
        assert_eq!(db.claim_idempotency(scope, key, other_hash).await.expect("claim"), IdempotencyClaim::Mismatch);

        // A released claim can be taken again, by any request.
        db.release_idempotency(other_scope, key).await.expect("release");
        assert_eq!(db.claim_idempotency(other_scope, key, hash).await.expect("claim"), IdempotencyClaim::Claimed);
        db.release_idempotency(other_scope, "never-claimed").await.expect("releasing nothing is fine");

        // An empty body replays as empty.
        assert_eq!(db.claim_idempotency(scope, "empty", hash).await.expect("claim"), IdempotencyClaim::Claimed);
        db.complete_idempotency(scope, "empty", 204, b"").await.expect("complete");
        assert_eq!(
            db.claim_idempotency(scope, "empty", hash).await.expect("claim"),
            IdempotencyClaim::Completed { status: 204, body: Vec::new() }
        );
    }
}

//! The e-mail outbox: enqueueing, claiming with a lease, marking sent or failed, and concurrent claims.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tessera_core::ids::{AgencyId, BookingId, MessageId, UserId};
use tessera_core::user::Scope;

use super::data::*;
use crate::{
    Database, MessageAttachment, MessageStatus, NewMessage, OutboxMessage, StorageError, MAX_MESSAGE_ERROR_CHARS,
};

/// The lease most outbox checks claim with.
fn lease() -> Duration {
    Duration::seconds(60)
}

/// A ticket e-mail for `agency`, created at `created_at`, with the e-ticket PDF attached.
fn new_message(agency: Option<AgencyId>, created_at: DateTime<Utc>) -> NewMessage {
    let id = MessageId::generate();
    NewMessage {
        id,
        agency_id: agency,
        booking_id: Some(BookingId::generate()),
        recipient: "ram.shrestha@example.com".into(),
        subject: format!("Your e-ticket {} – Kathmandu → London", unique(6)),
        text_body: "Namaste Ram,\n\nyour tickets are attached.\n".into(),
        html_body: "<p>Namaste Ram,</p><p>your tickets are attached.</p>".into(),
        attachments: vec![MessageAttachment {
            filename: "e-ticket-1572100000001.pdf".into(),
            storage_key: format!("documents/{id}.pdf"),
            sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
            content_type: "application/pdf".into(),
            owner: Some(crate::DocumentOwner::Issuance(tessera_core::ids::IssuanceId::generate())),
        }],
        created_at,
    }
}

async fn enqueue(db: &dyn Database, agency: Option<AgencyId>, created_at: DateTime<Utc>) -> NewMessage {
    let message = new_message(agency, created_at);
    db.enqueue_message(&message).await.expect("enqueue message");
    message
}

async fn message(db: &dyn Database, id: MessageId) -> OutboxMessage {
    db.get_message(id).await.expect("get message").expect("message exists")
}

fn ids(messages: &[OutboxMessage]) -> Vec<MessageId> {
    messages.iter().map(|m| m.id).collect()
}

fn assert_content_eq(found: &OutboxMessage, expected: &NewMessage) {
    assert_eq!(found.id, expected.id);
    assert_eq!(found.agency_id, expected.agency_id);
    assert_eq!(found.booking_id, expected.booking_id);
    assert_eq!(found.recipient, expected.recipient);
    assert_eq!(found.subject, expected.subject);
    assert_eq!(found.text_body, expected.text_body);
    assert_eq!(found.html_body, expected.html_body);
    assert_eq!(found.attachments, expected.attachments);
    assert_eq!(found.created_at, expected.created_at);
}

checks! {
    async fn outbox_enqueue_and_get(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let sent = enqueue(db, Some(agency.id), now()).await;
        let found = message(db, sent.id).await;
        assert_content_eq(&found, &sent);
        assert_eq!(found.status, MessageStatus::Queued);
        assert_eq!(found.attempts, 0);
        assert_eq!(found.last_error, None);
        assert_eq!(found.next_attempt_at, sent.created_at, "due as soon as it is created");
        assert_eq!(found.sent_at, None);

        // No agency, no booking, no attachments.
        let mut bare = new_message(None, now());
        bare.booking_id = None;
        bare.attachments.clear();
        db.enqueue_message(&bare).await.expect("enqueue");
        let found = message(db, bare.id).await;
        assert_content_eq(&found, &bare);

        let again = NewMessage { subject: "other".into(), ..sent.clone() };
        assert!(matches!(db.enqueue_message(&again).await, Err(StorageError::Conflict(_))), "ids are unique");
        assert_eq!(message(db, sent.id).await.subject, sent.subject, "the first message is untouched");
        assert!(db.get_message(MessageId::generate()).await.expect("get").is_none());
    }

    async fn outbox_claim_due_selects_orders_and_leases(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let t0 = now();
        let minutes = Duration::minutes;
        // Not claimable at t0, though older than every due message: leased until t0 + 5m, ...
        let leased = enqueue(db, Some(agency.id), t0 - minutes(8)).await;
        assert!(db.claim_message(leased.id, t0, minutes(5)).await.expect("claim").is_some());
        // ... given up, ...
        let failed = enqueue(db, Some(agency.id), t0 - minutes(7)).await;
        db.mark_message_failed(failed.id, "550 mailbox unavailable", None).await.expect("fail");
        // ... sent, ...
        let sent = enqueue(db, Some(agency.id), t0 - minutes(6)).await;
        db.mark_message_sent(sent.id, t0 - minutes(6)).await.expect("sent");
        // ... and to be retried at t0 + 10m.
        let later = enqueue(db, Some(agency.id), t0 - minutes(5)).await;
        db.mark_message_failed(later.id, "421 try again later", Some(t0 + minutes(10))).await.expect("fail");
        // Due now, oldest first: a, b, c. Created in the future: not due yet.
        let c = enqueue(db, None, t0 - minutes(1)).await;
        let a = enqueue(db, Some(agency.id), t0 - minutes(3)).await;
        let b = enqueue(db, Some(agency.id), t0 - minutes(2)).await;
        let future = enqueue(db, None, t0 + minutes(30)).await;

        assert!(db.claim_due_messages(t0, lease(), 0).await.expect("claim").is_empty(), "limit 0 claims nothing");
        let first = db.claim_due_messages(t0, lease(), 2).await.expect("claim");
        assert_eq!(ids(&first), [a.id, b.id], "the limit, oldest first");
        assert_content_eq(&first[0], &a);
        assert_eq!(first[0].status, MessageStatus::Queued);
        assert_eq!(first[0].attempts, 0, "claiming is not an attempt");
        assert_eq!(ids(&db.claim_due_messages(t0, lease(), 10).await.expect("claim")), [c.id]);
        assert!(db.claim_due_messages(t0, lease(), 10).await.expect("claim").is_empty(), "all leased");
        assert!(
            db.claim_due_messages(t0 + Duration::seconds(59), lease(), 10).await.expect("claim").is_empty(),
            "leases still live"
        );

        // The leases of a, b and c end at t0 + 60s; the leased message's at t0 + 5m.
        let t1 = t0 + minutes(2);
        assert_eq!(ids(&db.claim_due_messages(t1, lease(), 10).await.expect("claim")), [a.id, b.id, c.id]);
        let t2 = t0 + minutes(11);
        assert_eq!(
            ids(&db.claim_due_messages(t2, lease(), 10).await.expect("claim")),
            [leased.id, later.id, a.id, b.id, c.id],
            "expired leases and the retry now due, oldest first"
        );
        let t3 = t0 + minutes(31);
        assert_eq!(
            ids(&db.claim_due_messages(t3, lease(), 10).await.expect("claim")),
            [leased.id, later.id, a.id, b.id, c.id, future.id]
        );
        for settled in [&sent, &failed] {
            let found = message(db, settled.id).await;
            assert_ne!(found.status, MessageStatus::Queued, "sent and failed messages are never claimed");
        }
    }

    async fn outbox_claim_message(db: Arc<dyn Database>) {
        let db = &*db;
        let t0 = now();
        let queued = enqueue(db, None, t0).await;
        let claimed = db.claim_message(queued.id, t0, lease()).await.expect("claim").expect("claimed");
        assert_content_eq(&claimed, &queued);
        assert_eq!(claimed.status, MessageStatus::Queued);
        assert!(db.claim_message(queued.id, t0, lease()).await.expect("claim").is_none(), "lease live");
        assert!(db.claim_due_messages(t0, lease(), 10).await.expect("claim").is_empty(), "claimed is claimed");
        assert!(db.claim_message(queued.id, t0 + Duration::seconds(59), lease()).await.expect("claim").is_none());
        assert!(
            db.claim_message(queued.id, t0 + lease(), lease()).await.expect("claim").is_some(),
            "an expired lease can be taken over"
        );

        // Whenever it is due.
        let retry = enqueue(db, None, t0).await;
        db.mark_message_failed(retry.id, "timeout", Some(t0 + Duration::hours(1))).await.expect("fail");
        let claimed = db.claim_message(retry.id, t0, lease()).await.expect("claim").expect("claimed before due");
        assert_eq!(claimed.attempts, 1);
        assert_eq!(claimed.next_attempt_at, t0 + Duration::hours(1));

        let sent = enqueue(db, None, t0).await;
        db.mark_message_sent(sent.id, t0).await.expect("sent");
        let failed = enqueue(db, None, t0).await;
        db.mark_message_failed(failed.id, "550", None).await.expect("fail");
        for id in [sent.id, failed.id, MessageId::generate()] {
            assert!(db.claim_message(id, t0 + Duration::days(1), lease()).await.expect("claim").is_none());
        }
    }

    async fn outbox_mark_sent_and_failed(db: Arc<dyn Database>) {
        let db = &*db;
        let t0 = now();

        // A retry: still queued, due at the new time, and its lease is released.
        let flaky = enqueue(db, None, t0).await;
        db.claim_message(flaky.id, t0, lease()).await.expect("claim").expect("claimed");
        db.mark_message_failed(flaky.id, "421 4.7.0 try again later", Some(t0)).await.expect("fail");
        let found = message(db, flaky.id).await;
        assert_eq!(found.status, MessageStatus::Queued);
        assert_eq!(found.attempts, 1);
        assert_eq!(found.last_error.as_deref(), Some("421 4.7.0 try again later"));
        assert_eq!(found.next_attempt_at, t0);
        assert_eq!(found.sent_at, None);
        assert_eq!(ids(&db.claim_due_messages(t0, lease(), 10).await.expect("claim")), [flaky.id], "lease released");
        let retry_at = t0 + Duration::minutes(5);
        db.mark_message_failed(flaky.id, "421 again", Some(retry_at)).await.expect("fail");
        let found = message(db, flaky.id).await;
        assert_eq!((found.attempts, found.next_attempt_at), (2, retry_at));
        assert!(db.claim_due_messages(t0 + Duration::minutes(4), lease(), 10).await.expect("claim").is_empty());
        assert_eq!(ids(&db.claim_due_messages(retry_at, lease(), 10).await.expect("claim")), [flaky.id]);

        // Sent after failures: the last error stays for the record.
        let sent_at = t0 + Duration::minutes(6);
        db.mark_message_sent(flaky.id, sent_at).await.expect("sent");
        let found = message(db, flaky.id).await;
        assert_eq!(found.status, MessageStatus::Sent);
        assert_eq!(found.attempts, 3);
        assert_eq!(found.sent_at, Some(sent_at));
        assert_eq!(found.last_error.as_deref(), Some("421 again"));
        assert_content_eq(&found, &flaky);

        // Sent at once.
        let easy = enqueue(db, None, t0).await;
        db.claim_message(easy.id, t0, lease()).await.expect("claim").expect("claimed");
        db.mark_message_sent(easy.id, t0).await.expect("sent");
        let found = message(db, easy.id).await;
        assert_eq!(
            (found.status, found.attempts, found.last_error, found.sent_at),
            (MessageStatus::Sent, 1, None, Some(t0))
        );

        // Given up, with an overlong error cut to MAX_MESSAGE_ERROR_CHARS characters (not bytes).
        let doomed = enqueue(db, None, t0).await;
        let long = "é".repeat(MAX_MESSAGE_ERROR_CHARS + 500);
        db.mark_message_failed(doomed.id, &long, None).await.expect("fail");
        let found = message(db, doomed.id).await;
        assert_eq!(found.status, MessageStatus::Failed);
        assert_eq!(found.attempts, 1);
        assert_eq!(found.last_error.as_deref().map(|e| e.chars().count()), Some(MAX_MESSAGE_ERROR_CHARS));
        assert_eq!(found.sent_at, None);
        assert!(db.claim_due_messages(t0 + Duration::days(1), lease(), 10).await.expect("claim").is_empty());

        // A late report about a message already settled changes nothing.
        db.mark_message_failed(easy.id, "late", Some(t0)).await.expect("late failure");
        db.mark_message_sent(doomed.id, t0).await.expect("late success");
        let found = message(db, easy.id).await;
        assert_eq!((found.status, found.attempts, found.last_error), (MessageStatus::Sent, 1, None));
        let found = message(db, doomed.id).await;
        assert_eq!((found.status, found.attempts), (MessageStatus::Failed, 1));

        let unknown = MessageId::generate();
        assert!(matches!(db.mark_message_sent(unknown, t0).await, Err(StorageError::NotFound)));
        assert!(matches!(db.mark_message_failed(unknown, "x", None).await, Err(StorageError::NotFound)));
    }

    async fn outbox_list_scope_and_order(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let other = new_agency(db, 0).await;
        let t0 = now();
        let ours_old = enqueue(db, Some(agency.id), t0 - Duration::minutes(3)).await;
        let theirs = enqueue(db, Some(other.id), t0 - Duration::minutes(2)).await;
        let nobodys = enqueue(db, None, t0 - Duration::minutes(1)).await;
        let ours_new = enqueue(db, Some(agency.id), t0).await;
        db.mark_message_sent(ours_old.id, t0).await.expect("sent");

        let list = |scope: Scope, limit: u32| async move { ids(&db.list_outbox(scope, limit).await.expect("list")) };
        assert_eq!(list(Scope::All, 0).await, [ours_new.id, nobodys.id, theirs.id, ours_old.id], "newest first");
        assert_eq!(list(Scope::All, 2).await, [ours_new.id, nobodys.id]);
        assert_eq!(list(Scope::Agency(agency.id), 0).await, [ours_new.id, ours_old.id], "every status");
        assert_eq!(
            list(Scope::Customer { agency: agency.id, user: UserId::generate() }, 0).await,
            [ours_new.id, ours_old.id]
        );
        assert_eq!(list(Scope::Agency(other.id), 0).await, [theirs.id]);
        assert!(list(Scope::Agency(AgencyId::generate()), 0).await.is_empty());

        let listed = db.list_outbox(Scope::Agency(agency.id), 0).await.expect("list");
        assert_eq!(listed[1].status, MessageStatus::Sent);
        assert_content_eq(&listed[0], &ours_new);
    }

    async fn outbox_concurrent_claims_never_overlap(db: Arc<dyn Database>) {
        const MESSAGES: usize = 20;
        const CALLERS: usize = 10;
        const LIMIT: u32 = 5;
        let agency = new_agency(&*db, 0).await;
        let t0 = now();
        let mut enqueued = HashSet::new();
        for i in 0..MESSAGES {
            let created_at = t0 - Duration::seconds(MESSAGES as i64 - i as i64);
            enqueued.insert(enqueue(&*db, Some(agency.id), created_at).await.id);
        }

        // Ten nodes polling at once.
        let start = Arc::new(tokio::sync::Barrier::new(CALLERS));
        let mut tasks = Vec::new();
        for _ in 0..CALLERS {
            let (db, start) = (db.clone(), start.clone());
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                db.claim_due_messages(t0, lease(), LIMIT).await
            }));
        }
        let mut claimed = Vec::new();
        for task in tasks {
            let batch = task.await.expect("task").expect("claim");
            assert!(batch.len() <= LIMIT as usize);
            assert!(batch.windows(2).all(|w| (w[0].created_at, w[0].id) < (w[1].created_at, w[1].id)), "oldest first");
            claimed.extend(ids(&batch));
        }
        let unique: HashSet<_> = claimed.iter().copied().collect();
        assert_eq!(unique.len(), claimed.len(), "a message was claimed twice");
        assert_eq!(unique, enqueued, "every due message was claimed");

        // Ten nodes racing for the synchronous first send of one message: one wins.
        let first = enqueue(&*db, Some(agency.id), t0).await;
        let start = Arc::new(tokio::sync::Barrier::new(CALLERS));
        let mut tasks = Vec::new();
        for _ in 0..CALLERS {
            let (db, start) = (db.clone(), start.clone());
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                db.claim_message(first.id, t0, lease()).await
            }));
        }
        let mut winners = 0;
        for task in tasks {
            if task.await.expect("task").expect("claim").is_some() {
                winners += 1;
            }
        }
        assert_eq!(winners, 1, "one node sends the message");
    }
    async fn outbox_counts_pending_and_retries_on_request(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let t0 = now();
        assert_eq!(db.count_pending_messages().await.expect("count"), 0);
        let queued = enqueue(db, Some(agency.id), t0).await;
        let later = enqueue(db, None, t0).await;
        db.mark_message_failed(later.id, "421 try again later", Some(t0 + Duration::hours(1))).await.expect("fail");
        let sent = enqueue(db, Some(agency.id), t0).await;
        db.mark_message_sent(sent.id, t0).await.expect("sent");
        let failed = enqueue(db, Some(agency.id), t0).await;
        db.mark_message_failed(failed.id, "550 mailbox unavailable", None).await.expect("fail");
        assert_eq!(db.count_pending_messages().await.expect("count"), 2, "queued and waiting for a retry");

        // A given-up message is queued again, due now, with its attempts and error kept.
        let t1 = t0 + Duration::minutes(5);
        assert!(db.retry_message(failed.id, t1).await.expect("retry"));
        let found = message(db, failed.id).await;
        assert_eq!(found.status, MessageStatus::Queued);
        assert_eq!(found.attempts, 1);
        assert_eq!(found.last_error.as_deref(), Some("550 mailbox unavailable"));
        assert_eq!(db.count_pending_messages().await.expect("count"), 3);
        // A message waiting for its next attempt becomes due at once.
        assert!(db.retry_message(later.id, t1).await.expect("retry"));
        let due = ids(&db.claim_due_messages(t1, lease(), 10).await.expect("claim"));
        assert!(due.contains(&later.id) && due.contains(&failed.id) && due.contains(&queued.id), "{due:?}");
        // Claimed (a live lease) or sent: left alone; unknown: not found.
        assert!(!db.retry_message(later.id, t1).await.expect("retry"), "a message being sent is left to its sender");
        assert!(!db.retry_message(sent.id, t1).await.expect("retry"), "a sent message stays sent");
        assert_eq!(message(db, sent.id).await.status, MessageStatus::Sent);
        assert!(matches!(db.retry_message(MessageId::generate(), t1).await, Err(StorageError::NotFound)));
    }

    async fn pool_stats_describe_the_pool(db: Arc<dyn Database>) {
        db.ping().await.expect("ping");
        let stats = db.pool_stats().await.expect("pool stats");
        assert!(stats.max >= 1, "{stats:?}");
        assert!(stats.size >= 1 && stats.size <= stats.max, "the ping opened a connection: {stats:?}");
        assert!(stats.idle <= stats.size, "{stats:?}");
    }
}

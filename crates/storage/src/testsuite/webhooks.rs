//! Webhooks: endpoints within a scope, events fanned out to subscribed endpoints in the transaction of the
//! change (and not at all when it rolls back), `balance.low` on crossing, and deliveries claimed with a lease,
//! in event order, with their attempts.

use std::sync::Arc;

use chrono::Duration;
use tessera_core::ids::{AgencyId, WebhookDeliveryId, WebhookEventId, WebhookId};
use tessera_core::user::Scope;

use super::data::*;
use super::sinks::*;
use crate::{
    AttemptOutcome, Database, DeliveryStatus, NewAttempt, NewWebhook, NewWebhookEvent, StorageError, Webhook,
    WebhookChange, WebhookStatus,
};

fn new_webhook(agency: AgencyId, events: &[&str]) -> NewWebhook {
    NewWebhook {
        id: WebhookId::generate(),
        agency_id: agency,
        url: format!("https://hooks.example.com/{}", unique(6)),
        description: Some("Booking system".into()),
        events: events.iter().map(|e| (*e).to_owned()).collect(),
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
        created_at: now(),
    }
}

async fn webhook(db: &dyn Database, agency: AgencyId, events: &[&str]) -> Webhook {
    db.create_webhook(&new_webhook(agency, events)).await.expect("create webhook")
}

fn event(agency: AgencyId, event_type: &str, at: chrono::DateTime<chrono::Utc>) -> NewWebhookEvent {
    NewWebhookEvent {
        id: WebhookEventId::generate(),
        agency_id: agency,
        event_type: event_type.into(),
        data: serde_json::json!({"booking_id": unique(8), "amount": "460.00"}),
        created_at: at,
    }
}

fn lease() -> Duration {
    Duration::seconds(60)
}

checks! {
    async fn webhook_endpoints_stay_within_their_agency(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let other = new_agency(db, 0).await;
        let record = new_webhook(agency.id, &["issuance.created", "balance.low"]);
        let created = db.create_webhook(&record).await.expect("create");
        assert_eq!(created.url, record.url);
        assert_eq!(created.events, record.events);
        assert_eq!(created.secret, record.secret);
        assert_eq!(created.description, record.description);
        assert_eq!(created.status, WebhookStatus::Active);
        assert_eq!(created.created_at, record.created_at);
        assert!(matches!(db.create_webhook(&record).await, Err(StorageError::Conflict(_))));

        let mine = Scope::Agency(agency.id);
        let theirs = Scope::Agency(other.id);
        assert_eq!(db.get_webhook(mine, created.id).await.expect("get"), Some(created.clone()));
        assert_eq!(db.get_webhook(Scope::All, created.id).await.expect("get"), Some(created.clone()));
        assert_eq!(db.get_webhook(theirs, created.id).await.expect("get"), None);
        assert_eq!(db.list_webhooks(mine).await.expect("list"), vec![created.clone()]);
        assert!(db.list_webhooks(theirs).await.expect("list").is_empty());

        let change = WebhookChange {
            url: Some("https://hooks.example.com/new".into()),
            description: Some(None),
            events: Some(vec!["ticket.voided".into()]),
            secret: Some("whsec_bmV3LXNlY3JldC1uZXctc2VjcmV0LW5ldy1zZWNyZXQ=".into()),
        };
        let later = now() + Duration::seconds(5);
        assert_eq!(db.update_webhook(theirs, created.id, &change, later).await.expect("update"), None);
        assert_eq!(db.get_webhook(mine, created.id).await.expect("get"), Some(created.clone()), "unchanged");
        let updated = db.update_webhook(mine, created.id, &change, later).await.expect("update").expect("found");
        assert_eq!(updated.url, "https://hooks.example.com/new");
        assert_eq!(updated.description, None);
        assert_eq!(updated.events, vec!["ticket.voided".to_owned()]);
        assert_eq!(updated.secret, "whsec_bmV3LXNlY3JldC1uZXctc2VjcmV0LW5ldy1zZWNyZXQ=");
        assert_eq!(updated.updated_at, later);
        assert_eq!(updated.created_at, created.created_at);
        // An empty change keeps everything but the time.
        let same = db.update_webhook(mine, created.id, &WebhookChange::default(), later).await.expect("update");
        assert_eq!(same, Some(updated.clone()));

        assert!(!db.delete_webhook(theirs, created.id).await.expect("delete"));
        assert!(db.delete_webhook(mine, created.id).await.expect("delete"));
        assert_eq!(db.get_webhook(Scope::All, created.id).await.expect("get"), None);
        assert!(!db.delete_webhook(mine, created.id).await.expect("delete again"));
    }

    async fn webhook_events_fan_out_to_subscribed_endpoints_only(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let other = new_agency(db, 0).await;
        let subscribed = webhook(db, agency.id, &["issuance.created", "ticket.voided"]).await;
        let _elsewhere = webhook(db, agency.id, &["balance.low"]).await;
        let _theirs = webhook(db, other.id, &["issuance.created"]).await;

        let sent = event(agency.id, "issuance.created", now());
        assert_eq!(db.record_webhook_event(&sent).await.expect("record"), 1);
        assert_eq!(db.record_webhook_event(&event(agency.id, "coupon.used", now())).await.expect("record"), 0);

        let claimed = db.claim_due_webhook_deliveries(now(), lease(), 10).await.expect("claim");
        assert_eq!(claimed.len(), 1, "{claimed:?}");
        let delivery = &claimed[0];
        assert_eq!(delivery.webhook_id, subscribed.id);
        assert_eq!(delivery.agency_id, agency.id);
        assert_eq!(delivery.event_id, sent.id);
        assert_eq!(delivery.event_type, "issuance.created");
        assert_eq!(delivery.data, sent.data);
        assert_eq!(delivery.event_at, sent.created_at);
        assert_eq!(delivery.status, DeliveryStatus::Pending);
        assert_eq!(delivery.attempts, 0);
        assert_eq!(delivery.next_attempt_at, sent.created_at);
        assert!(db.claim_due_webhook_deliveries(now(), lease(), 10).await.expect("claim").is_empty(), "leased");
        assert!(db.claim_due_webhook_deliveries(now(), lease(), 0).await.expect("claim").is_empty());
    }

    async fn webhook_events_commit_with_the_issuance_or_not_at_all(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        top_up(db, agency.id, 200_000).await;
        let hook = webhook(db, agency.id, &["issuance.created", "balance.low"]).await;
        // The issuance debits PAYABLE_MINOR from 200,000: crossing 150,000 raises balance.low.
        db.set_low_balance_threshold(agency.id, Some(150_000)).await.expect("threshold");
        assert_eq!(db.low_balance_threshold(agency.id).await.expect("threshold"), Some(150_000));

        let (_, failing) = booked(db, agency.id, None).await;
        db.issue(&failing, Arc::new(FailingSink)).await.expect_err("the sink fails");
        assert!(db.claim_due_webhook_deliveries(now(), lease(), 10).await.expect("claim").is_empty());

        let (booking, issuance) = booked(db, agency.id, None).await;
        db.issue(&issuance, Arc::new(RecordingSink::default())).await.expect("issue");
        let claimed = db.claim_due_webhook_deliveries(now(), lease(), 10).await.expect("claim");
        let mut types: Vec<&str> = claimed.iter().map(|d| d.event_type.as_str()).collect();
        types.sort_unstable();
        assert_eq!(types, ["balance.low", "issuance.created"]);
        assert!(claimed.iter().all(|d| d.webhook_id == hook.id));
        let created = claimed.iter().find(|d| d.event_type == "issuance.created").expect("issuance.created");
        assert_eq!(created.data["issuance_id"], serde_json::json!(issuance.id.to_string()));
        assert_eq!(created.data["booking_id"], serde_json::json!(booking.id.to_string()));
        let low = claimed.iter().find(|d| d.event_type == "balance.low").expect("balance.low");
        assert_eq!(low.data["balance"]["amount"], serde_json::json!(format!("{}.00", (200_000 - PAYABLE_MINOR) / 100)));

        // Below the threshold already: a further debit raises nothing; clearing it stops the events.
        db.set_low_balance_threshold(agency.id, None).await.expect("clear");
        assert_eq!(db.low_balance_threshold(agency.id).await.expect("threshold"), None);
    }

    async fn webhook_deliveries_are_claimed_in_event_order_one_endpoint_at_a_time(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let first_hook = webhook(db, agency.id, &["ticket.voided"]).await;
        let t0 = now() - Duration::seconds(30);
        let older = event(agency.id, "ticket.voided", t0);
        let newer = event(agency.id, "ticket.voided", t0 + Duration::seconds(1));
        let future = event(agency.id, "ticket.voided", now() + Duration::hours(1));
        db.record_webhook_event(&newer).await.expect("record");
        db.record_webhook_event(&older).await.expect("record");
        db.record_webhook_event(&future).await.expect("record");

        // One at a time: the oldest; the endpoint's next waits while that one is in flight.
        let claimed = db.claim_due_webhook_deliveries(now(), lease(), 1).await.expect("claim");
        assert_eq!(claimed.iter().map(|d| d.event_id).collect::<Vec<_>>(), vec![older.id]);
        assert!(db.claim_due_webhook_deliveries(now(), lease(), 10).await.expect("claim").is_empty());
        // Another endpoint is not held up.
        let second_hook = webhook(db, agency.id, &["coupon.used"]).await;
        db.record_webhook_event(&event(agency.id, "coupon.used", now())).await.expect("record");
        let other = db.claim_due_webhook_deliveries(now(), lease(), 10).await.expect("claim");
        assert_eq!(other.iter().map(|d| d.webhook_id).collect::<Vec<_>>(), vec![second_hook.id]);

        // Once the lease ends, both due deliveries of the first endpoint come, oldest first.
        let later = now() + lease() + Duration::seconds(1);
        let claimed = db.claim_due_webhook_deliveries(later, lease(), 10).await.expect("claim");
        let first: Vec<WebhookEventId> =
            claimed.iter().filter(|d| d.webhook_id == first_hook.id).map(|d| d.event_id).collect();
        assert_eq!(first, vec![older.id, newer.id]);
    }

    async fn webhook_attempts_decide_what_becomes_of_a_delivery(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let other = new_agency(db, 0).await;
        let hook = webhook(db, agency.id, &["ticket.refunded"]).await;
        db.record_webhook_event(&event(agency.id, "ticket.refunded", now())).await.expect("record");
        let delivery = db.claim_due_webhook_deliveries(now(), lease(), 10).await.expect("claim").remove(0);
        let attempt = |outcome, code: Option<u16>, retry_at| NewAttempt {
            delivery_id: delivery.id,
            at: now(),
            outcome,
            response_code: code,
            latency_ms: 42,
            error: (outcome == AttemptOutcome::Failure).then(|| "the endpoint answered 500".to_owned()),
            retry_at,
        };

        // A failure with a retry: pending again, due then, not before.
        let retry_at = now() + Duration::minutes(5);
        db.record_webhook_attempt(&attempt(AttemptOutcome::Failure, Some(500), Some(retry_at))).await.expect("record");
        assert!(db.claim_due_webhook_deliveries(now(), lease(), 10).await.expect("claim").is_empty());
        let again = db.claim_due_webhook_deliveries(retry_at, lease(), 10).await.expect("claim");
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].attempts, 1);
        assert_eq!(again[0].last_response_code, Some(500));
        assert_eq!(again[0].last_error.as_deref(), Some("the endpoint answered 500"));

        // A failure without: given up, the endpoint failing.
        db.record_webhook_attempt(&attempt(AttemptOutcome::Failure, None, None)).await.expect("record");
        let found = db.get_webhook(Scope::All, hook.id).await.expect("get").expect("exists");
        assert_eq!(found.status, WebhookStatus::Failing);
        let listed = db.list_webhook_deliveries(Scope::Agency(agency.id), hook.id, 10).await.expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].0.status, DeliveryStatus::Failed);
        assert_eq!(listed[0].1.iter().map(|a| (a.number, a.response_code)).collect::<Vec<_>>(), vec![(1, Some(500)), (2, None)]);
        assert!(listed[0].1.iter().all(|a| a.latency_ms == 42 && a.outcome == AttemptOutcome::Failure));
        assert!(db.list_webhook_deliveries(Scope::Agency(other.id), hook.id, 10).await.expect("list").is_empty());

        // A manual retry: due now again (another agency cannot), then delivered, the endpoint active.
        let none = db.retry_webhook_delivery(Scope::Agency(other.id), hook.id, delivery.id, now()).await.expect("retry");
        assert_eq!(none, None);
        let unknown = db.retry_webhook_delivery(Scope::All, hook.id, WebhookDeliveryId::generate(), now()).await;
        assert_eq!(unknown.expect("retry"), None);
        let retried = db.retry_webhook_delivery(Scope::Agency(agency.id), hook.id, delivery.id, now()).await.expect("retry");
        assert_eq!(retried.map(|d| (d.status, d.attempts)), Some((DeliveryStatus::Pending, 2)));
        assert_eq!(db.claim_due_webhook_deliveries(now(), lease(), 10).await.expect("claim").len(), 1);
        db.record_webhook_attempt(&attempt(AttemptOutcome::Success, Some(204), None)).await.expect("record");
        let listed = db.list_webhook_deliveries(Scope::All, hook.id, 10).await.expect("list");
        assert_eq!(listed[0].0.status, DeliveryStatus::Delivered);
        assert!(listed[0].0.delivered_at.is_some());
        assert_eq!(listed[0].1.len(), 3);
        let found = db.get_webhook(Scope::All, hook.id).await.expect("get").expect("exists");
        assert_eq!(found.status, WebhookStatus::Active);
        assert!(db.claim_due_webhook_deliveries(now() + Duration::days(1), lease(), 10).await.expect("claim").is_empty());

        let mut unknown = attempt(AttemptOutcome::Success, Some(200), None);
        unknown.delivery_id = WebhookDeliveryId::generate();
        assert!(matches!(db.record_webhook_attempt(&unknown).await, Err(StorageError::NotFound)));
        // Deleting the endpoint takes its deliveries along.
        assert!(db.delete_webhook(Scope::All, hook.id).await.expect("delete"));
        assert!(db.list_webhook_deliveries(Scope::All, hook.id, 10).await.expect("list").is_empty());
    }
}

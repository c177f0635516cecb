//! The audit trail: filters and scopes, and batches of entries (the downloads' access log).

use std::sync::Arc;

use tessera_core::ids::{AgencyId, UserId};
use tessera_core::user::{Role, Scope};

use super::data::*;
use crate::{Actor, AuditFilter, Database, NewAuditEntry, FIRST_SERIAL};

checks! {
    async fn audit_filters_and_scope(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let other = new_agency(db, 0).await;
        let agent = new_user(db, Some(agency.id), Role::Agent).await;
        let ours = flight_booking(agency.id, Some(agent.id));
        let theirs = flight_booking(other.id, None);
        db.insert_booking(&ours, &[], None).await.expect("insert booking");
        db.insert_booking(&theirs, &[], None).await.expect("insert booking");

        let entry = |agency: Option<AgencyId>, action: &str, tracking: &str| NewAuditEntry {
            agency_id: agency,
            actor: Actor {
                user_id: Some(agent.id),
                username: agent.username.clone(),
                client_addr: Some("198.51.100.4".into()),
                tracking_id: Some(tracking.into()),
            },
            action: action.into(),
            booking_id: None,
            ticket_number: None,
            issuance_id: None,
            outcome: "success".into(),
            detail: serde_json::json!({ "note": action, "n": 1 }),
            created_at: now(),
        };
        let booked_entry =
            NewAuditEntry { booking_id: Some(ours.id), ..entry(Some(agency.id), "booking.create", "trk-1") };
        let ticket_entry = NewAuditEntry {
            ticket_number: Some(number(PREFIX, FIRST_SERIAL).compact()),
            outcome: "refused:not_downloadable".into(),
            ..entry(Some(agency.id), "document.download", "trk-2")
        };
        let their_entry =
            NewAuditEntry { booking_id: Some(theirs.id), ..entry(Some(other.id), "booking.create", "trk-3") };
        let mut login = entry(None, "auth.login", "trk-4");
        login.actor.user_id = None;
        for e in [&booked_entry, &ticket_entry, &their_entry, &login] {
            db.append_audit(e).await.expect("append audit");
        }

        let actions = |entries: Vec<crate::AuditEntry>| entries.into_iter().map(|e| e.action).collect::<Vec<_>>();
        let list =
            |scope: Scope, filter: AuditFilter| async move { db.list_audit(scope, &filter).await.expect("list audit") };

        let all = list(Scope::All, AuditFilter::default()).await;
        assert!(all.windows(2).all(|w| w[0].id < w[1].id), "ascending ids");
        assert_eq!(actions(all.clone()), ["booking.create", "document.download", "booking.create", "auth.login"]);
        let first = &all[0];
        assert_eq!(first.agency_id, Some(agency.id));
        assert_eq!(first.user_id, Some(agent.id));
        assert_eq!(first.username, agent.username);
        assert_eq!(first.client_addr.as_deref(), Some("198.51.100.4"));
        assert_eq!(first.tracking_id.as_deref(), Some("trk-1"));
        assert_eq!(first.booking_id, Some(ours.id));
        assert_eq!(first.ticket_number, None);
        assert_eq!(first.issuance_id, None);
        assert_eq!(first.outcome, "success");
        assert_eq!(first.detail, booked_entry.detail);
        assert_eq!(first.created_at, booked_entry.created_at);
        assert_eq!(all[1].outcome, "refused:not_downloadable");
        assert_eq!(all[3].agency_id, None);
        assert_eq!(all[3].user_id, None);

        let ours_only = list(Scope::Agency(agency.id), AuditFilter::default()).await;
        assert_eq!(actions(ours_only), ["booking.create", "document.download"]);
        let customer =
            list(Scope::Customer { agency: agency.id, user: UserId::generate() }, AuditFilter::default()).await;
        assert_eq!(customer.len(), 2, "a customer scope narrows the trail to the agency");
        assert_eq!(list(Scope::Agency(other.id), AuditFilter::default()).await.len(), 1);

        let by_booking = AuditFilter { booking_id: Some(ours.id), ..AuditFilter::default() };
        assert_eq!(list(Scope::All, by_booking.clone()).await.len(), 1);
        assert!(list(Scope::Agency(other.id), by_booking).await.is_empty(), "filters never widen the scope");
        let by_ticket =
            AuditFilter { ticket_number: Some(number(PREFIX, FIRST_SERIAL).compact()), ..AuditFilter::default() };
        assert_eq!(actions(list(Scope::All, by_ticket).await), ["document.download"]);
        let by_tracking = AuditFilter { tracking_id: Some("trk-3".into()), ..AuditFilter::default() };
        assert_eq!(list(Scope::All, by_tracking.clone()).await[0].booking_id, Some(theirs.id));
        assert!(list(Scope::Agency(agency.id), by_tracking).await.is_empty());
        let by_both =
            AuditFilter { booking_id: Some(ours.id), tracking_id: Some("trk-2".into()), ..AuditFilter::default() };
        assert!(list(Scope::All, by_both).await.is_empty(), "filters combine");
        let by_action = AuditFilter { action: Some("booking.create".into()), ..AuditFilter::default() };
        let created = list(Scope::All, by_action.clone()).await;
        assert_eq!(created.iter().map(|e| e.booking_id).collect::<Vec<_>>(), [Some(ours.id), Some(theirs.id)]);
        assert_eq!(list(Scope::Agency(other.id), by_action).await.len(), 1, "and within the scope");
        let downloads = AuditFilter { action: Some("document.download".into()), ..AuditFilter::default() };
        assert_eq!(list(Scope::All, downloads.clone()).await[0].tracking_id.as_deref(), Some("trk-2"));
        assert!(list(Scope::Agency(other.id), downloads).await.is_empty());
        let download_of_booking = AuditFilter {
            action: Some("document.download".into()),
            booking_id: Some(ours.id),
            ..AuditFilter::default()
        };
        assert!(list(Scope::All, download_of_booking).await.is_empty(), "the action combines with the other filters");
        let unknown_action = AuditFilter { action: Some("document".into()), ..AuditFilter::default() };
        assert!(list(Scope::All, unknown_action).await.is_empty(), "actions match exactly");

        let limited = list(Scope::All, AuditFilter { limit: 2, ..AuditFilter::default() }).await;
        assert_eq!(actions(limited), ["booking.create", "document.download"], "the oldest first");
    }

    /// A batch is appended in order, every field as given, across the backend's rows-per-statement chunks; an
    /// empty batch writes nothing.
    async fn audit_batch_appends_every_entry_in_order(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let agent = new_user(db, Some(agency.id), Role::Agent).await;
        db.append_audit_batch(&[]).await.expect("empty batch");
        assert!(db.list_audit(Scope::All, &AuditFilter::default()).await.expect("list").is_empty());

        // More than two chunks of 500, so statement boundaries are crossed; anonymous and signed-in alike.
        let entries: Vec<NewAuditEntry> = (0..1234)
            .map(|i| NewAuditEntry {
                agency_id: Some(agency.id),
                actor: Actor {
                    user_id: (i % 2 == 0).then_some(agent.id),
                    username: if i % 2 == 0 { agent.username.clone() } else { "anonymous".into() },
                    client_addr: Some(format!("198.51.100.{}", i % 250)),
                    tracking_id: (i % 3 != 0).then(|| format!("trk-{i}")),
                },
                action: "document.download".into(),
                booking_id: None,
                ticket_number: Some(number(PREFIX, FIRST_SERIAL + i).compact()),
                issuance_id: None,
                outcome: "success".into(),
                detail: serde_json::json!({ "document": format!("eticket-{i}.pdf"), "via": "api" }),
                created_at: now() + chrono::TimeDelta::milliseconds(i64::try_from(i).expect("small")),
            })
            .collect();
        db.append_audit_batch(&entries).await.expect("append batch");
        let listed = db
            .list_audit(Scope::All, &AuditFilter { limit: 2000, ..AuditFilter::default() })
            .await
            .expect("list audit");
        assert_eq!(listed.len(), entries.len(), "every entry of the batch");
        assert!(listed.windows(2).all(|w| w[0].id < w[1].id), "ascending ids");
        for (got, want) in listed.iter().zip(&entries) {
            assert_eq!(got.agency_id, want.agency_id);
            assert_eq!(got.user_id, want.actor.user_id);
            assert_eq!(got.username, want.actor.username);
            assert_eq!(got.client_addr, want.actor.client_addr);
            assert_eq!(got.tracking_id, want.actor.tracking_id);
            assert_eq!(got.action, want.action);
            assert_eq!(got.ticket_number, want.ticket_number);
            assert_eq!(got.booking_id, None);
            assert_eq!(got.issuance_id, None);
            assert_eq!(got.outcome, want.outcome);
            assert_eq!(got.detail, want.detail);
            assert_eq!(got.created_at, want.created_at);
        }
        let by_ticket = AuditFilter { ticket_number: entries[700].ticket_number.clone(), ..AuditFilter::default() };
        let found = db.list_audit(Scope::Agency(agency.id), &by_ticket).await.expect("by ticket");
        assert_eq!(found.len(), 1, "batched rows are indexed and filtered like any other");
        assert_eq!(found[0].detail, entries[700].detail);
    }
}

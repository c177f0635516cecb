//! Bookings: insertion, conflicts, scoped reads, filters and paging.

use std::sync::Arc;

use tessera_core::booking::{Booking, BookingStatus};
use tessera_core::ids::BookingId;
use tessera_core::user::{Role, Scope};

use super::data::*;
use crate::{Actor, AuditFilter, BookingFilter, Database, NewAuditEntry, StorageError};

checks! {
    async fn bookings_commit_with_their_audit_entry(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let entry = |booking: &Booking| NewAuditEntry {
            agency_id: Some(agency.id),
            actor: Actor { user_id: None, username: "intake".into(), client_addr: None, tracking_id: None },
            action: "booking.create".into(),
            booking_id: Some(booking.id),
            ticket_number: None,
            issuance_id: None,
            outcome: "success".into(),
            detail: serde_json::json!({ "code": booking.code() }),
            created_at: booking.created_at,
        };
        let audit_of = |booking: BookingId| async move {
            let filter = AuditFilter { booking_id: Some(booking), ..AuditFilter::default() };
            db.list_audit(Scope::All, &filter).await.expect("audit")
        };
        let booking = flight_booking(agency.id, None);
        db.insert_booking(&booking, &[], Some(&entry(&booking))).await.expect("insert");
        let written = audit_of(booking.id).await;
        assert_eq!(written.len(), 1);
        assert_eq!((written[0].action.as_str(), written[0].detail["code"].as_str()), ("booking.create", Some(booking.code())));

        // Refused (same code): neither the booking nor its entry.
        let mut again = flight_booking(agency.id, None);
        again.detail = booking.detail.clone();
        let refused = db.insert_booking(&again, &[], Some(&entry(&again))).await;
        assert!(matches!(refused, Err(StorageError::Conflict("booking code"))), "got {refused:?}");
        assert!(audit_of(again.id).await.is_empty());
    }

    async fn bookings_insert_and_conflict(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let other = new_agency(db, 0).await;
        let agent = new_user(db, Some(agency.id), Role::Agent).await;

        let flight = flight_booking(agency.id, Some(agent.id));
        db.insert_booking(&flight, &[], None).await.expect("insert flight booking");
        assert_eq!(db.get_booking(Scope::All, flight.id).await.expect("get"), Some(flight.clone()), "round trip");

        let event = event_booking(agency.id, None);
        db.insert_booking(&event, &orders_for(&event), None).await.expect("insert event booking");
        assert_eq!(db.get_booking(Scope::All, event.id).await.expect("get"), Some(event.clone()), "round trip");
        assert_eq!(db.find_booking_by_code(Scope::Agency(agency.id), event.code()).await.expect("find"), Some(event));

        let mut same_code = flight_booking(agency.id, None);
        same_code.detail = flight.detail.clone();
        let refused = db.insert_booking(&same_code, &[], None).await;
        assert!(matches!(refused, Err(StorageError::Conflict("booking code"))), "got {refused:?}");
        assert!(db.get_booking(Scope::All, same_code.id).await.expect("get").is_none());

        // Codes are unique per agency only.
        let mut elsewhere = flight_booking(other.id, None);
        elsewhere.detail = flight.detail.clone();
        db.insert_booking(&elsewhere, &[], None).await.expect("the same PNR in another agency");

        let cancelled = Booking { status: BookingStatus::Cancelled, ..flight_booking(agency.id, None) };
        db.insert_booking(&cancelled, &[], None).await.expect("insert cancelled booking");
        assert_eq!(
            db.get_booking(Scope::All, cancelled.id).await.expect("get").map(|b| b.status),
            Some(BookingStatus::Cancelled)
        );
    }

    async fn bookings_scoped_reads(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let other = new_agency(db, 0).await;
        let customer = new_user(db, Some(agency.id), Role::Customer).await;
        let other_customer = new_user(db, Some(agency.id), Role::Customer).await;
        let agent = new_user(db, Some(agency.id), Role::Agent).await;

        let mine = flight_booking(agency.id, Some(customer.id));
        let agents = flight_booking(agency.id, Some(agent.id));
        let anonymous = flight_booking(agency.id, None);
        for b in [&mine, &agents, &anonymous] {
            db.insert_booking(b, &[], None).await.expect("insert booking");
        }

        let sees = [Scope::All, Scope::Agency(agency.id), Scope::Customer { agency: agency.id, user: customer.id }];
        let blind = [
            Scope::Agency(other.id),
            Scope::Customer { agency: agency.id, user: other_customer.id },
            Scope::Customer { agency: other.id, user: customer.id },
        ];
        for scope in sees {
            assert_eq!(db.get_booking(scope, mine.id).await.expect("get"), Some(mine.clone()), "{scope:?}");
            assert_eq!(
                db.find_booking_by_code(scope, mine.code()).await.expect("find"),
                Some(mine.clone()),
                "{scope:?}"
            );
        }
        for scope in blind {
            assert_eq!(db.get_booking(scope, mine.id).await.expect("get"), None, "{scope:?}");
            assert_eq!(db.find_booking_by_code(scope, mine.code()).await.expect("find"), None, "{scope:?}");
        }
        // A customer sees neither the agent's bookings nor those without a creator; the agency sees all.
        let customer_scope = Scope::Customer { agency: agency.id, user: customer.id };
        for b in [&agents, &anonymous] {
            assert_eq!(db.get_booking(customer_scope, b.id).await.expect("get"), None);
            assert_eq!(db.find_booking_by_code(customer_scope, b.code()).await.expect("find"), None);
            assert_eq!(db.get_booking(Scope::Agency(agency.id), b.id).await.expect("get"), Some(b.clone()));
        }
        assert_eq!(db.get_booking(Scope::All, BookingId::generate()).await.expect("get"), None);
        assert_eq!(db.find_booking_by_code(Scope::All, "NOSUCH").await.expect("find"), None);
    }

    async fn bookings_list_filters_and_paging(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let other = new_agency(db, 0).await;
        let customer = new_user(db, Some(agency.id), Role::Customer).await;
        let agent = new_user(db, Some(agency.id), Role::Agent).await;

        let mut ours = Vec::new();
        for i in 0..5 {
            let creator = if i < 2 { customer.id } else { agent.id };
            let mut booking = flight_booking(agency.id, Some(creator));
            if i == 3 {
                booking.status = BookingStatus::Cancelled;
            }
            db.insert_booking(&booking, &[], None).await.expect("insert booking");
            ours.push(booking);
        }
        let mut theirs = Vec::new();
        for _ in 0..2 {
            let booking = flight_booking(other.id, None);
            db.insert_booking(&booking, &[], None).await.expect("insert booking");
            theirs.push(booking);
        }
        let ids = |bookings: &[Booking]| bookings.iter().map(|b| b.id).collect::<Vec<_>>();
        let sorted = |bookings: &[&Booking]| {
            let mut ids: Vec<BookingId> = bookings.iter().map(|b| b.id).collect();
            ids.sort();
            ids
        };
        let list =
            |scope: Scope, filter: BookingFilter| async move { db.list_bookings(scope, &filter).await.expect("list") };

        let all_ours = list(Scope::Agency(agency.id), BookingFilter::default()).await;
        assert_eq!(ids(&all_ours), sorted(&ours.iter().collect::<Vec<_>>()), "limit 0 lists a default page, by id");
        assert_eq!(all_ours.iter().find(|b| b.id == ours[0].id), Some(&ours[0]), "full bookings come back");
        assert_eq!(list(Scope::All, BookingFilter::default()).await.len(), 7);
        assert_eq!(
            ids(&list(Scope::Agency(other.id), BookingFilter::default()).await),
            sorted(&theirs.iter().collect::<Vec<_>>())
        );
        assert_eq!(
            ids(&list(Scope::Customer { agency: agency.id, user: customer.id }, BookingFilter::default()).await),
            sorted(&[&ours[0], &ours[1]])
        );

        // Keyset paging walks every booking exactly once, in id order.
        let mut paged = Vec::new();
        let mut after = None;
        // Bounded, so a backend that ignores `after` fails instead of hanging.
        for _ in 0..=ours.len() {
            let page =
                list(Scope::Agency(agency.id), BookingFilter { after, limit: 2, ..BookingFilter::default() }).await;
            assert!(page.len() <= 2);
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            paged.extend(ids(&page));
        }
        assert_eq!(paged, ids(&all_ours), "pages cover every booking once, then an empty page");

        let cancelled = list(
            Scope::Agency(agency.id),
            BookingFilter { status: Some(BookingStatus::Cancelled), ..BookingFilter::default() },
        )
        .await;
        assert_eq!(ids(&cancelled), vec![ours[3].id]);
        let confirmed = list(
            Scope::Agency(agency.id),
            BookingFilter { status: Some(BookingStatus::Confirmed), ..BookingFilter::default() },
        )
        .await;
        assert_eq!(confirmed.len(), 4);

        let by_pnr =
            list(Scope::All, BookingFilter { pnr: Some(ours[2].code().to_owned()), ..BookingFilter::default() }).await;
        assert_eq!(ids(&by_pnr), vec![ours[2].id]);
        let foreign_pnr = list(
            Scope::Agency(agency.id),
            BookingFilter { pnr: Some(theirs[0].code().to_owned()), ..BookingFilter::default() },
        )
        .await;
        assert!(foreign_pnr.is_empty(), "filters never widen the scope");
        let customer_pnr = list(
            Scope::Customer { agency: agency.id, user: customer.id },
            BookingFilter { pnr: Some(ours[2].code().to_owned()), ..BookingFilter::default() },
        )
        .await;
        assert!(customer_pnr.is_empty());
    }
}

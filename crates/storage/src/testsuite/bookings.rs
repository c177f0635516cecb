//! Bookings: insertion, conflicts, scoped reads, filters and paging.

use std::sync::Arc;

use chrono::Duration;
use tessera_core::booking::{Booking, BookingDetail, BookingStatus};
use tessera_core::ids::BookingId;
use tessera_core::search::{self, BookingCursor, BookingSort};
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
            after = Some(BookingCursor { travel_date: None, id: last.id });
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

    async fn bookings_are_found_by_name_and_travel_day_in_each_order(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let other = new_agency(db, 0).await;
        // (surname, given name, days after the sample's departure)
        let people = [
            ("NGUYỄN", "VĂN ĐỨC", 10),
            ("ÇELİK", "ÖMER", 40),
            ("O'BRIEN", "50%_OFF", 20),
            ("NGUYEN", "THI B", 40),
        ];
        let mut ours = Vec::new();
        for (surname, given, days) in people {
            let mut booking = flight_booking(agency.id, None);
            if let BookingDetail::Flight(f) = &mut booking.detail {
                f.passengers[0].surname = surname.into();
                f.passengers[0].given_name = Some(given.into());
                for segment in f.journeys.iter_mut().flat_map(|j| j.segments.iter_mut()) {
                    segment.departure.time += Duration::days(days);
                    segment.arrival.time += Duration::days(days);
                }
            }
            db.insert_booking(&booking, &[], None).await.expect("insert booking");
            ours.push(booking);
        }
        let event = event_booking(agency.id, None);
        db.insert_booking(&event, &[], None).await.expect("insert booking");
        let mut theirs = flight_booking(other.id, None);
        if let BookingDetail::Flight(f) = &mut theirs.detail {
            f.passengers[0].surname = "NGUYỄN".into();
        }
        db.insert_booking(&theirs, &[], None).await.expect("insert booking");

        let scope = Scope::Agency(agency.id);
        let list = |filter: BookingFilter| async move { db.list_bookings(scope, &filter).await.expect("list") };
        let ids = |bookings: &[Booking]| bookings.iter().map(|b| b.id).collect::<Vec<_>>();
        let named = |name: &str| BookingFilter { name: Some(search::fold(name)), ..BookingFilter::default() };

        // Either order of the names, any case, accents optional; never across two people or another agency.
        assert_eq!(ids(&list(named("nguyen van")).await), vec![ours[0].id]);
        assert_eq!(ids(&list(named("Văn Đức")).await), vec![ours[0].id]);
        assert_eq!(ids(&list(named("NGUYEN")).await), vec![ours[0].id, ours[3].id]);
        assert_eq!(ids(&list(named("omer celik")).await), vec![ours[1].id, event.id], "a passenger and a guest");
        assert_eq!(ids(&list(named("jane doe")).await), vec![event.id], "an event's guests");
        assert!(list(named("duc omer")).await.is_empty(), "two people's names do not join");
        // LIKE's wildcards in a name are plain characters.
        assert_eq!(ids(&list(named("50%_off")).await), vec![ours[2].id]);
        assert!(list(named("5%")).await.is_empty());
        assert!(list(named("o_brien")).await.is_empty());

        // The travel day: a flight's first departure, local; an event booking's earliest event.
        let day = |b: &Booking| search::travel_date(&b.detail).expect("a travel day");
        let (d0, d2, d1) = (day(&ours[0]), day(&ours[2]), day(&ours[1]));
        let window = |from, to| BookingFilter { travel_from: from, travel_to: to, ..BookingFilter::default() };
        assert_eq!(ids(&list(window(Some(d2), Some(d2))).await), vec![ours[2].id], "both ends inclusive");
        // Departures 40, 50, 70 and 70 days out; the event 60.
        assert_eq!(ids(&list(window(Some(d1), None)).await), vec![ours[1].id, ours[3].id]);
        assert_eq!(ids(&list(window(None, Some(d0))).await), vec![ours[0].id]);

        // Each order, walked in pages of two, gives every booking once in that order, ties broken by id.
        let mut by_travel: Vec<&Booking> = ours.iter().chain([&event]).collect();
        by_travel.sort_by_key(|b| (day(b), b.id));
        let travel: Vec<BookingId> = by_travel.iter().map(|b| b.id).collect();
        let created: Vec<BookingId> = ours.iter().chain([&event]).map(|b| b.id).collect();
        for (sort, expected) in [
            (BookingSort::Created, created.clone()),
            (BookingSort::CreatedDesc, created.into_iter().rev().collect()),
            (BookingSort::Travel, travel.clone()),
            (BookingSort::TravelDesc, travel.into_iter().rev().collect()),
        ] {
            let mut paged = Vec::new();
            let mut after = None;
            for _ in 0..=expected.len() {
                let page = list(BookingFilter { sort, after, limit: 2, ..BookingFilter::default() }).await;
                let Some(last) = page.last() else { break };
                let travel_date = sort.by_travel().then(|| day(last));
                after = Some(BookingCursor { travel_date, id: last.id });
                paged.extend(ids(&page));
            }
            assert_eq!(paged, expected, "{sort:?}");
        }
        let newest_named = BookingFilter { sort: BookingSort::TravelDesc, ..named("nguyen") };
        assert_eq!(ids(&list(newest_named).await), vec![ours[3].id, ours[0].id], "filters and orders combine");
    }
}

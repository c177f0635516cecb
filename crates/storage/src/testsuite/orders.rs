//! Booking orders of event bookings: insertion, reads, filters and paging, distribution channels and
//! replaced documents.

use std::sync::Arc;

use chrono::Duration;
use tessera_core::booking::{Booking, BookingDetail, DistributionChannel};
use tessera_core::ids::{BookingId, UserId};
use tessera_core::orders::{BookingOrder, BookingOrderId, LogisticStatus, OrderFilter, OrderItemId};
use tessera_core::user::{Role, Scope};
use uuid::Uuid;

use super::data::*;
use super::sinks::*;
use crate::{Database, DocumentOwner, StorageError};

checks! {
    async fn orders_insert_and_read(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let other = new_agency(db, 0).await;
        let customer = new_user(db, Some(agency.id), Role::Customer).await;
        let other_customer = new_user(db, Some(agency.id), Role::Customer).await;

        let (booking, orders) = event_booked(db, agency.id, Some(&customer)).await;
        assert_eq!(orders.len(), 2);
        assert_eq!(orders[1].items[0].downloads.len(), 3, "a multi-day pass has one PDF per day");
        assert!(orders.iter().all(|o| o.logistic_status == LogisticStatus::Processing));

        let sees = [Scope::All, Scope::Agency(agency.id), Scope::Customer { agency: agency.id, user: customer.id }];
        let blind = [
            Scope::Agency(other.id),
            Scope::Customer { agency: agency.id, user: other_customer.id },
            Scope::Customer { agency: other.id, user: customer.id },
        ];
        for scope in sees {
            assert_eq!(db.orders_of_booking(scope, booking.id).await.expect("orders"), orders, "{scope:?}");
            for order in &orders {
                let record = db.get_booking_order(scope, &order.id).await.expect("get order").expect("in scope");
                assert_eq!(&record.order, order, "{scope:?}");
                assert_eq!(record.booking_code, booking.code());
                assert!(record.documents.is_empty() && record.invoices.is_empty(), "nothing issued yet");
            }
        }
        for scope in blind {
            assert!(db.orders_of_booking(scope, booking.id).await.expect("orders").is_empty(), "{scope:?}");
            for order in &orders {
                assert!(db.get_booking_order(scope, &order.id).await.expect("get order").is_none(), "{scope:?}");
            }
        }
        // The agency sees bookings its customers did not make; a customer does not.
        let (agents, agents_orders) = event_booked(db, agency.id, None).await;
        assert_eq!(db.orders_of_booking(Scope::Agency(agency.id), agents.id).await.expect("orders"), agents_orders);
        let customer_scope = Scope::Customer { agency: agency.id, user: customer.id };
        assert!(db.orders_of_booking(customer_scope, agents.id).await.expect("orders").is_empty());

        let (flight, _) = booked(db, agency.id, None).await;
        assert!(db.orders_of_booking(Scope::All, flight.id).await.expect("orders").is_empty(), "flights have none");
        assert!(db.orders_of_booking(Scope::All, BookingId::generate()).await.expect("orders").is_empty());
        let unknown = BookingOrderId::from_uuid(Uuid::new_v4());
        assert!(db.get_booking_order(Scope::All, &unknown).await.expect("get order").is_none());

        // The booking and its orders go in together or not at all.
        let mut same_code = event_booking(agency.id, None);
        same_code.detail = booking.detail.clone();
        let same_code_orders = orders_for(&same_code);
        let refused = db.insert_booking(&same_code, &same_code_orders, None).await;
        assert!(matches!(refused, Err(StorageError::Conflict("booking code"))), "got {refused:?}");
        assert!(db.orders_of_booking(Scope::All, same_code.id).await.expect("orders").is_empty());
        assert!(db.get_booking_order(Scope::All, &same_code_orders[0].id).await.expect("get order").is_none());

        // Orders made for another booking are refused, and the booking is not stored without them.
        let stray = event_booking(agency.id, None);
        let foreign = orders_for(&event_booking(agency.id, None));
        let refused = db.insert_booking(&stray, &foreign, None).await;
        assert!(matches!(refused, Err(StorageError::Backend(_))), "got {refused:?}");
        assert!(db.get_booking(Scope::All, stray.id).await.expect("get").is_none());
        assert!(db.get_booking_order(Scope::All, &foreign[0].id).await.expect("get order").is_none());
    }

    async fn orders_list_filters_and_paging(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let other = new_agency(db, 0).await;
        let customer = new_user(db, Some(agency.id), Role::Customer).await;
        let agent = new_user(db, Some(agency.id), Role::Agent).await;
        top_up(db, agency.id, 10 * EVENT_PAYABLE_MINOR).await;
        let t0 = now();

        // Created out of id order (ids are time-ordered), so the listing must sort by time: oldest is [2], then
        // [0], [3], [1]. Another agency's booking is older than all of them.
        let mut ours: Vec<(Booking, Vec<BookingOrder>)> = Vec::new();
        for (i, minutes_ago) in [30, 10, 40, 20].into_iter().enumerate() {
            let creator = if i == 0 { customer.id } else { agent.id };
            let mut booking = event_booking(agency.id, Some(creator));
            booking.created_at = t0 - Duration::minutes(minutes_ago);
            let orders = orders_for(&booking);
            db.insert_booking(&booking, &orders, None).await.expect("insert booking");
            ours.push((booking, orders));
        }
        let mut theirs = event_booking(other.id, None);
        theirs.created_at = t0 - Duration::minutes(50);
        let their_orders = orders_for(&theirs);
        db.insert_booking(&theirs, &their_orders, None).await.expect("insert booking");
        let o = |b: usize, p: usize| ours[b].1[p].id.clone();
        let chronological = vec![o(2, 0), o(2, 1), o(0, 0), o(0, 1), o(3, 0), o(3, 1), o(1, 0), o(1, 1)];

        // Issuing [3] completes its orders.
        let issuance = event_issuance(db, &ours[3].0, &ours[3].1, None).await;
        let sink = Arc::new(EventSink::new(ours[3].1.clone()));
        db.issue(&issuance, sink.clone()).await.expect("issue");

        let list = |scope: Scope, filter: OrderFilter, offset: u64, limit: u32| async move {
            let page = db.list_booking_orders(scope, &filter, offset, limit).await.expect("list booking orders");
            (order_ids(&page), page.total, page)
        };
        let ours_scope = Scope::Agency(agency.id);
        let all = OrderFilter::default;

        let (ids, total, page) = list(ours_scope, all(), 0, 100).await;
        assert_eq!(ids, chronological, "oldest booking first, then by position");
        assert_eq!(total, 8);
        for record in &page.orders {
            let (booking, orders) =
                ours.iter().find(|(b, _)| b.id == record.order.booking_id).expect("one of our bookings");
            assert_eq!(record.booking_code, booking.code());
            let inserted = orders.iter().find(|o| o.id == record.order.id).expect("one of its orders");
            if booking.id == ours[3].0.id {
                assert_eq!(record.order, completed(inserted));
                assert_eq!(record.invoices.len(), 1, "each order has its invoice");
                assert!(!record.documents.is_empty());
                assert!(record.documents.iter().all(|d| d.owner.order() == Some(&record.order.id)));
            } else {
                assert_eq!(&record.order, inserted);
                assert!(record.documents.is_empty() && record.invoices.is_empty());
            }
        }
        let (ids, total, _) = list(Scope::All, all(), 0, 100).await;
        assert_eq!(ids[..2], [their_orders[0].id.clone(), their_orders[1].id.clone()]);
        assert_eq!((ids[2..].to_vec(), total), (chronological.clone(), 10));
        let (ids, total, _) = list(Scope::Agency(other.id), all(), 0, 100).await;
        assert_eq!((ids.len(), total), (2, 2));
        let (ids, total, _) = list(Scope::Customer { agency: agency.id, user: customer.id }, all(), 0, 100).await;
        assert_eq!((ids, total), (vec![o(0, 0), o(0, 1)], 2), "a customer sees the orders of their own bookings");
        let (ids, total, _) =
            list(Scope::Customer { agency: agency.id, user: UserId::generate() }, all(), 0, 100).await;
        assert_eq!((ids.len(), total), (0, 0));

        // Paging: offset and limit cut the same ordered list; the total stays the full count.
        let mut paged = Vec::new();
        for offset in [0, 3, 6] {
            let (ids, total, _) = list(ours_scope, all(), offset, 3).await;
            assert_eq!(total, 8);
            paged.extend(ids);
        }
        assert_eq!(paged, chronological);
        for offset in [8, 100, u64::MAX] {
            let (ids, total, _) = list(ours_scope, all(), offset, 3).await;
            assert_eq!((ids.len(), total), (0, 8), "offset {offset} is past the end");
        }

        // booking_ids: any of them; an empty list matches nothing; never wider than the scope.
        let by_bookings = |ids: Vec<BookingId>| OrderFilter { booking_ids: Some(ids), ..all() };
        let (ids, total, _) = list(ours_scope, by_bookings(vec![ours[1].0.id, ours[3].0.id]), 0, 100).await;
        assert_eq!((ids, total), (vec![o(3, 0), o(3, 1), o(1, 0), o(1, 1)], 4));
        let (ids, total, _) = list(ours_scope, by_bookings(vec![ours[1].0.id, ours[3].0.id]), 1, 2).await;
        assert_eq!((ids, total), (vec![o(3, 1), o(1, 0)], 4), "filters and paging combine");
        let (ids, total, _) = list(Scope::All, by_bookings(Vec::new()), 0, 100).await;
        assert_eq!((ids.len(), total), (0, 0), "an empty list matches nothing");
        let (ids, total, _) = list(ours_scope, by_bookings(vec![theirs.id]), 0, 100).await;
        assert_eq!((ids.len(), total), (0, 0), "filters never widen the scope");
        let (_, total, _) = list(Scope::All, by_bookings(vec![theirs.id]), 0, 100).await;
        assert_eq!(total, 2);

        // order_ids.
        let by_orders = |ids: Vec<BookingOrderId>| OrderFilter { order_ids: Some(ids), ..all() };
        let (ids, total, _) =
            list(ours_scope, by_orders(vec![o(1, 1), o(2, 0), their_orders[0].id.clone()]), 0, 100).await;
        assert_eq!((ids, total), (vec![o(2, 0), o(1, 1)], 2));
        let (ids, total, _) = list(Scope::All, by_orders(Vec::new()), 0, 100).await;
        assert_eq!((ids.len(), total), (0, 0));

        // logistic_status.
        let by_status = |status| OrderFilter { logistic_status: Some(status), ..all() };
        let (ids, total, _) = list(ours_scope, by_status(LogisticStatus::Completed), 0, 100).await;
        assert_eq!((ids, total), (vec![o(3, 0), o(3, 1)], 2));
        let (ids, total, _) = list(ours_scope, by_status(LogisticStatus::Processing), 0, 100).await;
        assert_eq!((ids, total), (vec![o(2, 0), o(2, 1), o(0, 0), o(0, 1), o(1, 0), o(1, 1)], 6));
        let (ids, total, _) = list(ours_scope, by_status(LogisticStatus::Cancelled), 0, 100).await;
        assert_eq!((ids.len(), total), (0, 0));

        // booking_code.
        let by_code = |code: &str| OrderFilter { booking_code: Some(code.to_owned()), ..all() };
        let (ids, total, _) = list(ours_scope, by_code(ours[0].0.code()), 0, 100).await;
        assert_eq!((ids, total), (vec![o(0, 0), o(0, 1)], 2));
        let (ids, total, _) = list(ours_scope, by_code(theirs.code()), 0, 100).await;
        assert_eq!((ids.len(), total), (0, 0));
        let (ids, total, _) = list(ours_scope, by_code("s-nosuch-t-1"), 0, 100).await;
        assert_eq!((ids.len(), total), (0, 0));

        // event_id, alone and with other filters.
        let by_event = |event: &str| OrderFilter { event_id: Some(event.to_owned()), ..all() };
        let (ids, total, _) = list(ours_scope, by_event(EVENT_PASS), 0, 100).await;
        assert_eq!((ids, total), (vec![o(2, 1), o(0, 1), o(3, 1), o(1, 1)], 4));
        let (ids, total, _) = list(ours_scope, by_event(EVENT_PASS), 1, 2).await;
        assert_eq!((ids, total), (vec![o(0, 1), o(3, 1)], 4));
        let (_, total, _) = list(Scope::All, by_event(EVENT_PASS), 0, 100).await;
        assert_eq!(total, 5);
        let pass_completed = OrderFilter { logistic_status: Some(LogisticStatus::Completed), ..by_event(EVENT_PASS) };
        let (ids, total, _) = list(ours_scope, pass_completed, 0, 100).await;
        assert_eq!((ids, total), (vec![o(3, 1)], 1), "every set field must match");
        let (ids, total, _) = list(ours_scope, by_event("no-such-event"), 0, 100).await;
        assert_eq!((ids.len(), total), (0, 0));
    }

    async fn orders_set_distribution_channel(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let other = new_agency(db, 0).await;
        let customer = new_user(db, Some(agency.id), Role::Customer).await;
        let other_customer = new_user(db, Some(agency.id), Role::Customer).await;
        let (booking, orders) = event_booked(db, agency.id, Some(&customer)).await;
        let (pass, paddock) = (orders[1].items[0].id.clone(), orders[1].items[1].id.clone());
        let set = |scope: Scope, order: BookingOrderId, item: OrderItemId, channel| async move {
            db.set_distribution_channel(scope, &order, &item, channel).await.expect("set distribution channel")
        };

        // Out of reach: another agency, another customer, an unknown item or order, an item of another order.
        let external = DistributionChannel::External;
        assert!(set(Scope::Agency(other.id), orders[1].id.clone(), pass.clone(), external).await.is_none());
        let elsewhere = Scope::Customer { agency: agency.id, user: other_customer.id };
        assert!(set(elsewhere, orders[1].id.clone(), pass.clone(), external).await.is_none());
        let unknown_item = OrderItemId::from_uuid(Uuid::new_v4());
        assert!(set(Scope::All, orders[1].id.clone(), unknown_item, external).await.is_none());
        let unknown_order = BookingOrderId::from_uuid(Uuid::new_v4());
        assert!(set(Scope::All, unknown_order, pass.clone(), external).await.is_none());
        assert!(set(Scope::All, orders[0].id.clone(), pass.clone(), external).await.is_none());
        assert_eq!(db.orders_of_booking(Scope::All, booking.id).await.expect("orders"), orders, "nothing changed");

        // Only the item asked for changes.
        let mut expected = orders[1].clone();
        expected.items[0].distribution_channel = external;
        let updated = set(Scope::Agency(agency.id), orders[1].id.clone(), pass.clone(), external).await;
        assert_eq!(updated.as_ref(), Some(&expected));
        assert_eq!(
            db.orders_of_booking(Scope::All, booking.id).await.expect("orders"),
            [orders[0].clone(), expected.clone()]
        );

        // Any scope that reaches the booking may; the change is visible through every read.
        let mine = Scope::Customer { agency: agency.id, user: customer.id };
        expected.items[1].distribution_channel = DistributionChannel::Xs2event;
        let updated = set(mine, orders[1].id.clone(), paddock, DistributionChannel::Xs2event).await;
        assert_eq!(updated.as_ref(), Some(&expected));
        expected.items[0].distribution_channel = DistributionChannel::Xs2event;
        let updated = set(Scope::All, orders[1].id.clone(), pass, DistributionChannel::Xs2event).await;
        assert_eq!(updated.as_ref(), Some(&expected));
        assert_eq!(order_record(db, &orders[1].id).await.order, expected);
        assert_eq!(order_record(db, &orders[0].id).await.order, orders[0]);
    }

    async fn orders_concurrent_channel_changes_are_not_lost(db: Arc<dyn Database>) {
        const TICKETS: usize = 10;
        let agency = new_agency(&*db, 0).await;
        let mut booking = event_booking(agency.id, None);
        if let BookingDetail::Event(event) = &mut booking.detail {
            event.orders[0].items[0].quantity = TICKETS as u32;
        }
        let orders = orders_for(&booking);
        db.insert_booking(&booking, &orders, None).await.expect("insert booking");
        let order = orders[0].clone();
        assert_eq!(order.items.len(), TICKETS);

        // Every item changed at once, each by its own caller: each read-modify-write must see the others'.
        let start = Arc::new(tokio::sync::Barrier::new(TICKETS));
        let mut tasks = Vec::new();
        for item in &order.items {
            let (db, start, order_id, item_id) = (db.clone(), start.clone(), order.id.clone(), item.id.clone());
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                db.set_distribution_channel(
                    Scope::Agency(agency.id),
                    &order_id,
                    &item_id,
                    DistributionChannel::External,
                )
                .await
            }));
        }
        for task in tasks {
            assert!(task.await.expect("task").expect("set distribution channel").is_some());
        }
        let stored = order_record(&*db, &order.id).await.order;
        assert!(
            stored.items.iter().all(|i| i.distribution_channel == DistributionChannel::External),
            "a concurrent change was lost: {:?}",
            stored.items.iter().map(|i| i.distribution_channel).collect::<Vec<_>>()
        );
        let mut expected = order.clone();
        for item in &mut expected.items {
            item.distribution_channel = DistributionChannel::External;
        }
        assert_eq!(stored, expected);
    }

    async fn orders_replace_document(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let other = new_agency(db, 0).await;
        top_up(db, agency.id, EVENT_PAYABLE_MINOR).await;
        let (booking, orders) = event_booked(db, agency.id, None).await;
        let issuance = event_issuance(db, &booking, &orders, None).await;
        db.issue(&issuance, Arc::new(EventSink::new(orders.clone()))).await.expect("issue");
        let zip = DocumentOwner::OrderZip(orders[0].id.clone());
        let before = order_record(db, &orders[0].id).await;
        let old = before.document(&zip).expect("a zip from issuance").clone();
        let rebuilt = fake_document(zip.clone(), format!("tickets-{}.zip", orders[0].id), "application/zip");
        let at = now() + Duration::minutes(5);

        // Another agency cannot replace it.
        let refused = db.replace_document(other.id, &rebuilt, at).await;
        assert!(matches!(refused, Err(StorageError::NotFound)), "got {refused:?}");
        let still = db.get_document(Scope::All, &zip).await.expect("get").expect("stored");
        assert_eq!((still.id, &still.sha256), (old.id, &old.sha256));

        db.replace_document(agency.id, &rebuilt, at).await.expect("replace document");
        let after = order_record(db, &orders[0].id).await;
        assert_eq!(after.documents.len(), before.documents.len(), "replaced, not added");
        assert_document_eq(after.document(&zip).expect("the zip"), &rebuilt, agency.id, at);
        for document in before.documents.iter().filter(|d| d.owner != zip) {
            let same = after.document(&document.owner).expect("still there");
            assert_eq!((same.id, &same.sha256, same.created_at), (document.id, &document.sha256, document.created_at));
        }
        let found = db.get_document(Scope::Agency(agency.id), &zip).await.expect("get").expect("stored");
        assert_document_eq(&found, &rebuilt, agency.id, at);
        let other_zip = DocumentOwner::OrderZip(orders[1].id.clone());
        let untouched = db.get_document(Scope::All, &other_zip).await.expect("get").expect("stored");
        assert_eq!(untouched.created_at, issuance.issued_at, "the other order's zip is left alone");

        // And again: the latest wins.
        let again = fake_document(zip.clone(), format!("tickets-{}.zip", orders[0].id), "application/zip");
        db.replace_document(agency.id, &again, at + Duration::minutes(1)).await.expect("replace document");
        let found = db.get_document(Scope::All, &zip).await.expect("get").expect("stored");
        assert_document_eq(&found, &again, agency.id, at + Duration::minutes(1));
    }
}

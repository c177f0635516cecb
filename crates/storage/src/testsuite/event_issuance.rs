//! Issuing an event booking: one invoice per order, numbered per agency without gaps, and its documents.

use std::sync::Arc;

use tessera_core::booking::BookingStatus;
use tessera_core::ids::IssuanceId;
use tessera_core::orders::{BookingOrderId, LogisticStatus};
use tessera_core::user::{Role, Scope};
use uuid::Uuid;

use super::data::*;
use super::sinks::*;
use crate::{AuditFilter, Database, DocumentOwner, NewDocument, NewIssuance, StorageError};

checks! {
    async fn issue_event_invoices_and_documents(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let other = new_agency(db, 0).await;
        let agent = new_user(db, Some(agency.id), Role::Agent).await;
        let customer = new_user(db, Some(agency.id), Role::Customer).await;
        let other_customer = new_user(db, Some(agency.id), Role::Customer).await;
        top_up(db, agency.id, 2 * EVENT_PAYABLE_MINOR).await;
        let (booking, orders) = event_booked(db, agency.id, Some(&customer)).await;
        let issuance = event_issuance(db, &booking, &orders, Some(&agent)).await;
        assert_eq!(issuance.draft.payable, usd_minor(EVENT_PAYABLE_MINOR));
        assert_eq!(issuance.draft.invoices.len(), 2, "one invoice per order");
        let sink = Arc::new(EventSink::new(orders.clone()));

        let record = db.issue(&issuance, sink.clone()).await.expect("issue");
        assert_eq!(record.amount_charged, usd_minor(EVENT_PAYABLE_MINOR));
        assert!(db.tickets_of_issuance(Scope::All, issuance.id).await.expect("tickets").is_empty(), "no tickets drawn");

        // The sink was handed the invoices with their numbers: 1.. per agency, in draft order.
        let invoices = expected_invoices(&issuance, 1);
        let calls = sink.calls();
        assert_eq!(calls.len(), 1);
        let (handed, documents) = &calls[0];
        assert_eq!(handed.invoices, invoices);
        assert!(handed.tickets.is_empty());
        assert_eq!(documents.len(), 6 + 2 + 2, "a PDF per download item, a zip and an invoice PDF per order");

        // Each order: completed, with its invoice and its documents.
        for (order, invoice) in orders.iter().zip(&invoices) {
            let record = order_record(db, &order.id).await;
            assert_eq!(record.order, completed(order));
            assert_eq!(record.booking_code, booking.code());
            assert_eq!(record.invoices, vec![invoice.clone()]);
            let expected: Vec<&NewDocument> = documents.iter().filter(|d| d.owner.order() == Some(&order.id)).collect();
            assert_eq!(record.documents.len(), expected.len());
            for document in expected {
                let stored = record.document(&document.owner).expect("the order lists the document");
                assert_document_eq(stored, document, agency.id, issuance.issued_at);
            }
        }
        assert_eq!(
            db.orders_of_booking(Scope::All, booking.id).await.expect("orders"),
            orders.iter().map(completed).collect::<Vec<_>>()
        );

        // The documents are found by owner, within the booking's scope only.
        let sees = [Scope::All, Scope::Agency(agency.id), Scope::Customer { agency: agency.id, user: customer.id }];
        let blind = [
            Scope::Agency(other.id),
            Scope::Customer { agency: agency.id, user: other_customer.id },
            Scope::Customer { agency: other.id, user: customer.id },
        ];
        for document in documents {
            for scope in sees {
                let found = db.get_document(scope, &document.owner).await.expect("get document");
                assert_document_eq(&found.expect("in scope"), document, agency.id, issuance.issued_at);
            }
            for scope in blind {
                assert!(db.get_document(scope, &document.owner).await.expect("get document").is_none(), "{scope:?}");
            }
        }
        // A download item is found under its own order only; unknown owners are not found.
        let download = &orders[0].items[0].downloads[0];
        let misfiled = DocumentOwner::Download(orders[1].id.clone(), download.id.clone());
        assert!(db.get_document(Scope::All, &misfiled).await.expect("get document").is_none());
        let not_issued = DocumentOwner::Invoice(orders[0].id.clone(), 3);
        assert!(db.get_document(Scope::All, &not_issued).await.expect("get document").is_none());
        let unknown = DocumentOwner::OrderZip(BookingOrderId::from_uuid(Uuid::new_v4()));
        assert!(db.get_document(Scope::All, &unknown).await.expect("get document").is_none());

        // Money, the booking, the audit trail.
        assert_eq!(balance(db, agency.id).await, EVENT_PAYABLE_MINOR);
        ledger_matches_balance(db, agency.id).await;
        let after = db.get_booking(Scope::All, booking.id).await.expect("get booking").expect("exists");
        assert_eq!(after.status, BookingStatus::Ticketed);
        let audit = db
            .list_audit(Scope::All, &AuditFilter { booking_id: Some(booking.id), ..AuditFilter::default() })
            .await
            .expect("audit");
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].action, "issuance.create");
        assert_eq!(audit[0].issuance_id, Some(issuance.id));
        assert_eq!(audit[0].detail["invoices"], serde_json::json!([1, 2]));
        assert_eq!(audit[0].detail["tickets"], serde_json::json!([]));
        assert_eq!(audit[0].detail["amount"], "5227.50");

        // The agency's next issuance continues its numbers; another agency's start at 1.
        let (second, second_orders) = event_booked(db, agency.id, None).await;
        let next = event_issuance(db, &second, &second_orders, None).await;
        db.issue(&next, Arc::new(EventSink::new(second_orders.clone()))).await.expect("issue");
        for (order, invoice) in second_orders.iter().zip(expected_invoices(&next, 3)) {
            assert_eq!(order_record(db, &order.id).await.invoices, vec![invoice]);
        }
        top_up(db, other.id, EVENT_PAYABLE_MINOR).await;
        let (theirs, their_orders) = event_booked(db, other.id, None).await;
        let their_issuance = event_issuance(db, &theirs, &their_orders, None).await;
        db.issue(&their_issuance, Arc::new(EventSink::new(their_orders.clone()))).await.expect("issue");
        for (order, invoice) in their_orders.iter().zip(expected_invoices(&their_issuance, 1)) {
            assert_eq!(order_record(db, &order.id).await.invoices, vec![invoice]);
        }
        // Invoice numbers repeat across agencies, and their documents stay apart.
        let ours = DocumentOwner::Invoice(orders[0].id.clone(), 1);
        let their_first = DocumentOwner::Invoice(their_orders[0].id.clone(), 1);
        assert!(db.get_document(Scope::Agency(agency.id), &ours).await.expect("get").is_some());
        assert!(db.get_document(Scope::Agency(agency.id), &their_first).await.expect("get").is_none());
        assert!(db.get_document(Scope::Agency(other.id), &their_first).await.expect("get").is_some());
    }

    async fn issue_event_concurrent_invoice_numbers(db: Arc<dyn Database>) {
        const BOOKINGS: usize = 8;
        let agency = new_agency(&*db, 0).await;
        top_up(&*db, agency.id, BOOKINGS as i64 * EVENT_PAYABLE_MINOR).await;
        let mut issuances = Vec::new();
        let mut all_orders = Vec::new();
        for _ in 0..BOOKINGS {
            let (booking, orders) = event_booked(&*db, agency.id, None).await;
            issuances.push(event_issuance(&*db, &booking, &orders, None).await);
            all_orders.extend(orders);
        }
        let sink = Arc::new(EventSink::new(all_orders.clone()));
        let start = Arc::new(tokio::sync::Barrier::new(BOOKINGS));
        let mut tasks = Vec::new();
        for issuance in issuances {
            let (db, sink, start) = (db.clone(), sink.clone(), start.clone());
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                db.issue(&issuance, sink.clone()).await.expect("every issuance fits the balance");
                issuance
            }));
        }
        let mut numbers = Vec::new();
        for task in tasks {
            let issuance = task.await.expect("task");
            let mut own = Vec::new();
            for draft in &issuance.draft.invoices {
                let record = order_record(&*db, draft.order_id.as_ref().expect("an event invoice")).await;
                assert_eq!(record.order.logistic_status, LogisticStatus::Completed);
                assert_eq!(record.invoices.len(), 1);
                own.push(record.invoices[0].number);
            }
            assert!(
                own.windows(2).all(|w| w[1] == w[0] + 1),
                "an issuance's invoices are numbered in a block: {own:?}"
            );
            numbers.extend(own);
        }
        numbers.sort_unstable();
        let expected: Vec<u64> = (1..=2 * BOOKINGS as u64).collect();
        assert_eq!(numbers, expected, "invoice numbers are unique and gapless");
        assert_eq!(balance(&*db, agency.id).await, 0);
    }

    async fn issue_event_sink_failure_consumes_no_invoice_number(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        top_up(db, agency.id, EVENT_PAYABLE_MINOR).await;
        let (booking, orders) = event_booked(db, agency.id, None).await;
        let issuance = event_issuance(db, &booking, &orders, None).await;

        let failing = Arc::new(EventSink::failing(orders.clone()));
        let failed = db.issue(&issuance, failing.clone()).await;
        assert!(matches!(failed, Err(StorageError::Documents(_))), "got {failed:?}");
        assert_eq!(failing.calls()[0].0.invoices, expected_invoices(&issuance, 1), "the sink saw numbers");
        assert_nothing_issued(db, &issuance).await;
        assert_eq!(balance(db, agency.id).await, EVENT_PAYABLE_MINOR);
        assert_eq!(
            db.get_booking(Scope::All, booking.id).await.expect("get").map(|b| b.status),
            Some(BookingStatus::Confirmed)
        );
        for order in &orders {
            let record = order_record(db, &order.id).await;
            assert_eq!(&record.order, order, "still processing");
            assert!(record.invoices.is_empty() && record.documents.is_empty());
            assert!(db
                .get_document(Scope::All, &DocumentOwner::OrderZip(order.id.clone()))
                .await
                .expect("get")
                .is_none());
        }

        // The retry gets the very same numbers: the failed attempt consumed none.
        let retry = NewIssuance { id: IssuanceId::generate(), ..issuance };
        let sink = Arc::new(EventSink::new(orders.clone()));
        db.issue(&retry, sink.clone()).await.expect("retry");
        assert_eq!(sink.calls()[0].0.invoices, expected_invoices(&retry, 1));
        for (order, invoice) in orders.iter().zip(expected_invoices(&retry, 1)) {
            let record = order_record(db, &order.id).await;
            assert_eq!(record.order, completed(order));
            assert_eq!(record.invoices, vec![invoice]);
        }
    }
}

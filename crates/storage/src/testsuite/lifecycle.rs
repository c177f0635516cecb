//! Void, refund, exchange and use after issuance, for tickets and order items: what a transition changes, and
//! that a stale, refused or failed one changes nothing.

use std::sync::Arc;

use chrono::Duration;
use rust_decimal::Decimal;
use tessera_core::booking::BookingStatus;
use tessera_core::codes::TicketNumber;
use tessera_core::ids::BookingId;
use tessera_core::invoice::Invoice;
use tessera_core::ledger::LedgerKind;
use tessera_core::lifecycle::{self, Action, CouponState};
use tessera_core::orders::DownloadItemId;
use tessera_core::ticket::{CouponStatus, RelatedType, Ticket, TicketStatus};
use tessera_core::user::{Role, Scope};
use uuid::Uuid;

use super::data::*;
use super::sinks::*;
use super::transitions::*;
use crate::{Database, DocumentOwner, NewTransition, Reissue, StorageError, Subject, FIRST_SERIAL};

checks! {
    async fn lifecycle_void_ticket(db: Arc<dyn Database>) {
        let db = &*db;
        let (agency, booking, issuance, tickets) = issued_flight(db, 200_000).await;
        let ticket = &tickets[0];
        let issued_invoices = db.invoices_of_booking(Scope::All, booking.id).await.expect("invoices");
        assert_eq!(issued_invoices.iter().map(|i| i.number).collect::<Vec<_>>(), [1]);
        let at = now() + Duration::minutes(5);
        let change = void_of(ticket, 1, at);
        let sink = TransitionRecorder::default();

        let outcome = db.transition(&change, &sink).await.expect("void");
        assert_eq!(outcome.subject, change.subject);
        assert!(outcome.reissued.is_none());
        let entry = outcome.ledger.clone().expect("a ledger entry");
        assert_eq!((entry.kind, entry.amount), (LedgerKind::VoidCredit, usd_minor(46_000)), "the charged amount back");
        assert_eq!(entry.balance_after, usd_minor(200_000 - PAYABLE_MINOR + 46_000));
        assert_eq!((entry.agency_id, entry.issuance_id, entry.created_at), (agency.id, Some(issuance.id), at));
        assert_eq!(entry.note.as_deref(), Some("ticket.void"));
        let expected_invoice =
            Invoice { number: 2, agency_id: agency.id, issued_at: at, draft: change.invoice.clone().expect("draft") };
        assert_eq!(outcome.invoice.as_ref(), Some(&expected_invoice), "numbered right after the issuance's invoice");

        // The ticket and its coupons changed; its siblings did not.
        let mut expected = ticket.clone();
        expected.status = TicketStatus::Void;
        for coupon in &mut expected.coupons {
            coupon.status = CouponStatus::Void;
        }
        assert_eq!(ticket_now(db, &ticket.number).await, expected);
        let all = db.tickets_of_issuance(Scope::All, issuance.id).await.expect("tickets");
        assert_eq!(all[0], expected);
        assert_eq!(all[1..], tickets[1..]);

        // Money and invoices.
        let ledger = ledger_matches_balance(db, agency.id).await;
        assert_eq!((ledger.len(), ledger.last()), (3, Some(&entry)));
        assert_eq!(balance(db, agency.id).await, 200_000 - PAYABLE_MINOR + 46_000);
        assert_eq!(
            db.invoices_of_booking(Scope::Agency(agency.id), booking.id).await.expect("invoices"),
            vec![issued_invoices[0].clone(), expected_invoice.clone()]
        );

        // The sink saw the outcome; the ticket's PDF it returned replaced the issuance's.
        let calls = sink.calls();
        assert_eq!(calls.len(), 1);
        let (handed, documents) = &calls[0];
        assert_eq!((handed.ledger.as_ref(), handed.invoice.as_ref()), (Some(&entry), Some(&expected_invoice)));
        assert_eq!(documents.len(), 1);
        let stored = db.get_document(Scope::All, &documents[0].owner).await.expect("get document").expect("stored");
        assert_document_eq(&stored, &documents[0], agency.id, at);

        // The audit trail names the ticket and what changed.
        let audit = audit_of(db, &change.subject).await;
        assert_eq!(audit.len(), 1);
        let logged = &audit[0];
        assert_eq!((logged.action.as_str(), logged.outcome.as_str()), ("ticket.void", "success"));
        assert_eq!(
            (logged.agency_id, logged.booking_id, logged.issuance_id),
            (Some(agency.id), Some(booking.id), Some(issuance.id))
        );
        assert_eq!(logged.ticket_number, Some(ticket.number.compact()));
        assert_eq!((&logged.username, &logged.tracking_id), (&change.actor.username, &change.actor.tracking_id));
        assert_eq!(logged.created_at, at);
        assert_eq!(
            logged.detail,
            serde_json::json!({
                "reason": "conformance", "from": "OPEN", "to": "VOID",
                "invoice": 2, "ledger": "460.00", "reissued": null
            })
        );
    }

    async fn lifecycle_stale_plan_changes_nothing(db: Arc<dyn Database>) {
        let db = &*db;
        let (agency, booking, _, tickets) = issued_flight(db, 200_000).await;
        let other = new_agency(db, 0).await;
        let ticket = &tickets[0];
        let void = void_of(ticket, 1, now());

        // Meanwhile coupon 1 is flown: the ticket is still OPEN, but its coupons are not those the void saw.
        let flown_at = now();
        db.transition(&ticket_change(ticket, Action::Use(1), flown_at), &TransitionRecorder::default())
            .await
            .expect("use coupon 1");
        let current = ticket_now(db, &ticket.number).await;
        assert_eq!(current.status, TicketStatus::Open);
        let ledger_before = db.ledger(agency.id).await.expect("ledger");
        let audit_before = audit_of(db, &void.subject).await.len();

        let sink = TransitionRecorder::default();
        let stale = db.transition(&void, &sink).await;
        assert!(matches!(stale, Err(StorageError::Stale)), "got {stale:?}");
        // The same status and coupon statuses but another time of use is a changed coupon too.
        let mut other_time = ticket_change(&current, Action::Use(2), now());
        other_time.from_coupons[0].used_at = Some(flown_at + Duration::seconds(1));
        let stale = db.transition(&other_time, &sink).await;
        assert!(matches!(stale, Err(StorageError::Stale)), "got {stale:?}");
        assert!(sink.calls().is_empty(), "a stale plan is refused before rendering");

        // Not in the agency, not of the booking, or no such ticket: not found.
        let fresh = ticket_change(&current, Action::Use(2), now());
        let elsewhere = NewTransition { agency_id: other.id, ..fresh.clone() };
        let other_booking = NewTransition { booking_id: BookingId::generate(), ..fresh.clone() };
        let unknown = NewTransition { subject: Subject::Ticket { number: number(PREFIX, FIRST_SERIAL + 99) }, ..fresh };
        for change in [elsewhere, other_booking, unknown] {
            let refused = db.transition(&change, &sink).await;
            assert!(matches!(refused, Err(StorageError::NotFound)), "got {refused:?}");
        }

        // Nothing was written.
        assert_eq!(ticket_now(db, &ticket.number).await, current);
        assert_eq!(db.ledger(agency.id).await.expect("ledger"), ledger_before);
        assert_eq!(invoice_numbers(db, booking.id).await, [1]);
        assert_eq!(audit_of(db, &void.subject).await.len(), audit_before);
        assert!(db.ledger(other.id).await.expect("ledger").is_empty());

        // Planned again from the fresh state it goes through, with the next invoice number: none was consumed.
        let mut refund = ticket_change(&current, Action::Refund, now());
        let value = lifecycle::residual_value(current.charged, &current.coupon_states()).expect("value");
        assert_eq!(value, usd_minor(23_000), "one of two coupons left");
        refund.ledger = Some((LedgerKind::RefundCredit, value));
        refund.invoice = Some(credit_note(booking.id, None, &ticket.number.compact(), value, Decimal::ZERO, 1));
        let outcome = db.transition(&refund, &sink).await.expect("refund");
        assert_eq!(outcome.invoice.map(|i| i.number), Some(2));
        let refunded = ticket_now(db, &ticket.number).await;
        assert_eq!(refunded.status, TicketStatus::Refunded);
        assert_eq!(
            refunded.coupons.iter().map(|c| (c.status, c.used_at)).collect::<Vec<_>>(),
            [(CouponStatus::Flown, Some(flown_at)), (CouponStatus::Refunded, None)]
        );
        assert_eq!(balance(db, agency.id).await, 200_000 - PAYABLE_MINOR + 23_000);
        ledger_matches_balance(db, agency.id).await;
    }

    async fn lifecycle_sink_failure_changes_nothing(db: Arc<dyn Database>) {
        let db = &*db;
        let (agency, booking, _, tickets) = issued_flight(db, 200_000).await;
        let ticket = &tickets[1];
        let owner = DocumentOwner::Ticket(ticket.number.clone());
        let document_before = db.get_document(Scope::All, &owner).await.expect("get document").expect("stored");
        let void = void_of(ticket, 1, now());

        let failing = TransitionRecorder::failing();
        let failed = db.transition(&void, &failing).await;
        assert!(matches!(failed, Err(StorageError::Documents(_))), "got {failed:?}");
        assert_eq!(failing.calls()[0].0.invoice.as_ref().map(|i| i.number), Some(2), "the sink saw the number");
        assert_eq!(ticket_now(db, &ticket.number).await, *ticket);
        assert_eq!(balance(db, agency.id).await, 200_000 - PAYABLE_MINOR);
        assert_eq!(ledger_matches_balance(db, agency.id).await.len(), 2);
        assert_eq!(invoice_numbers(db, booking.id).await, [1]);
        assert!(audit_of(db, &void.subject).await.is_empty());
        let document = db.get_document(Scope::All, &owner).await.expect("get document").expect("stored");
        assert_eq!((document.id, &document.sha256), (document_before.id, &document_before.sha256));

        // The retry gets the very same invoice number.
        let outcome = db.transition(&void, &TransitionRecorder::default()).await.expect("void");
        assert_eq!(outcome.invoice.map(|i| i.number), Some(2));
        assert_eq!(ticket_now(db, &ticket.number).await.status, TicketStatus::Void);
    }

    async fn lifecycle_insufficient_balance_changes_nothing(db: Arc<dyn Database>) {
        let db = &*db;
        // Exactly enough for the issuance: the balance is 0 and the credit limit 0.
        let (agency, booking, _, tickets) = issued_flight(db, PAYABLE_MINOR).await;
        let ticket = &tickets[0];
        // 500.00 + 25.00 for a ticket worth 460.00: 65.00 to collect.
        let exchange = exchange_of(&booking, ticket, 50_000, 2_500, now());
        assert_eq!(exchange.ledger, Some((LedgerKind::ExchangeDebit, usd_minor(-6_500))));
        let sink = TransitionRecorder::default();

        let refused = db.transition(&exchange, &sink).await;
        assert!(matches!(refused, Err(StorageError::InsufficientBalance)), "got {refused:?}");
        assert!(sink.calls().is_empty());
        assert_eq!(ticket_now(db, &ticket.number).await, *ticket);
        assert!(db.get_ticket(Scope::All, &number(PREFIX, FIRST_SERIAL + 3)).await.expect("get ticket").is_none());
        assert_eq!(
            db.get_booking(Scope::All, booking.id).await.expect("get").map(|b| b.detail),
            Some(booking.detail.clone())
        );
        assert_eq!(balance(db, agency.id).await, 0);
        assert_eq!(ledger_matches_balance(db, agency.id).await.len(), 2);
        assert_eq!(invoice_numbers(db, booking.id).await, [1]);
        assert!(audit_of(db, &exchange.subject).await.is_empty());

        // With the money there it goes through, and the refusal consumed neither a serial nor an invoice number.
        top_up(db, agency.id, 6_500).await;
        let outcome = db.transition(&exchange, &sink).await.expect("exchange");
        assert_eq!(outcome.reissued.map(|t| t.number), Some(number(PREFIX, FIRST_SERIAL + 3)));
        assert_eq!(outcome.invoice.map(|i| i.number), Some(2));
        assert_eq!(balance(db, agency.id).await, 0);
        ledger_matches_balance(db, agency.id).await;
    }

    async fn lifecycle_use_coupons_and_await_approval(db: Arc<dyn Database>) {
        let db = &*db;
        let (agency, booking, _, tickets) = issued_flight(db, 200_000).await;
        let ticket = &tickets[0];
        let sink = TransitionRecorder::default();

        let first = now() + Duration::hours(1);
        let outcome = db.transition(&ticket_change(ticket, Action::Use(1), first), &sink).await.expect("use coupon 1");
        assert!(outcome.ledger.is_none() && outcome.invoice.is_none() && outcome.reissued.is_none(), "no money moves");
        let flown = ticket_now(db, &ticket.number).await;
        assert_eq!(flown.status, TicketStatus::Open, "one coupon is still open");
        assert_eq!(
            flown.coupon_states(),
            [CouponState { status: CouponStatus::Flown, used_at: Some(first) }, CouponState::open()]
        );
        let last = first + Duration::hours(8);
        db.transition(&ticket_change(&flown, Action::Use(2), last), &sink).await.expect("use coupon 2");
        let used = ticket_now(db, &ticket.number).await;
        assert_eq!(used.status, TicketStatus::Used);
        assert_eq!(used.coupons.iter().map(|c| c.used_at).collect::<Vec<_>>(), [Some(first), Some(last)]);
        let audit = audit_of(db, &Subject::Ticket { number: ticket.number.clone() }).await;
        assert_eq!(audit.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["ticket.use", "ticket.use"]);
        assert_eq!(
            (&audit[1].detail["from"], &audit[1].detail["to"]),
            (&serde_json::json!("OPEN"), &serde_json::json!("USED"))
        );
        assert_eq!(
            (&audit[1].detail["ledger"], &audit[1].detail["invoice"]),
            (&serde_json::Value::Null, &serde_json::Value::Null)
        );

        // A refund awaiting approval keeps the penalty asked for; a rejection clears it.
        let emd = &tickets[2];
        let mut request = ticket_change(emd, Action::RequestRefund, now());
        request.pending_penalty = Some(usd_minor(1_000));
        db.transition(&request, &sink).await.expect("request refund");
        let pending = ticket_now(db, &emd.number).await;
        assert_eq!((pending.status, pending.pending_penalty), (TicketStatus::RefundPending, Some(usd_minor(1_000))));
        assert_eq!(pending.coupons, emd.coupons, "coupons stay as they are while the refund waits");
        db.transition(&ticket_change(&pending, Action::RejectRefund, now()), &sink).await.expect("reject refund");
        let rejected = ticket_now(db, &emd.number).await;
        assert_eq!((rejected.status, rejected.pending_penalty), (TicketStatus::Open, None));

        assert_eq!(balance(db, agency.id).await, 200_000 - PAYABLE_MINOR, "no money moved");
        assert_eq!(ledger_matches_balance(db, agency.id).await.len(), 2);
        assert_eq!(invoice_numbers(db, booking.id).await, [1]);
    }

    async fn lifecycle_exchange_reissues_ticket(db: Arc<dyn Database>) {
        let db = &*db;
        let (agency, booking, issuance, tickets) = issued_flight(db, 200_000).await;
        let old = &tickets[0];
        let at = now() + Duration::minutes(10);
        let change = exchange_of(&booking, old, 50_000, 2_500, at);
        let reissue = change.reissue.clone().expect("a reissue");
        let sink = TransitionRecorder::default();

        let outcome = db.transition(&change, &sink).await.expect("exchange");
        // The new ticket: the next serial of the prefix, under the old ticket's issuance, pointing back at it.
        let new_number = number(PREFIX, FIRST_SERIAL + 3);
        let mut expected_new =
            Ticket::from_draft(reissue.draft.clone(), new_number.clone(), issuance.id, booking.id, agency.id, at);
        expected_new.related_number = Some(old.number.clone());
        expected_new.related_type = Some(RelatedType::ORGN);
        assert_eq!(outcome.reissued.as_ref(), Some(&expected_new));
        assert_eq!(ticket_now(db, &new_number).await, expected_new);
        assert!(expected_new.is_reissue());
        // The old ticket: exchanged, pointing at the new one.
        let mut expected_old = old.clone();
        expected_old.status = TicketStatus::Exchanged;
        for coupon in &mut expected_old.coupons {
            coupon.status = CouponStatus::Exchanged;
        }
        expected_old.related_number = Some(new_number.clone());
        expected_old.related_type = Some(RelatedType::EXCH);
        assert_eq!(ticket_now(db, &old.number).await, expected_old);
        let all = db.tickets_of_issuance(Scope::Agency(agency.id), issuance.id).await.expect("tickets");
        assert_eq!(
            all,
            [expected_old, tickets[1].clone(), tickets[2].clone(), expected_new],
            "the new ticket goes last"
        );

        // The booking carries the amendment; it stays ticketed.
        let stored = db.get_booking(Scope::All, booking.id).await.expect("get booking").expect("exists");
        assert_eq!((stored.detail, stored.status), (reissue.booking.clone(), BookingStatus::Ticketed));

        // The invoice covers both tickets; the difference is debited.
        let invoice = outcome.invoice.clone().expect("an exchange invoice");
        assert_eq!(invoice.number, 2);
        assert_eq!(invoice.draft.covers, [old.number.compact(), new_number.compact()]);
        assert_eq!(invoice.draft.gross, usd_minor(6_500));
        assert_eq!(db.invoices_of_booking(Scope::All, booking.id).await.expect("invoices")[1], invoice);
        let entry = outcome.ledger.clone().expect("a ledger entry");
        assert_eq!((entry.kind, entry.amount), (LedgerKind::ExchangeDebit, usd_minor(-6_500)));
        assert_eq!(balance(db, agency.id).await, 200_000 - PAYABLE_MINOR - 6_500);

        // Both tickets' PDFs are stored, in the agency's scope.
        let (_, documents) = &sink.calls()[0];
        assert_eq!(documents.len(), 2);
        for document in documents {
            let stored = db
                .get_document(Scope::Agency(agency.id), &document.owner)
                .await
                .expect("get document")
                .expect("stored");
            assert_document_eq(&stored, document, agency.id, at);
        }
        let audit = audit_of(db, &change.subject).await;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].detail["reissued"], serde_json::json!(new_number.compact()));
        assert_eq!(audit[0].detail["ledger"], serde_json::json!("-65.00"));

        // Issuance and exchange share the serial counter.
        top_up(db, agency.id, PAYABLE_MINOR).await;
        let (_, next) = booked(db, agency.id, None).await;
        db.issue(&next, Arc::new(RecordingSink::default())).await.expect("issue");
        let numbers: Vec<TicketNumber> =
            db.tickets_of_issuance(Scope::All, next.id).await.expect("tickets").into_iter().map(|t| t.number).collect();
        assert_eq!(
            numbers,
            [number(PREFIX, FIRST_SERIAL + 4), number(PREFIX, FIRST_SERIAL + 5), number(PREFIX, FIRST_SERIAL + 6)]
        );
        ledger_matches_balance(db, agency.id).await;
    }

    async fn lifecycle_event_items(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let customer = new_user(db, Some(agency.id), Role::Customer).await;
        top_up(db, agency.id, EVENT_PAYABLE_MINOR).await;
        let (booking, orders) = event_booked(db, agency.id, Some(&customer)).await;
        let issuance = event_issuance(db, &booking, &orders, None).await;
        db.issue(&issuance, Arc::new(EventSink::new(orders.clone()))).await.expect("issue");
        let issued_invoices = db.invoices_of_booking(Scope::All, booking.id).await.expect("invoices");
        assert_eq!(issued_invoices.iter().map(|i| i.number).collect::<Vec<_>>(), [1, 2]);
        let sink = TransitionRecorder::new(orders.clone());

        // The gate scans day 2 of the weekend pass: that PDF is used, the ticket still counts.
        let (pass_order, pass) = (&orders[1], &orders[1].items[0]);
        let scanned_at = now() + Duration::hours(1);
        let scan = item_change(pass_order, pass, Action::Use(2), scanned_at, issuance.id);
        db.transition(&scan, &sink).await.expect("scan");
        let mut expected = completed(pass_order);
        let item = expected.items.iter_mut().find(|i| i.id == pass.id).expect("the pass");
        item.downloads[1].status = CouponStatus::Flown;
        item.downloads[1].activated = Some(scanned_at);
        let record = order_record(db, &pass_order.id).await;
        assert_eq!(record.order, expected);
        assert_eq!(record.order.item(pass.id.as_str()).map(|i| i.status), Some(TicketStatus::Open));
        let audit = audit_of(db, &scan.subject).await;
        assert_eq!(
            audit.iter().map(|e| (e.action.as_str(), e.ticket_number.clone())).collect::<Vec<_>>(),
            [("item.use", Some(pass.id.to_string()))]
        );
        // The same scan planned from the old state again is stale.
        let again = db.transition(&scan, &sink).await;
        assert!(matches!(again, Err(StorageError::Stale)), "got {again:?}");

        // A refund of a match seat: credited, with a credit invoice of the order against the order's invoice.
        let (match_order, seat) = (&orders[0], &orders[0].items[0]);
        let billed =
            issued_invoices.iter().find(|i| i.draft.order_id.as_ref() == Some(&match_order.id)).expect("billed");
        let refunded_at = now() + Duration::hours(2);
        let mut refund = item_change(match_order, seat, Action::Refund, refunded_at, issuance.id);
        refund.ledger = Some((LedgerKind::RefundCredit, seat.unit_price));
        let credit = credit_note(
            booking.id,
            Some(match_order),
            seat.id.as_str(),
            seat.unit_price,
            agency.vat_percent,
            billed.number,
        );
        refund.invoice = Some(credit.clone());
        let outcome = db.transition(&refund, &sink).await.expect("refund");
        let credit = Invoice { number: 3, agency_id: agency.id, issued_at: refunded_at, draft: credit };
        assert_eq!(outcome.invoice.as_ref(), Some(&credit));
        let record = order_record(db, &match_order.id).await;
        let stored = record.order.item(seat.id.as_str()).expect("the seat");
        assert_eq!(stored.status, TicketStatus::Refunded);
        assert!(stored.downloads.iter().all(|d| d.status == CouponStatus::Refunded && d.activated.is_none()));
        assert_eq!(record.invoices, vec![billed.clone(), credit.clone()], "the order lists its credit invoice");
        for owner in
            [DocumentOwner::Invoice(match_order.id.clone(), 3), DocumentOwner::OrderZip(match_order.id.clone())]
        {
            let document = record.document(&owner).expect("stored with the order");
            assert_eq!(document.created_at, refunded_at, "{owner:?}");
        }
        let customer_scope = Scope::Customer { agency: agency.id, user: customer.id };
        assert_eq!(invoice_numbers(db, booking.id).await, [1, 2, 3]);
        assert_eq!(db.invoices_of_booking(customer_scope, booking.id).await.expect("invoices").len(), 3);

        // A refund awaiting approval keeps its penalty in the order.
        let other_seat = &match_order.items[1];
        let mut request = item_change(match_order, other_seat, Action::RequestRefund, now(), issuance.id);
        request.pending_penalty = Some(usd_minor(2_000));
        db.transition(&request, &sink).await.expect("request refund");
        let waiting = order_record(db, &match_order.id).await;
        let waiting = waiting.order.item(other_seat.id.as_str()).expect("the other seat");
        assert_eq!((waiting.status, waiting.pending_penalty), (TicketStatus::RefundPending, Some(usd_minor(2_000))));

        // An order item cannot be exchanged (only flight tickets are); nothing is written.
        let before = order_record(db, &pass_order.id).await;
        let current = before.order.item(pass.id.as_str()).expect("the pass").clone();
        let mut exchange = item_change(&before.order, &current, Action::Exchange, now(), issuance.id);
        let draft = draft_for(&flight_booking(agency.id, None)).tickets.remove(0);
        exchange.reissue = Some(Reissue { draft, booking: booking.detail.clone() });
        let refused = db.transition(&exchange, &sink).await;
        assert!(matches!(refused, Err(StorageError::Backend(_))), "got {refused:?}");
        assert_eq!(order_record(db, &pass_order.id).await.order, before.order);

        assert_eq!(balance(db, agency.id).await, 18_900);
        ledger_matches_balance(db, agency.id).await;
    }

    async fn lifecycle_concurrent_transitions_one_wins(db: Arc<dyn Database>) {
        const RACERS: usize = 8;
        let (agency, booking, _, tickets) = issued_flight(&*db, 200_000).await;
        let void = void_of(&tickets[0], 1, now());
        let sink = Arc::new(TransitionRecorder::default());
        let start = Arc::new(tokio::sync::Barrier::new(RACERS));

        let mut tasks = Vec::new();
        for _ in 0..RACERS {
            let (db, sink, start, void) = (db.clone(), sink.clone(), start.clone(), void.clone());
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                db.transition(&void, sink.as_ref()).await
            }));
        }
        let (mut won, mut stale) = (0, 0);
        for task in tasks {
            match task.await.expect("task") {
                Ok(_) => won += 1,
                Err(StorageError::Stale) => stale += 1,
                Err(other) => panic!("unexpected error: {other:?}"),
            }
        }
        assert_eq!((won, stale), (1, RACERS - 1), "exactly one transition wins");
        assert_eq!(sink.calls().len(), 1, "losers are refused before rendering");
        let ledger = ledger_matches_balance(&*db, agency.id).await;
        assert_eq!(ledger.iter().filter(|e| e.kind == LedgerKind::VoidCredit).count(), 1, "credited once");
        assert_eq!(balance(&*db, agency.id).await, 200_000 - PAYABLE_MINOR + 46_000);
        assert_eq!(invoice_numbers(&*db, booking.id).await, [1, 2]);
        assert_eq!(audit_of(&*db, &void.subject).await.len(), 1);
        assert_eq!(ticket_now(&*db, &tickets[0].number).await.status, TicketStatus::Void);
    }

    async fn lifecycle_invoices_and_downloads_in_scope(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let other = new_agency(db, 0).await;
        let customer = new_user(db, Some(agency.id), Role::Customer).await;
        let other_customer = new_user(db, Some(agency.id), Role::Customer).await;
        top_up(db, agency.id, PAYABLE_MINOR + 2 * EVENT_PAYABLE_MINOR).await;
        top_up(db, other.id, EVENT_PAYABLE_MINOR).await;

        // A flight issuance's invoice covers every ticket it numbered, in ticket order.
        let (flight, issuance) = booked(db, agency.id, Some(&customer)).await;
        db.issue(&issuance, Arc::new(RecordingSink::default())).await.expect("issue");
        let tickets = db.tickets_of_issuance(Scope::All, issuance.id).await.expect("tickets");
        let invoices = db.invoices_of_booking(Scope::All, flight.id).await.expect("invoices");
        assert_eq!(invoices.len(), 1);
        let mut expected_draft = issuance.draft.invoices[0].clone();
        expected_draft.covers = tickets.iter().map(|t| t.number.compact()).collect();
        let issued = Invoice { number: 1, agency_id: agency.id, issued_at: issuance.issued_at, draft: expected_draft };
        assert_eq!(invoices[0], issued);
        assert_eq!((invoices[0].draft.booking_id, &invoices[0].draft.order_id), (flight.id, &None));
        // A credit invoice joins it, oldest first.
        let outcome =
            db.transition(&void_of(&tickets[2], 1, now()), &TransitionRecorder::default()).await.expect("void");
        let credit = outcome.invoice.expect("a credit invoice");
        let both = vec![issued, credit];

        let sees = [Scope::All, Scope::Agency(agency.id), Scope::Customer { agency: agency.id, user: customer.id }];
        let blind = [
            Scope::Agency(other.id),
            Scope::Customer { agency: agency.id, user: other_customer.id },
            Scope::Customer { agency: other.id, user: customer.id },
        ];
        for scope in sees {
            assert_eq!(db.invoices_of_booking(scope, flight.id).await.expect("invoices"), both, "{scope:?}");
        }
        for scope in blind {
            assert!(db.invoices_of_booking(scope, flight.id).await.expect("invoices").is_empty(), "{scope:?}");
        }
        assert!(db.invoices_of_booking(Scope::All, BookingId::generate()).await.expect("invoices").is_empty());

        // A download item leads to its order through its stored PDF, within the scope.
        let (event, orders) = event_booked(db, agency.id, Some(&customer)).await;
        let event_issue = event_issuance(db, &event, &orders, None).await;
        db.issue(&event_issue, Arc::new(EventSink::new(orders.clone()))).await.expect("issue");
        let download = &orders[1].items[0].downloads[2].id;
        for scope in sees {
            assert_eq!(
                db.order_of_download(scope, download).await.expect("order of download"),
                Some(orders[1].id.clone())
            );
        }
        for scope in blind {
            assert_eq!(db.order_of_download(scope, download).await.expect("order of download"), None, "{scope:?}");
        }
        let unknown = DownloadItemId::from_uuid(Uuid::new_v4());
        assert_eq!(db.order_of_download(Scope::All, &unknown).await.expect("order of download"), None);
        // An order not yet issued has no PDF to find it by.
        let (_, pending) = event_booked(db, agency.id, None).await;
        let not_issued = &pending[0].items[0].downloads[0].id;
        assert_eq!(db.order_of_download(Scope::All, not_issued).await.expect("order of download"), None);
        // Another agency's issued order is theirs only.
        let (theirs, their_orders) = event_booked(db, other.id, None).await;
        let their_issue = event_issuance(db, &theirs, &their_orders, None).await;
        db.issue(&their_issue, Arc::new(EventSink::new(their_orders.clone()))).await.expect("issue");
        let their_download = &their_orders[0].items[0].downloads[0].id;
        assert_eq!(db.order_of_download(Scope::Agency(agency.id), their_download).await.expect("order"), None);
        assert_eq!(
            db.order_of_download(Scope::Agency(other.id), their_download).await.expect("order"),
            Some(their_orders[0].id.clone())
        );

        // Event invoices are the booking's too; flight and event invoices share the agency's numbers.
        assert_eq!(invoice_numbers(db, event.id).await, [3, 4]);
        assert_eq!(invoice_numbers(db, theirs.id).await, [1, 2]);
        ledger_matches_balance(db, agency.id).await;
        ledger_matches_balance(db, other.id).await;
    }
}

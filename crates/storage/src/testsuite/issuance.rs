//! Issuing a flight booking: ticket numbers, the debit, documents, and what a refused or failed issuance
//! leaves behind (nothing), alone and under concurrency.

use std::sync::Arc;

use tessera_core::booking::{Booking, BookingStatus};
use tessera_core::codes::TicketNumber;
use tessera_core::ids::IssuanceId;
use tessera_core::ledger::LedgerKind;
use tessera_core::ticket::{Ticket, TicketDraft, TicketStatus, TicketType};
use tessera_core::user::{Role, Scope};

use super::data::*;
use super::sinks::*;
use crate::{AuditFilter, Database, DocumentOwner, IssuanceRecord, NewIssuance, StorageError, FIRST_SERIAL};

checks! {
    async fn issue_happy_path(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let agent = new_user(db, Some(agency.id), Role::Agent).await;
        top_up(db, agency.id, 200_000).await;
        let (booking, issuance) = booked(db, agency.id, Some(&agent)).await;
        let sink = Arc::new(RecordingSink::default());

        let record = db.issue(&issuance, sink.clone()).await.expect("issue");
        let expected_record = IssuanceRecord {
            id: issuance.id,
            booking_id: booking.id,
            agency_id: agency.id,
            amount_charged: usd_minor(PAYABLE_MINOR),
            commission: usd_minor(0),
            issued_at: issuance.issued_at,
            issued_by: Some(agent.id),
            attributes: issuance.attributes.clone(),
        };
        assert_issuance_eq(&record, &expected_record);
        let found = db.get_issuance(Scope::All, issuance.id).await.expect("get issuance").expect("stored");
        assert_issuance_eq(&found, &expected_record);

        // Tickets: numbered from FIRST_SERIAL in draft order, 13 digits, coupons in order.
        let expected = expected_tickets(&issuance, FIRST_SERIAL);
        let tickets = db.tickets_of_issuance(Scope::All, issuance.id).await.expect("tickets");
        assert_eq!(tickets, expected);
        assert_eq!(
            tickets.iter().map(|t| t.kind).collect::<Vec<_>>(),
            [TicketType::TKT, TicketType::TKT, TicketType::EMD]
        );
        for ticket in &tickets {
            let compact = ticket.number.compact();
            assert_eq!(compact.len(), 13);
            assert!(compact.starts_with(PREFIX));
            assert_eq!(ticket.status, TicketStatus::Open);
            assert_eq!(db.get_ticket(Scope::All, &ticket.number).await.expect("get ticket").as_ref(), Some(ticket));
        }
        assert_eq!(tickets[0].coupons.iter().map(|c| c.number).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(tickets[0].coupons[1].origin.as_deref(), Some("DOH"));

        // The sink saw the numbered tickets; what it returned is recorded.
        let calls = sink.calls();
        assert_eq!(calls.len(), 1);
        let (handed, documents) = &calls[0];
        assert_eq!(handed.issuance_id, issuance.id);
        assert_eq!(handed.booking_id, booking.id);
        assert_eq!(handed.agency_id, agency.id);
        assert_eq!(handed.issued_at, issuance.issued_at);
        assert_eq!(handed.tickets, expected);
        assert_eq!(documents.len(), 4);
        for document in documents {
            let stored = db.get_document(Scope::All, &document.owner).await.expect("get document").expect("stored");
            assert_document_eq(&stored, document, agency.id, issuance.issued_at);
        }

        // Money.
        let ledger = ledger_matches_balance(db, agency.id).await;
        assert_eq!(ledger.len(), 2);
        let debit = &ledger[1];
        assert_eq!(debit.kind, LedgerKind::IssuanceDebit);
        assert_eq!(debit.amount, usd_minor(-PAYABLE_MINOR));
        assert_eq!(debit.balance_after, usd_minor(200_000 - PAYABLE_MINOR));
        assert_eq!(debit.issuance_id, Some(issuance.id));
        assert_eq!(debit.created_at, issuance.issued_at);
        assert_eq!(balance(db, agency.id).await, 200_000 - PAYABLE_MINOR);

        // The booking moved on.
        let after = db.get_booking(Scope::All, booking.id).await.expect("get booking").expect("exists");
        assert_eq!(after.status, BookingStatus::Ticketed);
        assert_eq!(after.detail, booking.detail);

        // The audit trail.
        let audit = db
            .list_audit(Scope::All, &AuditFilter { booking_id: Some(booking.id), ..AuditFilter::default() })
            .await
            .expect("audit");
        assert_eq!(audit.len(), 1);
        let entry = &audit[0];
        assert_eq!(entry.action, "issuance.create");
        assert_eq!(entry.outcome, "success");
        assert_eq!(entry.agency_id, Some(agency.id));
        assert_eq!(entry.user_id, Some(agent.id));
        assert_eq!(entry.username, agent.username);
        assert_eq!(entry.client_addr, issuance.actor.client_addr);
        assert_eq!(entry.tracking_id, issuance.actor.tracking_id);
        assert_eq!(entry.booking_id, Some(booking.id));
        assert_eq!(entry.issuance_id, Some(issuance.id));
        assert_eq!(entry.ticket_number, None);
        assert_eq!(entry.created_at, issuance.issued_at);
        assert_eq!(entry.detail["amount"], "980.00");
        assert_eq!(entry.detail["currency"], "USD");
        assert_eq!(entry.detail["attributes"], issuance.attributes);
        let listed: Vec<TicketNumber> = entry.detail["tickets"]
            .as_array()
            .expect("detail.tickets is an array")
            .iter()
            .map(|n| TicketNumber::parse(n.as_str().expect("a ticket number string")).expect("a ticket number"))
            .collect();
        assert_eq!(listed, expected.iter().map(|t| t.number.clone()).collect::<Vec<_>>());
    }

    async fn issue_numbers_per_prefix_in_ticket_order(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        top_up(db, agency.id, 10 * PAYABLE_MINOR).await;
        let sink = Arc::new(RecordingSink::default());

        // First issuance: TKT, EMD on another prefix, TKT, in that order.
        let (_, mut first) = booked(db, agency.id, None).await;
        let emd = first.draft.tickets.remove(2);
        first.draft.tickets.insert(1, TicketDraft { prefix: prefix("176"), ..emd });
        db.issue(&first, sink.clone()).await.expect("issue");
        let numbers = |tickets: Vec<Ticket>| tickets.into_iter().map(|t| t.number).collect::<Vec<_>>();
        let tickets = db.tickets_of_issuance(Scope::All, first.id).await.expect("tickets");
        assert_eq!(
            tickets.iter().map(|t| t.kind).collect::<Vec<_>>(),
            [TicketType::TKT, TicketType::EMD, TicketType::TKT]
        );
        assert_eq!(
            numbers(tickets),
            [number(PREFIX, FIRST_SERIAL), number("176", FIRST_SERIAL), number(PREFIX, FIRST_SERIAL + 1)]
        );

        // The next issuance continues each prefix's sequence.
        let (_, second) = booked(db, agency.id, None).await;
        db.issue(&second, sink.clone()).await.expect("issue");
        assert_eq!(
            numbers(db.tickets_of_issuance(Scope::All, second.id).await.expect("tickets")),
            [number(PREFIX, FIRST_SERIAL + 2), number(PREFIX, FIRST_SERIAL + 3), number(PREFIX, FIRST_SERIAL + 4)]
        );
        let (_, mut third) = booked(db, agency.id, None).await;
        for t in &mut third.draft.tickets {
            t.prefix = prefix("176");
        }
        db.issue(&third, sink.clone()).await.expect("issue");
        assert_eq!(
            numbers(db.tickets_of_issuance(Scope::All, third.id).await.expect("tickets")),
            [number("176", FIRST_SERIAL + 1), number("176", FIRST_SERIAL + 2), number("176", FIRST_SERIAL + 3)]
        );
    }

    async fn issue_sink_failure_leaves_nothing(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        top_up(db, agency.id, 200_000).await;
        let (booking, issuance) = booked(db, agency.id, None).await;

        let failed = db.issue(&issuance, Arc::new(FailingSink)).await;
        assert!(matches!(failed, Err(StorageError::Documents(_))), "got {failed:?}");
        assert_nothing_issued(db, &issuance).await;
        assert!(db.get_ticket(Scope::All, &number(PREFIX, FIRST_SERIAL)).await.expect("get ticket").is_none());
        assert_eq!(balance(db, agency.id).await, 200_000);
        assert_eq!(ledger_matches_balance(db, agency.id).await.len(), 1);
        let still = db.get_booking(Scope::All, booking.id).await.expect("get booking").expect("exists");
        assert_eq!(still.status, BookingStatus::Confirmed);

        // A retry succeeds, and the serials of the failed attempt were not consumed.
        let retry = NewIssuance { id: IssuanceId::generate(), ..issuance };
        db.issue(&retry, Arc::new(RecordingSink::default())).await.expect("retry");
        let tickets = db.tickets_of_issuance(Scope::All, retry.id).await.expect("tickets");
        assert_eq!(tickets, expected_tickets(&retry, FIRST_SERIAL));
    }

    async fn issue_twice_is_refused(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        top_up(db, agency.id, 200_000).await;
        let (_, issuance) = booked(db, agency.id, None).await;
        let sink = Arc::new(RecordingSink::default());
        db.issue(&issuance, sink.clone()).await.expect("first issue");

        let again = NewIssuance { id: IssuanceId::generate(), ..issuance.clone() };
        let refused = db.issue(&again, sink.clone()).await;
        assert!(matches!(refused, Err(StorageError::BookingNotConfirmed(BookingStatus::Ticketed))), "got {refused:?}");
        assert_nothing_issued(db, &again).await;
        assert_eq!(balance(db, agency.id).await, 200_000 - PAYABLE_MINOR, "charged once");
        assert_eq!(ledger_matches_balance(db, agency.id).await.len(), 2);
        assert_eq!(sink.calls().len(), 1);
        assert_eq!(db.tickets_of_issuance(Scope::All, issuance.id).await.expect("tickets").len(), 3);
    }

    async fn issue_refuses_unconfirmed_and_unknown_bookings(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let other = new_agency(db, 0).await;
        top_up(db, agency.id, 200_000).await;
        top_up(db, other.id, 200_000).await;
        let sink = Arc::new(RecordingSink::default());

        let cancelled = Booking { status: BookingStatus::Cancelled, ..flight_booking(agency.id, None) };
        db.insert_booking(&cancelled, &[], None).await.expect("insert booking");
        let issuance = issuance_of(draft_for(&cancelled), None);
        let refused = db.issue(&issuance, sink.clone()).await;
        assert!(matches!(refused, Err(StorageError::BookingNotConfirmed(BookingStatus::Cancelled))), "got {refused:?}");
        assert_nothing_issued(db, &issuance).await;

        let never_stored = flight_booking(agency.id, None);
        let unknown = db.issue(&issuance_of(draft_for(&never_stored), None), sink.clone()).await;
        assert!(matches!(unknown, Err(StorageError::NotFound)), "got {unknown:?}");

        // A draft naming another agency than the booking's does not find the booking.
        let (booking, mut foreign) = booked(db, agency.id, None).await;
        foreign.draft.agency_id = other.id;
        let mismatch = db.issue(&foreign, sink.clone()).await;
        assert!(matches!(mismatch, Err(StorageError::NotFound)), "got {mismatch:?}");
        assert_eq!(
            db.get_booking(Scope::All, booking.id).await.expect("get").map(|b| b.status),
            Some(BookingStatus::Confirmed)
        );

        assert_eq!(balance(db, agency.id).await, 200_000);
        assert_eq!(balance(db, other.id).await, 200_000);
        assert!(sink.calls().is_empty());
    }

    async fn issue_insufficient_balance_changes_nothing(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        top_up(db, agency.id, PAYABLE_MINOR - 1).await;
        let (booking, issuance) = booked(db, agency.id, None).await;
        let sink = Arc::new(RecordingSink::default());

        let refused = db.issue(&issuance, sink.clone()).await;
        assert!(matches!(refused, Err(StorageError::InsufficientBalance)), "got {refused:?}");
        assert_nothing_issued(db, &issuance).await;
        assert_eq!(balance(db, agency.id).await, PAYABLE_MINOR - 1);
        assert_eq!(ledger_matches_balance(db, agency.id).await.len(), 1);
        assert_eq!(
            db.get_booking(Scope::All, booking.id).await.expect("get").map(|b| b.status),
            Some(BookingStatus::Confirmed)
        );

        // One more cent and it fits exactly; no serial was consumed by the refusal.
        top_up(db, agency.id, 1).await;
        db.issue(&issuance, sink.clone()).await.expect("issue");
        assert_eq!(balance(db, agency.id).await, 0);
        assert_eq!(
            db.tickets_of_issuance(Scope::All, issuance.id).await.expect("tickets"),
            expected_tickets(&issuance, FIRST_SERIAL)
        );
        ledger_matches_balance(db, agency.id).await;
    }

    async fn issue_concurrent_same_booking(db: Arc<dyn Database>) {
        const RACERS: usize = 50;
        let agency = new_agency(&*db, 0).await;
        top_up(&*db, agency.id, 10 * PAYABLE_MINOR).await;
        let (booking, issuance) = booked(&*db, agency.id, None).await;
        let sink = Arc::new(RecordingSink::default());
        let start = Arc::new(tokio::sync::Barrier::new(RACERS));

        let mut tasks = Vec::new();
        for _ in 0..RACERS {
            let (db, sink, start) = (db.clone(), sink.clone(), start.clone());
            let attempt = NewIssuance { id: IssuanceId::generate(), ..issuance.clone() };
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                let result = db.issue(&attempt, sink.clone()).await;
                (attempt.id, result)
            }));
        }
        let mut winners = Vec::new();
        for task in tasks {
            let (id, result) = task.await.expect("task");
            match result {
                Ok(record) => winners.push(record),
                Err(StorageError::BookingNotConfirmed(BookingStatus::Ticketed)) => {
                    assert!(db.get_issuance(Scope::All, id).await.expect("get").is_none());
                }
                Err(other) => panic!("unexpected error: {other:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "exactly one issuance wins");
        let winner = &winners[0];
        assert_eq!(db.tickets_of_issuance(Scope::All, winner.id).await.expect("tickets").len(), 3);
        assert_eq!(sink.calls().len(), 1, "losers are refused before rendering");

        let ledger = ledger_matches_balance(&*db, agency.id).await;
        let debits: Vec<_> = ledger.iter().filter(|e| e.kind == LedgerKind::IssuanceDebit).collect();
        assert_eq!(debits.len(), 1, "charged once");
        assert_eq!(debits[0].issuance_id, Some(winner.id));
        assert_eq!(balance(&*db, agency.id).await, 9 * PAYABLE_MINOR);
        assert_eq!(
            db.get_booking(Scope::All, booking.id).await.expect("get").map(|b| b.status),
            Some(BookingStatus::Ticketed)
        );
        let audit = db
            .list_audit(Scope::All, &AuditFilter { booking_id: Some(booking.id), ..AuditFilter::default() })
            .await
            .expect("audit");
        assert_eq!(audit.len(), 1);
    }

    async fn issue_concurrent_balance_race(db: Arc<dyn Database>) {
        const BOOKINGS: usize = 30;
        const AFFORDABLE: usize = 10;
        let credit_limit = 2 * PAYABLE_MINOR;
        let agency = new_agency(&*db, credit_limit).await;
        // Balance plus credit covers exactly AFFORDABLE issuances.
        top_up(&*db, agency.id, (AFFORDABLE as i64 - 2) * PAYABLE_MINOR).await;
        let sink = Arc::new(RecordingSink::default());
        let start = Arc::new(tokio::sync::Barrier::new(BOOKINGS));

        let mut issuances = Vec::new();
        for _ in 0..BOOKINGS {
            issuances.push(booked(&*db, agency.id, None).await.1);
        }
        let mut tasks = Vec::new();
        for issuance in issuances {
            let (db, sink, start) = (db.clone(), sink.clone(), start.clone());
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                let result = db.issue(&issuance, sink.clone()).await;
                (issuance, result)
            }));
        }
        let mut won = Vec::new();
        let mut refused = 0;
        for task in tasks {
            let (issuance, result) = task.await.expect("task");
            match result {
                Ok(_) => won.push(issuance),
                Err(StorageError::InsufficientBalance) => {
                    refused += 1;
                    assert_nothing_issued(&*db, &issuance).await;
                    let booking =
                        db.get_booking(Scope::All, issuance.draft.booking_id).await.expect("get").expect("exists");
                    assert_eq!(booking.status, BookingStatus::Confirmed);
                }
                Err(other) => panic!("unexpected error: {other:?}"),
            }
        }
        assert_eq!(won.len(), AFFORDABLE);
        assert_eq!(refused, BOOKINGS - AFFORDABLE);

        let balance = balance(&*db, agency.id).await;
        assert!(balance >= -credit_limit, "balance {balance} went past the credit limit");
        assert_eq!(balance, -credit_limit);
        let ledger = ledger_matches_balance(&*db, agency.id).await;
        assert_eq!(ledger.len(), 1 + AFFORDABLE);

        // Every ticket number unique, and no serial lost to the refused attempts.
        let mut serials = Vec::new();
        for issuance in &won {
            for ticket in db.tickets_of_issuance(Scope::All, issuance.id).await.expect("tickets") {
                assert_eq!(ticket.number.prefix().as_str(), PREFIX);
                serials.push(ticket.number.serial());
            }
        }
        serials.sort_unstable();
        let expected: Vec<u64> = (FIRST_SERIAL..FIRST_SERIAL + 3 * AFFORDABLE as u64).collect();
        assert_eq!(serials, expected, "serials are unique and gapless");
    }

    async fn issuance_scope_isolation(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let other = new_agency(db, 0).await;
        let customer = new_user(db, Some(agency.id), Role::Customer).await;
        let other_customer = new_user(db, Some(agency.id), Role::Customer).await;
        top_up(db, agency.id, 200_000).await;
        let (booking, issuance) = booked(db, agency.id, Some(&customer)).await;
        db.issue(&issuance, Arc::new(RecordingSink::default())).await.expect("issue");
        let tickets = expected_tickets(&issuance, FIRST_SERIAL);

        let sees = [Scope::All, Scope::Agency(agency.id), Scope::Customer { agency: agency.id, user: customer.id }];
        let blind = [
            Scope::Agency(other.id),
            Scope::Customer { agency: agency.id, user: other_customer.id },
            Scope::Customer { agency: other.id, user: customer.id },
        ];
        for scope in sees {
            assert!(db.get_booking(scope, booking.id).await.expect("get").is_some(), "{scope:?}");
            assert!(db.get_issuance(scope, issuance.id).await.expect("get").is_some(), "{scope:?}");
            assert_eq!(db.tickets_of_issuance(scope, issuance.id).await.expect("tickets"), tickets, "{scope:?}");
            for ticket in &tickets {
                assert_eq!(
                    db.get_ticket(scope, &ticket.number).await.expect("get").as_ref(),
                    Some(ticket),
                    "{scope:?}"
                );
                let owner = DocumentOwner::Ticket(ticket.number.clone());
                assert!(db.get_document(scope, &owner).await.expect("get").is_some(), "{scope:?}");
            }
            let owner = DocumentOwner::Issuance(issuance.id);
            assert!(db.get_document(scope, &owner).await.expect("get").is_some(), "{scope:?}");
        }
        for scope in blind {
            assert!(db.get_booking(scope, booking.id).await.expect("get").is_none(), "{scope:?}");
            assert!(db.get_issuance(scope, issuance.id).await.expect("get").is_none(), "{scope:?}");
            assert!(db.tickets_of_issuance(scope, issuance.id).await.expect("tickets").is_empty(), "{scope:?}");
            for ticket in &tickets {
                assert!(db.get_ticket(scope, &ticket.number).await.expect("get").is_none(), "{scope:?}");
                let owner = DocumentOwner::Ticket(ticket.number.clone());
                assert!(db.get_document(scope, &owner).await.expect("get").is_none(), "{scope:?}");
            }
            let owner = DocumentOwner::Issuance(issuance.id);
            assert!(db.get_document(scope, &owner).await.expect("get").is_none(), "{scope:?}");
        }
        assert!(db.get_issuance(Scope::All, IssuanceId::generate()).await.expect("get").is_none());
        assert!(db.get_ticket(Scope::All, &number("999", 1)).await.expect("get").is_none());
        assert!(db
            .get_document(Scope::All, &DocumentOwner::Issuance(IssuanceId::generate()))
            .await
            .expect("get")
            .is_none());
    }
}

//! Group commit: issuances of concurrent requests share transactions, yet each is atomic on its own (one that
//! fails leaves nothing, the others in its batch commit), and documents named by an issuance are filled in
//! once, only while pending and only by their agency.

use std::sync::Arc;

use tessera_core::booking::BookingStatus;
use tessera_core::ids::DocumentId;
use tessera_core::ledger::LedgerKind;
use tessera_core::user::Scope;

use super::data::*;
use super::sinks::*;
use crate::{Database, DocumentOwner, DocumentSink, NewDocument, StorageError, FIRST_SERIAL};

checks! {
    async fn group_commit_keeps_each_issuance_atomic(db: Arc<dyn Database>) {
        const BOOKINGS: usize = 40;
        let agency = new_agency(&*db, 0).await;
        top_up(&*db, agency.id, BOOKINGS as i64 * PAYABLE_MINOR).await;
        let mut issuances = Vec::new();
        for _ in 0..BOOKINGS {
            issuances.push(booked(&*db, agency.id, None).await.1);
        }
        let start = Arc::new(tokio::sync::Barrier::new(BOOKINGS));
        let tasks: Vec<_> = issuances
            .iter()
            .enumerate()
            .map(|(i, issuance)| {
                let (db, start, issuance) = (db.clone(), start.clone(), issuance.clone());
                // Every third issuance fails inside the transaction, after its debit and numbers were taken.
                let sink: Arc<dyn DocumentSink> =
                    if i % 3 == 0 { Arc::new(FailingSink) } else { Arc::new(RecordingSink::default()) };
                tokio::spawn(async move {
                    start.wait().await;
                    db.issue(&issuance, sink).await
                })
            })
            .collect();
        let mut committed = Vec::new();
        for (i, task) in tasks.into_iter().enumerate() {
            let result = task.await.expect("task");
            if i % 3 == 0 {
                assert!(matches!(result, Err(StorageError::Documents(_))), "issuance {i}: {result:?}");
                assert_nothing_issued(&*db, &issuances[i]).await;
                let booking = db.get_booking(Scope::All, issuances[i].draft.booking_id).await.expect("get");
                assert_eq!(booking.map(|b| b.status), Some(BookingStatus::Confirmed));
            } else {
                let record = result.unwrap_or_else(|e| panic!("issuance {i}: {e:?}"));
                committed.push(record.id);
            }
        }
        let succeeded = BOOKINGS - BOOKINGS.div_ceil(3);
        assert_eq!(committed.len(), succeeded);

        // Charged once per committed issuance, and nothing for the failed ones.
        let ledger = ledger_matches_balance(&*db, agency.id).await;
        let debits = ledger.iter().filter(|e| e.kind == LedgerKind::IssuanceDebit).count();
        assert_eq!(debits, succeeded);
        assert_eq!(balance(&*db, agency.id).await, (BOOKINGS - succeeded) as i64 * PAYABLE_MINOR);

        // Numbers: unique and without the gaps a failed issuance would leave if its savepoint kept them.
        let mut serials = Vec::new();
        for id in &committed {
            for ticket in db.tickets_of_issuance(Scope::All, *id).await.expect("tickets") {
                serials.push(ticket.number.serial());
            }
        }
        serials.sort_unstable();
        let expected: Vec<u64> = (FIRST_SERIAL..FIRST_SERIAL + serials.len() as u64).collect();
        assert_eq!(serials, expected);
    }

    async fn fill_documents_only_while_pending(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let other = new_agency(db, 0).await;
        top_up(db, agency.id, 200_000).await;
        let (_, issuance) = booked(db, agency.id, None).await;
        db.issue(&issuance, Arc::new(PendingSink)).await.expect("issue");
        let owner = DocumentOwner::Issuance(issuance.id);
        let pending = db.get_document(Scope::All, &owner).await.expect("get").expect("recorded");
        assert!(pending.is_pending());
        assert_eq!((pending.storage_key.as_str(), pending.size), ("", 0));

        let file = |key: &str, sha: &str| NewDocument {
            id: DocumentId::generate(),
            owner: owner.clone(),
            storage_key: key.into(),
            sha256: sha.into(),
            size: 1_234,
            content_type: "application/pdf".into(),
            filename: "itinerary.pdf".into(),
        };
        // Another agency cannot fill it in.
        db.fill_documents(other.id, &[file("theirs/key", &"b".repeat(64))]).await.expect("fill");
        assert!(db.get_document(Scope::All, &owner).await.expect("get").expect("recorded").is_pending());

        db.fill_documents(agency.id, &[file("ours/key", &"a".repeat(64))]).await.expect("fill");
        let filled = db.get_document(Scope::All, &owner).await.expect("get").expect("recorded");
        assert_eq!(
            (filled.storage_key.as_str(), filled.sha256.as_str(), filled.size, filled.id),
            ("ours/key", "a".repeat(64).as_str(), 1_234, pending.id)
        );

        // Filled once: a second copy (another node's render) changes nothing.
        db.fill_documents(agency.id, &[file("later/key", &"c".repeat(64))]).await.expect("fill");
        let kept = db.get_document(Scope::All, &owner).await.expect("get").expect("recorded");
        assert_eq!((kept.storage_key, kept.sha256), ("ours/key".to_owned(), "a".repeat(64)));

        // A pending document is not a file: refused.
        let refused = db
            .fill_documents(agency.id, &[NewDocument::pending(DocumentId::generate(), owner.clone(), "x.pdf".into(), "a/b")])
            .await;
        assert!(matches!(refused, Err(StorageError::Backend(_))), "got {refused:?}");
        let still = db.get_document(Scope::All, &DocumentOwner::Issuance(issuance.id)).await.expect("get");
        assert_eq!(still.map(|d| d.sha256), Some("a".repeat(64)));

        // Several at once (one statement): the pending ones are filled, each with its own file; the one filled
        // before keeps its file.
        let tickets = db.tickets_of_issuance(Scope::All, issuance.id).await.expect("tickets");
        assert!(!tickets.is_empty());
        let mut files = vec![file("again/key", &"d".repeat(64))];
        for (i, ticket) in tickets.iter().enumerate() {
            let owner = DocumentOwner::Ticket(ticket.number.clone());
            assert!(db.get_document(Scope::All, &owner).await.expect("get").expect("recorded").is_pending());
            files.push(NewDocument {
                owner,
                storage_key: format!("ticket/{i}"),
                size: 100 + i as i64,
                ..file("", &i.to_string().repeat(64))
            });
        }
        db.fill_documents(agency.id, &files).await.expect("fill");
        let kept = db.get_document(Scope::All, &DocumentOwner::Issuance(issuance.id)).await.expect("get");
        assert_eq!(kept.map(|d| d.storage_key), Some("ours/key".to_owned()));
        for (i, ticket) in tickets.iter().enumerate() {
            let owner = DocumentOwner::Ticket(ticket.number.clone());
            let filled = db.get_document(Scope::All, &owner).await.expect("get").expect("recorded");
            assert_eq!((filled.storage_key, filled.sha256, filled.size), (format!("ticket/{i}"), i.to_string().repeat(64), 100 + i as i64));
        }
    }
}

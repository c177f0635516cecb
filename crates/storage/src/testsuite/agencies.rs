//! Agencies and their money: creation, the ledger and its credit limit, carrier agreements, and the refund
//! approval switch.

use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use tessera_core::agency::{Agency, AgencySettings, AgreementEntry, CarrierAgreement, TourCode};
use tessera_core::codes::CarrierCode;
use tessera_core::ids::AgencyId;
use tessera_core::language::Language;
use tessera_core::ledger::LedgerKind;
use tessera_core::money::{Currency, Money};

use super::data::*;
use crate::{Database, NewLedgerEntry, StorageError};

checks! {
    async fn agencies_create_get_list(db: Arc<dyn Database>) {
        let db = &*db;
        let record = new_agency_record(25_000);
        let created = db.create_agency(&record).await.expect("create agency");
        let expected = Agency {
            id: record.id,
            name: record.name.clone(),
            currency: usd(),
            balance: usd_minor(0),
            credit_limit: usd_minor(25_000),
            office_id: record.office_id.clone(),
            iata_number: record.iata_number.clone(),
            timezone: "Asia/Kathmandu".parse().expect("a time zone"),
            vat_percent: Decimal::new(13, 0),
            refund_approval: false,
            default_language: Default::default(),
        };
        assert_eq!(created, expected);
        assert_eq!(db.get_agency(record.id).await.expect("get agency"), Some(expected.clone()));

        // Optional codes may be absent.
        let mut bare = new_agency_record(0);
        bare.office_id = None;
        bare.iata_number = None;
        // A fractional rate comes back exactly, and so does the refund approval.
        bare.vat_percent = Decimal::new(81, 1);
        bare.refund_approval = true;
        bare.default_language = Language::Vi;
        let bare = db.create_agency(&bare).await.expect("create agency");
        assert_eq!(db.get_agency(bare.id).await.expect("get agency"), Some(bare.clone()));

        let mut listed = db.list_agencies().await.expect("list agencies");
        listed.sort_by_key(|a| a.id);
        let mut both = vec![expected, bare];
        both.sort_by_key(|a| a.id);
        assert_eq!(listed, both);

        assert_eq!(db.get_agency(AgencyId::generate()).await.expect("get agency"), None);
        assert!(matches!(db.create_agency(&record).await, Err(StorageError::Conflict(_))), "duplicate agency id");
    }

    async fn ledger_credits_and_debits(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 50_000).await;
        let other = new_agency(db, 50_000).await;

        let credit = top_up(db, agency.id, 100_000).await;
        assert_eq!(credit.agency_id, agency.id);
        assert_eq!(credit.kind, LedgerKind::TopUp);
        assert_eq!(credit.amount, usd_minor(100_000));
        assert_eq!(credit.balance_after, usd_minor(100_000));
        assert_eq!(credit.issuance_id, None);
        assert_eq!(credit.note.as_deref(), Some("top_up 100000"));

        let adjustment = post(db, agency.id, LedgerKind::Adjustment, -30_000).await;
        assert_eq!(adjustment.amount, usd_minor(-30_000));
        assert_eq!(adjustment.balance_after, usd_minor(70_000));
        // Below zero but within the credit limit.
        let debit = post(db, agency.id, LedgerKind::Adjustment, -110_000).await;
        assert_eq!(debit.balance_after, usd_minor(-40_000));
        let refund = post(db, agency.id, LedgerKind::RefundCredit, 5_000).await;
        assert_eq!(refund.balance_after, usd_minor(-35_000));

        let ledger = ledger_matches_balance(db, agency.id).await;
        assert_eq!(ledger, vec![credit, adjustment, debit, refund], "entries in the order they were posted");
        assert!(ledger.windows(2).all(|w| w[0].id < w[1].id), "ledger ids grow");
        assert_eq!(balance(db, agency.id).await, -35_000);

        assert!(db.ledger(other.id).await.expect("ledger").is_empty(), "ledgers are per agency");
        assert_eq!(balance(db, other.id).await, 0);
    }

    async fn ledger_refuses_debit_past_credit_limit(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 10_000).await;
        top_up(db, agency.id, 5_000).await;
        // Exactly down to -credit_limit is allowed.
        let at_limit = post(db, agency.id, LedgerKind::Adjustment, -15_000).await;
        assert_eq!(at_limit.balance_after, usd_minor(-10_000));

        let refused = db
            .post_ledger(&NewLedgerEntry {
                agency_id: agency.id,
                kind: LedgerKind::Adjustment,
                amount: usd_minor(-1),
                issuance_id: None,
                note: None,
                created_at: now(),
            })
            .await;
        assert!(matches!(refused, Err(StorageError::InsufficientBalance)), "got {refused:?}");
        assert_eq!(balance(db, agency.id).await, -10_000, "a refused debit leaves the balance alone");
        assert_eq!(ledger_matches_balance(db, agency.id).await.len(), 2, "and writes no entry");

        // Credits are always accepted.
        let credit = top_up(db, agency.id, 1).await;
        assert_eq!(credit.balance_after, usd_minor(-9_999));
    }

    async fn ledger_refuses_unknown_agency_and_other_currency(db: Arc<dyn Database>) {
        let db = &*db;
        let unknown = db
            .post_ledger(&NewLedgerEntry {
                agency_id: AgencyId::generate(),
                kind: LedgerKind::TopUp,
                amount: usd_minor(100),
                issuance_id: None,
                note: None,
                created_at: now(),
            })
            .await;
        assert!(matches!(unknown, Err(StorageError::NotFound)), "got {unknown:?}");

        let agency = new_agency(db, 0).await;
        top_up(db, agency.id, 1_000).await;
        let euros = db
            .post_ledger(&NewLedgerEntry {
                agency_id: agency.id,
                kind: LedgerKind::TopUp,
                amount: Money::from_minor(500, Currency::parse("EUR").expect("EUR")),
                issuance_id: None,
                note: None,
                created_at: now(),
            })
            .await;
        assert!(matches!(euros, Err(StorageError::Backend(_))), "got {euros:?}");
        assert_eq!(balance(db, agency.id).await, 1_000);
        assert_eq!(ledger_matches_balance(db, agency.id).await.len(), 1);
    }

    async fn credit_limit_changes(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let raised = db.set_credit_limit(agency.id, 20_000).await.expect("set credit limit");
        assert_eq!(raised.credit_limit, usd_minor(20_000));
        assert_eq!(raised.balance, usd_minor(0));
        assert_eq!(db.get_agency(agency.id).await.expect("get").expect("exists").credit_limit, usd_minor(20_000));

        post(db, agency.id, LedgerKind::Adjustment, -15_000).await;
        let refused = db.set_credit_limit(agency.id, 10_000).await;
        assert!(matches!(refused, Err(StorageError::InsufficientBalance)), "got {refused:?}");
        let unchanged = db.get_agency(agency.id).await.expect("get").expect("exists");
        assert_eq!(unchanged.credit_limit, usd_minor(20_000));
        assert_eq!(unchanged.balance, usd_minor(-15_000));

        let lowered = db.set_credit_limit(agency.id, 15_000).await.expect("lower to exactly the debt");
        assert_eq!(lowered.credit_limit, usd_minor(15_000));
        assert_eq!(lowered.balance, usd_minor(-15_000));

        let unknown = db.set_credit_limit(AgencyId::generate(), 1_000).await;
        assert!(matches!(unknown, Err(StorageError::NotFound)), "got {unknown:?}");
    }

    async fn agreements_upsert_and_read(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let other = new_agency(db, 0).await;
        let qr = CarrierCode::parse("QR").expect("carrier");
        let vn = CarrierCode::parse("VN").expect("carrier");
        let day = |m, d| NaiveDate::from_ymd_opt(2025, m, d);

        db.set_agreement(
            agency.id,
            &CarrierAgreement {
                carrier: qr.clone(),
                authorized: true,
                commission_cap_percent: Some(Decimal::new(75, 1)),
            },
        )
        .await
        .expect("set agreement");
        db.set_agreement(
            agency.id,
            &CarrierAgreement { carrier: vn.clone(), authorized: false, commission_cap_percent: None },
        )
        .await
        .expect("set agreement");
        // Upsert: the second write for QR replaces the first.
        let qr_now = CarrierAgreement {
            carrier: qr.clone(),
            authorized: false,
            commission_cap_percent: Some(Decimal::new(3, 0)),
        };
        db.set_agreement(agency.id, &qr_now).await.expect("set agreement");

        db.add_tour_code(
            agency.id,
            &TourCode { code: "IT24QR".into(), carrier: qr.clone(), valid_from: day(1, 1), valid_to: day(6, 30) },
        )
        .await
        .expect("add tour code");
        db.add_tour_code(
            agency.id,
            &TourCode { code: "IT24QR".into(), carrier: vn.clone(), valid_from: None, valid_to: None },
        )
        .await
        .expect("add tour code");
        // Same (code, carrier): the dates are replaced.
        let qr_code = TourCode { code: "IT24QR".into(), carrier: qr.clone(), valid_from: day(3, 1), valid_to: None };
        db.add_tour_code(agency.id, &qr_code).await.expect("add tour code");

        db.add_corporate_account(agency.id, "CORP-ACME").await.expect("add corporate account");
        db.add_corporate_account(agency.id, "CORP-ACME").await.expect("adding again is not an error");
        db.add_corporate_account(agency.id, "CORP-GLOBEX").await.expect("add corporate account");
        db.add_booker_code(agency.id, "AGENT001").await.expect("add booker code");
        db.add_booker_code(agency.id, "AGENT001").await.expect("adding again is not an error");

        let mut found = db.agreements(agency.id).await.expect("agreements");
        found.carriers.sort_by(|a, b| a.carrier.cmp(&b.carrier));
        found.tour_codes.sort_by(|a, b| (&a.code, &a.carrier).cmp(&(&b.code, &b.carrier)));
        found.corporate_accounts.sort();
        assert_eq!(
            found.carriers,
            vec![qr_now, CarrierAgreement { carrier: vn.clone(), authorized: false, commission_cap_percent: None }]
        );
        assert_eq!(
            found.tour_codes,
            vec![qr_code, TourCode { code: "IT24QR".into(), carrier: vn, valid_from: None, valid_to: None }]
        );
        assert_eq!(found.corporate_accounts, vec!["CORP-ACME".to_owned(), "CORP-GLOBEX".to_owned()]);
        assert_eq!(found.booker_codes, vec!["AGENT001".to_owned()]);
        assert_eq!(found.for_carrier(&qr).and_then(|a| a.commission_cap_percent), Some(Decimal::new(3, 0)));

        assert_eq!(db.agreements(other.id).await.expect("agreements"), Default::default(), "agreements are per agency");
    }

    async fn agreement_entries_are_removed_one_by_one(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let other = new_agency(db, 0).await;
        let qr = CarrierCode::parse("QR").expect("carrier");
        let vn = CarrierCode::parse("VN").expect("carrier");
        for a in [agency.id, other.id] {
            for carrier in [&qr, &vn] {
                let agreement =
                    CarrierAgreement { carrier: carrier.clone(), authorized: true, commission_cap_percent: None };
                db.set_agreement(a, &agreement).await.expect("set agreement");
                let tour = TourCode { code: "IT27".into(), carrier: carrier.clone(), valid_from: None, valid_to: None };
                db.add_tour_code(a, &tour).await.expect("add tour code");
            }
            db.add_corporate_account(a, "CORP-ACME").await.expect("add corporate account");
            db.add_booker_code(a, "AGENT001").await.expect("add booker code");
        }
        let everything = db.agreements(other.id).await.expect("agreements");
        let entries = [
            AgreementEntry::Carrier(qr.clone()),
            AgreementEntry::TourCode { carrier: vn.clone(), code: "IT27".into() },
            AgreementEntry::CorporateAccount("CORP-ACME".into()),
            AgreementEntry::BookerCode("AGENT001".into()),
        ];
        for entry in &entries {
            assert!(db.remove_agreement_entry(agency.id, entry).await.expect("remove"), "{entry:?}");
            assert!(!db.remove_agreement_entry(agency.id, entry).await.expect("remove"), "{entry:?} is gone");
        }
        let left = db.agreements(agency.id).await.expect("agreements");
        assert_eq!(left.carriers.iter().map(|a| &a.carrier).collect::<Vec<_>>(), [&vn]);
        assert_eq!(left.tour_codes.iter().map(|t| &t.carrier).collect::<Vec<_>>(), [&qr]);
        assert!(left.corporate_accounts.is_empty() && left.booker_codes.is_empty());
        assert_eq!(db.agreements(other.id).await.expect("agreements"), everything, "another agency's stay");
    }

    async fn agencies_refund_approval(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        assert!(!agency.refund_approval);
        let required = db.set_refund_approval(agency.id, true).await.expect("set refund approval");
        assert_eq!(required, Agency { refund_approval: true, ..agency.clone() });
        assert_eq!(db.get_agency(agency.id).await.expect("get agency"), Some(required.clone()));
        assert!(db.list_agencies().await.expect("list").contains(&required));
        let lifted = db.set_refund_approval(agency.id, false).await.expect("set refund approval");
        assert_eq!(lifted, agency);
        assert_eq!(db.get_agency(agency.id).await.expect("get agency"), Some(agency));
        let unknown = db.set_refund_approval(AgencyId::generate(), true).await;
        assert!(matches!(unknown, Err(StorageError::NotFound)), "got {unknown:?}");
    }

    async fn agencies_settings_change_together(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let settings =
            AgencySettings { vat_percent: Decimal::new(2150, 2), refund_approval: true, default_language: Language::Vi };
        let changed = db.update_agency_settings(agency.id, &settings).await.expect("update settings");
        assert_eq!(
            changed,
            Agency { vat_percent: Decimal::new(2150, 2), refund_approval: true, default_language: Language::Vi, ..agency.clone() }
        );
        assert_eq!(db.get_agency(agency.id).await.expect("get agency"), Some(changed));
        let back =
            AgencySettings { vat_percent: agency.vat_percent, refund_approval: false, default_language: Language::En };
        assert_eq!(db.update_agency_settings(agency.id, &back).await.expect("update settings"), agency);
        let unknown = db.update_agency_settings(AgencyId::generate(), &settings).await;
        assert!(matches!(unknown, Err(StorageError::NotFound)), "got {unknown:?}");
    }

    async fn agencies_default_language(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        assert_eq!(agency.default_language, Language::En, "a new agency writes English");
        let vi = db.set_default_language(agency.id, Language::Vi).await.expect("set default language");
        assert_eq!(vi, Agency { default_language: Language::Vi, ..agency.clone() });
        assert_eq!(db.get_agency(agency.id).await.expect("get agency"), Some(vi.clone()));
        assert!(db.list_agencies().await.expect("list").contains(&vi));
        let en = db.set_default_language(agency.id, Language::En).await.expect("set default language");
        assert_eq!(en, agency);
        let unknown = db.set_default_language(AgencyId::generate(), Language::Vi).await;
        assert!(matches!(unknown, Err(StorageError::NotFound)), "got {unknown:?}");
    }
}

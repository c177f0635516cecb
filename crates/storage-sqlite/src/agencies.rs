//! Agencies, their money (balance, credit limit, the append-only ledger) and their agreements with carriers.
//! Postings go through [`tessera_storage::scripts::post`], which moves the balance and appends the entry in
//! one transaction, guarded in the UPDATE itself (`balance + amount >= -credit_limit`).

use sqlx::{Row, SqlitePool};
use tessera_core::agency::{Agency, AgencySettings, AgreementEntry, Agreements, CarrierAgreement, TourCode};
use tessera_core::ids::AgencyId;
use tessera_core::language::Language;
use tessera_core::ledger::LedgerEntry;
use tessera_storage::decode;
use tessera_storage::{NewAgency, StorageError};

use crate::rows::{self, Stored, AGENCY_COLUMNS, LEDGER_COLUMNS};
use crate::{write_error, Result};

pub(crate) async fn create_agency(pool: &SqlitePool, agency: &NewAgency) -> Result<Agency> {
    let row = sqlx::query(&format!(
        "INSERT INTO agencies (id, name, currency, balance_minor, credit_limit_minor, office_id, iata_number, \
         timezone, created_at, vat_percent, refund_approval, default_language) VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?) \
         RETURNING {AGENCY_COLUMNS}"
    ))
    .bind(agency.id.to_string())
    .bind(&agency.name)
    .bind(agency.currency.code())
    .bind(agency.credit_limit_minor)
    .bind(agency.office_id.as_ref().map(|o| o.as_str()))
    .bind(agency.iata_number.as_ref().map(|i| i.as_str()))
    .bind(agency.timezone.name())
    .bind(agency.created_at)
    .bind(agency.vat_percent.to_string())
    .bind(agency.refund_approval)
    .bind(agency.default_language.code())
    .fetch_one(pool)
    .await
    .map_err(|e| write_error(e, "agency"))?;
    rows::agency(&row)
}

pub(crate) async fn get_agency(pool: &SqlitePool, id: AgencyId) -> Result<Option<Agency>> {
    let row = sqlx::query(&format!("SELECT {AGENCY_COLUMNS} FROM agencies WHERE id = ?"))
        .bind(id.to_string())
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(rows::agency).transpose()
}

pub(crate) async fn list_agencies(pool: &SqlitePool) -> Result<Vec<Agency>> {
    let rows = sqlx::query(&format!("SELECT {AGENCY_COLUMNS} FROM agencies ORDER BY name, id")).fetch_all(pool).await?;
    rows.iter().map(rows::agency).collect()
}

pub(crate) async fn agency_exists<'e>(executor: impl sqlx::SqliteExecutor<'e>, id: AgencyId) -> Result<bool> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM agencies WHERE id = ?").bind(id.to_string()).fetch_optional(executor).await?;
    Ok(found.is_some())
}

pub(crate) async fn ledger(pool: &SqlitePool, agency: AgencyId) -> Result<Vec<LedgerEntry>> {
    let rows = sqlx::query(&format!("SELECT {LEDGER_COLUMNS} FROM ledger WHERE agency_id = ? ORDER BY id"))
        .bind(agency.to_string())
        .fetch_all(pool)
        .await?;
    rows.iter().map(rows::ledger_entry).collect()
}

pub(crate) async fn set_credit_limit(pool: &SqlitePool, agency: AgencyId, credit_limit_minor: i64) -> Result<Agency> {
    // One statement, so the check and the change see the same balance.
    let row = sqlx::query(&format!(
        "UPDATE agencies SET credit_limit_minor = ?1 WHERE id = ?2 AND balance_minor >= -?1 \
         RETURNING {AGENCY_COLUMNS}"
    ))
    .bind(credit_limit_minor)
    .bind(agency.to_string())
    .fetch_optional(pool)
    .await?;
    match row {
        Some(row) => rows::agency(&row),
        None if agency_exists(pool, agency).await? => Err(StorageError::InsufficientBalance.into()),
        None => Err(StorageError::NotFound.into()),
    }
}

pub(crate) async fn set_refund_approval(pool: &SqlitePool, agency: AgencyId, required: bool) -> Result<Agency> {
    let row = sqlx::query(&format!("UPDATE agencies SET refund_approval = ? WHERE id = ? RETURNING {AGENCY_COLUMNS}"))
        .bind(required)
        .bind(agency.to_string())
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(rows::agency).transpose()?.ok_or(StorageError::NotFound.into())
}

pub(crate) async fn set_default_language(pool: &SqlitePool, agency: AgencyId, language: Language) -> Result<Agency> {
    let row = sqlx::query(&format!("UPDATE agencies SET default_language = ? WHERE id = ? RETURNING {AGENCY_COLUMNS}"))
        .bind(language.code())
        .bind(agency.to_string())
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(rows::agency).transpose()?.ok_or(StorageError::NotFound.into())
}

pub(crate) async fn update_agency_settings(
    pool: &SqlitePool,
    agency: AgencyId,
    settings: &AgencySettings,
) -> Result<Agency> {
    let row = sqlx::query(&format!(
        "UPDATE agencies SET vat_percent = ?, refund_approval = ?, default_language = ? WHERE id = ? \
         RETURNING {AGENCY_COLUMNS}"
    ))
    .bind(settings.vat_percent.to_string())
    .bind(settings.refund_approval)
    .bind(settings.default_language.code())
    .bind(agency.to_string())
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(rows::agency).transpose()?.ok_or(StorageError::NotFound.into())
}

pub(crate) async fn set_agreement(pool: &SqlitePool, agency: AgencyId, agreement: &CarrierAgreement) -> Result<()> {
    sqlx::query(
        "INSERT INTO carrier_agreements (agency_id, carrier, authorized, commission_cap_percent) VALUES (?, ?, ?, ?) \
         ON CONFLICT (agency_id, carrier) DO UPDATE SET authorized = excluded.authorized, \
         commission_cap_percent = excluded.commission_cap_percent",
    )
    .bind(agency.to_string())
    .bind(agreement.carrier.as_str())
    .bind(agreement.authorized)
    .bind(agreement.commission_cap_percent.map(|d| d.to_string()))
    .execute(pool)
    .await
    .map_err(|e| write_error(e, "carrier agreement"))?;
    Ok(())
}

pub(crate) async fn add_tour_code(pool: &SqlitePool, agency: AgencyId, tour_code: &TourCode) -> Result<()> {
    sqlx::query(
        "INSERT INTO tour_codes (agency_id, code, carrier, valid_from, valid_to) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (agency_id, code, carrier) DO UPDATE SET valid_from = excluded.valid_from, \
         valid_to = excluded.valid_to",
    )
    .bind(agency.to_string())
    .bind(&tour_code.code)
    .bind(tour_code.carrier.as_str())
    .bind(tour_code.valid_from)
    .bind(tour_code.valid_to)
    .execute(pool)
    .await
    .map_err(|e| write_error(e, "tour code"))?;
    Ok(())
}

pub(crate) async fn add_corporate_account(pool: &SqlitePool, agency: AgencyId, code: &str) -> Result<()> {
    sqlx::query("INSERT INTO corporate_accounts (agency_id, code) VALUES (?, ?) ON CONFLICT DO NOTHING")
        .bind(agency.to_string())
        .bind(code)
        .execute(pool)
        .await
        .map_err(|e| write_error(e, "corporate account"))?;
    Ok(())
}

pub(crate) async fn add_booker_code(pool: &SqlitePool, agency: AgencyId, code: &str) -> Result<()> {
    sqlx::query("INSERT INTO booker_codes (agency_id, code) VALUES (?, ?) ON CONFLICT DO NOTHING")
        .bind(agency.to_string())
        .bind(code)
        .execute(pool)
        .await
        .map_err(|e| write_error(e, "booker code"))?;
    Ok(())
}

pub(crate) async fn remove_agreement_entry(
    pool: &SqlitePool,
    agency: AgencyId,
    entry: &AgreementEntry,
) -> Result<bool> {
    let agency = agency.to_string();
    let query = match entry {
        AgreementEntry::Carrier(carrier) => {
            sqlx::query("DELETE FROM carrier_agreements WHERE agency_id = ? AND carrier = ?")
                .bind(agency)
                .bind(carrier.as_str())
        }
        AgreementEntry::TourCode { carrier, code } => {
            sqlx::query("DELETE FROM tour_codes WHERE agency_id = ? AND carrier = ? AND code = ?")
                .bind(agency)
                .bind(carrier.as_str())
                .bind(code)
        }
        AgreementEntry::CorporateAccount(code) => {
            sqlx::query("DELETE FROM corporate_accounts WHERE agency_id = ? AND code = ?").bind(agency).bind(code)
        }
        AgreementEntry::BookerCode(code) => {
            sqlx::query("DELETE FROM booker_codes WHERE agency_id = ? AND code = ?").bind(agency).bind(code)
        }
    };
    Ok(query.execute(pool).await?.rows_affected() > 0)
}

pub(crate) async fn agreements(pool: &SqlitePool, agency: AgencyId) -> Result<Agreements> {
    // One statement, so one snapshot of the four tables and one round trip on every issuance.
    let rows = sqlx::query(AGREEMENTS).bind(agency.to_string()).fetch_all(pool).await?;
    let mut agreements = Agreements::default();
    for row in &rows {
        let part: i64 = row.try_get("part")?;
        match part {
            1 => agreements.carriers.push(decode::carrier_agreement(&Stored(row))?),
            2 => agreements.tour_codes.push(decode::tour_code(&Stored(row))?),
            3 => agreements.corporate_accounts.push(row.try_get("code")?),
            _ => agreements.booker_codes.push(row.try_get("code")?),
        }
    }
    Ok(agreements)
}

/// An agency's carrier agreements (part 1), tour codes (2), corporate accounts (3) and booker codes (4), each
/// in its own order.
const AGREEMENTS: &str = "\
    SELECT 1 AS part, carrier, authorized, commission_cap_percent, NULL AS code, NULL AS valid_from, \
           NULL AS valid_to FROM carrier_agreements WHERE agency_id = ?1 \
    UNION ALL SELECT 2, carrier, NULL, NULL, code, valid_from, valid_to FROM tour_codes WHERE agency_id = ?1 \
    UNION ALL SELECT 3, NULL, NULL, NULL, code, NULL, NULL FROM corporate_accounts WHERE agency_id = ?1 \
    UNION ALL SELECT 4, NULL, NULL, NULL, code, NULL, NULL FROM booker_codes WHERE agency_id = ?1 \
    ORDER BY part, code, carrier";

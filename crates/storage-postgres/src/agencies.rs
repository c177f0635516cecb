//! Agencies, their money (balance, credit limit, the append-only ledger) and their carrier agreements.
//! Postings go through [`tessera_storage::scripts::post`]: a conditional `UPDATE ... WHERE balance + amount >=
//! -credit_limit` checks and writes in one statement, so concurrent debits can never overdraw an account.

use sqlx::{PgConnection, PgPool, Row};
use tessera_core::agency::{Agency, AgencySettings, AgreementEntry, Agreements, CarrierAgreement, TourCode};
use tessera_core::ids::AgencyId;
use tessera_core::language::Language;
use tessera_core::ledger::LedgerEntry;
use tessera_storage::{NewAgency, StorageError};

use crate::error::Result;
use crate::rows;

const AGENCY_COLUMNS: &str = "id, name, currency, balance_minor, credit_limit_minor, office_id, iata_number, \
     timezone, created_at, vat_percent, refund_approval, default_language";
const LEDGER_COLUMNS: &str =
    "id, agency_id, kind, amount_minor, balance_after_minor, currency, issuance_id, note, created_at";

pub(crate) async fn create(pool: &PgPool, agency: &NewAgency) -> Result<Agency> {
    let row = sqlx::query(&format!(
        "INSERT INTO agencies (id, name, currency, balance_minor, credit_limit_minor, office_id, iata_number, \
         timezone, created_at, vat_percent, refund_approval, default_language) VALUES ($1, $2, $3, 0, $4, $5, $6, $7, $8, $9, $10, $11) \
         RETURNING {AGENCY_COLUMNS}"
    ))
    .bind(agency.id.0)
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
    .await?;
    rows::agency(&row)
}

pub(crate) async fn get(pool: &PgPool, id: AgencyId) -> Result<Option<Agency>> {
    let row = sqlx::query(&format!("SELECT {AGENCY_COLUMNS} FROM agencies WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(rows::agency).transpose()
}

pub(crate) async fn list(pool: &PgPool) -> Result<Vec<Agency>> {
    let rows = sqlx::query(&format!("SELECT {AGENCY_COLUMNS} FROM agencies ORDER BY name, id")).fetch_all(pool).await?;
    rows.iter().map(rows::agency).collect()
}

pub(crate) async fn exists(conn: &mut PgConnection, id: AgencyId) -> Result<bool> {
    Ok(sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM agencies WHERE id = $1)")
        .bind(id.0)
        .fetch_one(conn)
        .await?)
}

pub(crate) async fn ledger(pool: &PgPool, agency: AgencyId) -> Result<Vec<LedgerEntry>> {
    let rows = sqlx::query(&format!("SELECT {LEDGER_COLUMNS} FROM ledger WHERE agency_id = $1 ORDER BY id"))
        .bind(agency.0)
        .fetch_all(pool)
        .await?;
    rows.iter().map(rows::ledger_entry).collect()
}

pub(crate) async fn set_credit_limit(pool: &PgPool, agency: AgencyId, credit_limit_minor: i64) -> Result<Agency> {
    let mut conn = pool.acquire().await?;
    // The condition is written out (rather than left to the CHECK constraint) so "too low" is told apart from
    // "no such agency" without parsing an error.
    let row = sqlx::query(&format!(
        "UPDATE agencies SET credit_limit_minor = $2 WHERE id = $1 AND balance_minor >= -$2 \
         RETURNING {AGENCY_COLUMNS}"
    ))
    .bind(agency.0)
    .bind(credit_limit_minor)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => rows::agency(&row),
        None if exists(&mut conn, agency).await? => Err(StorageError::InsufficientBalance.into()),
        None => Err(StorageError::NotFound.into()),
    }
}

pub(crate) async fn set_default_language(pool: &PgPool, agency: AgencyId, language: Language) -> Result<Agency> {
    let row =
        sqlx::query(&format!("UPDATE agencies SET default_language = $2 WHERE id = $1 RETURNING {AGENCY_COLUMNS}"))
            .bind(agency.0)
            .bind(language.code())
            .fetch_optional(pool)
            .await?;
    match row {
        Some(row) => rows::agency(&row),
        None => Err(StorageError::NotFound.into()),
    }
}

pub(crate) async fn set_refund_approval(pool: &PgPool, agency: AgencyId, required: bool) -> Result<Agency> {
    let row =
        sqlx::query(&format!("UPDATE agencies SET refund_approval = $2 WHERE id = $1 RETURNING {AGENCY_COLUMNS}"))
            .bind(agency.0)
            .bind(required)
            .fetch_optional(pool)
            .await?;
    match row {
        Some(row) => rows::agency(&row),
        None => Err(StorageError::NotFound.into()),
    }
}

pub(crate) async fn update_agency_settings(
    pool: &PgPool,
    agency: AgencyId,
    settings: &AgencySettings,
) -> Result<Agency> {
    let row = sqlx::query(&format!(
        "UPDATE agencies SET vat_percent = $2, refund_approval = $3, default_language = $4 WHERE id = $1 \
         RETURNING {AGENCY_COLUMNS}"
    ))
    .bind(agency.0)
    .bind(settings.vat_percent.to_string())
    .bind(settings.refund_approval)
    .bind(settings.default_language.code())
    .fetch_optional(pool)
    .await?;
    match row {
        Some(row) => rows::agency(&row),
        None => Err(StorageError::NotFound.into()),
    }
}

pub(crate) async fn set_agreement(pool: &PgPool, agency: AgencyId, agreement: &CarrierAgreement) -> Result<()> {
    sqlx::query(
        "INSERT INTO carrier_agreements (agency_id, carrier, authorized, commission_cap_percent) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (agency_id, carrier) DO UPDATE \
         SET authorized = EXCLUDED.authorized, commission_cap_percent = EXCLUDED.commission_cap_percent",
    )
    .bind(agency.0)
    .bind(agreement.carrier.as_str())
    .bind(agreement.authorized)
    .bind(agreement.commission_cap_percent.map(|d| d.to_string()))
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn add_tour_code(pool: &PgPool, agency: AgencyId, tour_code: &TourCode) -> Result<()> {
    sqlx::query(
        "INSERT INTO tour_codes (agency_id, code, carrier, valid_from, valid_to) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (agency_id, code, carrier) DO UPDATE \
         SET valid_from = EXCLUDED.valid_from, valid_to = EXCLUDED.valid_to",
    )
    .bind(agency.0)
    .bind(&tour_code.code)
    .bind(tour_code.carrier.as_str())
    .bind(tour_code.valid_from)
    .bind(tour_code.valid_to)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn add_corporate_account(pool: &PgPool, agency: AgencyId, code: &str) -> Result<()> {
    sqlx::query("INSERT INTO corporate_accounts (agency_id, code) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(agency.0)
        .bind(code)
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn add_booker_code(pool: &PgPool, agency: AgencyId, code: &str) -> Result<()> {
    sqlx::query("INSERT INTO booker_codes (agency_id, code) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(agency.0)
        .bind(code)
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn remove_agreement_entry(pool: &PgPool, agency: AgencyId, entry: &AgreementEntry) -> Result<bool> {
    let query = match entry {
        AgreementEntry::Carrier(carrier) => {
            sqlx::query("DELETE FROM carrier_agreements WHERE agency_id = $1 AND carrier = $2")
                .bind(agency.0)
                .bind(carrier.as_str())
        }
        AgreementEntry::TourCode { carrier, code } => {
            sqlx::query("DELETE FROM tour_codes WHERE agency_id = $1 AND carrier = $2 AND code = $3")
                .bind(agency.0)
                .bind(carrier.as_str())
                .bind(code)
        }
        AgreementEntry::CorporateAccount(code) => {
            sqlx::query("DELETE FROM corporate_accounts WHERE agency_id = $1 AND code = $2").bind(agency.0).bind(code)
        }
        AgreementEntry::BookerCode(code) => {
            sqlx::query("DELETE FROM booker_codes WHERE agency_id = $1 AND code = $2").bind(agency.0).bind(code)
        }
    };
    Ok(query.execute(pool).await?.rows_affected() > 0)
}

pub(crate) async fn agreements(pool: &PgPool, agency: AgencyId) -> Result<Agreements> {
    // One statement, so one snapshot of the four tables and one round trip on every issuance.
    let rows = sqlx::query(AGREEMENTS).bind(agency.0).fetch_all(pool).await?;
    let mut agreements = Agreements::default();
    for row in &rows {
        let part: i32 = row.try_get("part")?;
        match part {
            1 => agreements.carriers.push(rows::carrier_agreement(row)?),
            2 => agreements.tour_codes.push(rows::tour_code(row)?),
            3 => agreements.corporate_accounts.push(row.try_get("code")?),
            _ => agreements.booker_codes.push(row.try_get("code")?),
        }
    }
    Ok(agreements)
}

/// An agency's carrier agreements (part 1), tour codes (2), corporate accounts (3) and booker codes (4), each
/// in its own order.
const AGREEMENTS: &str = "\
    SELECT 1 AS part, carrier, authorized, commission_cap_percent, NULL::text AS code, NULL::date AS valid_from, \
           NULL::date AS valid_to FROM carrier_agreements WHERE agency_id = $1 \
    UNION ALL SELECT 2, carrier, NULL, NULL, code, valid_from, valid_to FROM tour_codes WHERE agency_id = $1 \
    UNION ALL SELECT 3, NULL, NULL, NULL, code, NULL, NULL FROM corporate_accounts WHERE agency_id = $1 \
    UNION ALL SELECT 4, NULL, NULL, NULL, code, NULL, NULL FROM booker_codes WHERE agency_id = $1 \
    ORDER BY part, code, carrier";

//! Operator use cases: agencies, money in, and agreements with carriers. Shared by the CLI and the native API;
//! each takes the caller and decides itself who may act (admins; agents read their own agency).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use tessera_core::agency::{Agency, AgencySettings, AgreementEntry, Agreements, CarrierAgreement, TimeZone, TourCode};
use tessera_core::codes::{CarrierCode, IataNumber, OfficeId};
use tessera_core::ids::AgencyId;
use tessera_core::intake::{FieldError, ValidationErrors};
use tessera_core::language::Language;
use tessera_core::ledger::{LedgerEntry, LedgerKind};
use tessera_core::money::{Currency, Money};
use tessera_storage::{NewAgency, NewLedgerEntry, StorageError};

use crate::{AppError, Principal, Tessera};

/// A request to open an agency, as typed by an operator or sent to the admin API.
#[derive(Debug, Clone, Default)]
pub struct AgencyInput {
    pub name: String,
    pub currency: String,
    pub balance: Option<String>,
    pub credit_limit: Option<String>,
    pub office_id: Option<String>,
    pub iata_number: Option<String>,
    pub timezone: Option<String>,
    /// VAT included in the agency's event ticket prices, in percent (default 0).
    pub vat_percent: Option<String>,
    /// Refunds wait for an admin's approval (`TORFND`) before money moves (default false).
    pub refund_approval: Option<bool>,
    /// BCP-47 tag of the language of documents of bookings that do not choose one (default `en`).
    pub default_language: Option<String>,
}

/// What an admin may change about an agency after opening it (see [`AgencySettings`]), as typed.
#[derive(Debug, Clone, Default)]
pub struct SettingsInput {
    pub vat_percent: String,
    pub refund_approval: bool,
    pub default_language: String,
}

/// A VAT rate in percent: from 0 to below 100, at most 2 decimals.
fn vat_rate(text: &str) -> Result<Decimal, &'static str> {
    match text.trim().parse::<Decimal>() {
        Ok(v) if !v.is_sign_negative() && v < Decimal::from(100) && v.scale() <= 2 => Ok(v),
        _ => Err("must be a percentage from 0 to below 100 with at most 2 decimals"),
    }
}

fn invalid(pointer: &str, reason: impl Into<String>) -> AppError {
    AppError::Validation(ValidationErrors::single(pointer, reason))
}

/// Free text that is stored: trimmed, bounded, and without control characters (PostgreSQL refuses NUL).
pub(crate) fn plain_text(text: &str, pointer: &str, max: usize) -> Result<String, AppError> {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.chars().count() > max || trimmed.chars().any(char::is_control) {
        return Err(invalid(pointer, format!("must be 1-{max} characters without control characters")));
    }
    Ok(trimmed.to_owned())
}

impl Tessera {
    pub async fn create_agency(&self, who: &Principal, input: &AgencyInput) -> Result<Agency, AppError> {
        who.require_admin()?;
        let mut errors = Vec::new();
        let mut err = |pointer: &str, reason: String| errors.push(FieldError { pointer: pointer.into(), reason });
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 128 || name.chars().any(char::is_control) {
            err("/name", "must be 1-128 characters without control characters".into());
        }
        let currency = Currency::parse(&input.currency).map_err(|e| err("/currency", e.to_string())).ok();
        let parse_money = |text: &Option<String>| text.as_deref().map(|t| currency.map(|c| Money::parse(t, c)));
        let balance = match parse_money(&input.balance) {
            Some(Some(Ok(m))) if !m.is_negative() => Some(m),
            Some(Some(Ok(_))) => {
                err("/balance", "must not be negative".into());
                None
            }
            Some(Some(Err(e))) => {
                err("/balance", e.to_string());
                None
            }
            _ => None,
        };
        let credit_limit = match parse_money(&input.credit_limit) {
            Some(Some(Ok(m))) if !m.is_negative() => m.minor(),
            Some(Some(Ok(_))) => {
                err("/credit_limit", "must not be negative".into());
                0
            }
            Some(Some(Err(e))) => {
                err("/credit_limit", e.to_string());
                0
            }
            _ => 0,
        };
        let office_id =
            input.office_id.as_deref().and_then(|o| OfficeId::parse(o).map_err(|e| err("/office_id", e.0)).ok());
        let iata_number =
            input.iata_number.as_deref().and_then(|n| IataNumber::parse(n).map_err(|e| err("/iata_number", e.0)).ok());
        let timezone = match input.timezone.as_deref().map(str::parse::<TimeZone>) {
            None => TimeZone::UTC,
            Some(Ok(zone)) => zone,
            Some(Err(e)) => {
                err("/timezone", e.to_string());
                TimeZone::UTC
            }
        };
        let vat_percent = match input.vat_percent.as_deref().map(vat_rate) {
            None => Decimal::ZERO,
            Some(Ok(rate)) => rate,
            Some(Err(reason)) => {
                err("/vat_percent", reason.into());
                Decimal::ZERO
            }
        };
        let default_language = match input.default_language.as_deref().map(str::parse::<Language>) {
            None => Language::En,
            Some(Ok(language)) => language,
            Some(Err(e)) => {
                err("/default_language", e.to_string());
                Language::En
            }
        };
        let Some(currency) = currency.filter(|_| errors.is_empty()) else {
            return Err(AppError::Validation(ValidationErrors(errors)));
        };
        let now = self.now();
        let agency = self
            .db
            .create_agency(&NewAgency {
                id: AgencyId::generate(),
                name: name.to_owned(),
                currency,
                credit_limit_minor: credit_limit,
                office_id,
                iata_number,
                timezone,
                vat_percent,
                refund_approval: input.refund_approval.unwrap_or(false),
                default_language,
                created_at: now,
            })
            .await?;
        match balance {
            Some(b) if !b.is_zero() => {
                self.post(agency.id, LedgerKind::TopUp, b, Some("opening balance".into())).await?;
                self.db.get_agency(agency.id).await?.ok_or(AppError::NotFound("agency"))
            }
            _ => Ok(agency),
        }
    }

    pub async fn get_agency(&self, who: &Principal, id: AgencyId) -> Result<Agency, AppError> {
        who.require_agency_staff(id)?;
        self.db.get_agency(id).await?.ok_or(AppError::NotFound("agency"))
    }

    pub async fn list_agencies(&self, who: &Principal) -> Result<Vec<Agency>, AppError> {
        who.require_admin()?;
        Ok(self.db.list_agencies().await?)
    }

    /// Adds money to an agency's balance (a positive decimal in its currency).
    pub async fn top_up(
        &self,
        who: &Principal,
        id: AgencyId,
        amount: &str,
        note: Option<String>,
    ) -> Result<LedgerEntry, AppError> {
        who.require_admin()?;
        let agency = self.db.get_agency(id).await?.ok_or(AppError::NotFound("agency"))?;
        let amount = Money::parse(amount, agency.currency).map_err(|e| invalid("/amount", e.to_string()))?;
        if amount.is_negative() || amount.is_zero() {
            return Err(invalid("/amount", "must be more than zero"));
        }
        if agency.balance.checked_add(amount).is_err() {
            return Err(invalid("/amount", "would take the balance beyond the largest amount Tessera holds"));
        }
        let note = note.map(|n| plain_text(&n, "/note", 200)).transpose()?;
        self.post(id, LedgerKind::TopUp, amount, note).await
    }

    async fn post(
        &self,
        id: AgencyId,
        kind: LedgerKind,
        amount: Money,
        note: Option<String>,
    ) -> Result<LedgerEntry, AppError> {
        let entry = NewLedgerEntry { agency_id: id, kind, amount, issuance_id: None, note, created_at: self.now() };
        match self.db.post_ledger(&entry).await {
            Ok(e) => Ok(e),
            Err(StorageError::InsufficientBalance) => {
                Err(invalid("/amount", "would take the balance below the credit limit"))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn ledger(&self, who: &Principal, id: AgencyId) -> Result<Vec<LedgerEntry>, AppError> {
        who.require_agency_staff(id)?;
        self.db.get_agency(id).await?.ok_or(AppError::NotFound("agency"))?;
        Ok(self.db.ledger(id).await?)
    }

    pub async fn set_agreement(
        &self,
        who: &Principal,
        agency: AgencyId,
        carrier: &str,
        authorized: bool,
        commission_cap_percent: Option<&str>,
    ) -> Result<CarrierAgreement, AppError> {
        who.require_admin()?;
        self.db.get_agency(agency).await?.ok_or(AppError::NotFound("agency"))?;
        let carrier = CarrierCode::parse(carrier).map_err(|e| invalid("/path/carrier", e.0))?;
        let cap = match commission_cap_percent {
            Some(text) => {
                let cap: Decimal =
                    text.trim().parse().map_err(|_| invalid("/commission_cap", "is not a percentage"))?;
                if cap.is_sign_negative() || cap > Decimal::from(100) {
                    return Err(invalid("/commission_cap", "must be between 0 and 100"));
                }
                Some(cap)
            }
            None => None,
        };
        let agreement = CarrierAgreement { carrier, authorized, commission_cap_percent: cap };
        self.db.set_agreement(agency, &agreement).await?;
        Ok(agreement)
    }

    pub async fn add_tour_code(
        &self,
        who: &Principal,
        agency: AgencyId,
        carrier: &str,
        code: &str,
        valid_from: Option<&str>,
        valid_to: Option<&str>,
    ) -> Result<TourCode, AppError> {
        who.require_admin()?;
        self.db.get_agency(agency).await?.ok_or(AppError::NotFound("agency"))?;
        let carrier = CarrierCode::parse(carrier).map_err(|e| invalid("/carrier", e.0))?;
        let code = code.trim();
        if code.is_empty()
            || code.len() > 32
            || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(invalid("/code", "must be 1-32 characters A-Z, 0-9, - and _"));
        }
        let date = |text: Option<&str>, pointer: &str| -> Result<Option<NaiveDate>, AppError> {
            text.map(|t| {
                tessera_core::intake::parse_date(t).ok_or_else(|| invalid(pointer, "is not a date (YYYY-MM-DD)"))
            })
            .transpose()
        };
        let tour = TourCode {
            code: code.to_owned(),
            carrier,
            valid_from: date(valid_from, "/valid_from")?,
            valid_to: date(valid_to, "/valid_to")?,
        };
        if let (Some(from), Some(to)) = (tour.valid_from, tour.valid_to) {
            if to < from {
                return Err(invalid("/valid_to", "must not be before valid_from"));
            }
        }
        self.db.add_tour_code(agency, &tour).await?;
        Ok(tour)
    }

    pub async fn add_corporate_account(&self, who: &Principal, agency: AgencyId, code: &str) -> Result<(), AppError> {
        who.require_admin()?;
        self.db.get_agency(agency).await?.ok_or(AppError::NotFound("agency"))?;
        let code = code.trim();
        if code.is_empty()
            || code.len() > 32
            || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(invalid("/code", "must be 1-32 characters A-Z, 0-9, - and _"));
        }
        Ok(self.db.add_corporate_account(agency, code).await?)
    }

    pub async fn add_booker_code(&self, who: &Principal, agency: AgencyId, code: &str) -> Result<(), AppError> {
        who.require_admin()?;
        self.db.get_agency(agency).await?.ok_or(AppError::NotFound("agency"))?;
        let code = code.trim();
        if code.is_empty()
            || code.len() > 32
            || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(invalid("/code", "must be 1-32 characters A-Z, 0-9, - and _"));
        }
        Ok(self.db.add_booker_code(agency, code).await?)
    }

    /// Whether the agency's refunds wait for an admin's approval; the agency's other settings stay.
    pub async fn set_refund_approval(
        &self,
        who: &Principal,
        agency: AgencyId,
        required: bool,
    ) -> Result<Agency, AppError> {
        who.require_admin()?;
        self.db.get_agency(agency).await?.ok_or(AppError::NotFound("agency"))?;
        Ok(self.db.set_refund_approval(agency, required).await?)
    }

    /// The language of documents of the agency's bookings that do not choose one (`tag`: BCP-47, e.g. `vi`).
    /// Bookings already taken keep the language they were taken with, so their documents never change.
    pub async fn set_default_language(&self, who: &Principal, agency: AgencyId, tag: &str) -> Result<Agency, AppError> {
        who.require_admin()?;
        let language = tag.trim().parse::<Language>().map_err(|e| invalid("/language", e.to_string()))?;
        self.db.get_agency(agency).await?.ok_or(AppError::NotFound("agency"))?;
        Ok(self.db.set_default_language(agency, language).await?)
    }

    /// Changes the agency's VAT rate, refund approval and documents' language together, or nothing when a field is
    /// refused (every refusal is reported). What was issued keeps its rate and language: an invoice prints the
    /// rate its lines were billed at, a booking the language it was taken with, so no stored document changes.
    pub async fn update_agency_settings(
        &self,
        who: &Principal,
        agency: AgencyId,
        input: &SettingsInput,
    ) -> Result<Agency, AppError> {
        who.require_admin()?;
        let mut errors = Vec::new();
        let vat_percent = vat_rate(&input.vat_percent)
            .map_err(|reason| errors.push(FieldError { pointer: "/vat_percent".into(), reason: reason.into() }))
            .ok();
        let default_language = input
            .default_language
            .trim()
            .parse::<Language>()
            .map_err(|e| errors.push(FieldError { pointer: "/default_language".into(), reason: e.to_string() }))
            .ok();
        let (Some(vat_percent), Some(default_language)) = (vat_percent, default_language) else {
            return Err(AppError::Validation(ValidationErrors(errors)));
        };
        self.db.get_agency(agency).await?.ok_or(AppError::NotFound("agency"))?;
        let settings = AgencySettings { vat_percent, refund_approval: input.refund_approval, default_language };
        Ok(self.db.update_agency_settings(agency, &settings).await?)
    }

    /// Removes one entry of an agency's agreements: a carrier agreement (the carrier is then ticketed with no
    /// cap), a tour code, a corporate account or a booker code. Bookings already issued keep what they were issued
    /// under; later issuances no longer find the entry.
    pub async fn remove_agreement_entry(
        &self,
        who: &Principal,
        agency: AgencyId,
        entry: &AgreementEntry,
    ) -> Result<(), AppError> {
        who.require_admin()?;
        self.db.get_agency(agency).await?.ok_or(AppError::NotFound("agency"))?;
        if self.db.remove_agreement_entry(agency, entry).await? {
            Ok(())
        } else {
            Err(AppError::NotFound("agreement entry"))
        }
    }

    pub async fn agreements(&self, who: &Principal, agency: AgencyId) -> Result<Agreements, AppError> {
        who.require_agency_staff(agency)?;
        self.db.get_agency(agency).await?.ok_or(AppError::NotFound("agency"))?;
        Ok(self.db.agreements(agency).await?)
    }
}

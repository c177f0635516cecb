//! The append-only ledger: every movement of an agency's money is one entry, and the balance is their sum.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{AgencyId, IssuanceId};
use crate::money::Money;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    TopUp,
    IssuanceDebit,
    RefundCredit,
    VoidCredit,
    /// An exchange's add-collect: the new ticket and fee cost more than the old one's residual value.
    ExchangeDebit,
    /// An exchange's residual returned: the old ticket was worth more than the new one and the fee.
    ExchangeCredit,
    Adjustment,
}

impl LedgerKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::TopUp => "top_up",
            Self::IssuanceDebit => "issuance_debit",
            Self::RefundCredit => "refund_credit",
            Self::VoidCredit => "void_credit",
            Self::ExchangeDebit => "exchange_debit",
            Self::ExchangeCredit => "exchange_credit",
            Self::Adjustment => "adjustment",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::TopUp,
            Self::IssuanceDebit,
            Self::RefundCredit,
            Self::VoidCredit,
            Self::ExchangeDebit,
            Self::ExchangeCredit,
            Self::Adjustment,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub id: i64,
    pub agency_id: AgencyId,
    pub kind: LedgerKind,
    /// Signed: credits positive, debits negative.
    pub amount: Money,
    /// The balance right after this entry.
    pub balance_after: Money,
    pub issuance_id: Option<IssuanceId>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

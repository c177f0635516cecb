//! The ticket lifecycle after issuance: void, refund (direct or through approval), exchange and use.
//!
//! One state machine ([`apply`]) decides, from a ticket's status and its coupons' statuses, whether an action is
//! allowed and what it leaves behind; [`plan`] adds the time and money rules around it. Flight tickets, EMDs
//! and event tickets all go through it: an event ticket's coupons are its PDFs (one per day of a pass), so a
//! gate scan uses one coupon exactly like a flown segment.
//!
//! Money rules (documented in docs/api.md):
//! - A ticket's *charged* amount is what the agency paid for it at issuance (its total, less its share of the
//!   commission); voiding credits all of it back.
//! - Refund value = charged × unused coupons ÷ all coupons, rounded down to the minor unit; the refund is that
//!   value less the penalty (0 ≤ penalty ≤ value).
//! - Exchange: the old ticket's residual value (same proration, no penalty) pays towards the new ticket's total
//!   plus the change fee; the difference is debited (add-collect) or credited back (residual).

use chrono::{DateTime, Days, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::ledger::LedgerKind;
use crate::money::{Money, MoneyError};
use crate::ticket::{CouponStatus, TicketStatus};

/// What someone asks to do to a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    Void,
    /// A refund completed at once.
    Refund,
    /// A refund that waits for approval (`TORFND`).
    RequestRefund,
    ApproveRefund,
    RejectRefund,
    Exchange,
    /// Use coupon `n` (from 1): a flown segment, a scanned event ticket.
    Use(u32),
}

impl Action {
    /// Every kind of action, with coupon 1 standing for `Use`: what the exhaustive tests iterate.
    pub const ALL: [Action; 7] = [
        Action::Void,
        Action::Refund,
        Action::RequestRefund,
        Action::ApproveRefund,
        Action::RejectRefund,
        Action::Exchange,
        Action::Use(1),
    ];

    /// A short lower-case name (`void`, `refund_request`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Void => "void",
            Self::Refund => "refund",
            Self::RequestRefund => "refund_request",
            Self::ApproveRefund => "refund_approve",
            Self::RejectRefund => "refund_reject",
            Self::Exchange => "exchange",
            Self::Use(_) => "use",
        }
    }
}

/// One coupon as the state machine sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponState {
    pub status: CouponStatus,
    /// When it was used, for coupons that are.
    pub used_at: Option<DateTime<Utc>>,
}

impl CouponState {
    pub fn open() -> Self {
        Self { status: CouponStatus::Open, used_at: None }
    }
}

/// Why an action is refused. Nothing changes when one is returned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LifecycleError {
    #[error("a ticket in status {status} cannot be {}", past(*.action))]
    NotAllowed { action: Action, status: &'static str },
    #[error("a ticket with a used coupon cannot be voided")]
    CouponUsed,
    #[error("the ticket has no unused coupon")]
    NoUnusedCoupon,
    #[error("the void window closed at {0}")]
    VoidWindowClosed(DateTime<Utc>),
    #[error("the ticket is non-refundable")]
    NonRefundable,
    #[error("a ticket issued in an exchange cannot be voided; refund it instead")]
    ReissueNotVoidable,
    #[error("the ticket has no coupon {0}")]
    NoSuchCoupon(u32),
    #[error("coupon {number} is {status} and cannot be used")]
    CouponNotOpen { number: u32, status: &'static str },
    #[error("already used at {at}")]
    AlreadyUsed { number: u32, at: DateTime<Utc> },
    #[error("the penalty must be between 0 and {max}")]
    InvalidPenalty { max: Money },
    #[error("the change fee must not be negative")]
    InvalidChangeFee,
    #[error("the agency does not require refund approval")]
    NoApprovalRequired,
    #[error("only flight tickets can be exchanged")]
    NotExchangeable,
    #[error(transparent)]
    Money(#[from] MoneyError),
}

fn past(action: Action) -> &'static str {
    match action {
        Action::Void => "voided",
        Action::Refund | Action::RequestRefund => "refunded",
        Action::ApproveRefund => "approved for refund",
        Action::RejectRefund => "rejected for refund",
        Action::Exchange => "exchanged",
        Action::Use(_) => "used",
    }
}

/// What a permitted action leaves: the ticket's new status and every coupon's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub status: TicketStatus,
    pub coupons: Vec<CouponState>,
}

/// The state machine: the one place that says which action each status allows. `now` stamps used coupons.
pub fn apply(
    status: TicketStatus,
    coupons: &[CouponState],
    action: Action,
    now: DateTime<Utc>,
) -> Result<Transition, LifecycleError> {
    use TicketStatus as S;
    let not_allowed = || LifecycleError::NotAllowed { action, status: status.as_str() };
    let any_open = coupons.iter().any(|c| c.status == CouponStatus::Open);
    // Open coupons become `to`; used ones stay as they are.
    let close_open = |to: CouponStatus| -> Vec<CouponState> {
        coupons
            .iter()
            .map(|c| if c.status == CouponStatus::Open { CouponState { status: to, used_at: None } } else { *c })
            .collect()
    };
    match (action, status) {
        (Action::Use(n), _) => {
            let index = (n as usize).checked_sub(1).filter(|i| *i < coupons.len());
            let Some(index) = index else { return Err(LifecycleError::NoSuchCoupon(n)) };
            let coupon = coupons[index];
            // A second scan hears when the first one was, whatever happened to the ticket since.
            if let (CouponStatus::Flown, Some(at)) = (coupon.status, coupon.used_at) {
                return Err(LifecycleError::AlreadyUsed { number: n, at });
            }
            if status != S::Open {
                return Err(not_allowed());
            }
            if coupon.status != CouponStatus::Open {
                return Err(LifecycleError::CouponNotOpen { number: n, status: coupon.status.as_str() });
            }
            let mut next = coupons.to_vec();
            next[index] = CouponState { status: CouponStatus::Flown, used_at: Some(now) };
            let status = if next.iter().any(|c| c.status == CouponStatus::Open) { S::Open } else { S::Used };
            Ok(Transition { status, coupons: next })
        }
        (Action::Void, S::Open) => {
            if coupons.iter().any(|c| c.status != CouponStatus::Open) {
                return Err(LifecycleError::CouponUsed);
            }
            Ok(Transition { status: S::Void, coupons: close_open(CouponStatus::Void) })
        }
        (Action::Refund, S::Open) | (Action::ApproveRefund, S::RefundPending) => {
            if !any_open {
                return Err(LifecycleError::NoUnusedCoupon);
            }
            Ok(Transition { status: S::Refunded, coupons: close_open(CouponStatus::Refunded) })
        }
        (Action::RequestRefund, S::Open) => {
            if !any_open {
                return Err(LifecycleError::NoUnusedCoupon);
            }
            Ok(Transition { status: S::RefundPending, coupons: coupons.to_vec() })
        }
        (Action::RejectRefund, S::RefundPending) => Ok(Transition { status: S::Open, coupons: coupons.to_vec() }),
        (Action::Exchange, S::Open) => {
            if !any_open {
                return Err(LifecycleError::NoUnusedCoupon);
            }
            Ok(Transition { status: S::Exchanged, coupons: close_open(CouponStatus::Exchanged) })
        }
        (
            Action::Void | Action::Refund | Action::RequestRefund | Action::Exchange,
            S::Void | S::Used | S::Refunded | S::Exchanged | S::RefundPending,
        )
        | (Action::ApproveRefund | Action::RejectRefund, S::Open | S::Void | S::Used | S::Refunded | S::Exchanged) => {
            Err(not_allowed())
        }
    }
}

/// The last instant a ticket issued at `issued_at` may be voided: the end of its issue day in the agency's
/// time zone, plus `extra_days` whole days.
pub fn void_deadline(issued_at: DateTime<Utc>, timezone: crate::agency::TimeZone, extra_days: u32) -> DateTime<Utc> {
    let tz = timezone.tz();
    let local_day = issued_at.with_timezone(&tz).date_naive();
    let next_midnight = local_day
        .checked_add_days(Days::new(u64::from(extra_days) + 1))
        .and_then(|d| tz.from_local_datetime(&d.and_time(NaiveTime::MIN)).earliest());
    // A midnight that does not exist (a DST gap at 00:00) falls back to 24 h per day after issuance.
    next_midnight
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| issued_at + chrono::TimeDelta::days(i64::from(extra_days) + 1))
}

/// The value left in a ticket: `charged` prorated over its unused coupons, rounded down.
pub fn residual_value(charged: Money, coupons: &[CouponState]) -> Result<Money, MoneyError> {
    let total = coupons.len() as i128;
    if total == 0 {
        return Ok(Money::zero(charged.currency()));
    }
    let open = coupons.iter().filter(|c| c.status == CouponStatus::Open).count() as i128;
    let minor = i128::from(charged.minor()) * open / total;
    Ok(Money::from_minor(i64::try_from(minor).map_err(|_| MoneyError::Overflow)?, charged.currency()))
}

/// The ticket facts the money and time rules need.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    pub status: TicketStatus,
    pub coupons: Vec<CouponState>,
    /// What the agency paid for this ticket.
    pub charged: Money,
    pub issued_at: DateTime<Utc>,
    pub refundable: bool,
    /// Issued by an exchange (`relatedType` `ORGN`).
    pub reissue: bool,
    /// The penalty asked for when the refund was requested, for a ticket awaiting approval.
    pub pending_penalty: Option<Money>,
}

/// The rules around the state machine that a request brings.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    pub now: DateTime<Utc>,
    pub void_deadline: DateTime<Utc>,
    /// Refunds wait for an approval (`TORFND`) first.
    pub approval_required: bool,
    /// An admin may refund a non-refundable ticket.
    pub override_nonrefundable: bool,
}

/// A request, with the amounts it carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Void,
    Refund {
        penalty: Option<Money>,
    },
    ApproveRefund,
    RejectRefund,
    Use(u32),
    /// `new_total` is the new ticket's fare total.
    Exchange {
        new_total: Money,
        change_fee: Money,
    },
}

/// What executing a permitted request does.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub action: Action,
    pub transition: Transition,
    /// One ledger entry where money moves: signed, credits positive.
    pub ledger: Option<(LedgerKind, Money)>,
    /// The amount a credit invoice takes back (positive), where one is due.
    pub credit: Option<Money>,
    /// Kept with a ticket awaiting approval, applied when it is approved.
    pub pending_penalty: Option<Money>,
    /// Exchanges: the old ticket's residual value and the add-collect (positive) or residual refund (negative).
    pub exchange: Option<ExchangeSettlement>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ExchangeSettlement {
    pub residual: Money,
    pub new_total: Money,
    pub change_fee: Money,
    /// new total + change fee − residual: positive is collected from the agency, negative is returned to it.
    pub difference: Money,
}

/// Decides a request against a ticket: the state machine, then the window, refundability and money.
pub fn plan(subject: &Subject, request: &Request, ctx: &Context) -> Result<Plan, LifecycleError> {
    let action = match request {
        Request::Void => Action::Void,
        Request::Refund { .. } if ctx.approval_required => Action::RequestRefund,
        Request::Refund { .. } => Action::Refund,
        Request::ApproveRefund => Action::ApproveRefund,
        Request::RejectRefund => Action::RejectRefund,
        Request::Use(n) => Action::Use(*n),
        Request::Exchange { .. } => Action::Exchange,
    };
    let transition = apply(subject.status, &subject.coupons, action, ctx.now)?;
    let mut plan = Plan { action, transition, ledger: None, credit: None, pending_penalty: None, exchange: None };
    let currency = subject.charged.currency();
    match request {
        Request::Void => {
            if subject.reissue {
                return Err(LifecycleError::ReissueNotVoidable);
            }
            if ctx.now > ctx.void_deadline {
                return Err(LifecycleError::VoidWindowClosed(ctx.void_deadline));
            }
            plan.ledger = Some((LedgerKind::VoidCredit, subject.charged));
            plan.credit = Some(subject.charged);
        }
        Request::Refund { penalty } => {
            if !subject.refundable && !ctx.override_nonrefundable {
                return Err(LifecycleError::NonRefundable);
            }
            let value = residual_value(subject.charged, &subject.coupons)?;
            let penalty = penalty.unwrap_or(Money::zero(currency));
            if penalty.is_negative() || penalty.minor() > value.minor() || penalty.currency() != currency {
                return Err(LifecycleError::InvalidPenalty { max: value });
            }
            if action == Action::RequestRefund {
                plan.pending_penalty = Some(penalty);
            } else {
                let refund = value.checked_sub(penalty)?;
                plan.ledger = Some((LedgerKind::RefundCredit, refund));
                plan.credit = Some(refund);
            }
        }
        Request::ApproveRefund => {
            let value = residual_value(subject.charged, &subject.coupons)?;
            let penalty = subject.pending_penalty.unwrap_or(Money::zero(currency));
            // The coupons cannot have been used meanwhile (TORFND refuses use), so the value still covers it.
            let refund = value.checked_sub(penalty)?;
            if refund.is_negative() {
                return Err(LifecycleError::InvalidPenalty { max: value });
            }
            plan.ledger = Some((LedgerKind::RefundCredit, refund));
            plan.credit = Some(refund);
        }
        Request::RejectRefund | Request::Use(_) => {}
        Request::Exchange { new_total, change_fee } => {
            if change_fee.is_negative() {
                return Err(LifecycleError::InvalidChangeFee);
            }
            let residual = residual_value(subject.charged, &subject.coupons)?;
            let difference = new_total.checked_add(*change_fee)?.checked_sub(residual)?;
            plan.exchange =
                Some(ExchangeSettlement { residual, new_total: *new_total, change_fee: *change_fee, difference });
            plan.ledger = match difference.minor() {
                0 => None,
                m if m > 0 => Some((LedgerKind::ExchangeDebit, difference.negate())),
                _ => Some((LedgerKind::ExchangeCredit, difference.negate())),
            };
        }
    }
    // A zero movement is not an entry: "exactly one ledger entry where money moves".
    if plan.ledger.is_some_and(|(_, m)| m.is_zero()) {
        plan.ledger = None;
    }
    Ok(plan)
}

/// Splits an issuance's commission over its tickets in proportion to their base fares (largest remainder), so
/// each ticket's charged amount is known and they add up exactly to what the issuance debited.
pub fn charged_amounts(bases_and_totals: &[(Money, Money, bool)], commission: Money) -> Result<Vec<Money>, MoneyError> {
    let currency = commission.currency();
    // Only tickets that earn commission (flight tickets, not EMDs) carry a share.
    let weights: Vec<i128> =
        bases_and_totals.iter().map(|(base, _, earns)| if *earns { i128::from(base.minor()) } else { 0 }).collect();
    let weight_sum: i128 = weights.iter().sum();
    let total_commission = i128::from(commission.minor());
    let mut shares: Vec<i128> = vec![0; weights.len()];
    if weight_sum > 0 && total_commission != 0 {
        let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
        for (i, w) in weights.iter().enumerate() {
            let exact = total_commission * w;
            shares[i] = exact / weight_sum;
            remainders.push((exact % weight_sum, i));
        }
        let mut left = total_commission - shares.iter().sum::<i128>();
        remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, i) in remainders {
            if left == 0 {
                break;
            }
            shares[i] += 1;
            left -= 1;
        }
    }
    bases_and_totals
        .iter()
        .zip(shares)
        .map(|((_, total, _), share)| {
            let share = i64::try_from(share).map_err(|_| MoneyError::Overflow)?;
            total.checked_sub(Money::from_minor(share, currency))
        })
        .collect()
}

#[cfg(test)]
mod tests;

// Amounts are written `major_minor` (41_893_00 is 41,893.00) so they read as money.
#![allow(clippy::inconsistent_digit_grouping)]

use chrono::{DateTime, Utc};

use super::*;
use crate::agency::TimeZone;
use crate::money::Currency;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn npr(minor: i64) -> Money {
    Money::from_minor(minor, Currency::parse("NPR").unwrap())
}

fn coupons(statuses: &[CouponStatus]) -> Vec<CouponState> {
    statuses
        .iter()
        .map(|s| CouponState { status: *s, used_at: (*s == CouponStatus::Flown).then(|| at("2027-07-22T04:00:00Z")) })
        .collect()
}

const STATUSES: [TicketStatus; 6] = [
    TicketStatus::Open,
    TicketStatus::Void,
    TicketStatus::Used,
    TicketStatus::Refunded,
    TicketStatus::Exchanged,
    TicketStatus::RefundPending,
];

/// The coupons a ticket in each status has after reaching it the usual way (two segments).
fn typical(status: TicketStatus) -> Vec<CouponState> {
    use CouponStatus as C;
    coupons(match status {
        TicketStatus::Open | TicketStatus::RefundPending => &[C::Open, C::Open],
        TicketStatus::Void => &[C::Void, C::Void],
        TicketStatus::Used => &[C::Flown, C::Flown],
        TicketStatus::Refunded => &[C::Refunded, C::Refunded],
        TicketStatus::Exchanged => &[C::Exchanged, C::Exchanged],
    })
}

/// Every status × every action: exactly the allowed pairs succeed, with the expected result.
#[test]
fn every_status_and_action() {
    use TicketStatus as S;
    let now = at("2027-07-20T10:00:00Z");
    for status in STATUSES {
        for action in Action::ALL {
            let result = apply(status, &typical(status), action, now);
            let expected = match (action, status) {
                (Action::Void, S::Open) => Some(S::Void),
                (Action::Refund, S::Open) => Some(S::Refunded),
                (Action::RequestRefund, S::Open) => Some(S::RefundPending),
                (Action::ApproveRefund, S::RefundPending) => Some(S::Refunded),
                (Action::RejectRefund, S::RefundPending) => Some(S::Open),
                (Action::Exchange, S::Open) => Some(S::Exchanged),
                (Action::Use(_), S::Open) => Some(S::Open),
                _ => None,
            };
            match (expected, result) {
                (Some(want), Ok(t)) => assert_eq!(t.status, want, "{action:?} on {status:?}"),
                (None, Err(LifecycleError::NotAllowed { .. })) => {}
                // A used ticket's coupon answers with the time of its first use.
                (None, Err(LifecycleError::AlreadyUsed { number: 1, .. })) => {
                    assert_eq!((action, status), (Action::Use(1), S::Used))
                }
                (want, got) => panic!("{action:?} on {status:?}: expected {want:?}, got {got:?}"),
            }
        }
    }
}

#[test]
fn refusals_name_the_status_and_the_action() {
    let err = apply(TicketStatus::Void, &typical(TicketStatus::Void), Action::Refund, at("2027-01-01T00:00:00Z"))
        .unwrap_err();
    assert_eq!(err.to_string(), "a ticket in status VOID cannot be refunded");
    let err =
        apply(TicketStatus::Exchanged, &typical(TicketStatus::Exchanged), Action::Exchange, Utc::now()).unwrap_err();
    assert_eq!(err.to_string(), "a ticket in status EXCH cannot be exchanged");
}

#[test]
fn coupons_follow_the_action() {
    use CouponStatus as C;
    let now = at("2027-07-22T05:00:00Z");
    let partly = coupons(&[C::Flown, C::Open]);
    assert_eq!(apply(TicketStatus::Open, &partly, Action::Void, now), Err(LifecycleError::CouponUsed));
    let refunded = apply(TicketStatus::Open, &partly, Action::Refund, now).unwrap();
    assert_eq!(refunded.coupons.iter().map(|c| c.status).collect::<Vec<_>>(), [C::Flown, C::Refunded]);
    let exchanged = apply(TicketStatus::Open, &partly, Action::Exchange, now).unwrap();
    assert_eq!(exchanged.coupons.iter().map(|c| c.status).collect::<Vec<_>>(), [C::Flown, C::Exchanged]);
    let pending = apply(TicketStatus::Open, &partly, Action::RequestRefund, now).unwrap();
    assert_eq!(pending.coupons, partly, "a pending refund leaves the coupons alone");
    let all_flown = coupons(&[C::Flown, C::Flown]);
    for action in [Action::Refund, Action::RequestRefund, Action::Exchange] {
        assert_eq!(apply(TicketStatus::Open, &all_flown, action, now), Err(LifecycleError::NoUnusedCoupon));
    }
}

#[test]
fn using_the_last_coupon_makes_the_ticket_used_and_a_second_scan_answers_the_first_time() {
    let first = at("2027-07-22T04:10:00Z");
    let t = apply(TicketStatus::Open, &[CouponState::open(), CouponState::open()], Action::Use(2), first).unwrap();
    assert_eq!(t.status, TicketStatus::Open);
    assert_eq!(t.coupons[1], CouponState { status: CouponStatus::Flown, used_at: Some(first) });
    let later = at("2027-07-22T09:00:00Z");
    let t = apply(t.status, &t.coupons, Action::Use(1), later).unwrap();
    assert_eq!(t.status, TicketStatus::Used);
    assert_eq!(
        apply(t.status, &t.coupons, Action::Use(2), later),
        Err(LifecycleError::AlreadyUsed { number: 2, at: first })
    );
    assert_eq!(apply(t.status, &t.coupons, Action::Use(3), later), Err(LifecycleError::NoSuchCoupon(3)));
    assert_eq!(apply(t.status, &t.coupons, Action::Use(0), later), Err(LifecycleError::NoSuchCoupon(0)));
    let voided = coupons(&[CouponStatus::Refunded, CouponStatus::Open]);
    assert_eq!(
        apply(TicketStatus::Open, &voided, Action::Use(1), later),
        Err(LifecycleError::CouponNotOpen { number: 1, status: "R" })
    );
}

#[test]
fn void_deadline_is_the_end_of_the_local_issue_day() {
    // 20:00 UTC is already the next day in Kathmandu (UTC+5:45): the deadline is that day's end.
    let issued = at("2027-07-20T20:00:00Z");
    let kathmandu = chrono_tz::Asia::Kathmandu.into();
    assert_eq!(void_deadline(issued, kathmandu, 0), at("2027-07-21T18:15:00Z"));
    assert_eq!(void_deadline(issued, TimeZone::UTC, 0), at("2027-07-21T00:00:00Z"));
    assert_eq!(void_deadline(issued, TimeZone::UTC, 2), at("2027-07-23T00:00:00Z"));
}

fn subject(charged: i64, statuses: &[CouponStatus]) -> Subject {
    Subject {
        status: TicketStatus::Open,
        coupons: coupons(statuses),
        charged: npr(charged),
        issued_at: at("2027-07-20T08:00:00Z"),
        refundable: true,
        reissue: false,
        pending_penalty: None,
    }
}

fn ctx(now: &str) -> Context {
    Context {
        now: at(now),
        void_deadline: at("2027-07-21T00:00:00Z"),
        approval_required: false,
        override_nonrefundable: false,
    }
}

#[test]
fn void_credits_everything_charged_inside_the_window_only() {
    let s = subject(41_893_00, &[CouponStatus::Open]);
    let p = plan(&s, &Request::Void, &ctx("2027-07-20T23:59:59Z")).unwrap();
    assert_eq!(p.ledger, Some((LedgerKind::VoidCredit, npr(41_893_00))));
    assert_eq!(p.credit, Some(npr(41_893_00)));
    assert_eq!(
        plan(&s, &Request::Void, &ctx("2027-07-21T00:00:01Z")),
        Err(LifecycleError::VoidWindowClosed(at("2027-07-21T00:00:00Z")))
    );
    let reissue = Subject { reissue: true, ..s };
    assert_eq!(plan(&reissue, &Request::Void, &ctx("2027-07-20T09:00:00Z")), Err(LifecycleError::ReissueNotVoidable));
}

#[test]
fn refund_prorates_unused_coupons_rounding_down_and_takes_the_penalty() {
    use CouponStatus as C;
    // 1000.01 over 3 coupons, 2 unused: 666.67333… → 666.67
    let s = subject(1_000_01, &[C::Flown, C::Open, C::Open]);
    let p = plan(&s, &Request::Refund { penalty: Some(npr(66_67)) }, &ctx("2027-08-01T00:00:00Z")).unwrap();
    assert_eq!(p.ledger, Some((LedgerKind::RefundCredit, npr(600_00))));
    assert_eq!(p.transition.status, TicketStatus::Refunded);
    assert_eq!(
        plan(&s, &Request::Refund { penalty: Some(npr(666_68)) }, &ctx("2027-08-01T00:00:00Z")),
        Err(LifecycleError::InvalidPenalty { max: npr(666_67) })
    );
    assert_eq!(
        plan(&s, &Request::Refund { penalty: Some(npr(-1)) }, &ctx("2027-08-01T00:00:00Z")),
        Err(LifecycleError::InvalidPenalty { max: npr(666_67) })
    );
    // The whole value as penalty: the ticket is refunded, no money moves, so there is no ledger entry.
    let p = plan(&s, &Request::Refund { penalty: Some(npr(666_67)) }, &ctx("2027-08-01T00:00:00Z")).unwrap();
    assert_eq!(p.ledger, None);
}

#[test]
fn non_refundable_tickets_need_an_admin() {
    let s = Subject { refundable: false, ..subject(500_00, &[CouponStatus::Open]) };
    let mut c = ctx("2027-08-01T00:00:00Z");
    assert_eq!(plan(&s, &Request::Refund { penalty: None }, &c), Err(LifecycleError::NonRefundable));
    c.override_nonrefundable = true;
    assert_eq!(plan(&s, &Request::Refund { penalty: None }, &c).unwrap().credit, Some(npr(500_00)));
}

#[test]
fn refunds_through_approval_move_money_only_when_approved() {
    let s = subject(500_00, &[CouponStatus::Open]);
    let mut c = ctx("2027-08-01T00:00:00Z");
    c.approval_required = true;
    let asked = plan(&s, &Request::Refund { penalty: Some(npr(50_00)) }, &c).unwrap();
    assert_eq!(
        (asked.transition.status, asked.ledger, asked.pending_penalty),
        (TicketStatus::RefundPending, None, Some(npr(50_00)))
    );
    let pending = Subject { status: TicketStatus::RefundPending, pending_penalty: asked.pending_penalty, ..s };
    let approved = plan(&pending, &Request::ApproveRefund, &c).unwrap();
    assert_eq!(approved.ledger, Some((LedgerKind::RefundCredit, npr(450_00))));
    let rejected = plan(&pending, &Request::RejectRefund, &c).unwrap();
    assert_eq!((rejected.transition.status, rejected.ledger), (TicketStatus::Open, None));
}

#[test]
fn exchange_collects_the_difference_or_returns_the_residual() {
    use CouponStatus as C;
    let s = subject(400_00, &[C::Flown, C::Open]);
    let c = ctx("2027-08-01T00:00:00Z");
    let up = plan(&s, &Request::Exchange { new_total: npr(300_00), change_fee: npr(25_00) }, &c).unwrap();
    let settled = up.exchange.unwrap();
    assert_eq!((settled.residual, settled.difference), (npr(200_00), npr(125_00)));
    assert_eq!(up.ledger, Some((LedgerKind::ExchangeDebit, npr(-125_00))));
    let down = plan(&s, &Request::Exchange { new_total: npr(150_00), change_fee: npr(0) }, &c).unwrap();
    assert_eq!(down.ledger, Some((LedgerKind::ExchangeCredit, npr(50_00))));
    let even = plan(&s, &Request::Exchange { new_total: npr(180_00), change_fee: npr(20_00) }, &c).unwrap();
    assert_eq!(even.ledger, None);
    assert_eq!(
        plan(&s, &Request::Exchange { new_total: npr(1), change_fee: npr(-1) }, &c),
        Err(LifecycleError::InvalidChangeFee)
    );
}

#[test]
fn commission_is_shared_by_base_fare_and_adds_up_exactly() {
    // Three tickets (bases 100, 100, 100) and one EMD; 10.00 commission → 3.34, 3.33, 3.33, EMD 0.
    let rows = [
        (npr(100_00), npr(120_00), true),
        (npr(100_00), npr(120_00), true),
        (npr(100_00), npr(120_00), true),
        (npr(25_00), npr(25_00), false),
    ];
    let charged = charged_amounts(&rows, npr(10_00)).unwrap();
    assert_eq!(charged, vec![npr(116_66), npr(116_67), npr(116_67), npr(25_00)]);
    let sum: i64 = charged.iter().map(|m| m.minor()).sum();
    assert_eq!(sum, 120_00 * 3 + 25_00 - 10_00);
    assert_eq!(charged_amounts(&rows, npr(0)).unwrap(), rows.iter().map(|r| r.1).collect::<Vec<_>>());
}

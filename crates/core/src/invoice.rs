//! E-invoices: what is invoiced at issuance (one per event booking order, one per flight issuance) and what
//! credit invoices take back on a void, refund or exchange.
//!
//! Flight fares carry no VAT here (international carriage is zero-rated), so flight invoices use rate 0.
//!
//! Prices at intake are what the buyer pays, VAT included. Each line (one per ticket name, category and unit
//! price) splits its gross into VAT = gross × rate / (100 + rate), rounded half away from zero to the minor
//! unit, and net = gross − VAT, so lines always add up to exactly what was charged. Numbers are assigned by
//! storage, gapless per agency, when the invoice is recorded.

use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::ids::{AgencyId, BookingId};
use crate::money::{Currency, Money, MoneyError};
use crate::orders::{BookingOrder, BookingOrderId, OrderItem};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InvoiceKind {
    Invoice,
    /// Takes back (part of) an earlier invoice: its amounts are negative.
    Credit,
}

impl InvoiceKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Invoice => "invoice",
            Self::Credit => "credit",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Invoice, Self::Credit].into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceLine {
    pub description: String,
    pub quantity: u32,
    pub unit_price: Money,
    pub vat_percent: Decimal,
    pub net: Money,
    pub vat: Money,
    pub gross: Money,
}

/// An invoice before it has a number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceDraft {
    pub booking_id: BookingId,
    /// The booking order of an event invoice; flight invoices have none.
    pub order_id: Option<BookingOrderId>,
    /// The tickets it bills or credits: ticket numbers or order item ids. Storage adds the numbers of tickets
    /// it numbers in the same transaction (a flight issuance, an exchange's new ticket).
    #[serde(default)]
    pub covers: Vec<String>,
    pub kind: InvoiceKind,
    /// For a credit invoice, the number of the invoice it credits.
    pub credits: Option<u64>,
    pub currency: Currency,
    pub lines: Vec<InvoiceLine>,
    pub net: Money,
    pub vat: Money,
    pub gross: Money,
}

/// A recorded invoice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invoice {
    /// Gapless per agency, from 1.
    pub number: u64,
    pub agency_id: AgencyId,
    pub issued_at: DateTime<Utc>,
    #[serde(flatten)]
    pub draft: InvoiceDraft,
}

/// The invoice of an order at issuance: every ticket that counts, grouped into lines.
pub fn invoice_for(order: &BookingOrder, vat_percent: Decimal) -> Result<InvoiceDraft, MoneyError> {
    let items: Vec<&OrderItem> = order.items.iter().filter(|i| i.counts()).collect();
    // Lines in the order items first appear, one per ticket name, category and price.
    let mut groups: Vec<(&OrderItem, u32)> = Vec::new();
    for item in &items {
        match groups.iter_mut().find(|(g, _)| same_line(g, item)) {
            Some((_, n)) => *n += 1,
            None => groups.push((item, 1)),
        }
    }
    let lines = groups
        .into_iter()
        .map(|(item, quantity)| {
            line(format!("{} ({})", item.ticket_name, item.category), quantity, item.unit_price, vat_percent)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let covers = items.iter().map(|i| i.id.to_string()).collect();
    assemble(order.booking_id, Some(order.id.clone()), covers, InvoiceKind::Invoice, None, order.currency, lines)
}

/// The invoice of a flight issuance: one line per ticket and EMD at what the agency pays for it, rate 0.
/// `tickets` are (description, charged); storage fills `covers` with the numbers it assigns.
pub fn invoice_for_flight(
    booking_id: BookingId,
    currency: Currency,
    tickets: &[(String, Money)],
) -> Result<InvoiceDraft, MoneyError> {
    let lines = tickets.iter().map(|(d, m)| line(d.clone(), 1, *m, Decimal::ZERO)).collect::<Result<Vec<_>, _>>()?;
    assemble(booking_id, None, Vec::new(), InvoiceKind::Invoice, None, currency, lines)
}

/// A credit invoice taking `amount` (positive) back for one ticket or order item, crediting invoice `credits`.
/// The VAT rate is the credited invoice's.
pub struct Credit<'a> {
    pub booking_id: BookingId,
    pub order_id: Option<BookingOrderId>,
    /// The ticket number or order item id.
    pub covers: &'a str,
    pub description: String,
    pub amount: Money,
    pub vat_percent: Decimal,
    pub credits: u64,
}

pub fn credit_for(credit: Credit<'_>) -> Result<InvoiceDraft, MoneyError> {
    let currency = credit.amount.currency();
    let line = line(credit.description, 1, credit.amount.negate(), credit.vat_percent)?;
    assemble(
        credit.booking_id,
        credit.order_id,
        vec![credit.covers.to_owned()],
        InvoiceKind::Credit,
        Some(credit.credits),
        currency,
        vec![line],
    )
}

/// What an exchange bills: the new ticket, the change fee and, deducted, the old ticket's residual value. A
/// negative total makes it a credit invoice. Storage adds the new ticket's number to `covers`.
pub fn exchange_invoice(
    booking_id: BookingId,
    old_ticket: &str,
    new_total: Money,
    change_fee: Money,
    residual: Money,
) -> Result<InvoiceDraft, MoneyError> {
    let currency = new_total.currency();
    let mut lines = vec![line("New ticket (exchange)".into(), 1, new_total, Decimal::ZERO)?];
    if !change_fee.is_zero() {
        lines.push(line("Change fee".into(), 1, change_fee, Decimal::ZERO)?);
    }
    lines.push(line(format!("Residual value of ticket {old_ticket}"), 1, residual.negate(), Decimal::ZERO)?);
    let gross = Money::sum(lines.iter().map(|l| l.gross), currency)?;
    let kind = if gross.is_negative() { InvoiceKind::Credit } else { InvoiceKind::Invoice };
    assemble(booking_id, None, vec![old_ticket.to_owned()], kind, None, currency, lines)
}

/// One line of `quantity` × `unit` (signed), with the VAT contained in it split out.
fn line(description: String, quantity: u32, unit: Money, vat_percent: Decimal) -> Result<InvoiceLine, MoneyError> {
    let gross_minor = unit.minor().checked_mul(i64::from(quantity)).ok_or(MoneyError::Overflow)?;
    let gross = Money::from_minor(gross_minor, unit.currency());
    let vat = vat_included(gross, vat_percent)?;
    Ok(InvoiceLine { description, quantity, unit_price: unit, vat_percent, net: gross.checked_sub(vat)?, vat, gross })
}

fn assemble(
    booking_id: BookingId,
    order_id: Option<BookingOrderId>,
    covers: Vec<String>,
    kind: InvoiceKind,
    credits: Option<u64>,
    currency: Currency,
    lines: Vec<InvoiceLine>,
) -> Result<InvoiceDraft, MoneyError> {
    let net = Money::sum(lines.iter().map(|l| l.net), currency)?;
    let vat = Money::sum(lines.iter().map(|l| l.vat), currency)?;
    let gross = Money::sum(lines.iter().map(|l| l.gross), currency)?;
    Ok(InvoiceDraft { booking_id, order_id, covers, kind, credits, currency, lines, net, vat, gross })
}

fn same_line(a: &OrderItem, b: &OrderItem) -> bool {
    a.ticket_name == b.ticket_name && a.category == b.category && a.unit_price == b.unit_price
}

/// The VAT contained in a VAT-inclusive `gross`.
pub fn vat_included(gross: Money, vat_percent: Decimal) -> Result<Money, MoneyError> {
    if vat_percent.is_zero() {
        return Ok(Money::zero(gross.currency()));
    }
    let hundred = Decimal::from(100);
    let value = gross
        .to_decimal()
        .checked_mul(vat_percent)
        .and_then(|v| v.checked_div(hundred + vat_percent))
        .ok_or(MoneyError::Overflow)?
        .round_dp_with_strategy(gross.currency().minor_units(), RoundingStrategy::MidpointAwayFromZero);
    Money::from_decimal(value, gross.currency())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::booking::{DistributionChannel, Event};
    use crate::orders::{LogisticStatus, OrderItemId};
    use crate::ticket::TicketStatus;
    use uuid::Uuid;

    fn eur(minor: i64) -> Money {
        Money::from_minor(minor, Currency::parse("EUR").unwrap())
    }

    fn item(n: u128, name: &str, price: i64) -> OrderItem {
        OrderItem {
            id: OrderItemId::from_uuid(Uuid::from_u128(n)),
            ticket_name: name.into(),
            category: "Cat 1".into(),
            unit_price: eur(price),
            distribution_channel: DistributionChannel::Xs2event,
            status: TicketStatus::Open,
            pending_penalty: None,
            guest: None,
            seat: None,
            downloads: vec![],
        }
    }

    fn order(items: Vec<OrderItem>) -> BookingOrder {
        BookingOrder {
            id: BookingOrderId::from_uuid(Uuid::from_u128(1)),
            booking_id: BookingId(Uuid::from_u128(2)),
            agency_id: AgencyId(Uuid::from_u128(3)),
            position: 0,
            event: Event {
                id: "e".into(),
                name: "E".into(),
                venue: "V".into(),
                starts_at: "2027-03-02T20:00:00+00:00".parse().unwrap(),
                ends_at: None,
                location: None,
            },
            currency: Currency::parse("EUR").unwrap(),
            logistic_status: LogisticStatus::Processing,
            items,
            created_at: "2026-01-01T00:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn lines_group_equal_tickets_and_split_vat_out_of_the_price() {
        let o = order(vec![item(10, "Main", 18_900), item(11, "Main", 18_900), item(12, "Upper", 9_999)]);
        let inv = invoice_for(&o, Decimal::new(21, 0)).unwrap();
        assert_eq!(inv.lines.len(), 2);
        assert_eq!((inv.lines[0].quantity, inv.lines[0].gross), (2, eur(37_800)));
        // 378.00 × 21/121 = 65.6033… → 65.60
        assert_eq!((inv.lines[0].vat, inv.lines[0].net), (eur(6_560), eur(31_240)));
        // 99.99 × 21/121 = 17.3535… → 17.35
        assert_eq!(inv.lines[1].vat, eur(1_735));
        assert_eq!(inv.gross, eur(47_799));
        assert_eq!(inv.net.checked_add(inv.vat).unwrap(), inv.gross);
    }

    #[test]
    fn zero_rate_has_no_vat_and_cancelled_items_are_not_invoiced() {
        let mut cancelled = item(11, "Main", 18_900);
        cancelled.status = TicketStatus::Void;
        let inv = invoice_for(&order(vec![item(10, "Main", 18_900), cancelled]), Decimal::ZERO).unwrap();
        assert_eq!((inv.lines[0].quantity, inv.vat, inv.net, inv.gross), (1, eur(0), eur(18_900), eur(18_900)));
    }

    #[test]
    fn an_exchange_invoice_nets_the_residual_and_turns_into_a_credit_when_negative() {
        let b = BookingId(Uuid::from_u128(2));
        let up = exchange_invoice(b, "1572100000001", eur(30_000), eur(2_500), eur(20_000)).unwrap();
        assert_eq!((up.kind, up.gross, up.lines.len()), (InvoiceKind::Invoice, eur(12_500), 3));
        let down = exchange_invoice(b, "1572100000001", eur(15_000), eur(0), eur(20_000)).unwrap();
        assert_eq!((down.kind, down.gross, down.lines.len()), (InvoiceKind::Credit, eur(-5_000), 2));
    }

    #[test]
    fn a_credit_invoice_is_the_negative_of_its_items() {
        let o = order(vec![item(10, "Main", 18_900), item(11, "Main", 18_900)]);
        let credit = credit_for(Credit {
            booking_id: o.booking_id,
            order_id: Some(o.id.clone()),
            covers: o.items[1].id.as_str(),
            description: "Refund".into(),
            amount: eur(18_900),
            vat_percent: Decimal::new(21, 0),
            credits: 7,
        })
        .unwrap();
        assert_eq!((credit.kind, credit.credits), (InvoiceKind::Credit, Some(7)));
        assert_eq!(credit.covers, vec![o.items[1].id.to_string()]);
        assert_eq!((credit.gross, credit.vat, credit.net), (eur(-18_900), eur(-3_280), eur(-15_620)));
    }
}

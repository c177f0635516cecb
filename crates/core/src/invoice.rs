//! E-invoices of event booking orders: what is invoiced at issuance and what a credit invoice takes back.
//!
//! Prices at intake are what the buyer pays, VAT included. Each line (one per ticket name, category and unit
//! price) splits its gross into VAT = gross × rate / (100 + rate), rounded half away from zero to the minor
//! unit, and net = gross − VAT, so lines always add up to exactly what was charged. Numbers are assigned by
//! storage, gapless per agency, when the invoice is recorded.

use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::ids::AgencyId;
use crate::money::{Currency, Money, MoneyError};
use crate::orders::{BookingOrder, BookingOrderId, ItemStatus, OrderItem};

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
    pub order_id: BookingOrderId,
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
    let items: Vec<&OrderItem> = order.items.iter().filter(|i| i.status == ItemStatus::Active).collect();
    draft(order, &items, vat_percent, InvoiceKind::Invoice, None)
}

/// A credit invoice taking back `items` of `order`, crediting invoice number `credits`.
pub fn credit_for(
    order: &BookingOrder,
    items: &[&OrderItem],
    vat_percent: Decimal,
    credits: u64,
) -> Result<InvoiceDraft, MoneyError> {
    draft(order, items, vat_percent, InvoiceKind::Credit, Some(credits))
}

fn draft(
    order: &BookingOrder,
    items: &[&OrderItem],
    vat_percent: Decimal,
    kind: InvoiceKind,
    credits: Option<u64>,
) -> Result<InvoiceDraft, MoneyError> {
    let currency = order.currency;
    let sign = match kind {
        InvoiceKind::Invoice => 1,
        InvoiceKind::Credit => -1,
    };
    // Lines in the order items first appear, one per ticket name, category and price.
    let mut groups: Vec<(&OrderItem, u32)> = Vec::new();
    for item in items {
        match groups.iter_mut().find(|(g, _)| same_line(g, item)) {
            Some((_, n)) => *n += 1,
            None => groups.push((item, 1)),
        }
    }
    let mut lines = Vec::with_capacity(groups.len());
    for (item, quantity) in groups {
        let gross_minor =
            item.unit_price.minor().checked_mul(i64::from(quantity) * sign).ok_or(MoneyError::Overflow)?;
        let gross = Money::from_minor(gross_minor, currency);
        let vat = vat_included(gross, vat_percent)?;
        lines.push(InvoiceLine {
            description: format!("{} ({})", item.ticket_name, item.category),
            quantity,
            unit_price: item.unit_price,
            vat_percent,
            net: gross.checked_sub(vat)?,
            vat,
            gross,
        });
    }
    let net = Money::sum(lines.iter().map(|l| l.net), currency)?;
    let vat = Money::sum(lines.iter().map(|l| l.vat), currency)?;
    let gross = Money::sum(lines.iter().map(|l| l.gross), currency)?;
    Ok(InvoiceDraft { order_id: order.id.clone(), kind, credits, currency, lines, net, vat, gross })
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
    use crate::ids::BookingId;
    use crate::orders::{LogisticStatus, OrderItemId};
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
            status: ItemStatus::Active,
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
        cancelled.status = ItemStatus::Cancelled;
        let inv = invoice_for(&order(vec![item(10, "Main", 18_900), cancelled]), Decimal::ZERO).unwrap();
        assert_eq!((inv.lines[0].quantity, inv.vat, inv.net, inv.gross), (1, eur(0), eur(18_900), eur(18_900)));
    }

    #[test]
    fn a_credit_invoice_is_the_negative_of_its_items() {
        let o = order(vec![item(10, "Main", 18_900), item(11, "Main", 18_900)]);
        let credit = credit_for(&o, &[&o.items[1]], Decimal::new(21, 0), 7).unwrap();
        assert_eq!((credit.kind, credit.credits), (InvoiceKind::Credit, Some(7)));
        assert_eq!((credit.gross, credit.vat, credit.net), (eur(-18_900), eur(-3_280), eur(-15_620)));
    }
}

//! Booking orders of event bookings: one order per event, one order item per ticket bought, one download
//! item per PDF of a ticket. Orders exist from intake (`processing`) and are completed by issuance.
//!
//! Ids follow the events API's shape, 32 lower-case hex digits and a type suffix (`_bkn` for orders, `_bkd`
//! for items, `_dwn` for download items); the caller hands in the UUIDs, so this module stays deterministic.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::booking::{Booking, BookingDetail, DistributionChannel, Event, EventItem, Guest, Seat};
use crate::ids::{AgencyId, BookingId};
use crate::lifecycle::CouponState;
use crate::money::{Currency, Money, MoneyError};
use crate::ticket::{CouponStatus, TicketStatus};

/// Why an id from a request is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a valid {1}")]
pub struct OrderIdError(pub String, pub &'static str);

macro_rules! suffixed_id {
    ($(#[$doc:meta])* $name:ident, $suffix:literal, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const SUFFIX: &'static str = $suffix;

            pub fn from_uuid(uuid: Uuid) -> Self {
                Self(format!("{}{}", uuid.simple(), $suffix))
            }

            /// 32 lower-case hex digits followed by the suffix, nothing else.
            pub fn parse(value: &str) -> Result<Self, OrderIdError> {
                let hex = value.strip_suffix($suffix).filter(|h| {
                    h.len() == 32 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                });
                match hex {
                    Some(_) => Ok(Self(value.to_owned())),
                    None => Err(OrderIdError(value.to_owned(), $what)),
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = OrderIdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

suffixed_id!(
    /// A booking order: the tickets of one booking for one event.
    BookingOrderId,
    "_bkn",
    "booking order id"
);
suffixed_id!(
    /// An order item: one ticket bought.
    OrderItemId,
    "_bkd",
    "order item id"
);
suffixed_id!(
    /// One PDF of a ticket that has several (a multi-day pass).
    DownloadItemId,
    "_dwn",
    "download item id"
);

/// A booking's id as the events API writes it: its UUID's 32 hex digits and `_bkn`, the shape of the seed's
/// `booking_id` (the vendor suffixes a booking like its booking orders).
pub fn events_booking_id(id: BookingId) -> String {
    format!("{}{}", id.as_uuid().simple(), BookingOrderId::SUFFIX)
}

/// Reads a booking id in the events API's shape; for clients written against earlier answers, a UUID as the
/// native API writes it (dashed) is accepted too.
pub fn parse_events_booking_id(text: &str) -> Result<BookingId, OrderIdError> {
    let invalid = || OrderIdError(text.to_owned(), "booking id");
    match text.strip_suffix(BookingOrderId::SUFFIX) {
        Some(hex) if hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) => {
            Uuid::try_parse(hex).map(BookingId).map_err(|_| invalid())
        }
        Some(_) => Err(invalid()),
        None => text.parse().map_err(|_| invalid()),
    }
}

/// Where an order stands in its delivery: `processing` until issuance renders its tickets, then `completed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogisticStatus {
    Processing,
    Completed,
    Cancelled,
}

impl LogisticStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Processing => "processing",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Processing, Self::Completed, Self::Cancelled].into_iter().find(|v| v.as_str() == s)
    }
}

/// The file name a PDF is downloaded by (`ticket-ehmll.pdf`): what the events API calls `download_link`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct DownloadLink(String);

impl DownloadLink {
    const PREFIX: &'static str = "ticket-";
    const LETTERS: usize = 5;

    /// Five letters drawn from the random bits of `uuid`: the same uuid always gives the same link.
    pub fn from_uuid(uuid: Uuid) -> Self {
        let mut bits = uuid.as_u128();
        let mut name = String::from(Self::PREFIX);
        for _ in 0..Self::LETTERS {
            name.push(char::from(b'a' + (bits % 26) as u8));
            bits /= 26;
        }
        name.push_str(".pdf");
        Self(name)
    }

    /// Only the exact shape we hand out: anything else (paths, encodings, other names) is not a link.
    pub fn parse(value: &str) -> Option<Self> {
        let letters = value.strip_prefix(Self::PREFIX)?.strip_suffix(".pdf")?;
        (letters.len() == Self::LETTERS && letters.bytes().all(|b| b.is_ascii_lowercase()))
            .then(|| Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for DownloadLink {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not a download link")))
    }
}

/// One PDF of a ticket, and the ticket's coupon for that PDF: scanning it at the gate uses the coupon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DownloadItem {
    pub id: DownloadItemId,
    /// Which PDF this is, e.g. `Day 1 of 3 — Fri 27 Aug 2027`; empty for single-PDF tickets.
    pub label: String,
    pub link: DownloadLink,
    #[serde(default)]
    pub status: CouponStatus,
    /// When it was first scanned (the events API's `activated`).
    #[serde(default)]
    pub activated: Option<DateTime<Utc>>,
}

/// One ticket bought.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderItem {
    pub id: OrderItemId,
    pub ticket_name: String,
    pub category: String,
    pub unit_price: Money,
    pub distribution_channel: DistributionChannel,
    /// The lifecycle status it shares with flight tickets (`OPEN`, `USED`, `RFND`, ...).
    pub status: TicketStatus,
    /// The penalty asked for with a refund that awaits approval.
    #[serde(default)]
    pub pending_penalty: Option<Money>,
    pub guest: Option<Guest>,
    pub seat: Option<Seat>,
    /// At least one; several for a ticket with one PDF per day.
    pub downloads: Vec<DownloadItem>,
}

impl OrderItem {
    /// Tickets we distribute ourselves and that still count can be downloaded.
    pub fn downloadable(&self) -> bool {
        self.distribution_channel.downloadable() && self.counts()
    }

    /// Not voided, refunded or exchanged: still a ticket someone holds (possibly already used).
    pub fn counts(&self) -> bool {
        matches!(self.status, TicketStatus::Open | TicketStatus::Used | TicketStatus::RefundPending)
    }

    /// The coupons the lifecycle state machine sees: one per PDF.
    pub fn coupon_states(&self) -> Vec<CouponState> {
        self.downloads.iter().map(|d| CouponState { status: d.status, used_at: d.activated }).collect()
    }

    pub fn download(&self, link: &str) -> Option<&DownloadItem> {
        self.downloads.iter().find(|d| d.link.as_str() == link)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingOrder {
    pub id: BookingOrderId,
    pub booking_id: BookingId,
    pub agency_id: AgencyId,
    /// The order's place within its booking (the intake's `orders` index).
    pub position: u32,
    pub event: Event,
    pub currency: Currency,
    pub logistic_status: LogisticStatus,
    pub items: Vec<OrderItem>,
    pub created_at: DateTime<Utc>,
}

impl BookingOrder {
    pub fn item(&self, id: &str) -> Option<&OrderItem> {
        self.items.iter().find(|i| i.id.as_str() == id)
    }

    pub fn item_mut(&mut self, id: &OrderItemId) -> Option<&mut OrderItem> {
        self.items.iter_mut().find(|i| &i.id == id)
    }

    /// What the order costs: every item that still counts.
    pub fn total(&self) -> Result<Money, MoneyError> {
        Money::sum(self.items.iter().filter(|i| i.counts()).map(|i| i.unit_price), self.currency)
    }
}

/// The booking orders an event booking becomes, with fresh ids from `next_id`. A flight booking has none.
///
/// The i-th guest and seat of an intake item belong to its i-th ticket; a ticket with several PDFs gets one
/// download item per PDF, labelled by day when the event spans exactly that many days.
pub fn booking_orders(booking: &Booking, next_id: &mut dyn FnMut() -> Uuid) -> Vec<BookingOrder> {
    let BookingDetail::Event(event) = &booking.detail else { return Vec::new() };
    event
        .orders
        .iter()
        .enumerate()
        .map(|(position, order)| BookingOrder {
            id: BookingOrderId::from_uuid(next_id()),
            booking_id: booking.id,
            agency_id: booking.agency_id,
            position: position as u32,
            event: order.event.clone(),
            currency: event.currency,
            logistic_status: LogisticStatus::Processing,
            items: order.items.iter().flat_map(|item| tickets(item, &order.event, next_id)).collect(),
            created_at: booking.created_at,
        })
        .collect()
}

fn tickets(item: &EventItem, event: &Event, next_id: &mut dyn FnMut() -> Uuid) -> Vec<OrderItem> {
    (0..item.quantity as usize)
        .map(|i| OrderItem {
            id: OrderItemId::from_uuid(next_id()),
            ticket_name: item.ticket_name.clone(),
            category: item.category.clone(),
            unit_price: item.unit_price,
            distribution_channel: item.distribution_channel,
            status: TicketStatus::Open,
            pending_penalty: None,
            guest: item.guests.get(i).cloned(),
            seat: item.seats.get(i).cloned(),
            downloads: downloads(item.pdfs_per_ticket, event, next_id),
        })
        .collect()
}

fn downloads(count: u32, event: &Event, next_id: &mut dyn FnMut() -> Uuid) -> Vec<DownloadItem> {
    let days = event_days(event);
    let mut out: Vec<DownloadItem> = Vec::with_capacity(count as usize);
    for n in 0..count {
        let label = match (count, &days) {
            (1, _) => String::new(),
            (_, Some(days)) if days.len() == count as usize => {
                format!("Day {} of {count} — {}", n + 1, days[n as usize].format("%a %d %b %Y"))
            }
            _ => format!("Part {} of {count}", n + 1),
        };
        // Links must differ within a ticket; a clash among five letters is rare, so just draw again.
        let (id, link) = loop {
            let id = next_id();
            let link = DownloadLink::from_uuid(id);
            if !out.iter().any(|d| d.link == link) {
                break (id, link);
            }
        };
        out.push(DownloadItem {
            id: DownloadItemId::from_uuid(id),
            label,
            link,
            status: CouponStatus::Open,
            activated: None,
        });
    }
    out
}

/// The calendar days an event runs on, in its own time zone (None without an end).
/// The days a multi-day event spans, first to last (at most 32); `None` without an end.
pub fn event_days(event: &Event) -> Option<Vec<NaiveDate>> {
    let first = event.starts_at.date_naive();
    let last = event.ends_at?.date_naive();
    first.iter_days().take_while(|d| *d <= last).take(32).collect::<Vec<_>>().into()
}

/// What the listing endpoint filters by; every set field must match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderFilter {
    /// Any of these bookings (`booking_id=in:[…]` or a plain `booking_id=`).
    pub booking_ids: Option<Vec<BookingId>>,
    pub order_ids: Option<Vec<BookingOrderId>>,
    pub logistic_status: Option<LogisticStatus>,
    pub booking_code: Option<String>,
    pub event_id: Option<String>,
}

#[cfg(test)]
mod tests;

//! What a booking is found by besides its code and status: the names of the people on it and the day it
//! travels, kept by storage in columns of their own, and the orders a listing of bookings can take.
//!
//! Names are folded before they are stored and before they are searched for (lower case, accents and the
//! Vietnamese `đ` reduced to ASCII), so `nguyen` finds `NGUYỄN` and `Çelik` finds `CELIK`.

use chrono::NaiveDate;
use unicode_normalization::UnicodeNormalization;

use crate::booking::BookingDetail;
use crate::ids::BookingId;

/// `text` as names are compared: lower case, combining marks dropped after canonical decomposition, `đ` as
/// `d`, runs of white space as one space.
pub fn fold(text: &str) -> String {
    let folded: String = text
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| if matches!(c, 'Đ' | 'đ') { 'd' } else { c })
        .flat_map(char::to_lowercase)
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The folded names of everyone on a booking (a flight's passengers, an event's guests), each written given
/// name first and surname first (`van duc nguyen`, `nguyen van duc`, as tickets print it), one per line, so a
/// search for a whole name finds either way and never matches across two people.
pub fn names(detail: &BookingDetail) -> String {
    let people: Vec<(&str, &str)> = match detail {
        BookingDetail::Flight(f) => {
            f.passengers.iter().map(|p| (p.given_name.as_deref().unwrap_or_default(), p.surname.as_str())).collect()
        }
        BookingDetail::Event(e) => e
            .orders
            .iter()
            .flat_map(|o| o.items.iter().flat_map(|i| i.guests.iter()))
            .map(|g| (g.first_name.as_str(), g.last_name.as_str()))
            .collect(),
    };
    let lines: Vec<String> = people
        .iter()
        .flat_map(|(given, surname)| [fold(&format!("{given} {surname}")), fold(&format!("{surname} {given}"))])
        .collect();
    lines.join("\n")
}

/// The day a booking travels, in the local time of where it starts: a flight's first departure as booked (an
/// exchange does not move it), an event booking's earliest event start.
pub fn travel_date(detail: &BookingDetail) -> Option<NaiveDate> {
    match detail {
        BookingDetail::Flight(f) => f.first_departure().map(|t| t.date_naive()),
        BookingDetail::Event(e) => e.orders.iter().map(|o| o.event.starts_at.date_naive()).min(),
    }
}

/// A SQL `LIKE` pattern matching `text` anywhere, with `%`, `_` and `\` in it taken literally (`ESCAPE '\'`).
pub fn contains_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The order of a listing of bookings. Each pages by keyset on its own key, the booking id breaking ties.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BookingSort {
    /// Oldest first (ids are time-ordered).
    #[default]
    Created,
    /// Newest first.
    CreatedDesc,
    /// Soonest travel first.
    Travel,
    /// Latest travel first.
    TravelDesc,
}

impl BookingSort {
    pub const ALL: [BookingSort; 4] =
        [BookingSort::Created, BookingSort::CreatedDesc, BookingSort::Travel, BookingSort::TravelDesc];

    /// As written in a query: `created`, `-created`, `travel`, `-travel`.
    pub fn as_str(&self) -> &'static str {
        match self {
            BookingSort::Created => "created",
            BookingSort::CreatedDesc => "-created",
            BookingSort::Travel => "travel",
            BookingSort::TravelDesc => "-travel",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn descending(&self) -> bool {
        matches!(self, BookingSort::CreatedDesc | BookingSort::TravelDesc)
    }

    pub fn by_travel(&self) -> bool {
        matches!(self, BookingSort::Travel | BookingSort::TravelDesc)
    }
}

/// Where the previous page of a listing ended: its last booking, and that booking's travel date when the
/// listing is by travel date. Written as `<id>` or `<date>.<id>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookingCursor {
    pub travel_date: Option<NaiveDate>,
    pub id: BookingId,
}

impl BookingCursor {
    pub fn encode(&self) -> String {
        match self.travel_date {
            Some(date) => format!("{date}.{}", self.id),
            None => self.id.to_string(),
        }
    }

    /// A cursor this listing's `sort` wrote: a date exactly when the sort is by travel date.
    pub fn parse(text: &str, sort: BookingSort) -> Option<Self> {
        if sort.by_travel() {
            let (date, id) = text.split_once('.')?;
            let date = crate::intake::parse_date(date)?;
            Some(BookingCursor { travel_date: Some(date), id: id.parse().ok()? })
        } else {
            Some(BookingCursor { travel_date: None, id: text.parse().ok()? })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_to_plain_lower_case() {
        assert_eq!(fold("  NGUYỄN   Văn  ĐỨC "), "nguyen van duc");
        assert_eq!(fold("Ömer Çelik"), "omer celik");
        assert_eq!(fold("Ǆemal"), "ǆemal", "letters without an ASCII base stay, lower case");
        assert_eq!(contains_pattern(r"50%_a\b"), r"%50\%\_a\\b%");
    }

    #[test]
    fn sorts_and_cursors_round_trip() {
        for sort in BookingSort::ALL {
            assert_eq!(BookingSort::parse(sort.as_str()), Some(sort));
        }
        assert_eq!(BookingSort::parse("name"), None);
        let id: BookingId = "0191c3a6-e1f0-7a2b-8c44-d1e5f6a7b8c9".parse().expect("id");
        let date = NaiveDate::from_ymd_opt(2027, 7, 22);
        let by_travel = BookingCursor { travel_date: date, id };
        assert_eq!(by_travel.encode(), "2027-07-22.0191c3a6-e1f0-7a2b-8c44-d1e5f6a7b8c9");
        assert_eq!(BookingCursor::parse(&by_travel.encode(), BookingSort::TravelDesc), Some(by_travel));
        let by_id = BookingCursor { travel_date: None, id };
        assert_eq!(BookingCursor::parse(&by_id.encode(), BookingSort::Created), Some(by_id));
        // A cursor of one order is refused by another.
        assert_eq!(BookingCursor::parse(&by_id.encode(), BookingSort::Travel), None);
        assert_eq!(BookingCursor::parse(&by_travel.encode(), BookingSort::Created), None);
        assert_eq!(BookingCursor::parse("2027-7-22.x", BookingSort::Travel), None);
    }
}

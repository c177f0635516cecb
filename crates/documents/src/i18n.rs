//! The languages documents and e-mails are written in: Fluent messages (`locales/{lang}/*.ftl`, embedded in
//! the binary) and how dates, money and numbers are written in each language.
//!
//! Rendering is on the hot path of issuance, so the Fluent files are parsed once per process (a `OnceLock`)
//! and every message without arguments is formatted once then and served as a `&'static str`; only messages
//! with arguments are formatted per call. Placeables are not wrapped in Unicode isolation marks: the PDF font
//! has no glyphs for them and no text here is right-to-left.
//!
//! Adding a language: docs/i18n.md.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Weekday};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};

/// A language documents and e-mails can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// English, the default: documents as Tessera has always printed them.
    #[default]
    En,
    /// Vietnamese.
    Vi,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Vi];

    /// The BCP-47 tag, as in the PDF's `/Lang` entry and the Fluent bundle.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Vi => "vi",
        }
    }

    /// The Fluent sources of this language, one string per file.
    pub fn sources(self) -> &'static [&'static str] {
        match self {
            Lang::En => &[
                include_str!("../locales/en/documents.ftl"),
                include_str!("../locales/en/values.ftl"),
                include_str!("../locales/en/mail.ftl"),
            ],
            Lang::Vi => &[
                include_str!("../locales/vi/documents.ftl"),
                include_str!("../locales/vi/values.ftl"),
                include_str!("../locales/vi/mail.ftl"),
            ],
        }
    }
}

/// One language's bundle, and its messages without arguments already formatted.
struct Catalog {
    bundle: FluentBundle<FluentResource>,
    fixed: HashMap<String, String>,
}

fn catalogs() -> &'static [Catalog; 2] {
    static CATALOGS: OnceLock<[Catalog; 2]> = OnceLock::new();
    CATALOGS.get_or_init(|| Lang::ALL.map(catalog))
}

fn catalog(lang: Lang) -> Catalog {
    let id = lang.code().parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    bundle.set_use_isolating(false);
    for source in lang.sources() {
        // A syntax error keeps the entries that parsed; the locale tests fail on any error.
        let resource = FluentResource::try_new((*source).to_owned()).unwrap_or_else(|(partial, errors)| {
            tracing::error!(lang = lang.code(), ?errors, "Fluent file with syntax errors");
            partial
        });
        if let Err(errors) = bundle.add_resource(resource) {
            tracing::error!(lang = lang.code(), ?errors, "Fluent file redefines messages");
        }
    }
    let mut fixed = HashMap::new();
    for id in message_ids(lang) {
        let Some(pattern) = bundle.get_message(&id).and_then(|m| m.value()) else { continue };
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, None, &mut errors);
        // A message that needs arguments fails without them: it is formatted per call instead.
        if errors.is_empty() {
            fixed.insert(id, text.into_owned());
        }
    }
    Catalog { bundle, fixed }
}

/// Every message id the language's Fluent files define, in file order (a message starts a line with
/// `id =`; Fluent comments, terms and continuation lines do not).
pub fn message_ids(lang: Lang) -> Vec<String> {
    lang.sources()
        .iter()
        .flat_map(|source| source.lines())
        .filter_map(|line| {
            let (id, _) = line.split_once('=')?;
            let id = id.trim_end();
            let first = id.chars().next()?;
            (first.is_ascii_lowercase() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
                .then(|| id.to_owned())
        })
        .collect()
}

fn catalog_of(lang: Lang) -> &'static Catalog {
    &catalogs()[lang as usize]
}

/// A message without arguments. A message missing in `lang` falls back to English, then to its id (the
/// locale tests make sure neither happens).
pub fn t(lang: Lang, id: &str) -> &'static str {
    if let Some(text) = catalog_of(lang).fixed.get(id) {
        return text;
    }
    match lang {
        Lang::En => catalogs()[0].fixed.get_key_value(id).map_or("", |(key, _)| key.as_str()),
        _ => t(Lang::En, id),
    }
}

/// A message with arguments, every argument a string already formatted for the language (numbers and dates
/// go through the functions below, never through Fluent's own number formatting).
pub fn t_args(lang: Lang, id: &str, args: &[(&str, &str)]) -> String {
    let catalog = catalog_of(lang);
    let message = catalog.bundle.get_message(id).and_then(|m| m.value());
    let Some(pattern) = message else {
        return match lang {
            Lang::En => id.to_owned(),
            _ => t_args(Lang::En, id, args),
        };
    };
    let mut fluent_args = FluentArgs::with_capacity(args.len());
    for (name, value) in args {
        fluent_args.set(*name, *value);
    }
    let mut errors = Vec::new();
    let text = catalog.bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
    if !errors.is_empty() {
        tracing::warn!(lang = lang.code(), id, ?errors, "Fluent message formatted with errors");
    }
    text.into_owned()
}

/// Whether a message exists in the language (for the locale tests).
pub fn has_message(lang: Lang, id: &str) -> bool {
    catalog_of(lang).bundle.has_message(id)
}

/// A decimal number as the language writes it, from its plain text (`-41893.00`): English `-41,893.00`,
/// Vietnamese `-41.893,00`. Text that is not a plain decimal is returned unchanged.
pub fn decimal(lang: Lang, plain: &str) -> String {
    let (group, point) = match lang {
        Lang::En => (',', '.'),
        Lang::Vi => ('.', ','),
    };
    let (sign, digits) = plain.strip_prefix('-').map_or(("", plain), |d| ("-", d));
    let (int, frac) = digits.split_once('.').map_or((digits, None), |(i, f)| (i, Some(f)));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || frac.is_some_and(|f| !f.bytes().all(|b| b.is_ascii_digit()))
    {
        return plain.to_owned();
    }
    let mut out = String::with_capacity(plain.len() + int.len() / 3 + 1);
    out.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(group);
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push(point);
        out.push_str(f);
    }
    out
}

/// An amount with its currency where the amount is printed on its own: English `EUR 189.00` (code first,
/// as English tickets always printed it), Vietnamese `189,00 EUR`, `2.350.000 ₫`.
pub fn money(lang: Lang, plain: &str, currency: &str) -> String {
    with_currency(lang, &decimal(lang, plain), currency)
}

/// An amount already written for the language, with its currency in the language's place (see [`money`]).
pub fn with_currency(lang: Lang, amount: &str, currency: &str) -> String {
    match lang {
        Lang::En => format!("{currency} {amount}"),
        Lang::Vi if currency == "VND" => format!("{amount} ₫"),
        Lang::Vi => format!("{amount} {currency}"),
    }
}

/// A calendar date: English `14 Feb 2023`, Vietnamese `14/02/2023`.
pub fn date(lang: Lang, day: NaiveDate) -> String {
    match lang {
        Lang::En => day.format("%d %b %Y").to_string(),
        Lang::Vi => day.format("%d/%m/%Y").to_string(),
    }
}

/// A local date and time with the day of the week: English `Thu 22 Jul 2027 10:10`, Vietnamese
/// `T5, 22/07/2027 10:10`.
pub fn date_time(lang: Lang, t: DateTime<FixedOffset>) -> String {
    match lang {
        Lang::En => t.format("%a %d %b %Y %H:%M").to_string(),
        Lang::Vi => format!("{}, {}", vi_weekday(t.weekday()), t.format("%d/%m/%Y %H:%M")),
    }
}

/// A calendar date with the day of the week: English `Fri 27 Aug 2027`, Vietnamese `T6, 27/08/2027`.
pub fn date_weekday(lang: Lang, day: NaiveDate) -> String {
    match lang {
        Lang::En => day.format("%a %d %b %Y").to_string(),
        Lang::Vi => format!("{}, {}", vi_weekday(day.weekday()), day.format("%d/%m/%Y")),
    }
}

/// [`date_time`] followed by the UTC offset, for event times: `Tue 02 Mar 2027 20:00 (UTC+00:00)`.
pub fn date_time_offset(lang: Lang, t: DateTime<FixedOffset>) -> String {
    format!("{} ({})", date_time(lang, t), t.format("UTC%:z"))
}

/// The short Vietnamese day names: Thứ Hai is T2 … Thứ Bảy T7, Chủ Nhật CN.
fn vi_weekday(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "T2",
        Weekday::Tue => "T3",
        Weekday::Wed => "T4",
        Weekday::Thu => "T5",
        Weekday::Fri => "T6",
        Weekday::Sat => "T7",
        Weekday::Sun => "CN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_language() {
        assert_eq!(decimal(Lang::En, "-41893.00"), "-41,893.00");
        assert_eq!(decimal(Lang::Vi, "1234567.5"), "1.234.567,5");
        assert_eq!(decimal(Lang::Vi, "350"), "350");
        assert_eq!(decimal(Lang::Vi, "n/a"), "n/a");
        assert_eq!(money(Lang::Vi, "2350000", "VND"), "2.350.000 ₫");
        assert_eq!(money(Lang::En, "189.00", "EUR"), "EUR 189.00");
    }

    #[test]
    fn dates_follow_the_language() {
        let t = DateTime::parse_from_rfc3339("2026-11-29T10:10:00+07:00").unwrap();
        assert_eq!(date(Lang::Vi, t.date_naive()), "29/11/2026");
        assert_eq!(date(Lang::En, t.date_naive()), "29 Nov 2026");
        assert_eq!(date_time(Lang::Vi, t), "CN, 29/11/2026 10:10");
        assert_eq!(date_time_offset(Lang::En, t), "Sun 29 Nov 2026 10:10 (UTC+07:00)");
    }
}

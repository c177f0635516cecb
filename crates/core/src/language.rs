//! The language a booking's documents and e-mails are written in: chosen per booking at intake, else the
//! agency's default, else English.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A language Tessera writes documents in, parsed from a BCP-47 tag (`vi`, `vi-VN`, `en-GB`): the region and
/// any other subtags are accepted and dropped, as documents differ only by language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Language {
    #[default]
    En,
    Vi,
}

/// Why a language tag was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LanguageError {
    #[error("`{0}` is not a BCP-47 language tag (e.g. `en`, `vi`, `vi-VN`)")]
    Malformed(String),
    #[error("language `{0}` is not supported; supported languages: en, vi")]
    Unsupported(String),
}

impl Language {
    pub const ALL: [Language; 2] = [Language::En, Language::Vi];

    /// The tag as stored and written on the wire.
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Vi => "vi",
        }
    }
}

impl FromStr for Language {
    type Err = LanguageError;
    fn from_str(tag: &str) -> Result<Self, Self::Err> {
        let malformed = || LanguageError::Malformed(tag.chars().take(40).collect());
        let mut subtags = tag.split('-');
        let primary = subtags.next().unwrap_or_default();
        if !(2..=3).contains(&primary.len()) || !primary.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(malformed());
        }
        for subtag in subtags {
            if subtag.is_empty() || subtag.len() > 8 || !subtag.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(malformed());
            }
        }
        match primary.to_ascii_lowercase().as_str() {
            "en" => Ok(Language::En),
            "vi" => Ok(Language::Vi),
            _ => Err(LanguageError::Unsupported(tag.to_owned())),
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Language {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Language {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let tag = String::deserialize(d)?;
        tag.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_parse_to_their_language() {
        for (tag, language) in
            [("en", Language::En), ("EN-gb", Language::En), ("vi", Language::Vi), ("vi-VN", Language::Vi)]
        {
            assert_eq!(tag.parse::<Language>(), Ok(language), "{tag}");
        }
        assert_eq!("fr".parse::<Language>(), Err(LanguageError::Unsupported("fr".into())));
        for bad in ["", "v", "vietnamese", "vi_VN", "vi-", "en--US", "e1"] {
            assert!(matches!(bad.parse::<Language>(), Err(LanguageError::Malformed(_))), "{bad}");
        }
        assert_eq!(serde_json::to_string(&Language::Vi).unwrap(), "\"vi\"");
    }
}

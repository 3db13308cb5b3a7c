//! E.164 phone numbers, parsed with the `phonenumber` crate (libphonenumber's metadata).

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use crate::limits::PHONE_INPUT_BYTES_MAX;
use crate::pii::redact;

/// A validated phone number in E.164 form (`+15551234567`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber(String);

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PhoneError {
    #[error("phone number is empty")]
    Empty,
    #[error("phone number is longer than {PHONE_INPUT_BYTES_MAX} bytes")]
    TooLong,
    #[error("unknown default region {0:?}")]
    UnknownRegion(String),
    #[error("not a phone number")]
    Unparsable,
    #[error("may contain only digits, spaces, + - . ( ) and an extension marker")]
    BadCharacter,
    #[error("not a valid phone number for its region")]
    Invalid,
}

impl PhoneNumber {
    /// Parses user input. Numbers without a `+` are read in `default_region` (ISO 3166 alpha-2).
    pub fn parse(input: &str, default_region: &str) -> Result<PhoneNumber, PhoneError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(PhoneError::Empty);
        }
        if input.len() > PHONE_INPUT_BYTES_MAX {
            return Err(PhoneError::TooLong);
        }
        // Only what people type in phone fields reaches the parser.
        let allowed = |c: char| c.is_ascii_digit() || " +-.()/xX#*".contains(c);
        if !input.chars().all(allowed) {
            return Err(PhoneError::BadCharacter);
        }
        let region = phonenumber::country::Id::from_str(&default_region.to_ascii_uppercase())
            .map_err(|_| PhoneError::UnknownRegion(default_region.to_string()))?;
        let parsed = phonenumber::parse(Some(region), input).map_err(|_| PhoneError::Unparsable)?;
        if !phonenumber::is_valid(&parsed) {
            return Err(PhoneError::Invalid);
        }
        Ok(PhoneNumber(parsed.format().mode(phonenumber::Mode::E164).to_string()))
    }

    /// Accepts a string that is already E.164 (as read back from the store), without
    /// re-validating its region rules.
    pub fn from_e164_trusted(e164: &str) -> Result<PhoneNumber, PhoneError> {
        let digits = e164.strip_prefix('+').ok_or(PhoneError::Unparsable)?;
        if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PhoneError::Unparsable);
        }
        Ok(PhoneNumber(e164.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// ISO region of the number, if the metadata knows it (used for time zones).
    pub fn region(&self) -> Option<String> {
        let parsed = phonenumber::parse(None, &self.0).ok()?;
        parsed.country().id().map(|id| format!("{id:?}"))
    }
}

/// Debug redacts: phone numbers are personal data.
impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_national_and_international_forms() {
        let a = PhoneNumber::parse("(202) 555-0147", "US").unwrap();
        assert_eq!(a.as_str(), "+12025550147");
        let b = PhoneNumber::parse("+44 20 7946 0958", "US").unwrap();
        assert_eq!(b.as_str(), "+442079460958");
        let c = PhoneNumber::parse("8 (495) 123-45-67", "ru").unwrap();
        assert_eq!(c.as_str(), "+74951234567");
        assert_eq!(c.region().as_deref(), Some("RU"));
    }

    #[test]
    fn rejects_garbage_with_a_reason() {
        assert_eq!(PhoneNumber::parse("  ", "US"), Err(PhoneError::Empty));
        assert_eq!(PhoneNumber::parse("call me", "US"), Err(PhoneError::BadCharacter));
        assert_eq!(PhoneNumber::parse("+1 (202) ---", "US"), Err(PhoneError::Invalid));
        assert_eq!(PhoneNumber::parse("123", "US"), Err(PhoneError::Invalid));
        assert_eq!(
            PhoneNumber::parse("2025550147", "XX"),
            Err(PhoneError::UnknownRegion("XX".into()))
        );
        assert_eq!(PhoneNumber::parse(&"1".repeat(100), "US"), Err(PhoneError::TooLong));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]

        #[test]
        fn never_panics_on_any_input(input in "\\PC{0,80}", region in "[A-Za-z]{0,3}") {
            let _ = PhoneNumber::parse(&input, &region);
        }

        #[test]
        fn never_panics_on_phone_like_input(input in "[0-9 +()./xX#*-]{0,70}") {
            if let Ok(p) = PhoneNumber::parse(&input, "US") {
                proptest::prop_assert!(p.as_str().starts_with('+'));
                proptest::prop_assert_eq!(PhoneNumber::parse(p.as_str(), "DE"), Ok(p.clone()));
            }
        }
    }

    #[test]
    fn debug_redacts() {
        let a = PhoneNumber::parse("+12025550147", "US").unwrap();
        assert_eq!(format!("{a:?}"), "+1***47");
    }
}

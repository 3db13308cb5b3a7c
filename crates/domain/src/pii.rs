//! Personal data (phone numbers, names, chat text) goes through [`Pii`] so that logs redact it.

use std::fmt;

/// Wraps personal data. `Debug` and `Display` show a redacted form; `expose` gives the value to
/// code that must send or store it.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Pii<T>(T);

impl<T> Pii<T> {
    pub fn new(value: T) -> Self {
        Pii(value)
    }

    pub fn expose(&self) -> &T {
        &self.0
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: AsRef<str>> fmt::Debug for Pii<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(self.0.as_ref()))
    }
}

impl<T: AsRef<str>> fmt::Display for Pii<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(self.0.as_ref()))
    }
}

/// Keeps the first two and last two characters of long values, enough to tell records apart in
/// a log without revealing them.
pub fn redact(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 6 {
        return "***".to_string();
    }
    let head: String = chars[..2].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}***{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_never_show_the_value() {
        let p = Pii::new("+4915112345678".to_string());
        assert_eq!(format!("{p}"), "+4***78");
        assert_eq!(format!("{p:?}"), "+4***78");
        assert_eq!(p.expose(), "+4915112345678");
        assert_eq!(format!("{}", Pii::new("Ann")), "***");
    }
}

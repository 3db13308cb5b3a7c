//! Message templates for robocalls and SMS: text with `{field}` placeholders filled from a
//! contact's fields, and the ready templates the product ships.
//!
//! Syntax: `{name}` is replaced by the contact's field `name` (letters, digits, `_`, `-`, up to
//! [`FIELD_NAME_BYTES_MAX`] bytes); `{{` and `}}` stand for literal braces. A template is parsed
//! once ([`Template::parse`]) and checked against the columns a campaign's contacts have
//! ([`Template::check_fields`], which names every unknown placeholder), so a campaign cannot
//! start with a message that would fail on every contact. Rendering refuses an empty or absent
//! value rather than speak a sentence with a hole in it, and turns control characters in values
//! into spaces (the text goes to a speech synthesizer or an SMS).
//!
//! The ready templates ([`ready_templates`]) are data: id, English and Russian text, required
//! fields and the key-press menu a robocall offers with them.

use std::fmt::Write as _;

use crate::import::Contact;

/// Bytes of a template's text.
pub const TEMPLATE_BYTES_MAX: usize = 2_048;
/// Placeholders in one template.
pub const PLACEHOLDERS_MAX: usize = 32;
/// Bytes of a placeholder's name.
pub const FIELD_NAME_BYTES_MAX: usize = 64;
/// Bytes of a rendered message.
pub const RENDERED_BYTES_MAX: usize = 8_192;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("template is longer than {TEMPLATE_BYTES_MAX} bytes")]
    TooLong,
    #[error("template has more than {PLACEHOLDERS_MAX} placeholders")]
    TooManyPlaceholders,
    #[error("byte {at}: `{{` is not closed (write `{{{{` for a literal brace)")]
    Unclosed { at: usize },
    #[error("byte {at}: `}}` without `{{` (write `}}}}` for a literal brace)")]
    StrayClose { at: usize },
    #[error("byte {at}: {name:?} is not a field name (letters, digits, _ and -)")]
    BadName { at: usize, name: String },
    #[error("unknown placeholders: {}", .0.join(", "))]
    UnknownPlaceholders(Vec<String>),
    #[error("field {0:?} has no value for this contact")]
    MissingValue(String),
    #[error("rendered message is longer than {RENDERED_BYTES_MAX} bytes")]
    RenderedTooLong,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Text(String),
    Field(String),
}

/// A parsed template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    segments: Vec<Segment>,
}

impl Template {
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        if text.len() > TEMPLATE_BYTES_MAX {
            return Err(TemplateError::TooLong);
        }
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut fields = 0;
        let mut rest = text.char_indices().peekable();
        while let Some((at, c)) = rest.next() {
            match c {
                '{' if rest.peek().is_some_and(|(_, n)| *n == '{') => {
                    rest.next();
                    literal.push('{');
                }
                '}' if rest.peek().is_some_and(|(_, n)| *n == '}') => {
                    rest.next();
                    literal.push('}');
                }
                '}' => return Err(TemplateError::StrayClose { at }),
                '{' => {
                    let close = text[at..].find('}').ok_or(TemplateError::Unclosed { at })?;
                    let name = &text[at + 1..at + close];
                    let valid = !name.is_empty()
                        && name.len() <= FIELD_NAME_BYTES_MAX
                        && name
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                    if !valid {
                        return Err(TemplateError::BadName { at, name: name.to_string() });
                    }
                    fields += 1;
                    if fields > PLACEHOLDERS_MAX {
                        return Err(TemplateError::TooManyPlaceholders);
                    }
                    if !literal.is_empty() {
                        segments.push(Segment::Text(std::mem::take(&mut literal)));
                    }
                    segments.push(Segment::Field(name.to_string()));
                    // Skip the name and the closing brace (all ASCII, one char per byte).
                    while rest.next_if(|(i, _)| *i <= at + close).is_some() {}
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            segments.push(Segment::Text(literal));
        }
        Ok(Template { segments })
    }

    /// Placeholder names, each once, in order of first use.
    pub fn placeholders(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for s in &self.segments {
            if let Segment::Field(name) = s {
                if !out.contains(&name.as_str()) {
                    out.push(name);
                }
            }
        }
        out
    }

    /// Checks that every placeholder is one of `known` (case-insensitive); the error names
    /// every unknown one.
    pub fn check_fields(&self, known: &[&str]) -> Result<(), TemplateError> {
        let unknown: Vec<String> = self
            .placeholders()
            .into_iter()
            .filter(|p| !known.iter().any(|k| k.eq_ignore_ascii_case(p)))
            .map(str::to_string)
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(TemplateError::UnknownPlaceholders(unknown))
        }
    }

    /// Fills the placeholders from `lookup`; an absent or blank value is an error.
    pub fn render<'a>(
        &self,
        lookup: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<String, TemplateError> {
        let mut out = String::new();
        for s in &self.segments {
            match s {
                Segment::Text(t) => out.push_str(t),
                Segment::Field(name) => {
                    let value = lookup(name)
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .ok_or_else(|| TemplateError::MissingValue(name.clone()))?;
                    out.extend(value.chars().map(|c| if c.is_control() { ' ' } else { c }));
                }
            }
            if out.len() > RENDERED_BYTES_MAX {
                return Err(TemplateError::RenderedTooLong);
            }
        }
        Ok(out)
    }

    /// Renders with a contact's fields ([`Contact::field`]).
    pub fn render_contact(&self, contact: &Contact) -> Result<String, TemplateError> {
        self.render(|name| contact.field(name))
    }
}

/// The template back as text (placeholders and escaped braces as written).
impl std::fmt::Display for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for s in &self.segments {
            match s {
                Segment::Text(t) => {
                    for c in t.chars() {
                        match c {
                            '{' => f.write_str("{{")?,
                            '}' => f.write_str("}}")?,
                            c => f.write_char(c)?,
                        }
                    }
                }
                Segment::Field(name) => write!(f, "{{{name}}}")?,
            }
        }
        Ok(())
    }
}

/// What a key press in a robocall does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyAction {
    /// The contact confirms (the order, the number, the appointment).
    Confirm,
    /// Play the message again.
    Repeat,
    /// Connect to an agent (a task in the campaign's queue).
    Agent,
    /// Add the number to a do-not-call list and hang up.
    OptOut,
    /// The number does not belong to the person named (number validity check).
    WrongNumber,
    /// A survey score.
    Score(u8),
}

/// A ready template: its texts, the fields it needs and its key-press menu.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TemplateSpec {
    /// Stable id (`parcel_waiting`), used in the API and campaign settings.
    pub id: &'static str,
    pub title: &'static str,
    pub text_en: &'static str,
    pub text_ru: &'static str,
    /// Placeholders of both texts; the import must map a column to each.
    pub required_fields: &'static [&'static str],
    /// DTMF key and what it does.
    pub menu: &'static [(char, KeyAction)],
}

impl TemplateSpec {
    /// The text for a language tag (`ru`, `ru-RU` get Russian; anything else English).
    pub fn text(&self, language: Option<&str>) -> &'static str {
        let ru = language.is_some_and(|l| l.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("ru")));
        if ru {
            self.text_ru
        } else {
            self.text_en
        }
    }

    /// The action of a key press; `None` for a key not in the menu.
    pub fn action(&self, key: char) -> Option<KeyAction> {
        self.menu.iter().find(|(k, _)| *k == key).map(|(_, a)| *a)
    }

    /// Required fields not among `columns` (case-insensitive).
    pub fn missing_columns(&self, columns: &[&str]) -> Vec<&'static str> {
        self.required_fields
            .iter()
            .filter(|f| !columns.iter().any(|c| c.eq_ignore_ascii_case(f)))
            .copied()
            .collect()
    }
}

const STANDARD_MENU: &[(char, KeyAction)] = &[
    ('1', KeyAction::Confirm),
    ('2', KeyAction::Repeat),
    ('0', KeyAction::Agent),
    ('9', KeyAction::OptOut),
];

const CHECK_MENU: &[(char, KeyAction)] = &[
    ('1', KeyAction::Confirm),
    ('2', KeyAction::WrongNumber),
    ('3', KeyAction::Repeat),
    ('0', KeyAction::Agent),
    ('9', KeyAction::OptOut),
];

const SURVEY_MENU: &[(char, KeyAction)] = &[
    ('1', KeyAction::Score(1)),
    ('2', KeyAction::Score(2)),
    ('3', KeyAction::Score(3)),
    ('4', KeyAction::Score(4)),
    ('5', KeyAction::Score(5)),
    ('*', KeyAction::Repeat),
    ('0', KeyAction::Agent),
    ('9', KeyAction::OptOut),
];

const READY: &[TemplateSpec] = &[
    TemplateSpec {
        id: "order_confirmation",
        title: "Order confirmation",
        text_en: concat!(
            "Hello, {name}. This is {company}. Your order {order} will be delivered on ",
            "{delivery_date}. Press 1 to confirm, 2 to hear this again, 0 to speak to an ",
            "operator, or 9 to stop these calls."
        ),
        text_ru: concat!(
            "Здравствуйте, {name}. Это {company}. Ваш заказ {order} будет доставлен ",
            "{delivery_date}. Нажмите 1, чтобы подтвердить, 2, чтобы прослушать ещё раз, ",
            "0 для связи с оператором, 9, чтобы больше не получать такие звонки."
        ),
        required_fields: &["name", "company", "order", "delivery_date"],
        menu: STANDARD_MENU,
    },
    TemplateSpec {
        id: "parcel_arrived",
        title: "Parcel arrived",
        text_en: concat!(
            "Hello, {name}. Your parcel {parcel} has arrived at {office} and is ready for ",
            "collection. Press 1 to confirm, 2 to hear this again, 0 to speak to an operator, ",
            "or 9 to stop these calls."
        ),
        text_ru: concat!(
            "Здравствуйте, {name}. Ваше отправление {parcel} прибыло в отделение {office} и ",
            "готово к выдаче. Нажмите 1, чтобы подтвердить, 2, чтобы прослушать ещё раз, ",
            "0 для связи с оператором, 9, чтобы больше не получать такие звонки."
        ),
        required_fields: &["name", "parcel", "office"],
        menu: STANDARD_MENU,
    },
    TemplateSpec {
        id: "parcel_waiting",
        title: "Parcel waiting N days",
        text_en: concat!(
            "Hello, {name}. Your parcel {parcel} has been waiting at {office} for {days} days. ",
            "It will be returned to the sender after {return_date}. Press 1 to confirm, 2 to ",
            "hear this again, 0 to speak to an operator, or 9 to stop these calls."
        ),
        // "Дней в хранении: N" avoids agreeing the noun with the number.
        text_ru: concat!(
            "Здравствуйте, {name}. Ваше отправление {parcel} ждёт вас в отделении {office}. ",
            "Дней в хранении: {days}. После {return_date} оно будет возвращено отправителю. ",
            "Нажмите 1, чтобы подтвердить, 2, чтобы прослушать ещё раз, 0 для связи с ",
            "оператором, 9, чтобы больше не получать такие звонки."
        ),
        required_fields: &["name", "parcel", "office", "days", "return_date"],
        menu: STANDARD_MENU,
    },
    TemplateSpec {
        id: "pickup_reminder",
        title: "Pick-up reminder",
        text_en: concat!(
            "Hello, {name}. A reminder: your parcel {parcel} can be collected at {office} ",
            "until {pickup_until}. Press 1 to confirm, 2 to hear this again, 0 to speak to an ",
            "operator, or 9 to stop these calls."
        ),
        text_ru: concat!(
            "Здравствуйте, {name}. Напоминаем: получить отправление {parcel} в отделении ",
            "{office} можно до {pickup_until}. Нажмите 1, чтобы подтвердить, 2, чтобы ",
            "прослушать ещё раз, 0 для связи с оператором, 9, чтобы больше не получать такие ",
            "звонки."
        ),
        required_fields: &["name", "parcel", "office", "pickup_until"],
        menu: STANDARD_MENU,
    },
    TemplateSpec {
        id: "number_check",
        title: "Number validity check",
        text_en: concat!(
            "Hello. This is {company}, checking our records. If this is the number of {name}, ",
            "press 1. If it is not, press 2. Press 3 to hear this again, 0 to speak to an ",
            "operator, or 9 to stop these calls."
        ),
        text_ru: concat!(
            "Здравствуйте. Это {company}, мы проверяем контактные данные. Если это номер ",
            "{name}, нажмите 1. Если нет, нажмите 2. Нажмите 3, чтобы прослушать ещё раз, ",
            "0 для связи с оператором, 9, чтобы больше не получать такие звонки."
        ),
        required_fields: &["company", "name"],
        menu: CHECK_MENU,
    },
    TemplateSpec {
        id: "survey_ces",
        title: "Customer effort survey (1-5)",
        text_en: concat!(
            "Hello, {name}. Thank you for contacting {company}. How easy was it to get your ",
            "question resolved? Press a key from 1, very difficult, to 5, very easy. Press star ",
            "to hear this again, 0 to speak to an operator, or 9 to stop these calls."
        ),
        text_ru: concat!(
            "Здравствуйте, {name}. Спасибо, что обратились в {company}. Насколько легко было ",
            "решить ваш вопрос? Нажмите от 1, очень трудно, до 5, очень легко. Нажмите ",
            "звёздочку, чтобы прослушать ещё раз, 0 для связи с оператором, 9, чтобы больше не ",
            "получать такие звонки."
        ),
        required_fields: &["name", "company"],
        menu: SURVEY_MENU,
    },
];

/// The key menu of a campaign with its own message: 1 confirm, 2 repeat, 0 agent, 9 opt out.
pub fn standard_menu() -> &'static [(char, KeyAction)] {
    STANDARD_MENU
}

/// The templates the product ships, as data.
pub fn ready_templates() -> &'static [TemplateSpec] {
    READY
}

/// A ready template by id.
pub fn ready_template(id: &str) -> Option<&'static TemplateSpec> {
    READY.iter().find(|t| t.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[test]
    fn substitutes_fields_and_unescapes_braces() {
        let t = Template::parse("Hi {name}, {{literal}} }} {days}-day {name}").expect("valid");
        assert_eq!(t.placeholders(), ["name", "days"]);
        let values = HashMap::from([("name", "Ann\nLee"), ("days", "5")]);
        let out = t.render(|k| values.get(k).copied()).expect("renders");
        assert_eq!(out, "Hi Ann Lee, {literal} } 5-day Ann Lee");
        assert_eq!(t.to_string(), "Hi {name}, {{literal}} }} {days}-day {name}");
    }

    #[test]
    fn errors_name_the_problem() {
        let e = |s: &str| Template::parse(s).expect_err("invalid").to_string();
        assert_eq!(e("Hi {name"), "byte 3: `{` is not closed (write `{{` for a literal brace)");
        assert_eq!(e("Hi name}"), "byte 7: `}` without `{` (write `}}` for a literal brace)");
        assert_eq!(
            e("Hi {first name}"),
            "byte 3: \"first name\" is not a field name (letters, digits, _ and -)"
        );
        assert_eq!(e("{}"), "byte 0: \"\" is not a field name (letters, digits, _ and -)");
        assert_eq!(e(&"x".repeat(TEMPLATE_BYTES_MAX + 1)), "template is longer than 2048 bytes");
        assert_eq!(
            e(&"{a}".repeat(PLACEHOLDERS_MAX + 1)),
            "template has more than 32 placeholders"
        );
        let t = Template::parse("{name} {parcel} {office} {name}").expect("valid");
        assert_eq!(
            t.check_fields(&["NAME", "phone"]).expect_err("unknown").to_string(),
            "unknown placeholders: parcel, office"
        );
        assert_eq!(t.check_fields(&["name", "parcel", "Office"]), Ok(()));
        assert_eq!(
            t.render(|k| (k == "name").then_some("Ann")),
            Err(TemplateError::MissingValue("parcel".into()))
        );
        assert_eq!(t.render(|_| Some("  ")), Err(TemplateError::MissingValue("name".into())));
    }

    #[test]
    fn ready_templates_are_consistent() {
        let ids: Vec<&str> = ready_templates().iter().map(|t| t.id).collect();
        assert_eq!(
            ids,
            [
                "order_confirmation",
                "parcel_arrived",
                "parcel_waiting",
                "pickup_reminder",
                "number_check",
                "survey_ces"
            ]
        );
        for spec in ready_templates() {
            for text in [spec.text_en, spec.text_ru] {
                let t = Template::parse(text).expect("ready templates parse");
                let mut used = t.placeholders();
                used.sort_unstable();
                let mut required = spec.required_fields.to_vec();
                required.sort_unstable();
                assert_eq!(used, required, "{}: placeholders are the required fields", spec.id);
            }
            let keys: Vec<char> = spec.menu.iter().map(|(k, _)| *k).collect();
            let mut unique = keys.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(keys.len(), unique.len(), "{}: keys are unique", spec.id);
            assert_eq!(spec.action('9'), Some(KeyAction::OptOut), "{}: 9 opts out", spec.id);
            assert_eq!(spec.action('0'), Some(KeyAction::Agent), "{}: 0 is an agent", spec.id);
            assert!(spec.menu.iter().any(|(_, a)| *a == KeyAction::Repeat), "{}", spec.id);
        }
        let survey = ready_template("survey_ces").expect("exists");
        let scores: Vec<u8> = survey
            .menu
            .iter()
            .filter_map(|(_, a)| match a {
                KeyAction::Score(s) => Some(*s),
                _ => None,
            })
            .collect();
        assert_eq!(scores, [1, 2, 3, 4, 5]);
        assert_eq!(survey.action('4'), Some(KeyAction::Score(4)));
        assert_eq!(survey.action('7'), None);
        assert_eq!(
            ready_template("order_confirmation").map(|t| t.action('1')),
            Some(Some(KeyAction::Confirm))
        );
    }

    #[test]
    fn texts_by_language_and_missing_columns() {
        let spec = ready_template("parcel_waiting").expect("exists");
        assert!(spec.text(Some("ru-RU")).starts_with("Здравствуйте"));
        assert!(spec.text(Some("en")).starts_with("Hello"));
        assert!(spec.text(None).starts_with("Hello"));
        assert_eq!(spec.missing_columns(&["Name", "parcel", "office"]), ["days", "return_date"]);
        let t = Template::parse(spec.text_en).expect("valid");
        let values = HashMap::from([
            ("name", "Ann"),
            ("parcel", "RA123"),
            ("office", "Main St"),
            ("days", "5"),
            ("return_date", "1 June"),
        ]);
        let out = t.render(|k| values.get(k).copied()).expect("renders");
        assert!(out
            .starts_with("Hello, Ann. Your parcel RA123 has been waiting at Main St for 5 days."));
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_round_trips(text in "[a-z{} ]{0,40}|\\PC{0,40}") {
            if let Ok(t) = Template::parse(&text) {
                let again = Template::parse(&t.to_string()).expect("display parses");
                prop_assert_eq!(again, t);
            }
        }
    }
}

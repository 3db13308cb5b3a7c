//! Streaming CSV import of a campaign's contacts.
//!
//! The file is pushed in byte chunks of any size ([`Importer::feed`]) through `csv-core`'s push
//! parser and never held whole: one row at a time lives in a fixed buffer of [`ROW_BYTES_MAX`]
//! bytes and [`FIELDS_MAX`] fields; a longer row is skipped (its bytes still consumed) and
//! reported. After [`ROWS_MAX`] data rows the import stops and the summary says it was cut.
//!
//! The first row is the header. A [`ColumnMapping`] names the phone column and, optionally, the
//! name, time zone and language columns; every other named column is kept as an extra field for
//! templates. Each data row yields `Ok(Contact)` or a [`RowError`] naming the row (the header is
//! row 1), the column and the reason: bad phone (parsed in the campaign's default region),
//! missing required field, bad time zone or language, duplicate (same E.164 number earlier in
//! the file), on a DNC list, bad UTF-8, too long. The [`ImportSummary`] counts rows, imports
//! and rejections per reason, and says whether the import was cut short, so that nothing
//! half-imported goes unnoticed: the caller commits contacts only when `aborted` is `None`, or
//! reports exactly where it stopped.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use chrono_tz::Tz;
use csv_core::{ReadRecordResult, Reader};
use domain::{PhoneError, PhoneNumber};

use crate::dnc::{CampaignId, DncHit, DncRegistry};
use crate::window::{zone_for_number, ZoneSource};

/// Bytes of one row, unescaped.
pub const ROW_BYTES_MAX: usize = 64 * 1024;
/// Fields (columns) of one row.
pub const FIELDS_MAX: usize = 256;
/// Data rows in one file.
pub const ROWS_MAX: u64 = 1_000_000;
/// Bytes of a language tag (BCP 47).
pub const LANGUAGE_BYTES_MAX: usize = 35;

/// Which header names hold what. Names match case-insensitively, trimmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnMapping {
    pub phone: String,
    pub name: Option<String>,
    /// An IANA zone (`Europe/Moscow`); when absent or empty, the zone comes from the number.
    pub time_zone: Option<String>,
    /// A language tag (`en`, `ru-RU`) for text-to-speech.
    pub language: Option<String>,
    /// Columns (mapped or extra) that must be non-empty in every row.
    pub required: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportConfig {
    pub campaign: CampaignId,
    /// ISO 3166 alpha-2 region for numbers written without `+`.
    pub default_region: String,
    /// Data rows accepted from this file; at most [`ROWS_MAX`].
    pub rows_max: u64,
    pub mapping: ColumnMapping,
}

/// One imported contact.
#[derive(Clone, Debug, PartialEq)]
pub struct Contact {
    /// Row in the file; the header is row 1.
    pub row: u64,
    pub phone: PhoneNumber,
    pub name: Option<String>,
    pub tz: Tz,
    pub zone_source: ZoneSource,
    pub language: Option<String>,
    /// Every other named column, in header order (empty values kept as empty strings).
    pub fields: Vec<(String, String)>,
}

impl Contact {
    /// A field for templates: an extra column by its header name, else `name`, `phone`,
    /// `language`.
    pub fn field(&self, key: &str) -> Option<&str> {
        if let Some((_, v)) = self.fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
            return Some(v);
        }
        match key {
            "name" => self.name.as_deref(),
            "phone" => Some(self.phone.as_str()),
            "language" => self.language.as_deref(),
            _ => None,
        }
    }
}

/// The whole file cannot be imported (or not past some point).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the file is empty: no header row")]
    Empty,
    #[error("header row: {0}")]
    Header(&'static str),
    #[error("header row: column {0:?} appears twice")]
    DuplicateColumn(String),
    #[error("mapping.{field}: column {column:?} is not in the header")]
    MissingColumn { field: &'static str, column: String },
    #[error("more rows than allowed: stopped after row {last_row}")]
    TooManyRows { last_row: u64 },
}

/// Why a row was not imported.
#[derive(Debug, PartialEq, Eq)]
pub enum RowErrorReason {
    BadPhone(PhoneError),
    Duplicate {
        first_row: u64,
    },
    OnDnc(DncHit),
    Missing,
    BadTimeZone,
    /// No time zone column value and the number's country is not in the zone table.
    UnknownTimeZone,
    BadLanguage,
    BadEncoding,
    RowTooLong,
    TooManyFields,
    /// A non-empty value in a column the header does not name.
    UnexpectedField,
}

/// The kind of a [`RowErrorReason`], for counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RowErrorKind {
    BadPhone,
    Duplicate,
    OnDnc,
    Missing,
    BadTimeZone,
    UnknownTimeZone,
    BadLanguage,
    BadEncoding,
    RowTooLong,
    TooManyFields,
    UnexpectedField,
}

impl RowErrorReason {
    pub fn kind(&self) -> RowErrorKind {
        match self {
            RowErrorReason::BadPhone(_) => RowErrorKind::BadPhone,
            RowErrorReason::Duplicate { .. } => RowErrorKind::Duplicate,
            RowErrorReason::OnDnc(_) => RowErrorKind::OnDnc,
            RowErrorReason::Missing => RowErrorKind::Missing,
            RowErrorReason::BadTimeZone => RowErrorKind::BadTimeZone,
            RowErrorReason::UnknownTimeZone => RowErrorKind::UnknownTimeZone,
            RowErrorReason::BadLanguage => RowErrorKind::BadLanguage,
            RowErrorReason::BadEncoding => RowErrorKind::BadEncoding,
            RowErrorReason::RowTooLong => RowErrorKind::RowTooLong,
            RowErrorReason::TooManyFields => RowErrorKind::TooManyFields,
            RowErrorReason::UnexpectedField => RowErrorKind::UnexpectedField,
        }
    }
}

impl fmt::Display for RowErrorReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowErrorReason::BadPhone(e) => write!(f, "bad phone number: {e}"),
            RowErrorReason::Duplicate { first_row } => {
                write!(f, "duplicate of the number in row {first_row}")
            }
            RowErrorReason::OnDnc(DncHit::Global) => f.write_str("on the global do-not-call list"),
            RowErrorReason::OnDnc(DncHit::Campaign(_)) => {
                f.write_str("on the campaign's do-not-call list")
            }
            RowErrorReason::Missing => f.write_str("required value is missing"),
            RowErrorReason::BadTimeZone => f.write_str("not an IANA time zone"),
            RowErrorReason::UnknownTimeZone => {
                f.write_str("no time zone given and none known for the number's country")
            }
            RowErrorReason::BadLanguage => f.write_str("not a language tag"),
            RowErrorReason::BadEncoding => f.write_str("not valid UTF-8"),
            RowErrorReason::RowTooLong => write!(f, "row longer than {ROW_BYTES_MAX} bytes"),
            RowErrorReason::TooManyFields => write!(f, "more than {FIELDS_MAX} fields"),
            RowErrorReason::UnexpectedField => f.write_str("value in a column with no header"),
        }
    }
}

/// A row that was not imported: where and why.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("row {row}{}: {reason}", in_column(column.as_deref()))]
pub struct RowError {
    pub row: u64,
    /// The header name of the offending column, when one is to blame.
    pub column: Option<String>,
    pub reason: RowErrorReason,
}

fn in_column(column: Option<&str>) -> String {
    column.map(|c| format!(", column {c:?}")).unwrap_or_default()
}

pub type RowResult = Result<Contact, RowError>;

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Data rows read (blank lines are not rows).
    pub rows: u64,
    pub imported: u64,
    pub rejected: u64,
    pub by_reason: BTreeMap<RowErrorKind, u64>,
    /// Set when the import did not run to the end of the file.
    pub aborted: Option<ImportError>,
}

#[derive(Clone, Debug)]
struct Columns {
    names: Vec<String>,
    phone: usize,
    name: Option<usize>,
    time_zone: Option<usize>,
    language: Option<usize>,
    required: Vec<usize>,
}

/// The push parser. Feed chunks, then call [`Importer::finish`].
pub struct Importer {
    config: ImportConfig,
    reader: Reader,
    buf: Vec<u8>,
    buf_len: usize,
    ends: Vec<usize>,
    ends_len: usize,
    /// Set while skipping the rest of a row that did not fit.
    overflow: Option<RowErrorReason>,
    /// Records seen, header included.
    record: u64,
    columns: Option<Columns>,
    seen: HashMap<String, u64>,
    summary: ImportSummary,
}

impl Importer {
    pub fn new(config: ImportConfig) -> Importer {
        Importer {
            config,
            reader: Reader::new(),
            buf: vec![0; ROW_BYTES_MAX],
            buf_len: 0,
            ends: vec![0; FIELDS_MAX],
            ends_len: 0,
            overflow: None,
            record: 0,
            columns: None,
            seen: HashMap::new(),
            summary: ImportSummary::default(),
        }
    }

    /// The summary so far.
    /// The header's column names (trimmed), once the header row has been read: check a
    /// template's placeholders against them before importing further.
    pub fn columns(&self) -> Option<&[String]> {
        self.columns.as_ref().map(|c| c.names.as_slice())
    }

    pub fn summary(&self) -> &ImportSummary {
        &self.summary
    }

    /// Parses `chunk` (any size, any split), appending one result per completed data row.
    pub fn feed(&mut self, chunk: &[u8], dnc: &DncRegistry, out: &mut Vec<RowResult>) {
        // An empty input means end of file to csv-core; only `finish` says that.
        if !chunk.is_empty() {
            self.run(chunk, dnc, out);
        }
    }

    /// End of file: completes the last row and returns the summary.
    pub fn finish(mut self, dnc: &DncRegistry, out: &mut Vec<RowResult>) -> ImportSummary {
        self.run(&[], dnc, out);
        if self.columns.is_none() && self.summary.aborted.is_none() {
            self.summary.aborted = Some(ImportError::Empty);
        }
        self.summary
    }

    fn run(&mut self, mut input: &[u8], dnc: &DncRegistry, out: &mut Vec<RowResult>) {
        loop {
            if self.summary.aborted.is_some() {
                return;
            }
            let (result, nin) = self.read(input);
            input = &input[nin..];
            match result {
                ReadRecordResult::InputEmpty | ReadRecordResult::End => return,
                ReadRecordResult::OutputFull => {
                    self.overflow.get_or_insert(RowErrorReason::RowTooLong);
                }
                ReadRecordResult::OutputEndsFull => {
                    self.overflow.get_or_insert(RowErrorReason::TooManyFields);
                }
                ReadRecordResult::Record => self.complete_record(dnc, out),
            }
        }
    }

    fn read(&mut self, input: &[u8]) -> (ReadRecordResult, usize) {
        if self.overflow.is_some() {
            // Skipping: consume the row's bytes into scratch space that is thrown away.
            let mut scratch = [0u8; 1024];
            let mut ends = [0usize; 64];
            let (r, nin, _, _) = self.reader.read_record(input, &mut scratch, &mut ends);
            return (r, nin);
        }
        let (r, nin, nout, nend) = self.reader.read_record(
            input,
            &mut self.buf[self.buf_len..],
            &mut self.ends[self.ends_len..],
        );
        self.buf_len += nout;
        self.ends_len += nend;
        (r, nin)
    }

    fn complete_record(&mut self, dnc: &DncRegistry, out: &mut Vec<RowResult>) {
        self.record += 1;
        let overflow = self.overflow.take();
        let (buf_len, ends_len) = (self.buf_len, self.ends_len);
        self.buf_len = 0;
        self.ends_len = 0;
        let mut fields: Vec<&[u8]> = Vec::with_capacity(ends_len);
        let mut start = 0;
        for &end in &self.ends[..ends_len] {
            let end = end.min(buf_len);
            fields.push(self.buf.get(start..end).unwrap_or_default());
            start = end;
        }
        let Some(columns) = &self.columns else {
            match header(&fields, overflow, &self.config.mapping) {
                Ok(c) => self.columns = Some(c),
                Err(e) => self.summary.aborted = Some(e),
            }
            return;
        };
        if overflow.is_none() && fields.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            return; // A blank line is not a row.
        }
        if self.summary.rows >= self.config.rows_max.min(ROWS_MAX) {
            self.summary.aborted = Some(ImportError::TooManyRows { last_row: self.record - 1 });
            return;
        }
        self.summary.rows += 1;
        let row = self.record;
        let result = match overflow {
            Some(reason) => Err(RowError { row, column: None, reason }),
            None => contact(row, &fields, columns, &self.config, dnc, &self.seen),
        };
        match &result {
            Ok(c) => {
                self.seen.insert(c.phone.as_str().to_string(), row);
                self.summary.imported += 1;
            }
            Err(e) => {
                self.summary.rejected += 1;
                *self.summary.by_reason.entry(e.reason.kind()).or_default() += 1;
            }
        }
        out.push(result);
    }
}

fn header(
    fields: &[&[u8]],
    overflow: Option<RowErrorReason>,
    mapping: &ColumnMapping,
) -> Result<Columns, ImportError> {
    match overflow {
        Some(RowErrorReason::TooManyFields) => {
            return Err(ImportError::Header("more columns than allowed (256)"))
        }
        Some(_) => return Err(ImportError::Header("longer than allowed (64 KiB)")),
        None => {}
    }
    // UTF-16 text (Excel's "Unicode text") is valid UTF-8 byte by byte, NULs and all.
    let utf16 =
        fields.first().is_some_and(|f| f.starts_with(b"\xFF\xFE") || f.starts_with(b"\xFE\xFF"));
    if utf16 || fields.iter().any(|f| f.contains(&0)) {
        return Err(ImportError::Header("looks like UTF-16: save the file as UTF-8 CSV"));
    }
    let mut names = Vec::with_capacity(fields.len());
    for (i, f) in fields.iter().enumerate() {
        let f = if i == 0 { f.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f) } else { f };
        let name = std::str::from_utf8(f).map_err(|_| ImportError::Header("not valid UTF-8"))?;
        let name = name.trim().to_string();
        if !name.is_empty() && names.iter().any(|n: &String| n.eq_ignore_ascii_case(&name)) {
            return Err(ImportError::DuplicateColumn(name));
        }
        names.push(name);
    }
    let find = |field: &'static str, column: &str| {
        let column = column.trim();
        names
            .iter()
            .position(|n| !n.is_empty() && n.eq_ignore_ascii_case(column))
            .ok_or(ImportError::MissingColumn { field, column: column.to_string() })
    };
    let optional =
        |field, column: &Option<String>| column.as_deref().map(|c| find(field, c)).transpose();
    Ok(Columns {
        phone: find("phone", &mapping.phone)?,
        name: optional("name", &mapping.name)?,
        time_zone: optional("time_zone", &mapping.time_zone)?,
        language: optional("language", &mapping.language)?,
        required: mapping.required.iter().map(|c| find("required", c)).collect::<Result<_, _>>()?,
        names,
    })
}

fn contact(
    row: u64,
    fields: &[&[u8]],
    columns: &Columns,
    config: &ImportConfig,
    dnc: &DncRegistry,
    seen: &HashMap<String, u64>,
) -> RowResult {
    let err = |column: Option<usize>, reason| RowError {
        row,
        column: column.and_then(|c| columns.names.get(c)).cloned(),
        reason,
    };
    let mut values: Vec<&str> = Vec::with_capacity(fields.len());
    for (i, f) in fields.iter().enumerate() {
        let v = std::str::from_utf8(f).map_err(|_| err(Some(i), RowErrorReason::BadEncoding))?;
        let v = v.trim();
        let named = columns.names.get(i).is_some_and(|n| !n.is_empty());
        if !named && !v.is_empty() {
            return Err(err(None, RowErrorReason::UnexpectedField));
        }
        values.push(v);
    }
    let value = |c: usize| values.get(c).copied().unwrap_or("");
    let optional = |c: Option<usize>| c.map(value).filter(|v| !v.is_empty());
    let raw_phone = value(columns.phone);
    if raw_phone.is_empty() {
        return Err(err(Some(columns.phone), RowErrorReason::Missing));
    }
    let phone = PhoneNumber::parse(raw_phone, &config.default_region)
        .map_err(|e| err(Some(columns.phone), RowErrorReason::BadPhone(e)))?;
    if let Some(&c) = columns.required.iter().find(|&&c| value(c).is_empty()) {
        return Err(err(Some(c), RowErrorReason::Missing));
    }
    let (tz, zone_source) = match optional(columns.time_zone) {
        Some(name) => {
            let tz = name
                .parse::<Tz>()
                .map_err(|_| err(columns.time_zone, RowErrorReason::BadTimeZone))?;
            (tz, ZoneSource::Column)
        }
        None => zone_for_number(&phone).ok_or_else(|| {
            err(columns.time_zone.or(Some(columns.phone)), RowErrorReason::UnknownTimeZone)
        })?,
    };
    let language = optional(columns.language);
    if let Some(lang) = language {
        if !is_language_tag(lang) {
            return Err(err(columns.language, RowErrorReason::BadLanguage));
        }
    }
    if let Some(hit) = dnc.check(config.campaign, &phone) {
        return Err(err(Some(columns.phone), RowErrorReason::OnDnc(hit)));
    }
    if let Some(&first_row) = seen.get(phone.as_str()) {
        return Err(err(Some(columns.phone), RowErrorReason::Duplicate { first_row }));
    }
    let mapped = [Some(columns.phone), columns.name, columns.time_zone, columns.language];
    let fields = columns
        .names
        .iter()
        .enumerate()
        .filter(|(i, n)| !n.is_empty() && !mapped.contains(&Some(*i)))
        .map(|(i, n)| (n.clone(), value(i).to_string()))
        .collect();
    Ok(Contact {
        row,
        phone,
        name: optional(columns.name).map(str::to_string),
        tz,
        zone_source,
        language: language.map(str::to_string),
        fields,
    })
}

/// A loose BCP 47 check: `en`, `ru-RU`, `zh-Hant-TW`.
fn is_language_tag(s: &str) -> bool {
    let mut parts = s.split(['-', '_']);
    let primary_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()));
    s.len() <= LANGUAGE_BYTES_MAX
        && primary_ok
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dnc::DncList;
    use proptest::prelude::*;

    fn config() -> ImportConfig {
        ImportConfig {
            campaign: CampaignId(7),
            default_region: "US".into(),
            rows_max: ROWS_MAX,
            mapping: ColumnMapping {
                phone: "Phone".into(),
                name: Some("name".into()),
                time_zone: Some("tz".into()),
                language: Some("lang".into()),
                required: vec!["order".into()],
            },
        }
    }

    fn minimal() -> ImportConfig {
        let mut c = config();
        c.mapping = ColumnMapping {
            phone: "phone".into(),
            name: None,
            time_zone: None,
            language: None,
            required: vec![],
        };
        c
    }

    fn import_chunks(
        config: ImportConfig,
        chunks: &[&[u8]],
        dnc: &DncRegistry,
    ) -> (Vec<RowResult>, ImportSummary) {
        let mut imp = Importer::new(config);
        let mut out = Vec::new();
        for c in chunks {
            imp.feed(c, dnc, &mut out);
        }
        let summary = imp.finish(dnc, &mut out);
        (out, summary)
    }

    fn import(csv: &str, dnc: &DncRegistry) -> (Vec<RowResult>, ImportSummary) {
        import_chunks(config(), &[csv.as_bytes()], dnc)
    }

    fn report(results: &[RowResult]) -> String {
        results
            .iter()
            .map(|r| match r {
                Ok(c) => {
                    let fields: Vec<String> =
                        c.fields.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
                    format!(
                        "row {}: ok {} {:?} {} ({:?}) {} {}",
                        c.row,
                        c.phone.as_str(),
                        c.name.as_deref().unwrap_or("-"),
                        c.tz,
                        c.zone_source,
                        c.language.as_deref().unwrap_or("-"),
                        fields.join(" ")
                    )
                }
                Err(e) => e.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_file_with_every_kind_of_row() {
        let mut dnc = DncRegistry::new();
        let blocked = PhoneNumber::parse("+1 202 555 0199", "US").expect("valid");
        dnc.add(DncList::Campaign(CampaignId(7)), &blocked).expect("room");
        let csv = "\u{feff}name,phone,TZ,lang,order,days\r\n\
            Ann,(202) 555-0147,,en,A-1,3\r\n\
            \"Lee, Bo\",+7 495 123 45 67,Asia/Novosibirsk,ru,A-2,5\n\
            Dup,202-555-0147,,,A-3,1\n\
            Bad,12345,,,A-4,1\n\
            NoOrder,+44 20 7946 0958,,,,1\n\
            Zone,+1 415 555 0100,Mars/Olympus,,A-6,1\n\
            Dnc,+1 202 555 0199,,,A-7,1\n\
            \n\
            Lang,+1 415 555 0101,,english!,A-8,1\n\
            Extra,+1 415 555 0102,,,A-9,1,surprise\n\
            ,,,,,\n\
            Missing phone,,,,A-10,1";
        let (results, summary) = import(csv, &dnc);
        let expected = [
            r#"row 2: ok +12025550147 "Ann" America/New_York (Country) en order="A-1" days="3""#,
            r#"row 3: ok +74951234567 "Lee, Bo" Asia/Novosibirsk (Column) ru order="A-2" days="5""#,
            r#"row 4, column "phone": duplicate of the number in row 2"#,
            r#"row 5, column "phone": bad phone number: not a valid phone number for its region"#,
            r#"row 6, column "order": required value is missing"#,
            r#"row 7, column "TZ": not an IANA time zone"#,
            r#"row 8, column "phone": on the campaign's do-not-call list"#,
            r#"row 9, column "lang": not a language tag"#,
            r#"row 10: value in a column with no header"#,
            r#"row 12, column "phone": required value is missing"#,
        ];
        assert_eq!(report(&results), expected.join("\n"));
        assert_eq!((summary.rows, summary.imported, summary.rejected), (10, 2, 8));
        assert_eq!(summary.by_reason.get(&RowErrorKind::Missing), Some(&2));
        assert_eq!(summary.aborted, None);
    }

    #[test]
    fn whole_file_problems_abort_with_a_reason() {
        let dnc = DncRegistry::new();
        assert_eq!(import("", &dnc).1.aborted, Some(ImportError::Empty));
        let missing = import("name,order\nAnn,1\n", &dnc).1.aborted;
        assert_eq!(
            missing,
            Some(ImportError::MissingColumn { field: "phone", column: "Phone".into() })
        );
        assert_eq!(
            missing.map(|e| e.to_string()).as_deref(),
            Some("mapping.phone: column \"Phone\" is not in the header")
        );
        let dup = import("phone,Phone\n1,2\n", &dnc).1.aborted;
        assert_eq!(dup, Some(ImportError::DuplicateColumn("Phone".into())));
        let bad = import_chunks(config(), &[b"ph\xFFone,order\n"], &dnc).1.aborted;
        assert_eq!(bad, Some(ImportError::Header("not valid UTF-8")));
    }

    #[test]
    fn wrong_encodings_are_named() {
        let dnc = DncRegistry::new();
        let utf16: Vec<u8> =
            "\u{feff}phone,order\n".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let aborted = import_chunks(config(), &[&utf16], &dnc).1.aborted;
        assert_eq!(
            aborted,
            Some(ImportError::Header("looks like UTF-16: save the file as UTF-8 CSV"))
        );
        // Windows-1251 "Иван" in the name column: the header is ASCII, the row is not UTF-8.
        let cp1251: &[u8] = b"phone,name,order\n+12025550147,\xC8\xE2\xE0\xED,A\n";
        let (results, summary) = import_chunks(minimal(), &[cp1251], &dnc);
        assert_eq!(report(&results), r#"row 2, column "name": not valid UTF-8"#);
        assert_eq!(summary.by_reason.get(&RowErrorKind::BadEncoding), Some(&1));
    }

    #[test]
    fn the_row_limit_stops_the_import_and_says_so() {
        let dnc = DncRegistry::new();
        let mut c = minimal();
        c.rows_max = 2;
        let csv = "phone,order\n+12025550147,A\n+12025550148,B\n+12025550149,C\n+12025550150,D\n";
        let mut imp = Importer::new(c);
        let mut out = Vec::new();
        imp.feed(csv.as_bytes(), &dnc, &mut out);
        assert_eq!(imp.columns(), Some(&["phone".to_string(), "order".to_string()][..]));
        let summary = imp.finish(&dnc, &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(summary.imported, 2);
        assert_eq!(summary.aborted, Some(ImportError::TooManyRows { last_row: 3 }));
        assert_eq!(
            summary.aborted.map(|e| e.to_string()).as_deref(),
            Some("more rows than allowed: stopped after row 3")
        );
    }

    #[test]
    fn huge_rows_and_wide_rows_are_reported_and_skipped() {
        let dnc = DncRegistry::new();
        let mut csv = String::from("phone,name,tz,lang,order\n");
        csv.push_str(&format!("+12025550147,{},,,A\n", "x".repeat(ROW_BYTES_MAX + 10)));
        csv.push_str(&format!("+12025550148{}\n", ",".repeat(FIELDS_MAX + 5)));
        csv.push_str("+12025550149,ok,,,B\n");
        let (results, summary) = import(&csv, &dnc);
        assert_eq!(
            report(&results),
            [
                "row 2: row longer than 65536 bytes",
                "row 3: more than 256 fields",
                r#"row 4: ok +12025550149 "ok" America/New_York (Country) - order="B""#,
            ]
            .join("\n")
        );
        assert_eq!(summary.imported, 1);
    }

    #[test]
    fn bad_encoding_names_the_column_and_quotes_work() {
        let dnc = DncRegistry::new();
        let csv: &[u8] = b"phone,name,tz,lang,order\n+12025550147,Ann\xFF,,,A\n\
            \"+1 202 555 0148\",\"a\nb \"\"q\"\"\",,,B\n";
        let (results, _) = import_chunks(config(), &[csv], &dnc);
        assert_eq!(
            report(&results),
            [
                r#"row 2, column "name": not valid UTF-8"#,
                r#"row 3: ok +12025550148 "a\nb \"q\"" America/New_York (Country) - order="B""#,
            ]
            .join("\n")
        );
    }

    fn csv_bytes() -> impl Strategy<Value = Vec<u8>> {
        let cell = prop::sample::select(vec![
            "+12025550147",
            "(202) 555-0148",
            "202 555 0149",
            "+74951234567",
            "12",
            "",
            "Ann",
            "\"a,b\"",
            "\"x\"\"y\"",
            "Europe/Moscow",
            "Nowhere/Zone",
            "en",
            "ru-RU",
            "\"\n\"",
            "A-1",
            "\u{feff}",
            "\"unterminated",
        ]);
        let row = prop::collection::vec(cell, 0..7).prop_map(|cells| cells.join(","));
        let eol = prop::sample::select(vec!["\n", "\r\n", "\r"]);
        prop::collection::vec((row, eol), 0..12).prop_map(|rows| {
            let mut s = String::from("phone,name,tz,lang,order\n");
            for (r, e) in rows {
                s.push_str(&r);
                s.push_str(e);
            }
            s.into_bytes()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn any_chunk_split_gives_the_same_result(
            csv in csv_bytes(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            let dnc = DncRegistry::new();
            let whole = import_chunks(config(), &[&csv], &dnc);
            let mut at: Vec<usize> = cuts.iter().map(|i| i.index(csv.len() + 1)).collect();
            at.push(0);
            at.push(csv.len());
            at.sort_unstable();
            let chunks: Vec<&[u8]> = at.windows(2).map(|w| &csv[w[0]..w[1]]).collect();
            let split = import_chunks(config(), &chunks, &dnc);
            prop_assert_eq!(&whole, &split);
            let bytes: Vec<&[u8]> = csv.chunks(1).collect();
            prop_assert_eq!(&whole, &import_chunks(config(), &bytes, &dnc));
            let s = &whole.1;
            prop_assert_eq!(s.rows, s.imported + s.rejected);
            prop_assert_eq!(s.rejected, s.by_reason.values().sum::<u64>());
            prop_assert_eq!(whole.0.len() as u64, s.rows);
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            bytes in prop::collection::vec(any::<u8>(), 0..2_000),
            chunk in 1usize..64,
        ) {
            let dnc = DncRegistry::new();
            let mut input = b"phone,name,tz,lang,order\n".to_vec();
            input.extend_from_slice(&bytes);
            let chunks: Vec<&[u8]> = input.chunks(chunk).collect();
            let (results, summary) = import_chunks(config(), &chunks, &dnc);
            prop_assert_eq!(results.len() as u64, summary.rows);
            let _ = import_chunks(config(), &[&bytes], &dnc);
        }
    }
}

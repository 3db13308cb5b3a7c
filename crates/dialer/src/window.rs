//! Calling windows: when a contact may be dialed, in the contact's LOCAL time.
//!
//! The law speaks in the called party's wall-clock time (US TCPA: 08:00-21:00 local; most
//! campaigns are stricter), so a window is a weekly schedule of local time ranges plus local
//! holiday dates, evaluated with the contact's IANA zone (`chrono-tz`). Pure: `now` is an
//! argument.
//!
//! Daylight saving time:
//! - [`CallingWindow::is_open`] reads the wall clock at `now`: open when the local time falls in
//!   one of the local date's ranges and the date is not a holiday. In the repeated hour of a
//!   fall-back both instances of a listed local time are open.
//! - [`CallingWindow::next_open`] returns the earliest instant at or after `now` at which
//!   `is_open` holds (to the minute: ranges start on whole minutes). A range whose start falls in
//!   a spring-forward gap opens at the first valid instant after the gap, if that is still inside
//!   the range (a range wholly inside the gap does not open that day). A start in a fall-back
//!   overlap takes the earlier instance (the later one when the earlier is already past).
//! - The search is bounded: [`SEARCH_DAYS_MAX`] local days ahead, then `None`.
//!
//! Time zone of a contact: a column of the import names it, or [`zone_for_number`] guesses it
//! from the number's region, with a small documented prefix table for multi-zone countries.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Timelike,
};
use chrono_tz::Tz;
use domain::{PhoneNumber, Timestamp};

/// Minutes in a day: a range may end at 24:00.
pub const DAY_MINUTES: u16 = 1_440;
/// Ranges allowed on one weekday.
pub const RANGES_PER_DAY_MAX: usize = 8;
/// Holiday dates one window may list.
pub const HOLIDAYS_MAX: usize = 1_000;
/// Local days `next_open` looks ahead before giving up (a year of holidays and then some).
pub const SEARCH_DAYS_MAX: u32 = 400;
/// Longest spring-forward gap looked through, in minutes (Samoa skipped a whole day in 2011).
const GAP_MINUTES_MAX: i64 = 26 * 60;

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A `[start, end)` range of local wall-clock time, in minutes after local midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalRange {
    pub start_min: u16,
    pub end_min: u16,
}

impl LocalRange {
    /// `start` to `end` as hours and minutes; `(24, 0)` is the end of the day.
    pub const fn hm(start_h: u16, start_m: u16, end_h: u16, end_m: u16) -> LocalRange {
        LocalRange { start_min: start_h * 60 + start_m, end_min: end_h * 60 + end_m }
    }

    fn contains(&self, minute_of_day: u16) -> bool {
        self.start_min <= minute_of_day && minute_of_day < self.end_min
    }
}

impl fmt::Display for LocalRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (s, e) = (self.start_min, self.end_min);
        write!(f, "{:02}:{:02}-{:02}:{:02}", s / 60, s % 60, e / 60, e % 60)
    }
}

/// The plain data of a window, as a campaign's settings hold it. Validate with
/// [`WindowSpec::validate`] or build a [`CallingWindow`] from it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WindowSpec {
    /// Ranges per weekday, Monday first.
    pub week: [Vec<LocalRange>; 7],
    /// Local dates on which the window stays closed.
    pub holidays: Vec<NaiveDate>,
}

/// A bad window setting. The message names the field (`week.mon[1]`, `holidays[3]`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("week.{day}[{index}]: {range} ends after 24:00")]
    PastMidnight { day: &'static str, index: usize, range: LocalRange },
    #[error("week.{day}[{index}]: {range} is empty (start must be before end)")]
    Empty { day: &'static str, index: usize, range: LocalRange },
    #[error("week.{day}[{index}]: {range} overlaps an earlier range of the day")]
    Overlap { day: &'static str, index: usize, range: LocalRange },
    #[error("week.{day}: more than {RANGES_PER_DAY_MAX} ranges")]
    TooManyRanges { day: &'static str },
    #[error("holidays: more than {HOLIDAYS_MAX} dates")]
    TooManyHolidays,
    #[error("holidays[{index}]: {date} is listed twice")]
    DuplicateHoliday { index: usize, date: NaiveDate },
    #[error("week: no day has a range, the window would never open")]
    NeverOpen,
}

impl WindowSpec {
    /// Checks every field; the first problem found is returned.
    pub fn validate(&self) -> Result<(), WindowError> {
        let mut any = false;
        for (d, ranges) in self.week.iter().enumerate() {
            let day = WEEKDAYS[d];
            if ranges.len() > RANGES_PER_DAY_MAX {
                return Err(WindowError::TooManyRanges { day });
            }
            for (index, &range) in ranges.iter().enumerate() {
                if range.end_min > DAY_MINUTES {
                    return Err(WindowError::PastMidnight { day, index, range });
                }
                if range.start_min >= range.end_min {
                    return Err(WindowError::Empty { day, index, range });
                }
                let overlaps = ranges[..index]
                    .iter()
                    .any(|r| r.start_min < range.end_min && range.start_min < r.end_min);
                if overlaps {
                    return Err(WindowError::Overlap { day, index, range });
                }
                any = true;
            }
        }
        if !any {
            return Err(WindowError::NeverOpen);
        }
        if self.holidays.len() > HOLIDAYS_MAX {
            return Err(WindowError::TooManyHolidays);
        }
        let mut seen = BTreeSet::new();
        for (index, &date) in self.holidays.iter().enumerate() {
            if !seen.insert(date) {
                return Err(WindowError::DuplicateHoliday { index, date });
            }
        }
        Ok(())
    }
}

/// A validated calling window. See the module docs for the DST rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallingWindow {
    /// Sorted by start, non-overlapping, Monday first.
    week: [Vec<LocalRange>; 7],
    holidays: BTreeSet<NaiveDate>,
}

impl CallingWindow {
    pub fn new(spec: WindowSpec) -> Result<CallingWindow, WindowError> {
        spec.validate()?;
        let mut week = spec.week;
        week.iter_mut().for_each(|r| r.sort());
        Ok(CallingWindow { week, holidays: spec.holidays.into_iter().collect() })
    }

    /// The legal default: 09:00-21:00 local, every day, no holidays. Stricter than the US
    /// TCPA's 08:00-21:00 and within what most European regulators and codes ask.
    pub fn legal_default() -> CallingWindow {
        let day = vec![LocalRange::hm(9, 0, 21, 0)];
        CallingWindow { week: std::array::from_fn(|_| day.clone()), holidays: BTreeSet::new() }
    }

    /// Whether a call may be placed at `now` to a contact in `tz`.
    pub fn is_open(&self, now: Timestamp, tz: Tz) -> bool {
        let Some(local) = local_time(now, tz) else { return false };
        let date = local.date();
        if self.holidays.contains(&date) {
            return false;
        }
        // Minute resolution is exact: ranges start and end on whole minutes.
        let minute = u16::try_from(local.hour() * 60 + local.minute()).unwrap_or(DAY_MINUTES);
        self.ranges_on(date).iter().any(|r| r.contains(minute))
    }

    /// The earliest instant at or after `now` when the window is open for `tz`; `None` when it
    /// does not open within [`SEARCH_DAYS_MAX`] local days (or `now` is outside chrono's range).
    pub fn next_open(&self, now: Timestamp, tz: Tz) -> Option<Timestamp> {
        if self.is_open(now, tz) {
            return Some(now);
        }
        let start = local_time(now, tz)?.date();
        let mut date = start;
        for _ in 0..SEARCH_DAYS_MAX {
            if !self.holidays.contains(&date) {
                for range in self.ranges_on(date) {
                    let Some(t) = range_start(date, *range, tz, now) else { continue };
                    if self.is_open(t, tz) {
                        return Some(t);
                    }
                }
            }
            date = date.succ_opt()?;
        }
        None
    }

    /// When the window open at `now` closes for `tz` (the first closed instant after `now`,
    /// to the minute); `None` if it is closed at `now` or stays open past the search horizon.
    pub fn closes_at(&self, now: Timestamp, tz: Tz) -> Option<Timestamp> {
        if !self.is_open(now, tz) {
            return None;
        }
        // Step through whole minutes: ranges are minute-aligned, so the first closed minute
        // boundary is the close. Bounded by a week plus a gap.
        let mut t = now.as_millis() - now.as_millis().rem_euclid(60_000);
        for _ in 0..(8 * i64::from(DAY_MINUTES)) {
            t = t.checked_add(60_000)?;
            if !self.is_open(Timestamp::from_millis(t), tz) {
                return Some(Timestamp::from_millis(t));
            }
        }
        None
    }

    fn ranges_on(&self, date: NaiveDate) -> &[LocalRange] {
        &self.week[date.weekday().num_days_from_monday() as usize]
    }
}

fn local_time(now: Timestamp, tz: Tz) -> Option<NaiveDateTime> {
    let utc = DateTime::from_timestamp_millis(now.as_millis())?;
    Some(utc.with_timezone(&tz).naive_local())
}

fn to_timestamp<T: TimeZone>(t: DateTime<T>) -> Timestamp {
    Timestamp::from_millis(t.timestamp_millis())
}

/// The instant a range starts on `date` in `tz`, not before `not_before`.
fn range_start(
    date: NaiveDate,
    range: LocalRange,
    tz: Tz,
    not_before: Timestamp,
) -> Option<Timestamp> {
    let midnight = date.and_hms_opt(0, 0, 0)?;
    let local = midnight + Duration::minutes(i64::from(range.start_min));
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(to_timestamp(t)).filter(|t| *t >= not_before),
        LocalResult::Ambiguous(early, late) => {
            [to_timestamp(early), to_timestamp(late)].into_iter().find(|t| *t >= not_before)
        }
        LocalResult::None => {
            // In a spring-forward gap: the first valid local minute after it is the transition.
            (1..=GAP_MINUTES_MAX)
                .find_map(|m| {
                    let later = local + Duration::minutes(m);
                    tz.from_local_datetime(&later).earliest().map(to_timestamp)
                })
                .filter(|t| *t >= not_before)
        }
    }
}

/// Where a contact's time zone came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZoneSource {
    /// A column of the import named it.
    Column,
    /// The number's country and area code (or prefix) pin it down.
    Prefix,
    /// The number's country has one zone, or its most populous zone was taken (a guess).
    Country,
}

/// Area-code prefixes of multi-zone countries, after the country code: the first match wins.
/// Small on purpose: the large cities outside each country's most populous zone. Anything not
/// listed falls back to [`COUNTRY_ZONES`]. Extend with care: a wrong entry calls people at night.
const PREFIX_ZONES: &[(&str, Tz)] = {
    use chrono_tz::America as Am;
    use chrono_tz::Asia as As;
    use chrono_tz::Australia as Au;
    use chrono_tz::Europe as Eu;
    use chrono_tz::Pacific as Pa;
    &[
        // NANP (+1): US and Canada area codes. Default for +1 is US Eastern.
        ("1907", Am::Anchorage),
        ("1808", Pa::Honolulu),
        ("1213", Am::Los_Angeles),
        ("1310", Am::Los_Angeles),
        ("1323", Am::Los_Angeles),
        ("1408", Am::Los_Angeles),
        ("1415", Am::Los_Angeles),
        ("1510", Am::Los_Angeles),
        ("1619", Am::Los_Angeles),
        ("1626", Am::Los_Angeles),
        ("1650", Am::Los_Angeles),
        ("1714", Am::Los_Angeles),
        ("1818", Am::Los_Angeles),
        ("1916", Am::Los_Angeles),
        ("1206", Am::Los_Angeles),
        ("1503", Am::Los_Angeles),
        ("1702", Am::Los_Angeles),
        ("1604", Am::Vancouver),
        ("1778", Am::Vancouver),
        ("1403", Am::Edmonton),
        ("1780", Am::Edmonton),
        ("1303", Am::Denver),
        ("1720", Am::Denver),
        ("1801", Am::Denver),
        ("1505", Am::Denver),
        ("1602", Am::Phoenix),
        ("1480", Am::Phoenix),
        ("1520", Am::Phoenix),
        ("1312", Am::Chicago),
        ("1773", Am::Chicago),
        ("1214", Am::Chicago),
        ("1469", Am::Chicago),
        ("1713", Am::Chicago),
        ("1832", Am::Chicago),
        ("1512", Am::Chicago),
        ("1210", Am::Chicago),
        ("1612", Am::Chicago),
        ("1314", Am::Chicago),
        ("1504", Am::Chicago),
        ("1615", Am::Chicago),
        ("1414", Am::Chicago),
        ("1204", Am::Winnipeg),
        ("1306", Am::Regina),
        ("1902", Am::Halifax),
        ("1709", Am::St_Johns),
        ("1416", Am::Toronto),
        ("1647", Am::Toronto),
        ("1514", Am::Toronto),
        // Russia (+7). Default is Moscow.
        ("74012", Eu::Kaliningrad),
        ("7846", Eu::Samara),
        ("7343", As::Yekaterinburg),
        ("7351", As::Yekaterinburg),
        ("7381", As::Omsk),
        ("7383", As::Novosibirsk),
        ("7391", As::Krasnoyarsk),
        ("7395", As::Irkutsk),
        ("7423", As::Vladivostok),
        ("74212", As::Vladivostok),
        // Australia (+61): 2 NSW/ACT, 3 VIC/TAS, 7 QLD, 8 SA/WA/NT (8 9 is WA).
        ("6189", Au::Perth),
        ("618", Au::Adelaide),
        ("617", Au::Brisbane),
        ("613", Au::Melbourne),
        // Brazil (+55): Amazon and west-central area codes.
        ("5592", Am::Manaus),
        ("5565", Am::Cuiaba),
        ("5567", Am::Campo_Grande),
        // Mexico (+52): Tijuana and the north-west.
        ("52664", Am::Tijuana),
        ("52662", Am::Hermosillo),
    ]
};

/// One zone per country (ISO 3166 alpha-2): the only zone, or the most populous one for
/// countries that span several (US Eastern, Canada Toronto, Russia Moscow, Brazil Sao Paulo,
/// Australia Sydney, Mexico Mexico City, Indonesia Jakarta, Kazakhstan Almaty).
const COUNTRY_ZONES: &[(&str, Tz)] = {
    use chrono_tz::Africa as Af;
    use chrono_tz::America as Am;
    use chrono_tz::Asia as As;
    use chrono_tz::Australia as Au;
    use chrono_tz::Europe as Eu;
    use chrono_tz::Pacific as Pa;
    &[
        ("US", Am::New_York),
        ("CA", Am::Toronto),
        ("MX", Am::Mexico_City),
        ("BR", Am::Sao_Paulo),
        ("AR", Am::Argentina::Buenos_Aires),
        ("CL", Am::Santiago),
        ("CO", Am::Bogota),
        ("PE", Am::Lima),
        ("RU", Eu::Moscow),
        ("KZ", As::Almaty),
        ("UA", Eu::Kyiv),
        ("BY", Eu::Minsk),
        ("GB", Eu::London),
        // The Crown dependencies share +44 and keep UK time.
        ("GG", Eu::London),
        ("JE", Eu::London),
        ("IM", Eu::London),
        ("IE", Eu::Dublin),
        ("DE", Eu::Berlin),
        ("FR", Eu::Paris),
        ("ES", Eu::Madrid),
        ("PT", Eu::Lisbon),
        ("IT", Eu::Rome),
        ("NL", Eu::Amsterdam),
        ("BE", Eu::Brussels),
        ("CH", Eu::Zurich),
        ("AT", Eu::Vienna),
        ("PL", Eu::Warsaw),
        ("CZ", Eu::Prague),
        ("SE", Eu::Stockholm),
        ("NO", Eu::Oslo),
        ("DK", Eu::Copenhagen),
        ("FI", Eu::Helsinki),
        ("EE", Eu::Tallinn),
        ("LV", Eu::Riga),
        ("LT", Eu::Vilnius),
        ("GR", Eu::Athens),
        ("TR", Eu::Istanbul),
        ("RO", Eu::Bucharest),
        ("IL", As::Jerusalem),
        ("AE", As::Dubai),
        ("IN", As::Kolkata),
        ("CN", As::Shanghai),
        ("JP", As::Tokyo),
        ("KR", As::Seoul),
        ("ID", As::Jakarta),
        ("SG", As::Singapore),
        ("AU", Au::Sydney),
        ("NZ", Pa::Auckland),
        ("ZA", Af::Johannesburg),
        ("EG", Af::Cairo),
        ("NG", Af::Lagos),
    ]
};

/// The zone of a number: the prefix table for multi-zone countries, else the country's zone.
/// `None` when the country is not in the table: the caller must ask for a time zone column
/// (guessing UTC could call people at night).
pub fn zone_for_number(number: &PhoneNumber) -> Option<(Tz, ZoneSource)> {
    let digits = number.as_str().strip_prefix('+').unwrap_or(number.as_str());
    if let Some((_, tz)) = PREFIX_ZONES.iter().find(|(p, _)| digits.starts_with(p)) {
        return Some((*tz, ZoneSource::Prefix));
    }
    // The metadata names no region for some ranges it shares between countries (UK mobiles
    // are shared with Guernsey, Jersey and the Isle of Man): those calling codes have one zone.
    let region = number.region().or_else(|| {
        CODE_REGIONS.iter().find(|(code, _)| digits.starts_with(code)).map(|(_, r)| r.to_string())
    })?;
    COUNTRY_ZONES.iter().find(|(r, _)| *r == region).map(|(_, tz)| (*tz, ZoneSource::Country))
}

/// Calling codes shared by several regions in the same time zone, and the region to use.
const CODE_REGIONS: &[(&str, &str)] = &[("44", "GB")];

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::New_York;
    use chrono_tz::Europe::{London, Moscow};
    use proptest::prelude::*;

    fn at(tz: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Timestamp {
        let t = tz.with_ymd_and_hms(y, mo, d, h, mi, 0).earliest().expect("valid local time");
        to_timestamp(t)
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Timestamp {
        to_timestamp(chrono::Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().expect("valid"))
    }

    fn every_day(range: LocalRange) -> CallingWindow {
        CallingWindow::new(WindowSpec {
            week: std::array::from_fn(|_| vec![range]),
            holidays: vec![],
        })
        .expect("valid")
    }

    #[test]
    fn legal_default_is_nine_to_nine_local() {
        let w = CallingWindow::legal_default();
        assert!(!w.is_open(at(New_York, 2026, 1, 5, 8, 59), New_York));
        assert!(w.is_open(at(New_York, 2026, 1, 5, 9, 0), New_York));
        assert!(w.is_open(at(New_York, 2026, 1, 5, 20, 59), New_York));
        assert!(!w.is_open(at(New_York, 2026, 1, 5, 21, 0), New_York));
        // The same instant is open in Moscow and closed in New York.
        let t = utc(2026, 1, 5, 10, 0);
        assert!(w.is_open(t, Moscow));
        assert!(!w.is_open(t, New_York));
        assert_eq!(w.next_open(t, New_York), Some(at(New_York, 2026, 1, 5, 9, 0)));
        assert_eq!(w.closes_at(t, Moscow), Some(at(Moscow, 2026, 1, 5, 21, 0)));
    }

    #[test]
    fn weekends_and_holidays_are_skipped() {
        let mut week: [Vec<LocalRange>; 7] = Default::default();
        for day in week.iter_mut().take(5) {
            day.push(LocalRange::hm(9, 0, 12, 0));
            day.push(LocalRange::hm(13, 0, 18, 0));
        }
        let holiday = NaiveDate::from_ymd_opt(2026, 1, 5).expect("valid date"); // a Monday
        let w = CallingWindow::new(WindowSpec { week, holidays: vec![holiday] }).expect("valid");
        // Friday 18:30 -> next is Tuesday (Monday is a holiday) 09:00.
        let fri = at(London, 2026, 1, 2, 18, 30);
        assert_eq!(w.next_open(fri, London), Some(at(London, 2026, 1, 6, 9, 0)));
        // Lunch break.
        let lunch = at(London, 2026, 1, 6, 12, 30);
        assert!(!w.is_open(lunch, London));
        assert_eq!(w.next_open(lunch, London), Some(at(London, 2026, 1, 6, 13, 0)));
        assert_eq!(
            w.closes_at(at(London, 2026, 1, 6, 10, 0), London),
            Some(at(London, 2026, 1, 6, 12, 0))
        );
    }

    #[test]
    fn a_start_in_the_spring_forward_gap_opens_at_the_first_valid_instant() {
        // New York, 2026-03-08: 02:00 jumps to 03:00 local (07:00 UTC).
        let w = every_day(LocalRange::hm(2, 30, 4, 0));
        let before = at(New_York, 2026, 3, 8, 1, 0);
        assert_eq!(w.next_open(before, New_York), Some(utc(2026, 3, 8, 7, 0)));
        // A range wholly inside the gap does not open that day.
        let w = every_day(LocalRange::hm(2, 0, 2, 30));
        assert_eq!(w.next_open(before, New_York), Some(at(New_York, 2026, 3, 9, 2, 0)));
    }

    #[test]
    fn a_start_in_the_fall_back_overlap_takes_the_earlier_instance() {
        // New York, 2026-11-01: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice.
        let w = every_day(LocalRange::hm(1, 30, 1, 45));
        let before = at(New_York, 2026, 11, 1, 0, 0);
        assert_eq!(w.next_open(before, New_York), Some(utc(2026, 11, 1, 5, 30)));
        // Just after the first instance closed, the second instance is next.
        let between = utc(2026, 11, 1, 5, 50);
        assert!(!w.is_open(between, New_York));
        assert_eq!(w.next_open(between, New_York), Some(utc(2026, 11, 1, 6, 30)));
    }

    #[test]
    fn validation_names_the_bad_field() {
        let mut spec = WindowSpec::default();
        assert_eq!(spec.validate(), Err(WindowError::NeverOpen));
        spec.week[1] = vec![LocalRange::hm(9, 0, 12, 0), LocalRange::hm(11, 0, 13, 0)];
        let err = spec.validate().expect_err("overlap");
        assert_eq!(
            err.to_string(),
            "week.tue[1]: 11:00-13:00 overlaps an earlier range of the day"
        );
        spec.week[1] = vec![LocalRange::hm(12, 0, 9, 0)];
        assert!(spec.validate().expect_err("empty").to_string().starts_with("week.tue[0]:"));
        spec.week[1] = vec![LocalRange::hm(9, 0, 24, 1)];
        assert!(matches!(spec.validate(), Err(WindowError::PastMidnight { day: "tue", .. })));
        spec.week[1] = vec![LocalRange::hm(9, 0, 24, 0)];
        let d = NaiveDate::from_ymd_opt(2026, 12, 25).expect("valid date");
        spec.holidays = vec![d, d];
        assert_eq!(
            spec.validate().expect_err("dup").to_string(),
            "holidays[1]: 2026-12-25 is listed twice"
        );
        spec.week[6] = vec![LocalRange::hm(9, 0, 10, 0); RANGES_PER_DAY_MAX + 1];
        assert_eq!(spec.validate(), Err(WindowError::TooManyRanges { day: "sun" }));
    }

    #[test]
    fn a_window_closed_by_holidays_for_longer_than_the_horizon_never_opens() {
        let start = NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date");
        let holidays: Vec<NaiveDate> = start.iter_days().take(HOLIDAYS_MAX).collect();
        let w = CallingWindow::new(WindowSpec {
            week: std::array::from_fn(|_| vec![LocalRange::hm(0, 0, 24, 0)]),
            holidays,
        })
        .expect("valid");
        assert_eq!(w.next_open(at(London, 2026, 1, 1, 12, 0), London), None);
        assert_eq!(w.next_open(Timestamp::MAX, London), None);
    }

    #[test]
    fn zones_from_numbers() {
        let z = |n: &str| {
            let p = PhoneNumber::parse(n, "US").expect("valid number");
            zone_for_number(&p)
        };
        assert_eq!(z("+1 212 555 0147"), Some((New_York, ZoneSource::Country)));
        assert_eq!(
            z("+1 415 555 0147"),
            Some((chrono_tz::America::Los_Angeles, ZoneSource::Prefix))
        );
        assert_eq!(z("+1 907 555 0147"), Some((chrono_tz::America::Anchorage, ZoneSource::Prefix)));
        assert_eq!(z("+7 495 123 45 67"), Some((Moscow, ZoneSource::Country)));
        assert_eq!(z("+7 383 123 45 67"), Some((chrono_tz::Asia::Novosibirsk, ZoneSource::Prefix)));
        assert_eq!(z("+44 20 7946 0958"), Some((London, ZoneSource::Country)));
        assert_eq!(z("+44 7911 123456"), Some((London, ZoneSource::Country)), "UK mobile");
        assert_eq!(z("+61 8 9123 4567"), Some((chrono_tz::Australia::Perth, ZoneSource::Prefix)));
    }

    fn zones() -> impl Strategy<Value = Tz> {
        prop::sample::select(vec![
            New_York,
            London,
            Moscow,
            chrono_tz::Australia::Lord_Howe,
            chrono_tz::Pacific::Apia,
            chrono_tz::America::Sao_Paulo,
            chrono_tz::Asia::Kolkata,
            chrono_tz::America::St_Johns,
        ])
    }

    fn windows() -> impl Strategy<Value = CallingWindow> {
        let range = (0u16..DAY_MINUTES, 1u16..600)
            .prop_map(|(s, len)| LocalRange { start_min: s, end_min: (s + len).min(DAY_MINUTES) });
        let day = prop::collection::vec(range, 0..4).prop_map(|mut ranges| {
            // Keep the ranges that do not overlap an earlier kept one.
            ranges.sort();
            let mut kept: Vec<LocalRange> = Vec::new();
            for r in ranges {
                if kept.last().is_none_or(|k| k.end_min <= r.start_min) {
                    kept.push(r);
                }
            }
            kept
        });
        (prop::collection::vec(day, 7), prop::collection::vec(0u32..800, 0..20)).prop_filter_map(
            "some day open",
            |(days, hol)| {
                let base = NaiveDate::from_ymd_opt(2010, 1, 1)?;
                let holidays: BTreeSet<NaiveDate> =
                    hol.into_iter().map(|d| base + Duration::days(i64::from(d))).collect();
                let spec = WindowSpec {
                    week: std::array::from_fn(|i| days[i].clone()),
                    holidays: holidays.into_iter().collect(),
                };
                CallingWindow::new(spec).ok()
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// next_open is open, not before now, and no earlier whole minute in between is open.
        #[test]
        fn next_open_is_the_first_open_instant(
            w in windows(),
            tz in zones(),
            // 2010-01-01 .. 2012-03-01, which covers Samoa's skipped day.
            now_min in 21_038_400i64..22_170_000,
        ) {
            let now = Timestamp::from_millis(now_min * 60_000);
            prop_assert_eq!(w.is_open(now, tz), w.next_open(now, tz) == Some(now));
            if let Some(c) = w.closes_at(now, tz) {
                prop_assert!(c > now && !w.is_open(c, tz) && w.is_open(now, tz));
            }
            if let Some(t) = w.next_open(now, tz) {
                prop_assert!(t >= now);
                prop_assert!(w.is_open(t, tz));
                // Check the last 3 hours before t minute by minute (a full scan is too slow).
                let from = now.as_millis().max(t.as_millis() - 3 * 3_600_000);
                let mut m = from;
                while m < t.as_millis() {
                    prop_assert!(!w.is_open(Timestamp::from_millis(m), tz), "open at {m}");
                    m += 60_000;
                }
            }
        }

        #[test]
        fn never_panics_on_any_instant(w in windows(), tz in zones(), now in any::<i64>()) {
            let t = Timestamp::from_millis(now);
            let _ = w.is_open(t, tz);
            let _ = w.next_open(t, tz);
        }
    }

    #[test]
    fn local_range_display() {
        assert_eq!(LocalRange::hm(9, 5, 24, 0).to_string(), "09:05-24:00");
    }
}

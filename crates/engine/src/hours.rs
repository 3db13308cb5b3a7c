//! Business hours in a queue's time zone: when callbacks may be dialed.

use chrono::{Datelike, Duration, NaiveTime, TimeZone, Timelike};
use chrono_tz::Tz;
use domain::Timestamp;
use thiserror::Error;

/// Weekly opening hours, one window per weekday (Monday first), in a time zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusinessHours {
    tz: Tz,
    /// Minutes after local midnight: `[open, close)`.
    days: [Option<(u32, u32)>; 7],
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum HoursError {
    #[error("unknown time zone {0:?}")]
    UnknownZone(String),
    #[error("unknown weekday {0:?} (use mon, tue, wed, thu, fri, sat, sun)")]
    UnknownDay(String),
    #[error("{0:?} is not a time of day (HH:MM)")]
    BadTime(String),
    #[error("{day}: opening time must be before closing time")]
    EmptyWindow { day: String },
    #[error("no day is open")]
    NeverOpen,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn minutes(s: &str) -> Result<u32, HoursError> {
    let t = NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| HoursError::BadTime(s.into()))?;
    Ok(t.hour() * 60 + t.minute())
}

impl BusinessHours {
    /// `windows`: (weekday, open "HH:MM", close "HH:MM"); a close of "24:00" is not allowed,
    /// use "23:59".
    pub fn parse(zone: &str, windows: &[(String, String, String)]) -> Result<Self, HoursError> {
        let tz: Tz = zone.parse().map_err(|_| HoursError::UnknownZone(zone.into()))?;
        let mut days = [None; 7];
        for (day, open, close) in windows {
            let i = DAYS
                .iter()
                .position(|d| d.eq_ignore_ascii_case(day))
                .ok_or_else(|| HoursError::UnknownDay(day.clone()))?;
            let (o, c) = (minutes(open)?, minutes(close)?);
            if o >= c {
                return Err(HoursError::EmptyWindow { day: day.clone() });
            }
            days[i] = Some((o, c));
        }
        if days.iter().all(Option::is_none) {
            return Err(HoursError::NeverOpen);
        }
        Ok(BusinessHours { tz, days })
    }

    pub fn zone(&self) -> &str {
        self.tz.name()
    }

    /// Windows as (weekday, open, close) strings, the inverse of [`BusinessHours::parse`].
    pub fn windows(&self) -> Vec<(String, String, String)> {
        let hm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
        DAYS.iter()
            .zip(self.days.iter())
            .filter_map(|(d, w)| w.map(|(o, c)| (d.to_string(), hm(o), hm(c))))
            .collect()
    }

    pub fn is_open(&self, at: Timestamp) -> bool {
        self.next_open(at) == Some(at)
    }

    /// The earliest instant at or after `at` when the queue is open. `None` only if no window
    /// can be reached within two weeks (cannot happen for a parsed value).
    pub fn next_open(&self, at: Timestamp) -> Option<Timestamp> {
        let utc = chrono::DateTime::from_timestamp_millis(at.as_millis())?;
        let local = utc.with_timezone(&self.tz);
        let today = local.date_naive();
        for offset in 0..15 {
            let date = today + Duration::days(offset);
            let Some((open, close)) = self.days[date.weekday().num_days_from_monday() as usize]
            else {
                continue;
            };
            let at_minutes = |m: u32| {
                let time = NaiveTime::from_hms_opt(m / 60, m % 60, 0)?;
                // In a DST gap the local time does not exist; the earliest valid mapping wins.
                self.tz.from_local_datetime(&date.and_time(time)).earliest()
            };
            let (Some(o), Some(c)) = (at_minutes(open), at_minutes(close)) else {
                continue;
            };
            let (o, c) = (o.timestamp_millis(), c.timestamp_millis());
            if at.as_millis() < c {
                return Some(Timestamp::from_millis(o.max(at.as_millis())));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::from_millis(
            chrono::DateTime::parse_from_rfc3339(s).expect("test time").timestamp_millis(),
        )
    }

    fn weekdays_9_to_18(zone: &str) -> BusinessHours {
        let w: Vec<_> = ["mon", "tue", "wed", "thu", "fri"]
            .iter()
            .map(|d| (d.to_string(), "09:00".to_string(), "18:00".to_string()))
            .collect();
        BusinessHours::parse(zone, &w).expect("valid hours")
    }

    #[test]
    fn open_inside_the_window_in_the_queue_zone() {
        let h = weekdays_9_to_18("Europe/Berlin");
        // Tuesday 2026-11-24 10:00 Berlin = 09:00 UTC.
        assert!(h.is_open(ts("2026-11-24T09:00:00Z")));
        assert!(!h.is_open(ts("2026-11-24T07:59:00Z")));
        assert!(!h.is_open(ts("2026-11-24T17:00:00Z")));
    }

    #[test]
    fn next_open_skips_the_night_and_the_weekend() {
        let h = weekdays_9_to_18("Europe/Berlin");
        // Tuesday 19:00 Berlin -> Wednesday 09:00 Berlin (08:00 UTC).
        assert_eq!(h.next_open(ts("2026-11-24T18:00:00Z")), Some(ts("2026-11-25T08:00:00Z")));
        // Friday 18:30 Berlin -> Monday 09:00 Berlin.
        assert_eq!(h.next_open(ts("2026-11-27T17:30:00Z")), Some(ts("2026-11-30T08:00:00Z")));
        // Early morning -> same day's opening.
        assert_eq!(h.next_open(ts("2026-11-24T05:00:00Z")), Some(ts("2026-11-24T08:00:00Z")));
    }

    #[test]
    fn rejects_bad_definitions_with_a_reason() {
        let w = |d: &str, o: &str, c: &str| vec![(d.to_string(), o.to_string(), c.to_string())];
        assert_eq!(
            BusinessHours::parse("Mars/Base", &w("mon", "09:00", "10:00")),
            Err(HoursError::UnknownZone("Mars/Base".into()))
        );
        assert_eq!(
            BusinessHours::parse("UTC", &w("funday", "09:00", "10:00")),
            Err(HoursError::UnknownDay("funday".into()))
        );
        assert_eq!(
            BusinessHours::parse("UTC", &w("mon", "9am", "10:00")),
            Err(HoursError::BadTime("9am".into()))
        );
        assert!(matches!(
            BusinessHours::parse("UTC", &w("mon", "10:00", "09:00")),
            Err(HoursError::EmptyWindow { .. })
        ));
        assert_eq!(BusinessHours::parse("UTC", &[]), Err(HoursError::NeverOpen));
        let h = BusinessHours::parse("UTC", &w("mon", "09:00", "10:30")).expect("valid");
        assert_eq!(h.windows(), w("mon", "09:00", "10:30"));
    }
}

//! The one source of "now". Validation, date shortcuts, the default Administered time,
//! Bundle.timestamp, stored times, retries and token expiry all ask a [`Clock`]; the
//! program makes one at start, tests make a fixed one.
//!
//! Times are kept with the clinic's time zone (not a fixed offset), so a time typed for
//! another date gets the UTC offset in force on that date.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// A moment as the clinic sees it: an instant together with the clinic's zone.
pub type ClinicTime = DateTime<Tz>;

/// Set this to an RFC 3339 time (`2026-11-25T15:30:00-05:00`) or to seconds since
/// 1970 to stop the clock at that moment, for reproducible runs and end-to-end tests
/// (as `SOURCE_DATE_EPOCH` is for build tools).
pub const NOW_ENV: &str = "VAXENTRY_NOW";

/// Where "now" comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Clock {
    /// The computer's clock, seen in this zone.
    Wall(Tz),
    /// Always this moment.
    Fixed(ClinicTime),
    /// `from` at `started`, then running as the monotonic clock runs: for a test in
    /// which time must pass (claims that lapse), without the wall clock or its zone.
    Running {
        from: ClinicTime,
        started: std::time::Instant,
    },
}

impl Clock {
    pub fn now(&self) -> ClinicTime {
        match self {
            Clock::Wall(zone) => Utc::now().with_timezone(zone),
            Clock::Fixed(at) => *at,
            Clock::Running { from, started } => chrono::Duration::from_std(started.elapsed())
                .ok()
                .and_then(|passed| from.checked_add_signed(passed))
                .unwrap_or(*from),
        }
    }

    /// This clock, running from now on.
    pub fn running(self) -> Clock {
        Clock::Running {
            from: self.now(),
            started: std::time::Instant::now(),
        }
    }

    /// The clinic's zone.
    pub fn zone(&self) -> Tz {
        match self {
            Clock::Wall(zone) => *zone,
            Clock::Fixed(at) | Clock::Running { from: at, .. } => at.timezone(),
        }
    }

    /// A clock stopped at `at` (RFC 3339), seen in `zone`; for tests.
    pub fn fixed(at: &str, zone: Tz) -> Result<Clock, String> {
        parse_instant(at)
            .map(|instant| Clock::Fixed(instant.with_timezone(&zone)))
            .ok_or_else(|| {
                format!("'{at}' is not a time; use RFC 3339, e.g. 2026-11-25T15:30:00-05:00")
            })
    }

    /// The clock for a run of the program: stopped at `VAXENTRY_NOW` when that is set,
    /// else the wall clock; either way seen in `zone`.
    pub fn from_env(zone: Tz) -> Result<Clock, String> {
        match std::env::var(NOW_ENV) {
            Ok(text) if !text.trim().is_empty() => Clock::fixed(text.trim(), zone)
                .map_err(|e| format!("{NOW_ENV}: {e}, or seconds since 1970")),
            _ => Ok(Clock::Wall(zone)),
        }
    }
}

/// RFC 3339, or whole seconds since 1970.
fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    text.parse::<i64>()
        .ok()
        .and_then(|secs| Utc.timestamp_opt(secs, 0).single())
}

/// This computer's zone: `TZ` when it names an IANA zone (`America/New_York`), else
/// the system setting, else UTC.
pub fn system_zone() -> Tz {
    let from_env = std::env::var("TZ")
        .ok()
        .and_then(|tz| tz.trim_start_matches(':').parse::<Tz>().ok());
    from_env
        .or_else(|| iana_time_zone::get_timezone().ok()?.parse().ok())
        .unwrap_or(Tz::UTC)
}

/// When something was true, in the clinic's words as seen `now`: "15:30 today",
/// "14:05 yesterday", else "2026-11-20 14:05".
pub fn as_of(at: DateTime<Utc>, now: ClinicTime) -> String {
    let at = at.with_timezone(&now.timezone());
    let days = (now.date_naive() - at.date_naive()).num_days();
    match days {
        0 => format!("{} today", at.format("%H:%M")),
        1 => format!("{} yesterday", at.format("%H:%M")),
        _ => at.format("%Y-%m-%d %H:%M").to_string(),
    }
}

/// The unit tests' "now": 2026-11-25 15:30 at UTC-5, seen in UTC.
#[cfg(test)]
pub(crate) fn test_now() -> ClinicTime {
    Utc.with_ymd_and_hms(2026, 11, 25, 20, 30, 0)
        .single()
        .unwrap_or_default()
        .with_timezone(&Tz::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::New_York;

    #[test]
    fn a_fixed_clock_keeps_its_instant_and_shows_it_in_the_zone() {
        let clock = Clock::fixed("2026-11-25T20:30:00Z", New_York).unwrap();
        assert_eq!(clock.now().to_rfc3339(), "2026-11-25T15:30:00-05:00");
        assert_eq!(clock.zone(), New_York);
        let epoch = Clock::fixed("1795638600", Tz::UTC).unwrap();
        assert_eq!(epoch.now(), clock.now());
    }

    #[test]
    fn a_running_clock_starts_at_its_moment_and_never_goes_back() {
        let fixed = Clock::fixed("2026-11-25T20:30:00Z", New_York).unwrap();
        let running = fixed.running();
        let first = running.now();
        assert!(first >= fixed.now());
        assert!(first - fixed.now() < chrono::Duration::seconds(5));
        assert!(running.now() >= first);
        assert_eq!(running.zone(), New_York);
    }

    #[test]
    fn as_of_says_today_yesterday_or_the_date_in_the_clinics_zone() {
        let now = Clock::fixed("2026-11-25T15:30:00-05:00", New_York)
            .unwrap()
            .now();
        let at = |text: &str| parse_instant(text).unwrap().to_utc();
        assert_eq!(as_of(at("2026-11-25T14:05:00-05:00"), now), "14:05 today");
        // 02:00 UTC on the 25th is the evening of the 24th in New York.
        assert_eq!(as_of(at("2026-11-25T02:00:00Z"), now), "21:00 yesterday");
        assert_eq!(
            as_of(at("2026-11-20T09:00:00-05:00"), now),
            "2026-11-20 09:00"
        );
    }

    #[test]
    fn an_unreadable_time_says_what_to_write() {
        let err = Clock::fixed("yesterday-ish", Tz::UTC).unwrap_err();
        assert!(err.contains("RFC 3339"), "{err}");
    }
}

//! Turning what staff type into values: dates with shortcuts, times, amounts, yes/no,
//! NDCs, phone numbers and ZIP codes. Every function returns a plain-language error
//! that says what to type instead; none panics on any input.

use crate::clock::ClinicTime;
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Timelike};

/// A FHIR dateTime as entered: a bare date, or a date and time with an offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnteredDateTime {
    Date(NaiveDate),
    At(DateTime<FixedOffset>),
}

impl EnteredDateTime {
    pub fn date(self) -> NaiveDate {
        match self {
            EnteredDateTime::Date(d) => d,
            EnteredDateTime::At(t) => t.date_naive(),
        }
    }

    /// The FHIR dateTime text: `YYYY-MM-DD` or `YYYY-MM-DDThh:mm:ss+hh:mm`.
    pub fn to_fhir(self) -> String {
        match self {
            EnteredDateTime::Date(d) => d.format("%Y-%m-%d").to_string(),
            EnteredDateTime::At(t) => t.format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        }
    }

    /// How the form shows the normalised value.
    pub fn to_display(self) -> String {
        match self {
            EnteredDateTime::Date(d) => display_date(d),
            EnteredDateTime::At(t) => {
                format!("{} {}", display_date(t.date_naive()), t.format("%H:%M"))
            }
        }
    }
}

/// Characters that reorder text on screen (U+202E and friends).
pub use crate::untrusted::is_bidi_control;

/// How dates are shown back to staff: `Wed 2026-11-25`.
pub fn display_date(date: NaiveDate) -> String {
    date.format("%a %Y-%m-%d").to_string()
}

const DATE_HELP: &str =
    "type MM/DD/YYYY, YYYY-MM-DD, MMDDYYYY, or t (today), y (yesterday), t-3 (3 days ago)";

/// Parses a date as staff type it.
pub fn parse_date(raw: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let text = raw.trim().to_lowercase();
    if text.is_empty() {
        return Err(format!("no date given; {DATE_HELP}"));
    }
    if let Some(date) = relative_date(&text, today)? {
        return Ok(date);
    }
    let parts: Option<(i32, u32, u32)> =
        if let Some((y, m, d)) = split3(&text, '-').filter(|p| p.0.len() == 4) {
            numbers(y, m, d)
        } else if let Some((m, d, y)) = split3(&text, '/').or_else(|| split3(&text, '-')) {
            if y.len() != 4 {
                return Err(format!(
                    "'{}' needs a 4-digit year; {DATE_HELP}",
                    raw.trim()
                ));
            }
            numbers(y, m, d)
        } else if text.len() == 8 && text.bytes().all(|b| b.is_ascii_digit()) {
            numbers(&text[4..8], &text[0..2], &text[2..4])
        } else {
            None
        };
    let Some((year, month, day)) = parts else {
        return Err(format!("'{}' is not a date; {DATE_HELP}", raw.trim()));
    };
    NaiveDate::from_ymd_opt(year, month, day)
        .filter(|d| (1000..=9999).contains(&d.year_ce().1))
        .ok_or_else(|| {
            format!(
                "'{}' is not a real calendar date; check the month and day",
                raw.trim()
            )
        })
}

/// Whether `text` is a date typed whole, that no further key could make another
/// date: `MMDDYYYY`, `M/D/YYYY`, `YYYY-MM-DD`, and for an expiry `M/YYYY` too. A
/// year outside 1900 to 2100 is taken for something else being typed (a scan).
/// `062027` is not whole for an expiry: it may be the start of `06202027`.
pub fn is_whole_date(text: &str, expiry: bool, today: NaiveDate) -> bool {
    let digits = |s: &str, n: std::ops::RangeInclusive<usize>| {
        n.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    let shaped = match (split3(text, '/'), split3(text, '-')) {
        (Some((m, d, y)), None) => digits(m, 1..=2) && digits(d, 1..=2) && digits(y, 4..=4),
        (None, Some((y, m, d))) => digits(y, 4..=4) && digits(m, 2..=2) && digits(d, 2..=2),
        _ => {
            digits(text, 8..=8)
                || expiry
                    && text
                        .split_once('/')
                        .is_some_and(|(m, y)| digits(m, 1..=2) && digits(y, 4..=4))
        }
    };
    let read = match expiry {
        true => parse_expiry(text, today),
        false => parse_date(text, today),
    };
    shaped && read.is_ok_and(|d| (1900..=2100).contains(&d.year()))
}

/// An expiry date: a date as [`parse_date`] reads it, or a month and year (`06/2027`,
/// `6/2027`, `2027-06`), which means the last day of that month.
pub fn parse_expiry(raw: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let text = raw.trim();
    let all_digits = text.bytes().all(|b| b.is_ascii_digit());
    let month_year = match (text.split_once('/'), text.split_once('-')) {
        (Some((m, y)), None) if !y.contains('/') => Some((y, m)),
        (None, Some((y, m))) if y.len() == 4 && !m.contains('-') => Some((y, m)),
        // MMYYYY, as typed without the slash.
        (None, None) if text.len() == 6 && all_digits => Some((&text[2..], &text[..2])),
        _ => None,
    };
    let Some((year, month)) = month_year.filter(|(y, m)| {
        y.len() == 4
            && (1..=2).contains(&m.len())
            && y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit())
    }) else {
        return parse_date(raw, today);
    };
    let (year, month): (i32, u32) = (year.parse().unwrap_or(0), month.parse().unwrap_or(0));
    let first_of_next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    first_of_next
        .filter(|_| (1..=12).contains(&month) && (1000..=9998).contains(&year))
        .and_then(|d| d.pred_opt())
        .ok_or_else(|| format!("'{text}' is not a real month; write MM/YYYY, e.g. 06/2027"))
}

fn relative_date(text: &str, today: NaiveDate) -> Result<Option<NaiveDate>, String> {
    match text {
        "t" | "today" => return Ok(Some(today)),
        "y" | "yesterday" => return Ok(Some(today - Duration::days(1))),
        _ => {}
    }
    let Some(rest) = text.strip_prefix('t') else {
        return Ok(None);
    };
    let (sign, digits) = match rest.chars().next() {
        Some('-') => (-1, &rest[1..]),
        Some('+') => (1, &rest[1..]),
        _ => return Ok(None),
    };
    let days: i64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' should be t-N or t+N with N a number of days, e.g. t-3"))?;
    if days > 36_600 {
        return Err(format!("'{text}' is more than 100 years away"));
    }
    Ok(today.checked_add_signed(Duration::days(sign * days)))
}

fn split3(text: &str, sep: char) -> Option<(&str, &str, &str)> {
    let mut it = text.split(sep);
    let parts = (it.next()?, it.next()?, it.next()?);
    it.next().is_none().then_some(parts)
}

fn numbers(y: &str, m: &str, d: &str) -> Option<(i32, u32, u32)> {
    let all_digits =
        |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
    if !(all_digits(y) && all_digits(m) && all_digits(d)) {
        return None;
    }
    Some((y.parse().ok()?, m.parse().ok()?, d.parse().ok()?))
}

const TIME_HELP: &str =
    "type now, 14:05, 2:05p, or a date and a time such as t 9:30a or 11/25/2026 14:05";

/// Parses a time of day: `14:05`, `2:05p`, `2:05 pm`, `2p`, `9am`.
pub fn parse_time(raw: &str) -> Result<NaiveTime, String> {
    let text: String = raw.trim().to_lowercase().split_whitespace().collect();
    let (clock, meridiem) =
        if let Some(c) = text.strip_suffix("am").or_else(|| text.strip_suffix('a')) {
            (c, Some(false))
        } else if let Some(c) = text.strip_suffix("pm").or_else(|| text.strip_suffix('p')) {
            (c, Some(true))
        } else {
            (text.as_str(), None)
        };
    let (hour, minute) = match clock.split_once(':') {
        Some((h, m)) if m.len() == 2 => (h, m),
        None if meridiem.is_some() => (clock, "0"),
        _ => return Err(format!("'{}' is not a time; {TIME_HELP}", raw.trim())),
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(hour) || !digits(minute) {
        return Err(format!("'{}' is not a time; {TIME_HELP}", raw.trim()));
    }
    let (mut hour, minute): (u32, u32) = (hour.parse().unwrap_or(99), minute.parse().unwrap_or(99));
    if let Some(pm) = meridiem {
        if !(1..=12).contains(&hour) {
            return Err(format!("'{}': with am/pm the hour is 1 to 12", raw.trim()));
        }
        hour = match (hour, pm) {
            (12, false) => 0,
            (12, true) => 12,
            (h, true) => h + 12,
            (h, false) => h,
        };
    }
    NaiveTime::from_hms_opt(hour, minute, 0).ok_or_else(|| {
        format!(
            "'{}' is not a real time; hours 0-23, minutes 0-59",
            raw.trim()
        )
    })
}

/// Parses an administration date-time. `now` is the current time in the clinic's zone;
/// a typed time gets the zone's UTC offset on its own date.
pub fn parse_datetime(raw: &str, now: ClinicTime) -> Result<EnteredDateTime, String> {
    let text = raw.trim();
    let lower = text.to_lowercase();
    if lower.is_empty() {
        return Err(format!("no date or time given; {TIME_HELP}"));
    }
    if lower == "now" || lower == "n" {
        return now
            .with_second(0)
            .and_then(|t| t.with_nanosecond(0))
            .map(|t| EnteredDateTime::At(t.fixed_offset()))
            .ok_or_else(|| "the clock gave a time that cannot be written".to_string());
    }
    if let Some(full) = with_offset(text) {
        return Ok(EnteredDateTime::At(full));
    }
    let today = now.date_naive();
    let mut tokens: Vec<String> = lower
        .replacen('t', " ", usize::from(looks_iso_with_time(&lower)))
        .split_whitespace()
        .map(str::to_string)
        .collect();
    // "2:05 pm" arrives as two tokens: join the meridiem to its time.
    if tokens.len() >= 2 && matches!(tokens[tokens.len() - 1].as_str(), "am" | "pm" | "a" | "p") {
        let meridiem = tokens.pop().unwrap_or_default();
        if let Some(last) = tokens.last_mut() {
            last.push_str(&meridiem);
        }
    }
    let at = |date: NaiveDate, time: NaiveTime| at_clinic(date, time, now.timezone());
    match tokens.as_slice() {
        [single] => {
            if let Ok(time) = parse_time(single) {
                return at(today, time);
            }
            parse_date(single, today)
                .map(EnteredDateTime::Date)
                .map_err(|_| format!("'{text}' is not a date or time; {TIME_HELP}"))
        }
        [date, time] => {
            let date = parse_date(date, today)?;
            let time = parse_time(time)?;
            at(date, time)
        }
        _ => Err(format!("'{text}' is not a date and time; {TIME_HELP}")),
    }
}

/// A date-time typed with its own UTC offset: RFC 3339, or without seconds
/// (`2027-11-07T01:30-05:00`).
pub fn with_offset(text: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M%:z"))
        .ok()
}

/// A clock time on a date in the clinic's zone, with that day's UTC offset. A time
/// the clocks skipped, or showed twice, is refused with what to type instead.
fn at_clinic(
    date: NaiveDate,
    time: NaiveTime,
    zone: chrono_tz::Tz,
) -> Result<EnteredDateTime, String> {
    let local = date.and_time(time);
    let shown = format!("{} on {}", time.format("%H:%M"), display_date(date));
    match zone.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) => Ok(EnteredDateTime::At(t.fixed_offset())),
        chrono::LocalResult::None => Err(format!(
            "{shown} did not happen in {}: the clocks went forward then; check the time (an hour later is probably meant)",
            zone.name()
        )),
        chrono::LocalResult::Ambiguous(first, second) => {
            let iso = |t: DateTime<chrono_tz::Tz>| t.format("%Y-%m-%dT%H:%M%:z").to_string();
            Err(format!(
                "{shown} happened twice in {} (the clocks went back an hour); type {} for the first or {} for the second",
                zone.name(),
                iso(first),
                iso(second)
            ))
        }
    }
}

fn looks_iso_with_time(lower: &str) -> bool {
    lower.len() > 11
        && lower.as_bytes().get(10) == Some(&b't')
        && lower.as_bytes()[..4].iter().all(u8::is_ascii_digit)
}

/// Parses an amount in mL: `0.5`, `.5`, `0.5 mL`.
pub fn parse_amount(raw: &str) -> Result<f64, String> {
    let text = raw.trim().to_lowercase();
    let number = text.strip_suffix("ml").unwrap_or(&text).trim();
    match number.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!(
            "'{}' is not an amount; type the mL as a number, e.g. 0.5",
            raw.trim()
        )),
    }
}

/// Parses yes/no.
pub fn parse_yes_no(raw: &str) -> Result<bool, String> {
    match raw.trim().to_lowercase().as_str() {
        "y" | "yes" | "true" => Ok(true),
        "n" | "no" | "false" => Ok(false),
        _ => Err(format!("'{}' is not yes or no; type y or n", raw.trim())),
    }
}

/// Parses a dose number in a series (1 or more).
pub fn parse_count(raw: &str) -> Result<u32, String> {
    match raw.trim().parse::<u32>() {
        Ok(n) if (1..=99).contains(&n) => Ok(n),
        _ => Err(format!(
            "'{}' is not a dose number; type 1, 2, 3 ...",
            raw.trim()
        )),
    }
}

/// Normalises an NDC to 11 digits: 11 digits with or without 5-4-2 dashes, 10 digits
/// with their dashes (4-4-2, 5-3-2, 5-4-1) so the missing zero can be placed, or 10
/// without dashes when CDC's crosswalk places it.
pub fn parse_ndc(raw: &str) -> Result<String, String> {
    let text = raw.trim();
    let segments: Vec<&str> = text.split('-').collect();
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !segments.iter().all(|s| digits_only(s)) {
        return Err(format!(
            "'{text}' is not an NDC; it has only digits and dashes"
        ));
    }
    let padded = match segments.as_slice() {
        [all] if all.len() == 11 => return Ok(all.to_string()),
        [a, b, c] if a.len() == 5 && b.len() == 4 && c.len() == 2 => format!("{a}{b}{c}"),
        [a, b, c] if a.len() == 4 && b.len() == 4 && c.len() == 2 => format!("0{a}{b}{c}"),
        [a, b, c] if a.len() == 5 && b.len() == 3 && c.len() == 2 => format!("{a}0{b}{c}"),
        [a, b, c] if a.len() == 5 && b.len() == 4 && c.len() == 1 => format!("{a}{b}0{c}"),
        [all] if all.len() == 10 => {
            // Which segment is short cannot be told from the digits; CDC's vaccine
            // NDCs can, when only one of the three forms is one of them.
            return match crate::codes::ndc::from_ten_digits(all).as_slice() {
                [one] => Ok(one.digits()),
                [] => Err(format!(
                    "'{text}' has 10 digits without dashes, and no vaccine NDC is written so; type it with the dashes as printed (e.g. 1234-5678-90)"
                )),
                several => Err(format!(
                    "'{text}' could be {}; type it with the dashes as printed",
                    several
                        .iter()
                        .map(|p| format!("{} ({})", p.ndc, p.name))
                        .collect::<Vec<_>>()
                        .join(" or ")
                )),
            };
        }
        _ => {
            return Err(format!(
                "'{text}' is not an NDC; it has 11 digits, or 10 with dashes as 4-4-2, 5-3-2 or 5-4-1"
            ));
        }
    };
    Ok(padded)
}

/// Digits of a US phone number (10), accepting a leading 1 and any punctuation.
pub fn parse_us_phone(raw: &str) -> Result<String, String> {
    let text = raw.trim();
    if text.chars().any(|c| c.is_alphabetic()) {
        return Err(format!(
            "'{text}' has letters; type the 10 digits of the phone number"
        ));
    }
    let mut digits: String = text.chars().filter(char::is_ascii_digit).collect();
    if digits.len() == 11 && digits.starts_with('1') {
        digits.remove(0);
    }
    if digits.len() != 10 {
        return Err(format!(
            "'{text}' has {} digits; a US phone number has 10, e.g. 617-555-0100",
            digits.len()
        ));
    }
    Ok(format!(
        "{}-{}-{}",
        &digits[0..3],
        &digits[3..6],
        &digits[6..10]
    ))
}

/// A US ZIP code: `12345` or `12345-6789` (or 9 digits).
pub fn parse_us_zip(raw: &str) -> Result<String, String> {
    let text = raw.trim();
    let digits: String = text.chars().filter(|c| *c != '-').collect();
    let only_digits = digits.bytes().all(|b| b.is_ascii_digit());
    let dash_ok = !text.contains('-') || (text.len() == 10 && text.as_bytes()[5] == b'-');
    match digits.len() {
        5 if only_digits && !text.contains('-') => Ok(digits),
        9 if only_digits && dash_ok => Ok(format!("{}-{}", &digits[0..5], &digits[5..9])),
        _ => Err(format!(
            "'{text}' is not a ZIP code; type 5 digits or ZIP+4 as 12345-6789"
        )),
    }
}

/// Whether a 10-digit NPI passes its check digit (Luhn over `80840` + the NPI).
pub fn npi_is_valid(npi: &str) -> bool {
    let npi = npi.trim();
    if npi.len() != 10 || !npi.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let full = format!("80840{npi}");
    let sum: u32 = full
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_is_whole_once_no_key_could_make_it_another() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        for text in ["02031990", "2/3/1990", "02/03/1990", "1990-02-03"] {
            assert!(is_whole_date(text, false, today), "{text}");
            assert!(is_whole_date(text, true, today), "{text}");
        }
        assert!(is_whole_date("06/2027", true, today));
        for text in [
            "0203199",
            "2/3/199",
            "1990-02-3",
            "1990-02",
            "06/2027",
            "t",
            "t-3",
            "13011990",
            "01030050",
            "2/30/1990",
        ] {
            assert!(!is_whole_date(text, false, today), "{text}");
        }
        for text in ["062027", "2027-06", "06/202", "06/20"] {
            assert!(!is_whole_date(text, true, today), "{text}");
        }
    }

    #[test]
    fn an_expiry_month_means_its_last_day() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        for (raw, expected) in [
            ("06/2027", day(2027, 6, 30)),
            ("6/2027", day(2027, 6, 30)),
            ("2027-06", day(2027, 6, 30)),
            ("02/2028", day(2028, 2, 29)),
            ("12/2027", day(2027, 12, 31)),
            ("2027-06-15", day(2027, 6, 15)),
            ("06/15/2027", day(2027, 6, 15)),
            ("062027", day(2027, 6, 30)),
            ("022028", day(2028, 2, 29)),
            ("06152027", day(2027, 6, 15)),
        ] {
            assert_eq!(parse_expiry(raw, today), Ok(expected), "{raw}");
        }
        for raw in [
            "13/2027",
            "00/2027",
            "2027-13",
            "06/27",
            "6/2027/1",
            "June 2027",
            "132027",
            "002027",
            "06202",
            "0620277",
        ] {
            assert!(parse_expiry(raw, today).is_err(), "{raw}");
        }
        assert!(
            parse_date("06/2027", today).is_err(),
            "only an expiry date may be a month"
        );
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    fn now() -> ClinicTime {
        crate::clock::Clock::fixed("2026-11-25T14:07:31-05:00", chrono_tz::America::New_York)
            .unwrap()
            .now()
    }

    #[test]
    fn accepted_dates() {
        let cases = [
            ("2026-11-25", "2026-11-25"),
            ("11/25/2026", "2026-11-25"),
            ("1/5/2020", "2020-01-05"),
            ("11-25-2026", "2026-11-25"),
            ("11252026", "2026-11-25"),
            (" t ", "2026-11-25"),
            ("today", "2026-11-25"),
            ("T-3", "2026-11-22"),
            ("t+30", "2026-12-25"),
            ("y", "2026-11-24"),
            ("yesterday", "2026-11-24"),
            ("2024-02-29", "2024-02-29"),
        ];
        for (input, want) in cases {
            let got = parse_date(input, today()).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(got.to_string(), want, "{input}");
        }
    }

    #[test]
    fn rejected_dates_say_why() {
        let cases = [
            ("", "no date"),
            ("11/25/26", "4-digit year"),
            ("2023-02-29", "not a real"),
            ("13/01/2020", "not a real"),
            ("25112026x", "not a date"),
            ("t-x", "t-N"),
            ("t-999999", "100 years"),
            ("tomorrow-ish", "not a date"),
            ("2026/11/25", "4-digit year"),
            ("0/0/0000", "not a real"),
        ];
        for (input, want) in cases {
            let err = parse_date(input, today()).expect_err(input);
            assert!(err.contains(want), "{input}: {err}");
        }
    }

    #[test]
    fn accepted_times_and_datetimes() {
        let cases = [
            ("now", "2026-11-25T14:07:00-05:00"),
            ("14:05", "2026-11-25T14:05:00-05:00"),
            ("2:05p", "2026-11-25T14:05:00-05:00"),
            ("2:05 pm", "2026-11-25T14:05:00-05:00"),
            ("12:30a", "2026-11-25T00:30:00-05:00"),
            ("9am", "2026-11-25T09:00:00-05:00"),
            ("t 9:30a", "2026-11-25T09:30:00-05:00"),
            ("y 16:00", "2026-11-24T16:00:00-05:00"),
            ("11/25/2026 2:05p", "2026-11-25T14:05:00-05:00"),
            ("2026-11-20T08:15", "2026-11-20T08:15:00-05:00"),
            ("2026-11-20T08:15:00+01:00", "2026-11-20T08:15:00+01:00"),
            ("2019-04-01", "2019-04-01"),
            ("t-2", "2026-11-23"),
        ];
        for (input, want) in cases {
            let got = parse_datetime(input, now()).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(got.to_fhir(), want, "{input}");
        }
    }

    #[test]
    fn each_time_gets_the_offset_of_its_own_date_in_the_clinic_zone() {
        use chrono_tz::America::{Los_Angeles, New_York};
        use chrono_tz::Pacific::{Honolulu, Kiritimati};
        let cases = [
            (New_York, "2026-10-01 14:05", "2026-10-01T14:05:00-04:00"),
            (New_York, "2026-10-01 23:30", "2026-10-01T23:30:00-04:00"),
            (New_York, "2026-12-01 14:05", "2026-12-01T14:05:00-05:00"),
            (New_York, "2027-03-14 01:59", "2027-03-14T01:59:00-05:00"),
            (New_York, "2027-03-14 03:00", "2027-03-14T03:00:00-04:00"),
            (New_York, "2027-11-07 00:30", "2027-11-07T00:30:00-04:00"),
            (New_York, "2027-11-07 02:00", "2027-11-07T02:00:00-05:00"),
            (Los_Angeles, "2026-07-04 12:00", "2026-07-04T12:00:00-07:00"),
            (Los_Angeles, "2027-03-14 01:30", "2027-03-14T01:30:00-08:00"),
            (Los_Angeles, "2027-03-14 03:30", "2027-03-14T03:30:00-07:00"),
            (Los_Angeles, "2027-11-07 03:00", "2027-11-07T03:00:00-08:00"),
            (Honolulu, "2026-07-04 12:00", "2026-07-04T12:00:00-10:00"),
            (Honolulu, "2027-03-14 02:30", "2027-03-14T02:30:00-10:00"),
            (Kiritimati, "2026-12-31 23:30", "2026-12-31T23:30:00+14:00"),
            (Kiritimati, "2027-03-14 02:30", "2027-03-14T02:30:00+14:00"),
            (
                New_York,
                "2027-11-07T01:30-05:00",
                "2027-11-07T01:30:00-05:00",
            ),
        ];
        for (zone, input, want) in cases {
            let now = crate::clock::Clock::fixed("2026-11-25T20:30:00Z", zone)
                .unwrap()
                .now();
            let got = parse_datetime(input, now).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(got.to_fhir(), want, "{input} in {}", zone.name());
        }
    }

    #[test]
    fn times_the_clocks_skipped_or_showed_twice_are_refused_with_what_to_type() {
        use chrono_tz::America::{Los_Angeles, New_York};
        let in_zone = |zone| {
            crate::clock::Clock::fixed("2026-11-25T20:30:00Z", zone)
                .unwrap()
                .now()
        };
        let err = parse_datetime("2027-03-14 02:30", in_zone(New_York)).unwrap_err();
        assert!(err.contains("did not happen in America/New_York"), "{err}");
        let err = parse_datetime("03/14/2027 2:15a", in_zone(Los_Angeles)).unwrap_err();
        assert!(err.contains("did not happen"), "{err}");
        let err = parse_datetime("2027-11-07 01:30", in_zone(New_York)).unwrap_err();
        assert!(err.contains("happened twice"), "{err}");
        assert!(
            err.contains("2027-11-07T01:30-04:00") && err.contains("2027-11-07T01:30-05:00"),
            "{err}"
        );
    }

    #[test]
    fn rejected_times() {
        for input in [
            "25:00",
            "13:00p",
            "2:5",
            "noon",
            "t 99",
            "1/2/2020 3:00 extra",
            "",
            "0p",
            "A 𐀀 ࠀt\u{e}",
            "ÿÿÿÿÿÿÿÿÿtt",
        ] {
            assert!(
                parse_datetime(input, now()).is_err(),
                "{input} should be rejected"
            );
        }
    }

    #[test]
    fn amounts_yes_no_counts() {
        assert_eq!(parse_amount("0.5"), Ok(0.5));
        assert_eq!(parse_amount(".25 mL"), Ok(0.25));
        assert!(parse_amount("half").is_err());
        assert!(parse_amount("NaN").is_err());
        assert_eq!(parse_yes_no("Y"), Ok(true));
        assert_eq!(parse_yes_no("no"), Ok(false));
        assert!(parse_yes_no("maybe").is_err());
        assert_eq!(parse_count("2"), Ok(2));
        assert!(parse_count("0").is_err());
        assert!(parse_count("two").is_err());
    }

    #[test]
    fn ndc_normalises_to_eleven_digits() {
        assert_eq!(parse_ndc("49281-0421-50").as_deref(), Ok("49281042150"));
        assert_eq!(parse_ndc("0006-4047-41").as_deref(), Ok("00006404741"));
        assert_eq!(parse_ndc("58160-820-11").as_deref(), Ok("58160082011"));
        assert_eq!(parse_ndc("58160-8201-1").as_deref(), Ok("58160820101"));
        assert_eq!(parse_ndc("49281042150").as_deref(), Ok("49281042150"));
        assert!(parse_ndc("4928104215").unwrap_err().contains("dashes"));
        assert!(parse_ndc("abc").is_err());
        assert!(parse_ndc("1-2-3").is_err());
    }

    #[test]
    fn phones_and_zips() {
        assert_eq!(
            parse_us_phone("(617) 555-0100").as_deref(),
            Ok("617-555-0100")
        );
        assert_eq!(
            parse_us_phone("+1 617 555 0100").as_deref(),
            Ok("617-555-0100")
        );
        assert!(parse_us_phone("555-0100").unwrap_err().contains("7 digits"));
        assert!(parse_us_phone("call me").is_err());
        assert_eq!(parse_us_zip("01101").as_deref(), Ok("01101"));
        assert_eq!(parse_us_zip("021391234").as_deref(), Ok("02139-1234"));
        assert_eq!(parse_us_zip("02139-1234").as_deref(), Ok("02139-1234"));
        for bad in ["0213", "02139-12", "ABCDE", "0213-91234"] {
            assert!(parse_us_zip(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn npi_check_digit() {
        assert!(npi_is_valid("1234567893"));
        assert!(!npi_is_valid("1234567890"));
        assert!(!npi_is_valid("123456789"));
        assert!(!npi_is_valid("12345678a3"));
    }
}

//! CDSi's ages and intervals ("12 months - 4 days", "19 years", "4 weeks") and the
//! date arithmetic CDC prescribes for them: years, then months (a day that does not
//! exist moves to the first of the next month), then weeks and days.

use chrono::{Datelike, Days, NaiveDate};

/// A span of time as CDSi writes it: whole years, months and days (weeks are 7 days).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Span {
    years: i32,
    months: i32,
    days: i64,
}

impl Span {
    /// Reads "N unit [(+|-) N unit]..."; None for empty text or anything else.
    pub fn parse(text: &str) -> Option<Span> {
        let mut span = Span::default();
        let mut sign = 1;
        let mut words = text.split_whitespace();
        let mut any = false;
        let mut signed = false;
        while let Some(word) = words.next() {
            match word {
                "+" | "-" if any && !signed => {
                    sign = if word == "+" { 1 } else { -1 };
                    signed = true;
                }
                number => {
                    signed = false;
                    let n: i32 = number.parse().ok().filter(|n| *n < 100_000)?;
                    let unit = words.next()?.to_ascii_lowercase();
                    let n = sign * n;
                    match unit.trim_end_matches('s') {
                        "year" => span.years += n,
                        "month" => span.months += n,
                        "week" => span.days += 7 * i64::from(n),
                        "day" => span.days += i64::from(n),
                        _ => return None,
                    }
                    any = true;
                }
            }
        }
        (any && !signed).then_some(span)
    }

    /// The date this span after `date`, by CDC's rules; None past the calendar's end.
    pub fn after(self, date: NaiveDate) -> Option<NaiveDate> {
        let months = (date.year() * 12 + date.month0() as i32)
            .checked_add(self.years.checked_mul(12)?)?
            .checked_add(self.months)?;
        let (year, month0) = (months.div_euclid(12), months.rem_euclid(12) as u32);
        let moved = NaiveDate::from_ymd_opt(year, month0 + 1, date.day()).or_else(|| {
            let (y, m) = if month0 == 11 {
                (year + 1, 1)
            } else {
                (year, month0 + 2)
            };
            NaiveDate::from_ymd_opt(y, m, 1)
        })?;
        if self.days >= 0 {
            moved.checked_add_days(Days::new(self.days.unsigned_abs()))
        } else {
            moved.checked_sub_days(Days::new(self.days.unsigned_abs()))
        }
    }
}

/// A date `days` before (negative) or after `date`, saturating at the calendar's ends.
pub fn shift(date: NaiveDate, days: i64) -> NaiveDate {
    let moved = if days >= 0 {
        date.checked_add_days(Days::new(days.unsigned_abs()))
    } else {
        date.checked_sub_days(Days::new(days.unsigned_abs()))
    };
    moved.unwrap_or(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn add(date: &str, span: &str) -> String {
        Span::parse(span)
            .unwrap()
            .after(d(date))
            .unwrap()
            .to_string()
    }

    #[test]
    fn cdcs_own_examples_of_date_arithmetic() {
        assert_eq!(add("2000-01-01", "3 years"), "2003-01-01");
        assert_eq!(add("2000-01-01", "6 months"), "2000-07-01");
        assert_eq!(add("2000-11-01", "6 months"), "2001-05-01");
        assert_eq!(add("2000-01-01", "3 days"), "2000-01-04");
        assert_eq!(add("2000-01-01", "3 weeks"), "2000-01-22");
        assert_eq!(add("2000-02-01", "5 weeks"), "2000-03-07");
        assert_eq!(add("2001-02-01", "5 weeks"), "2001-03-08");
        assert_eq!(add("2000-01-15", "0 days - 4 days"), "2000-01-11");
        assert_eq!(add("2000-03-31", "6 months"), "2000-10-01");
        assert_eq!(add("2000-08-31", "6 months"), "2001-03-01");
        assert_eq!(add("2000-01-31", "6 months - 4 days"), "2000-07-27");
        assert_eq!(add("2000-12-31", "1 year - 1 month"), "2001-12-01");
    }

    #[test]
    fn every_form_in_cdcs_data_is_read_and_nothing_else() {
        for text in [
            "19 years",
            "6 weeks - 4 days",
            "1 day",
            "1 year - 4 days",
            "4 months + 4 weeks",
            "2 months + 1 day",
            "0 days - 4 days",
            "1 month",
            "65 years - 2 months",
        ] {
            assert!(Span::parse(text).is_some(), "{text}");
        }
        for text in ["", "n/a", "12", "12 fortnights", "years 12", "4 weeks -"] {
            assert_eq!(Span::parse(text), None, "{text}");
        }
    }

    #[test]
    fn spans_never_overflow() {
        assert_eq!(Span::parse("9999999 years"), None);
        let far = Span::parse("99999 years + 99999 months + 99999 weeks").unwrap();
        assert!(far.after(d("2000-01-01")).is_some());
        assert_eq!(far.after(NaiveDate::MAX), None);
    }
}

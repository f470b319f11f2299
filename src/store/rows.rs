//! Rows become typed values at the database boundary: a visit's state and an
//! attempt's outcome as enums, times as UTC instants. Times are stored as
//! `YYYY-MM-DDTHH:MM:SS.mmmZ`, so they sort as text across DST changes and zones.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

/// A visit's place in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VisitState {
    Draft,
    Saved,
    Queued,
    Submitted,
    Failed,
    /// Came from elsewhere (a bundle file another system or station made): kept and
    /// read like the visits made here, never sent, corrected or voided from here.
    Received,
}

impl VisitState {
    pub const ALL: [VisitState; 6] = [
        VisitState::Draft,
        VisitState::Saved,
        VisitState::Queued,
        VisitState::Submitted,
        VisitState::Failed,
        VisitState::Received,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VisitState::Draft => "draft",
            VisitState::Saved => "saved",
            VisitState::Queued => "queued",
            VisitState::Submitted => "submitted",
            VisitState::Failed => "failed",
            VisitState::Received => "received",
        }
    }

    pub fn parse(text: &str) -> Option<VisitState> {
        VisitState::ALL.into_iter().find(|s| s.as_str() == text)
    }

    // What a visit in this state may become. These are the rules; the store checks
    // them in the write transaction that changes the state, and the screens ask them
    // before offering an action.

    /// It may be saved in its place: it was never sent.
    pub fn may_be_saved(self) -> bool {
        matches!(self, VisitState::Draft | VisitState::Saved)
    }

    /// It may be put in the outbox: saved, or failed and worth another try.
    pub fn may_be_queued(self) -> bool {
        matches!(self, VisitState::Saved | VisitState::Failed)
    }

    /// It was sent (and answered): a correction goes as a new message about it.
    pub fn may_be_corrected(self) -> bool {
        matches!(self, VisitState::Submitted | VisitState::Failed)
    }

    /// The endpoint took it: its doses may be voided.
    pub fn may_be_voided(self) -> bool {
        self == VisitState::Submitted
    }

    /// It waits in the outbox or failed: it may be tried again now.
    pub fn may_be_retried(self) -> bool {
        matches!(self, VisitState::Queued | VisitState::Failed)
    }

    /// Every state for which `rule` holds, to bind in SQL (`state IN rarray(?)`).
    pub fn all_where(rule: fn(VisitState) -> bool) -> rusqlite::vtab::array::Array {
        std::rc::Rc::new(
            VisitState::ALL
                .into_iter()
                .filter(|s| rule(*s))
                .map(|s| rusqlite::types::Value::Text(s.as_str().to_string()))
                .collect(),
        )
    }
}

/// How one attempt to send ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The endpoint took it.
    Submitted,
    /// The endpoint refused the message itself (a 4xx other than 401/403).
    Rejected,
    /// The endpoint or its token service refused the credentials.
    Credentials,
    /// No answer, or one that asks to try again later.
    Retry,
}

impl AttemptOutcome {
    pub const ALL: [AttemptOutcome; 4] = [
        AttemptOutcome::Submitted,
        AttemptOutcome::Rejected,
        AttemptOutcome::Credentials,
        AttemptOutcome::Retry,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Submitted => "submitted",
            AttemptOutcome::Rejected => "rejected",
            AttemptOutcome::Credentials => "credentials",
            AttemptOutcome::Retry => "retry",
        }
    }

    fn parse(text: &str) -> Option<AttemptOutcome> {
        AttemptOutcome::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// An instant as the database keeps it.
pub fn stored_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Reads a stored time; any RFC 3339 time is accepted.
pub fn read_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A stored time as a typed column value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct StoredTime(pub DateTime<Utc>);

fn text_column<T>(value: ValueRef<'_>, parse: impl Fn(&str) -> Option<T>) -> FromSqlResult<T> {
    let text = value.as_str()?;
    parse(text).ok_or_else(|| {
        FromSqlError::Other(
            format!(
                "'{}' is not a value this column can hold",
                text.escape_default()
            )
            .into(),
        )
    })
}

impl FromSql for VisitState {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        text_column(value, VisitState::parse)
    }
}

impl ToSql for VisitState {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for AttemptOutcome {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        text_column(value, AttemptOutcome::parse)
    }
}

impl ToSql for AttemptOutcome {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for StoredTime {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        text_column(value, read_time).map(StoredTime)
    }
}

impl ToSql for StoredTime {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(stored_time(self.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_times_are_utc_and_sort_as_text() {
        let before_dst_end = read_time("2026-11-01T01:30:00-04:00").unwrap();
        let after_dst_end = read_time("2026-11-01T01:10:00-05:00").unwrap();
        assert_eq!(stored_time(before_dst_end), "2026-11-01T05:30:00.000Z");
        assert!(stored_time(before_dst_end) < stored_time(after_dst_end));
    }

    #[test]
    fn states_and_outcomes_read_back_as_written() {
        for s in VisitState::ALL {
            assert_eq!(VisitState::parse(s.as_str()), Some(s));
        }
        for o in AttemptOutcome::ALL {
            assert_eq!(AttemptOutcome::parse(o.as_str()), Some(o));
        }
        assert_eq!(VisitState::parse("sent"), None);
    }
}

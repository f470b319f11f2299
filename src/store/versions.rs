//! Every version of a saved visit: the record and the exact bundle of each save and
//! each message sent again, with when, by whom (the OS user), at which station
//! (`[clinic] station`) and why. A version is never changed or removed, so a sent
//! message is never lost to a later one.

use super::packed::Packed;
use super::rows::StoredTime;
use super::{Store, stamp};
use crate::clock::ClinicTime;
use anyhow::Result;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use uuid::Uuid;

/// Why a version was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    Saved,
    SentAgain,
    Voided,
    Amended,
    /// A visit saved before versions were kept (filled in by the upgrade).
    BeforeVersions,
    /// Received from elsewhere, or changed by what was received later.
    Received,
}

impl Reason {
    pub const ALL: [Reason; 6] = [
        Reason::Saved,
        Reason::SentAgain,
        Reason::Voided,
        Reason::Amended,
        Reason::BeforeVersions,
        Reason::Received,
    ];

    /// How the database keeps it.
    pub fn code(self) -> &'static str {
        match self {
            Reason::Saved => "saved",
            Reason::SentAgain => "sent-again",
            Reason::Voided => "voided",
            Reason::Amended => "amended",
            Reason::BeforeVersions => "before-versions",
            Reason::Received => "received",
        }
    }

    /// In words, for the lists.
    pub fn words(self) -> &'static str {
        match self {
            Reason::Saved => "saved",
            Reason::SentAgain => "sent again as a new message",
            Reason::Voided => "voided: sent as entered-in-error",
            Reason::Amended => "amended: corrected and sent again",
            Reason::BeforeVersions => "saved (before versions were kept)",
            Reason::Received => "received from elsewhere",
        }
    }

    fn of_code(code: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.code() == code)
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.words())
    }
}

impl rusqlite::types::ToSql for Reason {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.code().into())
    }
}

impl rusqlite::types::FromSql for Reason {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let text = value.as_str()?;
        Reason::of_code(text).ok_or_else(|| {
            rusqlite::types::FromSqlError::Other(
                format!(
                    "'{}' is not a reason a version is made",
                    text.escape_default()
                )
                .into(),
            )
        })
    }
}

/// Who is at the keyboard, for the versions they make.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Author {
    /// The OS user name.
    pub user: String,
    /// The station's name from the config; empty when not set.
    pub station: String,
}

impl Author {
    /// The OS user of this process (`USER`, `LOGNAME` or `USERNAME`; without them, as
    /// under a service manager, its user id).
    pub fn of_this_process() -> Author {
        Author {
            user: user_named_by(|v| std::env::var(v).ok()),
            station: String::new(),
        }
    }
}

/// The user the environment (read by `var`) names, else the user id.
fn user_named_by(var: impl Fn(&str) -> Option<String>) -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| var(v).filter(|u| !u.trim().is_empty()))
        .unwrap_or_else(user_id)
}

/// The user id, when the environment names no user.
#[cfg(target_os = "linux")]
fn user_id() -> String {
    format!("uid {}", rustix::process::getuid().as_raw())
}

#[cfg(not(target_os = "linux"))]
fn user_id() -> String {
    "unknown".into()
}

/// One version of a visit.
#[derive(Clone, Debug, PartialEq)]
pub struct Version {
    pub number: u32,
    pub at: DateTime<Utc>,
    pub author: Author,
    pub why: Reason,
    pub bundle_id: String,
    pub record_json: String,
    pub bundle_json: String,
}

/// Adds the next version of visit `id`: its record and bundle as they are now. The
/// latest version reads them from the visit; a trigger copies them into it before
/// the visit's are replaced (schema 9).
pub(super) fn add(
    conn: &Connection,
    id: Uuid,
    why: Reason,
    author: &Author,
    now: ClinicTime,
) -> Result<()> {
    conn.execute(
        "INSERT INTO versions (visit_id, number, at, user, station, why, record_json, bundle_json, bundle_id)
         SELECT id, (SELECT coalesce(max(number), 0) + 1 FROM versions WHERE visit_id = ?1), ?2, ?3, ?4, ?5,
                NULL, NULL, bundle_id
         FROM visits WHERE id = ?1 AND bundle_json IS NOT NULL",
        params![id.to_string(), stamp(now), author.user, author.station, why],
    )?;
    Ok(())
}

impl Store {
    /// Every version of a visit, oldest first.
    pub fn versions(&self, id: Uuid) -> super::Result<Vec<Version>> {
        let result = (|| -> Result<Vec<Version>> {
            let mut stmt = self.conn.prepare(
                "SELECT number, at, user, station, why, versions.bundle_id AS bundle_id,
                        coalesce(versions.record_json, visits.record_json) AS record_json,
                        coalesce(versions.bundle_json, visits.bundle_json) AS bundle_json
                 FROM versions JOIN visits ON visits.id = versions.visit_id
                 WHERE visit_id = ?1 ORDER BY number",
            )?;
            let rows = stmt
                .query_map([id.to_string()], |r| {
                    Ok(Version {
                        number: r.get("number")?,
                        at: r.get::<_, StoredTime>("at")?.0,
                        author: Author {
                            user: r.get("user")?,
                            station: r.get("station")?,
                        },
                        why: r.get("why")?,
                        bundle_id: r.get("bundle_id")?,
                        record_json: r.get::<_, Packed>("record_json")?.0,
                        bundle_json: r.get::<_, Packed>("bundle_json")?.0,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })();
        self.checked(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_author_is_the_user_named_else_the_user_id() {
        let named = |name: &'static str| move |v: &str| (v == "LOGNAME").then(|| name.to_string());
        assert_eq!(user_named_by(named("nurse.ana")), "nurse.ana");
        let nameless = user_named_by(named("  "));
        #[cfg(target_os = "linux")]
        assert_eq!(
            nameless,
            format!("uid {}", rustix::process::getuid().as_raw())
        );
        assert_ne!(nameless.trim(), "");
    }
}

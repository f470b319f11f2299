//! `vaxentry list`, `show`, `export` and `import`: the local database from the shell.

use super::UNREADABLE;
use crate::clock::{ClinicTime, Clock};
use crate::config::Config;
use crate::corrections;
use crate::fhir;
use crate::record::{FieldId, Severity, check_known_patient, file, identity, validate};
use crate::store::{ListQuery, StagedFiles, Store, VisitState};
use anyhow::{Context, Result, bail};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use uuid::Uuid;

/// Prints an error for the user and returns the exit status for it.
pub(super) fn fail(e: &dyn std::fmt::Display) -> ExitCode {
    err!("vaxentry: {e:#}");
    ExitCode::from(UNREADABLE)
}

fn parse_state(text: Option<&str>) -> Result<Option<VisitState>> {
    match text {
        None => Ok(None),
        Some(t) => match VisitState::parse(t) {
            Some(s) => Ok(Some(s)),
            None => {
                bail!("--state {t} is not a state; use draft, saved, queued, submitted or failed")
            }
        },
    }
}

/// `--since DATE`: from the start of that day in the clinic's zone.
fn parse_since(text: Option<&str>, now: ClinicTime) -> Result<Option<DateTime<Utc>>> {
    let Some(text) = text else { return Ok(None) };
    let date = crate::record::parse::parse_date(text, now.date_naive())
        .map_err(|e| anyhow::anyhow!("--since: {e}"))?;
    let midnight = date.and_time(chrono::NaiveTime::MIN);
    let zone = now.timezone();
    // A zone whose clocks skip midnight that day starts it at the first moment that exists.
    let start = zone
        .from_local_datetime(&midnight)
        .earliest()
        .or_else(|| {
            zone.from_local_datetime(&(midnight + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.to_utc())
        .unwrap_or_else(|| midnight.and_utc());
    Ok(Some(start))
}

/// How `list` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListFormat {
    Table,
    /// One JSON array.
    Json,
    /// One JSON object per line.
    JsonLines,
}

pub fn list(
    store: &Store,
    state: Option<&str>,
    since: Option<&str>,
    format: ListFormat,
    now: ClinicTime,
) -> ExitCode {
    let query = (|| -> Result<ListQuery> {
        Ok(ListQuery {
            state: parse_state(state)?,
            since: parse_since(since, now)?,
            limit: usize::MAX >> 1,
            ..ListQuery::default()
        })
    })();
    let query = match query {
        Ok(q) => q,
        Err(e) => return fail(&e),
    };
    // Printed as they are read, so memory stays flat however many visits there are.
    let mut count = 0usize;
    if format == ListFormat::Json {
        out_raw!("[");
    }
    let listed = store.each_listed(&query, &mut |r| {
        match format {
            ListFormat::Table => out!(
                "{}  {:<12}  {:<10}  {:<12}  {:<28}  {}",
                &r.id.to_string()[..8],
                r.state_label(),
                r.visit_date,
                r.mrn,
                r.patient_name,
                r.vaccines
            ),
            ListFormat::Json | ListFormat::JsonLines => {
                let item = json!({"id": r.id.to_string(), "state": r.state.as_str(), "mrn": r.mrn, "patient": r.patient_name,
                       "vaccines": r.vaccines, "visit_date": r.visit_date, "updated_at": crate::store::rows::stored_time(r.updated_at),
                       "version": r.version, "amended": r.amended});
                match (format, count) {
                    (ListFormat::JsonLines, _) => out!("{item}"),
                    (_, 0) => out_raw!("\n  {item}"),
                    _ => out_raw!(",\n  {item}"),
                }
            }
        }
        count += 1;
        Ok(())
    });
    if format == ListFormat::Json {
        out!("{}]", if count > 0 { "\n" } else { "" });
    }
    if let Err(e) = listed {
        return fail(&e);
    }
    if format == ListFormat::Table {
        err!("{count} visit(s)");
    }
    ExitCode::SUCCESS
}

/// Finds a visit by its id or an unambiguous start of it (at least 4 characters).
pub(super) fn find(store: &Store, id: &str) -> Result<Uuid> {
    if let Ok(full) = Uuid::parse_str(id) {
        return Ok(full);
    }
    if id.len() < 4 {
        bail!(
            "'{id}' is too short; give at least the first 4 characters of the id from `vaxentry list`"
        );
    }
    match store.ids_starting(&id.to_lowercase(), 2)?.as_slice() {
        [one] => Ok(*one),
        [] => bail!("no visit has an id starting with '{id}'; see `vaxentry list`"),
        _ => bail!("several visits have ids starting with '{id}'; give more of the id"),
    }
}

pub fn show(store: &Store, id: &str, now: ClinicTime) -> ExitCode {
    let visit = find(store, id).and_then(|id| {
        store
            .get(id)?
            .with_context(|| format!("visit {id} is not in the database"))
    });
    match visit {
        Err(e) => fail(&e),
        Ok(v) => {
            out!(
                "# visit {} ({}), updated {}",
                v.row.id,
                v.row.state.as_str(),
                v.row.updated_at.with_timezone(&now.timezone()).to_rfc3339()
            );
            if let Some((from, at)) = &v.received {
                out!(
                    "# received from {} at {}",
                    crate::untrusted::plain(from),
                    at.with_timezone(&now.timezone()).to_rfc3339()
                );
            }
            out!("# record");
            out_raw!("{}", v.record_json);
            match &v.bundle_json {
                Some(bundle) => {
                    out!("# bundle {}", v.bundle_id.as_deref().unwrap_or(""));
                    out_raw!("{bundle}");
                }
                None => out!("# no bundle yet: the visit is a draft"),
            }
            ExitCode::SUCCESS
        }
    }
}

/// Exactly what goes to the endpoint for one visit's latest message (the message, or
/// the transaction made from it), and nothing else, for scripts.
pub fn show_as_sent(
    store: &Store,
    id: &str,
    protocol: crate::submit::protocol::Protocol,
) -> ExitCode {
    let sent = find(store, id)
        .and_then(|id| {
            store
                .get(id)?
                .with_context(|| format!("visit {id} is not in the database"))
        })
        .and_then(|v| {
            let message = v
                .bundle_json
                .context("the visit is a draft: nothing is sent for it yet")?;
            protocol
                .wire(
                    v.row.id,
                    v.bundle_id.as_deref().unwrap_or_default(),
                    &message,
                )
                .map_err(anyhow::Error::msg)
        });
    match sent {
        Ok(body) => {
            out_raw!("{body}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// Every version of one visit, oldest first, each with its bundle.
pub fn show_versions(store: &Store, id: &str, now: ClinicTime) -> ExitCode {
    let versions = find(store, id).and_then(|id| Ok((id, store.versions(id)?)));
    match versions {
        Err(e) => fail(&e),
        Ok((id, versions)) if versions.is_empty() => {
            out!("# visit {id} has no saved version yet (a draft)");
            ExitCode::SUCCESS
        }
        Ok((id, versions)) => {
            out!("# visit {id}: {} version(s)", versions.len());
            for v in versions {
                let who = match (v.author.user.as_str(), v.author.station.as_str()) {
                    ("", _) => String::new(),
                    (user, "") => format!(" by {user}"),
                    (user, station) => format!(" by {user} at {station}"),
                };
                out!(
                    "# version {}: {} {}{who}, bundle {}",
                    v.number,
                    v.why,
                    v.at.with_timezone(&now.timezone()).to_rfc3339(),
                    v.bundle_id
                );
                out_raw!("{}", v.bundle_json);
            }
            ExitCode::SUCCESS
        }
    }
}

/// Bundle files written per sync of the disk.
const EXPORT_BATCH: usize = 1000;

pub fn export(store: &Store, since: Option<&str>, out: &Path, now: ClinicTime) -> ExitCode {
    let bar = progress_bar(0, "bundle files written");
    let run = || -> Result<u64> {
        let since = parse_since(since, now)?;
        if let Some(warning) = crate::store::export_dir_create(out)? {
            bar.suspend(|| err!("vaxentry: warning: {warning}"));
        }
        crate::store::remove_abandoned(out);
        let mut staged = StagedFiles::default();
        let mut written = 0;
        store.each_bundle(
            since,
            &mut |total| bar.set_length(total),
            &mut |bundle_id, json| {
                staged.stage(&out.join(format!("{bundle_id}.json")), json.as_bytes())?;
                if staged.count() == EXPORT_BATCH {
                    staged.make_durable()?;
                    staged.put_in_place()?;
                    written += EXPORT_BATCH as u64;
                    bar.set_position(written);
                }
                Ok(())
            },
        )?;
        written += staged.count() as u64;
        staged.make_durable()?;
        staged.put_in_place()?;
        Ok(written)
    };
    let result = run();
    bar.finish_and_clear();
    match result {
        Ok(n) => {
            err!("{n} bundle file(s) written to {}", out.display());
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// Puts visits in the outbox: the ones named, or every saved one. Each is reported.
pub fn send(store: &mut Store, ids: &[String], all_saved: bool, now: ClinicTime) -> ExitCode {
    let chosen: Result<Vec<(String, Result<Uuid>)>> = if all_saved {
        store
            .list(&ListQuery {
                state: Some(VisitState::Saved),
                limit: usize::MAX >> 1,
                ..ListQuery::default()
            })
            .map(|rows| {
                rows.into_iter()
                    .map(|r| (r.id.to_string(), Ok(r.id)))
                    .collect()
            })
            .map_err(anyhow::Error::from)
    } else {
        Ok(ids.iter().map(|id| (id.clone(), find(store, id))).collect())
    };
    let chosen = match chosen {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    let mut worst = 0u8;
    let mut queued = 0;
    for (named, id) in chosen {
        match id.and_then(|id| Ok(store.queue(id, now).map(|()| id)?)) {
            Ok(id) => {
                queued += 1;
                out!("{id}: put in the outbox");
            }
            Err(e) => {
                worst = 1;
                out!("{named}: not put in the outbox: {e:#}");
            }
        }
    }
    if all_saved {
        err!("vaxentry send: {queued} saved visit(s) put in the outbox");
    }
    ExitCode::from(worst)
}

/// Voids a sent visit or one of its doses (with `yes`), or says what would be sent.
pub fn void(
    store: &mut Store,
    id: &str,
    dose: Option<usize>,
    yes: bool,
    settings: &crate::fhir::BundleSettings,
    now: ClinicTime,
) -> ExitCode {
    let planned = find(store, id).and_then(|id| Ok((id, corrections::plan_void(store, id, dose)?)));
    let (id, plan) = match planned {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    let what = corrections::describe(&plan.doses);
    if !yes {
        out!(
            "{id}: would send {what} as entered-in-error (a new message, the same Immunization identifiers); add --yes to send it"
        );
        // A dry run that could go is a success; one that could not has failed above.
        return ExitCode::SUCCESS;
    }
    match corrections::void(store, id, &plan, now, settings) {
        Ok(()) => {
            out!("{id}: {what} voided; the message waits in the outbox (vaxentry sync sends it)");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// Amends a sent visit with a corrected record file: its next message, about the same
/// Patient and Immunizations, queued for `vaxentry sync`, kept as a new version.
pub fn amend(
    store: &mut Store,
    id: &str,
    record: &Path,
    settings: &crate::fhir::BundleSettings,
    now: ClinicTime,
) -> ExitCode {
    let corrected = file::read_text(record, file::MOST_BYTES)
        .map_err(|e| anyhow::anyhow!("{}: {e}", record.display()))
        .and_then(|text| {
            file::from_json(&text)
                .map_err(|e| anyhow::anyhow!("{}: not a record file: {e}", record.display()))
        });
    let planned = corrected.and_then(|visit| Ok((find(store, id)?, visit)));
    let (id, visit) = match planned {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    let message = store
        .get(id)
        .map_err(anyhow::Error::from)
        .and_then(|stored| {
            stored.ok_or_else(|| anyhow::anyhow!("that visit is not in the database"))
        })
        .and_then(|stored| corrections::correction_of(&stored, true))
        .map(|correction| {
            let message = crate::fhir::message_sent_again(&visit, settings, now, id, &correction);
            (correction.sending, message)
        });
    let (sending, message) = match message {
        Ok((sending, Ok(message))) => (sending, message),
        Ok((_, Err(invalid))) => {
            err!("{}: {invalid}", record.display());
            for f in &invalid.0 {
                err!("error   {} · {}", f.at.section(), f.message);
            }
            return ExitCode::from(1);
        }
        Err(e) => return fail(&e),
    };
    let moved_from = corrections::sent_mrn(store, id).unwrap_or_default();
    match corrections::amend(store, id, &visit, &message, sending, now, settings) {
        Ok(corrections::Amended::Version(version)) => {
            out!(
                "{id}: amended v{version}, bundle {}; the message waits in the outbox (vaxentry sync sends it)",
                message.bundle_id
            );
            ExitCode::SUCCESS
        }
        Ok(corrections::Amended::Moved { to }) => {
            out!(
                "{id}: the record is for MRN {}, not {moved_from}: a dose cannot move to another patient, so its doses are voided under {moved_from} and recorded anew under {} as visit {to}; both messages wait in the outbox (vaxentry sync sends them)",
                visit.patient.get(FieldId::Mrn).trim(),
                visit.patient.get(FieldId::Mrn).trim(),
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// How `import` treats what it reads.
#[derive(Clone, Copy, Debug, Default)]
pub struct ImportOptions {
    /// Put the imported visits in the outbox.
    pub submit: bool,
    /// Import doses the store already has.
    pub allow_duplicates: bool,
}

/// What became of one record file.
enum Imported {
    New(Uuid),
    /// The same record was imported before: nothing new is made (with --submit, a
    /// visit saved but not yet in the outbox is put there).
    Again {
        id: Uuid,
        state: VisitState,
        queued: bool,
    },
    Refused(Vec<String>),
    /// A FHIR Bundle: what became of each visit in it, and what was left out.
    Received {
        kept: Vec<crate::store::received::Kept>,
        left_out: Vec<String>,
    },
}

/// Record files imported per transaction (and per sync of their bundle files).
const IMPORT_BATCH: usize = 500;

pub fn import(
    store: &mut Store,
    files: &[PathBuf],
    config: &Config,
    how: ImportOptions,
    clock: Clock,
) -> ExitCode {
    let settings = config.bundle_settings();
    let mut worst = 0u8;
    let bar = progress_bar(files.len(), "files imported");
    for chunk in files.chunks(IMPORT_BATCH) {
        // What each file became is said once its batch is durable, never before.
        let batch = store.batch(|store| {
            Ok(chunk
                .iter()
                .map(|path| (path, import_one(store, path, &settings, how, clock)))
                .collect::<Vec<_>>())
        });
        let outcomes = match batch {
            Ok(outcomes) => outcomes,
            Err(e) => chunk
                .iter()
                .map(|path| (path, Err(anyhow::anyhow!("{e:#}"))))
                .collect(),
        };
        bar.suspend(|| {
            for (path, outcome) in outcomes {
                worst = worst.max(report_import(path, outcome));
            }
        });
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    ExitCode::from(worst)
}

/// A progress bar on stderr for `total` things, with the time left; hidden when
/// stderr is not a terminal.
fn progress_bar(total: usize, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{wide_bar}} {{pos}}/{{len}} {what}, {{eta}} left"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// Checks and saves one record file.
fn import_one(
    store: &mut Store,
    path: &Path,
    settings: &crate::fhir::BundleSettings,
    how: ImportOptions,
    clock: Clock,
) -> Result<Imported> {
    let text = file::read_text(path, file::MOST_BYTES).map_err(anyhow::Error::msg)?;
    if let Some(resource) = fhir_resource(&text) {
        let read = crate::fhir::received::read_parsed(&resource, &text, settings)
            .map_err(anyhow::Error::msg)?;
        let source = format!("file {}", path.display());
        if how.submit {
            out!(
                "{}: a bundle from elsewhere is received, never sent from here (--submit does not apply)",
                path.display()
            );
        }
        let kept = read
            .visits
            .iter()
            .map(|v| store.receive(v, &text, &source, clock.now()))
            .collect::<crate::store::Result<Vec<_>>>()?;
        return Ok(Imported::Received {
            kept,
            left_out: read.left_out,
        });
    }
    let mut visit =
        file::from_json(&text).map_err(|e| anyhow::anyhow!("not a record file: {e}"))?;
    let now = clock.now();
    visit.fix_dates(now);
    let on_hand: Vec<crate::record::stock::OnHand> =
        store.lots(None, true)?.iter().map(Into::into).collect();
    let errors: Vec<String> = validate(&visit, now, settings.rules)
        .into_iter()
        .chain(crate::record::stock::check_lots(&visit, &on_hand, now))
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{} · {}", f.at.section(), f.message))
        .collect();
    if !errors.is_empty() {
        return Ok(Imported::Refused(errors));
    }
    if let Some((id, state)) = store.visit_of_record(&visit)? {
        let queued = how.submit && state == VisitState::Saved;
        if queued {
            store.queue(id, now)?;
        }
        return Ok(Imported::Again { id, state, queued });
    }
    let mrn = visit.patient.get(crate::record::FieldId::Mrn).to_string();
    if let Some(known) = store.patient(&mrn)?
        && let Some(conflict) = check_known_patient(&visit.patient, &known, now)
    {
        out!("{}: warning {}", path.display(), conflict.message);
    }
    let stored = store.doses_of(&mrn)?;
    let same = identity::same_stored_doses(&visit, &stored, now);
    if !same.is_empty() && !how.allow_duplicates {
        return Ok(Imported::Refused(
                same.iter()
                    .map(|(i, s)| {
                        format!(
                            "Dose {} · CVX {} given {} (lot {}) is already stored for MRN {} in visit {}; \
                             if it really was given twice, import with --allow-duplicates",
                            i + 1,
                            s.key.vaccine,
                            s.key.given_on,
                            if s.key.lot.is_empty() { "none" } else { &s.key.lot },
                            s.key.mrn,
                            s.visit
                        )
                    })
                    .collect(),
            ));
    }
    let id = Uuid::new_v4();
    let message =
        fhir::message_for(&visit, settings, now, id).map_err(|e| anyhow::anyhow!("{e}"))?;
    store.save(id, &visit, &message, now)?;
    if how.submit {
        store.queue(id, now)?;
    }
    Ok(Imported::New(id))
}

/// The file as a FHIR resource (it names its `resourceType`), parsed once; `None` for
/// a record file, which is not parsed here at all.
fn fhir_resource(text: &str) -> Option<serde_json::Value> {
    if !text.contains("\"resourceType\"") {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    value.get("resourceType").is_some().then_some(value)
}

/// Says what became of one record file; returns the exit status it calls for.
fn report_import(path: &Path, outcome: Result<Imported>) -> u8 {
    use crate::store::received::Kept;
    match outcome {
        Ok(Imported::Received { kept, left_out }) => {
            for k in &kept {
                match k {
                    Kept::New(id) => out!("{}: received as {id}", path.display()),
                    Kept::Known(id) => {
                        out!("{}: received before as {id}, nothing new", path.display())
                    }
                    Kept::Voided(n) => out!(
                        "{}: {n} dose(s) received before voided (entered-in-error)",
                        path.display()
                    ),
                    Kept::Own(id) => out!(
                        "{}: this station's own visit {id}, kept once",
                        path.display()
                    ),
                }
            }
            for what in &left_out {
                out!("  left out  {}", crate::untrusted::plain(what));
            }
            match (kept.is_empty(), left_out.is_empty()) {
                (true, true) => {
                    out!("{}: the bundle holds no immunizations", path.display());
                    1
                }
                (true, false) => 1,
                _ => 0,
            }
        }
        Ok(Imported::New(id)) => {
            out!("{}: imported as {id}", path.display());
            0
        }
        Ok(Imported::Again { id, state, queued }) => {
            let then = if queued {
                "; put in the outbox now"
            } else {
                ""
            };
            out!(
                "{}: already imported as {id} ({}), nothing new imported{then}",
                path.display(),
                state.as_str()
            );
            0
        }
        Ok(Imported::Refused(errors)) => {
            out!(
                "{}: not imported, {} error(s):",
                path.display(),
                errors.len()
            );
            for e in errors {
                out!("  error   {e}");
            }
            1
        }
        Err(e) => {
            out!("{}: not imported: {e:#}", path.display());
            UNREADABLE
        }
    }
}

//! The command line: `vaxentry` opens the form; the subcommands work headless on
//! record files, bundle files, the code tables and the local database.

/// A line to stdout. A closed stdout (`vaxentry import ... | head -1`) is not an
/// error: the work goes on and ends quietly.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Text to stdout as it is (a bundle), likewise.
macro_rules! out_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

/// A line to stderr, likewise.
macro_rules! err {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod card;
mod check;
mod forecast;
mod history;
mod lots;
mod receive;
mod records;
mod sync;

use crate::clock::{ClinicTime, Clock};
use crate::codes::{TableId, search, table};
use crate::config::Config;
use crate::fhir::{self, RandomIds};
use crate::record::{self, Severity, file};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit status for input that could not be read at all.
const UNREADABLE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "vaxentry",
    version,
    about = "Keyboard-first entry of immunization records as FHIR R4 message bundles"
)]
pub struct Cli {
    /// Use this config file instead of the default one.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Keep the database and exported bundles here (default: $VAXENTRY_DATA_DIR, else
    /// the user's data folder).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum LotsAction {
    /// Put a lot on hand (a shipment arrived), or update it.
    Add {
        /// The vaccine's CVX code.
        vaccine: String,
        /// The lot number, as printed on the box.
        lot: String,
        /// The maker's MVX code.
        #[arg(long)]
        mvx: String,
        /// The expiry date; MM/YYYY means the last day of that month.
        #[arg(long)]
        expires: String,
        /// The NDC (11 digits, or 10 with dashes).
        #[arg(long)]
        ndc: Option<String>,
        /// The volume of one dose in mL (0.5), which fills each dose's amount.
        #[arg(long)]
        ml: Option<String>,
    },
    /// Take a lot off hand (used up, expired or recalled); it stays known.
    Retire {
        /// The vaccine's CVX code.
        vaccine: String,
        /// The lot number.
        lot: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check record files or bundle files and print what is wrong with them.
    /// Exit status: 0 no errors, 1 errors found, 2 a file could not be read.
    Check {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Print the findings as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the FHIR message bundle for a record file.
    Bundle {
        #[arg(value_name = "RECORD")]
        record: PathBuf,
    },
    /// List the visits in the database, newest first.
    List {
        /// Only visits in this state: draft, saved, queued, submitted, failed, received.
        #[arg(long)]
        state: Option<String>,
        /// Only visits updated on or after this date (any date the form accepts).
        #[arg(long)]
        since: Option<String>,
        /// Print JSON (one array).
        #[arg(long, conflicts_with = "jsonl")]
        json: bool,
        /// Print one JSON object per line.
        #[arg(long)]
        jsonl: bool,
    },
    /// Show one visit's record and bundle (the id, or its first characters).
    Show {
        id: String,
        /// Every version instead: each save and each message sent again, with when,
        /// who, where and why, and its bundle.
        #[arg(long, conflicts_with = "as_sent")]
        versions: bool,
        /// Only what goes to the configured endpoint for its latest message, exactly
        /// (the message, or with `mode = "transaction"` the transaction made from it).
        #[arg(long)]
        as_sent: bool,
    },
    /// Write the bundles of saved visits as files into a folder.
    Export {
        /// Only visits updated on or after this date (any date the form accepts).
        #[arg(long)]
        since: Option<String>,
        /// The folder to write `BUNDLE-ID.json` files into (made private when new).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Check and save record files into the database; failures are reported and the
    /// rest are still imported.
    Import {
        #[arg(required = true, value_name = "RECORD")]
        files: Vec<PathBuf>,
        /// Also put them in the outbox, to be sent by `vaxentry sync` or the form.
        #[arg(long)]
        submit: bool,
        /// Import a dose even when the store already has it (same MRN, vaccine, day
        /// and lot in another visit): only for a dose that really was given twice.
        #[arg(long)]
        allow_duplicates: bool,
    },
    /// Put saved visits in the outbox (ids, or their first characters), then send what
    /// waits when an endpoint is configured. Exit status 1 if a visit could not be put
    /// there.
    Send {
        #[arg(value_name = "ID", required_unless_present = "all_saved")]
        ids: Vec<String>,
        /// Every visit that is saved and not yet sent.
        #[arg(long, conflicts_with = "ids")]
        all_saved: bool,
    },
    /// Void a sent visit, or one dose of it: sends its Immunizations again as
    /// entered-in-error, under the identifiers they were sent with. The visit stays in
    /// the database, its doses marked so. Without --yes it only says what would be sent
    /// (exit 0 when it could be).
    Void {
        /// The visit's id, or its first characters.
        id: String,
        /// Only this dose (1 for the first).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        dose: Option<u32>,
        /// Send it (otherwise only say what would be sent).
        #[arg(long)]
        yes: bool,
    },
    /// A patient's doses: those in this database and, with an endpoint, those the
    /// endpoint has (asked now and kept; when it cannot be reached, what it said
    /// last, and when). Exit status 1 if the endpoint could not be asked.
    History {
        /// The patient's MRN.
        mrn: String,
        /// Print JSON (the endpoint's Immunization resources as it sent them).
        #[arg(long)]
        json: bool,
    },
    /// Correct a sent visit with a corrected record file (the same doses, in the same
    /// order): a new message about the same Patient and Immunizations, queued for
    /// `vaxentry sync` and kept as a new version. Exit status 1 if the record has errors.
    Amend {
        /// The visit's id, or its first characters.
        id: String,
        #[arg(value_name = "RECORD")]
        record: PathBuf,
    },
    /// Send what waits in the outbox to the configured endpoint (for cron).
    /// Exit status 1 if anything failed for good.
    Sync {
        /// Also send what is waiting for its next retry time.
        #[arg(long)]
        now: bool,
    },
    /// The lot inventory: lots on hand, soonest expiry first (expired ones marked);
    /// `lots add` when a shipment arrives, `lots retire` when one is used up.
    Lots {
        #[command(subcommand)]
        action: Option<LotsAction>,
        /// Only this vaccine (CVX code).
        #[arg(long)]
        vaccine: Option<String>,
        /// Retired lots too.
        #[arg(long)]
        all: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print what a barcode scan would fill: a pack's GTIN, NDC, vaccine (CVX), maker
    /// (MVX), lot, expiry and serial from CDC's NDC crosswalk, or a VIS and its edition.
    /// For testing scanners: scan into `vaxentry scan "$(cat)"`. Exit status 1 if the
    /// text is not a barcode vaxentry reads.
    Scan {
        /// What the scanner typed (GS as the byte 0x1D, or the (AI) form).
        text: String,
        /// Print JSON: gtin, ndc, cvx, mvx, lot, expiration, serial; or vis_document
        /// and vis_edition.
        #[arg(long)]
        json: bool,
    },
    /// Issue a SMART Health Card of a patient's immunizations held here (by MRN), or of
    /// one visit's (by id): drawn as a QR code, written as files, or printed. Needs
    /// `[card] issuer` in the config.
    Card {
        /// The patient's MRN (every dose held here), or a visit's id (that visit's).
        #[arg(required_unless_present = "jwks")]
        target: Option<String>,
        /// Write card-NAME.smart-health-card, .png and .svg into this folder.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Print the QR code's shc:/ text.
        #[arg(long)]
        print: bool,
        /// Print the public key set to publish at {issuer}/.well-known/jwks.json.
        #[arg(long, conflicts_with_all = ["target", "out", "print"])]
        jwks: bool,
    },
    /// Receive records pushed to this station: an HTTP server taking FHIR message
    /// Bundles (POST / or /$process-message, with the secret of `[receive]`
    /// `secret_file`) and keeping them as received visits. Runs until stopped.
    Receive {
        /// Where to listen (behind the clinic's TLS reverse proxy).
        #[arg(long, value_name = "ADDR", default_value = receive::DEFAULT_LISTEN)]
        listen: String,
    },
    /// What is due for a patient by CDC's CDSi: each dose given judged per vaccine group,
    /// and each group's status, next dose and its earliest, recommended, past-due and
    /// latest dates. From a history file (`vaxentry-history/1`, see README) or a stored
    /// patient's MRN (the doses held here and the endpoint's last answer). Exit status 2
    /// for a history that cannot be read.
    Forecast {
        /// A history file.
        #[arg(
            value_name = "FILE",
            required_unless_present = "mrn",
            conflicts_with = "mrn"
        )]
        file: Option<PathBuf>,
        /// A stored patient's MRN instead of a file.
        #[arg(long)]
        mrn: Option<String>,
        /// The day to assess on (YYYY-MM-DD, or any date the form accepts); today if not given.
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the code tables, or search one: `vaxentry codes cvx flu`.
    Codes {
        /// cvx, mvx, site, route, status, status-reason, funding, eligibility,
        /// gender, race, ethnicity, report-origin, state, yes-no
        table: Option<String>,
        /// Words to search for (code, name, brand or alias).
        query: Vec<String>,
    },
}

/// Runs a headless command. `None` means the caller should open the form.
pub fn run(cli: &Cli, config: &Config, clock: Clock) -> ExitCode {
    let Some(command) = &cli.command else {
        return ExitCode::SUCCESS;
    };
    match command {
        Command::Check { files, json } => {
            check::check(files, *json, config.bundle_settings().rules, clock.now())
        }
        Command::Bundle { record } => bundle(record, config, clock.now()),
        Command::Codes { table, query } => codes(table.as_deref(), &query.join(" ")),
        Command::Scan { text, json } => scan(text, *json),
        Command::Forecast {
            file,
            mrn,
            as_of,
            json,
        } => match (file, mrn) {
            (Some(file), _) => forecast::from_file(file, as_of.as_deref(), *json, clock.now()),
            (None, Some(mrn)) => with_store(cli, config, |store| {
                forecast::from_store(store, mrn, as_of.as_deref(), *json, clock.now())
            }),
            (None, None) => ExitCode::from(UNREADABLE),
        },
        Command::Receive { listen } => with_store(cli, config, |store| {
            receive::run(store, config, listen, clock)
        }),
        Command::Card {
            target,
            out,
            print,
            jwks,
        } => with_store(cli, config, |store| {
            let asked = card::Asked {
                target: target.as_deref(),
                out: out.as_deref(),
                print: *print,
                jwks: *jwks,
            };
            card::run(store, config, &asked, clock.now())
        }),
        Command::Lots {
            action,
            vaccine,
            all,
            json,
        } => with_store(cli, config, |store| match action {
            None => lots::list(store, vaccine.as_deref(), *all, *json, clock.now()),
            Some(LotsAction::Add {
                vaccine,
                lot,
                mvx,
                expires,
                ndc,
                ml,
            }) => lots::add(
                store,
                &lots::NewLot {
                    vaccine,
                    lot,
                    manufacturer: mvx,
                    expires,
                    ndc: ndc.as_deref(),
                    ml: ml.as_deref(),
                },
                clock.now(),
            ),
            Some(LotsAction::Retire { vaccine, lot }) => {
                lots::retire(store, vaccine, lot, clock.now())
            }
        }),
        Command::List {
            state,
            since,
            json,
            jsonl,
        } => with_store(cli, config, |store| {
            let format = match (json, jsonl) {
                (true, _) => records::ListFormat::Json,
                (_, true) => records::ListFormat::JsonLines,
                _ => records::ListFormat::Table,
            };
            records::list(
                store,
                state.as_deref(),
                since.as_deref(),
                format,
                clock.now(),
            )
        }),
        Command::Show {
            id,
            versions,
            as_sent,
        } => with_store(cli, config, |store| {
            if *as_sent {
                match crate::submit::configured_endpoint(config) {
                    Some(Ok(endpoint)) => records::show_as_sent(store, id, endpoint.protocol),
                    Some(Err(e)) => {
                        err!("vaxentry show: {e}");
                        ExitCode::from(UNREADABLE)
                    }
                    None => {
                        err!(
                            "vaxentry show --as-sent: no endpoint is configured; what would be sent depends on [endpoint] (the message is what `vaxentry show` prints)"
                        );
                        ExitCode::from(UNREADABLE)
                    }
                }
            } else if *versions {
                records::show_versions(store, id, clock.now())
            } else {
                records::show(store, id, clock.now())
            }
        }),
        Command::Export { since, out } => with_store(cli, config, |store| {
            records::export(store, since.as_deref(), out, clock.now())
        }),
        Command::Import {
            files,
            submit,
            allow_duplicates,
        } => with_store(cli, config, |store| {
            let how = records::ImportOptions {
                submit: *submit,
                allow_duplicates: *allow_duplicates,
            };
            records::import(store, files, config, how, clock)
        }),
        Command::Send { ids, all_saved } => with_store(cli, config, |store| {
            let queued = records::send(store, ids, *all_saved, clock.now());
            if crate::submit::configured_endpoint(config).is_none() {
                err!(
                    "vaxentry send: no endpoint is configured; the visits wait in the outbox until an [endpoint] section is added to the config file (see README)"
                );
                return queued;
            }
            match sync::run(store, config, clock, false) {
                code if code == ExitCode::SUCCESS => queued,
                code => code,
            }
        }),
        Command::Void { id, dose, yes } => with_store(cli, config, |store| {
            let dose = dose.map(|n| n as usize - 1);
            records::void(
                store,
                id,
                dose,
                *yes,
                &config.bundle_settings(),
                clock.now(),
            )
        }),
        Command::Amend { id, record } => with_store(cli, config, |store| {
            records::amend(store, id, record, &config.bundle_settings(), clock.now())
        }),
        Command::History { mrn, json } => with_store(cli, config, |store| {
            history::history(store, config, mrn, *json, clock)
        }),
        Command::Sync { now } => {
            with_store(cli, config, |store| sync::run(store, config, clock, *now))
        }
    }
}

/// Opens the database, with a progress bar on a terminal while a long upgrade runs
/// (building the search index of a large history takes a while, once).
pub fn open_store(dir: &std::path::Path) -> crate::store::Result<crate::store::Store> {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} {wide_bar} {pos}/{len} visits, {eta} left")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let opened = crate::store::Store::open_reporting(dir, &mut |what, done, total| {
        bar.set_message(format!("Upgrading the database: {what}"));
        bar.set_length(total);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    opened
}

/// Opens the database for a command, or says why it cannot be.
fn with_store(
    cli: &Cli,
    config: &Config,
    command: impl FnOnce(&mut crate::store::Store) -> ExitCode,
) -> ExitCode {
    let opened = crate::store::data_dir(cli.data_dir.as_deref())
        .and_then(|dir| open_store(&dir).map_err(anyhow::Error::from));
    match opened {
        Ok(mut store) => {
            store.author.station = config.clinic.station.clone().unwrap_or_default();
            for warning in &store.warnings {
                err!("vaxentry: warning: {warning}");
            }
            command(&mut store)
        }
        Err(e) => {
            err!("vaxentry: {e:#}");
            ExitCode::from(UNREADABLE)
        }
    }
}

fn bundle(path: &Path, config: &Config, now: ClinicTime) -> ExitCode {
    let text = match file::read_text(path, file::MOST_BYTES) {
        Ok(t) => t,
        Err(e) => {
            err!("{}: {e}", path.display());
            return ExitCode::from(UNREADABLE);
        }
    };
    let visit = match file::from_json(&text) {
        Ok(v) => v,
        Err(e) => {
            err!("{}: not a record file: {e}", path.display());
            return ExitCode::from(UNREADABLE);
        }
    };
    for warning in record::validate(&visit, now, config.bundle_settings().rules)
        .iter()
        .filter(|f| f.severity == Severity::Warning)
    {
        err!("warning {} · {}", warning.at.section(), warning.message);
    }
    match fhir::build_bundle(&visit, &config.bundle_settings(), now, &mut RandomIds) {
        Ok(bundle) => {
            out_raw!("{}", fhir::to_json(&bundle));
            ExitCode::SUCCESS
        }
        Err(invalid) => {
            err!("{}: {invalid}", path.display());
            for f in &invalid.0 {
                err!("error   {} · {}", f.at.section(), f.message);
            }
            ExitCode::from(1)
        }
    }
}

fn scan(text: &str, as_json: bool) -> ExitCode {
    match record::scan::read(text) {
        Some(Ok(scanned)) if as_json => {
            out!("{}", scanned.to_json());
            ExitCode::SUCCESS
        }
        Some(Ok(scanned)) => {
            for line in scanned.said() {
                out!("{line}");
            }
            ExitCode::SUCCESS
        }
        Some(Err(why)) => {
            err!("not a readable barcode: {why}");
            ExitCode::FAILURE
        }
        None => {
            err!(
                "not a barcode: a pack's GS1 barcode starts with 01 (or (01)), a VIS barcode with 253"
            );
            ExitCode::FAILURE
        }
    }
}

fn codes(table_key: Option<&str>, query: &str) -> ExitCode {
    let Some(key) = table_key else {
        for id in TableId::ALL {
            let t = table(id);
            out!("{:<14} {:>4} codes  {}", id.key(), t.entries.len(), t.name);
        }
        return ExitCode::SUCCESS;
    };
    let Some(id) = TableId::from_key(key) else {
        let names: Vec<&str> = TableId::ALL.iter().map(|t| t.key()).collect();
        err!(
            "there is no code table '{key}'; the tables are: {}",
            names.join(", ")
        );
        return ExitCode::from(UNREADABLE);
    };
    let hits = search(table(id), query);
    if hits.is_empty() {
        err!("nothing in {} matches '{query}'", table(id).name);
        return ExitCode::from(1);
    }
    for c in hits {
        let inactive = if c.active { "" } else { "  (inactive)" };
        out!("{:<9} {}{inactive}", c.code, c.display);
    }
    ExitCode::SUCCESS
}

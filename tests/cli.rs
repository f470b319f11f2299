//! The command line, run as a real process: exit codes and output of `check`,
//! `bundle` and `codes`, and the config error messages.

mod common;

use std::path::PathBuf;
use std::process::Output;

fn vaxentry(args: &[&str]) -> Output {
    common::binary(&tempdir())
        .args(args)
        .output()
        .expect("runs")
}

fn tempdir() -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("vaxentry-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The adult example record, to change and write out.
fn adult_flu() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string("assets/examples/adult-flu.json").unwrap())
        .unwrap()
}

/// The visit id from import's "FILE: imported as ID" line.
fn imported_id(out: &str) -> String {
    out.trim().rsplit(' ').next().unwrap().to_string()
}

/// A data folder and a config whose `[endpoint]` is a FHIR server at the local test
/// server's `/fhir`, with `keys` more of that section's keys; commands run with both.
struct Clinic {
    server: common::server::TestServer,
    data: PathBuf,
    args: Vec<String>,
}

impl Clinic {
    fn sending_to_fhir(keys: &str) -> Clinic {
        let server = common::server::TestServer::start();
        let config = write(
            "config.toml",
            &format!(
                "[endpoint]\nkind = \"fhir\"\nbase_url = \"{}/fhir\"\n{keys}",
                server.base_url()
            ),
        );
        let data = tempdir();
        let args = vec![
            "--config".into(),
            config.to_string_lossy().into_owned(),
            "--data-dir".into(),
            data.to_string_lossy().into_owned(),
        ];
        Clinic { server, data, args }
    }

    fn run(&self, extra: &[&str]) -> Output {
        let args: Vec<&str> = self
            .args
            .iter()
            .map(String::as_str)
            .chain(extra.iter().copied())
            .collect();
        vaxentry(&args)
    }
}

/// A new data folder holding the example records imported (checked to import).
fn data_dir_with(examples: &[&str]) -> PathBuf {
    let data = tempdir();
    let mut args = vec!["--data-dir", data.to_str().unwrap(), "import"];
    args.extend(examples);
    let o = vaxentry(&args);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    data
}

fn write(name: &str, text: &str) -> PathBuf {
    let path = tempdir().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn check_passes_valid_records_with_exit_0() {
    let o = vaxentry(&[
        "check",
        "assets/examples/adult-flu.json",
        "assets/examples/not-done-refusal.json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("adult-flu.json: record ok: 0 error(s)"));
}

#[test]
fn check_reports_errors_with_exit_1() {
    let text = std::fs::read_to_string("assets/examples/adult-flu.json")
        .unwrap()
        .replace("03/14/1987", "03/14/2087");
    let path = write("future.json", &text);
    let o = vaxentry(&["check", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("Patient · Birth date 2087-03-14 is in the future"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn check_unreadable_files_exit_2_but_still_checks_the_rest() {
    let broken = write("broken.json", "{\"patient\": {\"mrn\": 5}, \"doses\": []}");
    let o = vaxentry(&[
        "check",
        "does-not-exist.json",
        broken.to_str().unwrap(),
        "assets/examples/adult-flu.json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let out = stdout(&o);
    assert!(out.contains("does-not-exist.json: cannot read"), "{out}");
    assert!(out.contains("patient.mrn must be text"), "{out}");
    assert!(out.contains("adult-flu.json: record ok"), "{out}");
}

#[test]
fn check_json_output_is_machine_readable() {
    let mut v = adult_flu();
    v["doses"][0]["lot"] = "".into();
    let path = write("nolot.json", &v.to_string());
    let o = vaxentry(&["check", "--json", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON output");
    let finding = &report[0]["findings"][0];
    assert_eq!(finding["field"], "lot");
    assert_eq!(finding["dose"], 0);
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["rule"], "required");
}

#[test]
fn check_accepts_bundle_files() {
    let o = vaxentry(&["bundle", "assets/examples/child-four-doses.json"]);
    let good = write("bundle.json", &stdout(&o));
    let o = vaxentry(&["check", good.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("bundle ok"));
    let bad = write(
        "bad-bundle.json",
        "{\"resourceType\": \"Bundle\", \"type\": \"collection\", \"entry\": []}",
    );
    let o = vaxentry(&["check", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("not \"message\""), "{}", stdout(&o));
}

#[test]
fn bundle_prints_a_schema_valid_message() {
    let o = vaxentry(&["bundle", "assets/examples/unicode-race.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let value: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("bundle JSON");
    assert!(common::schema_errors(&value).is_empty());
    assert!(vaxentry::fhir::message_problems(&value).is_empty());
    assert_eq!(
        value["entry"][1]["resource"]["name"][0]["family"],
        "Nguyễn-Đặng"
    );
}

#[test]
fn bundle_of_an_invalid_record_lists_errors_and_exits_1() {
    let text = std::fs::read_to_string("assets/examples/adult-flu.json")
        .unwrap()
        .replace("\"LA\"", "\"XX\"");
    let path = write("badsite.json", &text);
    let o = vaxentry(&["bundle", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).is_empty());
    assert!(
        stderr(&o).contains("Dose 1 · Site: 'XX' is not a known"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn codes_lists_and_searches() {
    let o = vaxentry(&["codes"]);
    assert!(stdout(&o).contains("cvx") && stdout(&o).contains("mvx"));
    let o = vaxentry(&["codes", "cvx", "covid"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).lines().take(6).any(|l| l.starts_with("309 ")),
        "{}",
        stdout(&o)
    );
    let o = vaxentry(&["codes", "vaccines"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("there is no code table 'vaccines'"));
}

#[test]
fn config_choices_reach_the_bundle_and_bad_configs_are_named() {
    let config = write(
        "config.toml",
        "[codes]\ncvx_system = \"oid\"\n[source]\nname = \"Riverside\"\n[clinic]\ntimezone = \"America/Los_Angeles\"\n",
    );
    let o = vaxentry(&[
        "--config",
        config.to_str().unwrap(),
        "bundle",
        "assets/examples/adult-flu.json",
    ]);
    assert!(stdout(&o).contains("\"system\": \"http://hl7.org/fhir/sid/cvx\""));
    assert!(!stdout(&o).contains("urn:oid:2.16.840.1.113883.6.59"));
    assert!(
        stderr(&o).contains("warning: [codes] is no longer a setting"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).contains("\"name\": \"Riverside\""));
    assert!(
        stdout(&o).contains("\"occurrenceDateTime\": \"2026-10-01T14:05:00-07:00\""),
        "the clinic's zone, not the computer's (TZ is New York here)"
    );
    let bad = write("config.toml", "[source]\nname = \"x\"\nendpont = \"y\"\n");
    let o = vaxentry(&["--config", bad.to_str().unwrap(), "codes"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("config.toml") && err.contains("line 3") && err.contains("endpont"),
        "{err}"
    );
    let o = vaxentry(&["--config", "/nonexistent/vaxentry.toml", "codes"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("does not exist"));
}

#[test]
fn help_and_version() {
    assert!(stdout(&vaxentry(&["--help"])).contains("check"));
    assert!(stdout(&vaxentry(&["--version"])).contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn import_list_show_export_with_the_data_dir_option_and_environment() {
    let data = tempdir();
    let bad = write(
        "bad.json",
        &std::fs::read_to_string("assets/examples/adult-flu.json")
            .unwrap()
            .replace("\"LA\"", "\"XX\""),
    );
    let o = vaxentry(&[
        "--data-dir",
        data.to_str().unwrap(),
        "import",
        "assets/examples/adult-flu.json",
        bad.to_str().unwrap(),
        "assets/examples/historical.json",
    ]);
    assert_eq!(o.status.code(), Some(1), "one file failed");
    let out = stdout(&o);
    assert!(out.contains("adult-flu.json: imported as"), "{out}");
    assert!(
        out.contains("bad.json: not imported, 1 error(s):") && out.contains("Dose 1 · Site: 'XX'"),
        "{out}"
    );
    assert!(
        out.contains("historical.json: imported as"),
        "the rest is still imported: {out}"
    );

    // The environment variable names the same folder.
    let o = common::binary(&tempdir())
        .args(["list", "--json"])
        .env("VAXENTRY_DATA_DIR", &data)
        .output()
        .unwrap();
    let rows: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON list");
    assert_eq!(rows.as_array().unwrap().len(), 2);
    assert_eq!(rows[0]["mrn"], "MRN-090017", "newest first");
    assert_eq!(rows[0]["state"], "saved");

    let o = vaxentry(&[
        "--data-dir",
        data.to_str().unwrap(),
        "list",
        "--state",
        "draft",
    ]);
    assert!(stdout(&o).is_empty());
    let o = vaxentry(&[
        "--data-dir",
        data.to_str().unwrap(),
        "list",
        "--state",
        "lost",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--state lost is not a state"));

    let id = rows[1]["id"].as_str().unwrap();
    let o = vaxentry(&["--data-dir", data.to_str().unwrap(), "show", &id[..8]]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("\"family\": \"Lindqvist\"")
            && stdout(&o).contains("\"resourceType\": \"Bundle\"")
    );
    let o = vaxentry(&["--data-dir", data.to_str().unwrap(), "show", "zzzzzzzz"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no visit has an id starting with"));

    let out_dir = tempdir().join("export");
    let o = vaxentry(&[
        "--data-dir",
        data.to_str().unwrap(),
        "export",
        "--since",
        "t-1",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let files: Vec<_> = std::fs::read_dir(&out_dir).unwrap().flatten().collect();
    assert_eq!(files.len(), 2);
    for f in files {
        let value: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(f.path()).unwrap()).unwrap();
        assert!(vaxentry::fhir::message_problems(&value).is_empty());
    }
}

#[test]
fn a_foreign_database_is_named_and_not_touched() {
    let data = tempdir();
    std::fs::write(
        data.join("vaxentry.sqlite3"),
        "not a database at all, just text\n".repeat(40),
    )
    .unwrap();
    let o = vaxentry(&["--data-dir", data.to_str().unwrap(), "list"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("vaxentry.sqlite3 is not a vaxentry database")
            && err.contains("Nothing was changed"),
        "{err}"
    );
}

#[test]
fn sync_sends_the_outbox_headless_and_reports() {
    let clinic = Clinic::sending_to_fhir("");
    let o = clinic.run(&[
        "import",
        "--submit",
        "assets/examples/adult-flu.json",
        "assets/examples/historical.json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = clinic.run(&["sync"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        stdout(&o).trim(),
        "sync: 2 sent, 0 failed, 0 will be retried, 0 waiting"
    );
    assert_eq!(clinic.server.with(|s| s.accepted.len()), 2);
    let o = clinic.run(&["list", "--state", "submitted"]);
    assert_eq!(stdout(&o).lines().count(), 2);
    // A rejection is a permanent failure: exit 1.
    clinic
        .server
        .with(|s| s.script.push_back(common::server::Behaviour::BadRequest));
    clinic.run(&["import", "--submit", "assets/examples/unicode-race.json"]);
    let o = clinic.run(&["sync"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("1 failed") && stdout(&o).contains("Lot number is not valid"),
        "{}",
        stdout(&o)
    );
    // Nothing configured: a clear message, exit 2.
    let o = vaxentry(&["--data-dir", clinic.data.to_str().unwrap(), "sync"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no endpoint is configured"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn import_writes_date_shortcuts_out_as_dates() {
    let data = tempdir();
    let text = std::fs::read_to_string("assets/examples/not-done-refusal.json")
        .unwrap()
        .replace("2026-11-25 09:40", "t 9:40a");
    let path = write("shortcut.json", &text);
    let o = vaxentry(&[
        "--data-dir",
        data.to_str().unwrap(),
        "import",
        path.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = vaxentry(&["--data-dir", data.to_str().unwrap(), "list", "--json"]);
    let rows: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let o = vaxentry(&[
        "--data-dir",
        data.to_str().unwrap(),
        "show",
        rows[0]["id"].as_str().unwrap(),
    ]);
    assert!(
        stdout(&o).contains("\"administered\": \"2026-11-25 09:40\""),
        "{}",
        stdout(&o)
    );
    assert!(!stdout(&o).contains("t 9:40a"));
}

#[test]
fn a_bearer_token_comes_from_the_environment_and_never_shows() {
    let server = common::server::TestServer::start();
    server.with(|s| s.bearer = Some("secret-token-987".into()));
    let data = tempdir();
    let config = write(
        "config.toml",
        &format!(
            "[endpoint]\nkind = \"fhir\"\nbase_url = \"{}\"\n[endpoint.auth]\nkind = \"bearer\"\ntoken_env = \"VAXENTRY_TEST_TOKEN\"\n",
            server.base_url()
        ),
    );
    let args = [
        "--config",
        config.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ];
    vaxentry(
        &[
            &args[..],
            &["import", "--submit", "assets/examples/adult-flu.json"],
        ]
        .concat(),
    );
    let run = |token: Option<&str>| {
        let mut cmd = common::binary(&data);
        cmd.args(args).arg("sync");
        match token {
            Some(t) => cmd.env("VAXENTRY_TEST_TOKEN", t),
            None => cmd.env_remove("VAXENTRY_TEST_TOKEN"),
        };
        cmd.output().unwrap()
    };
    let o = run(None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o)
            .contains("token_env = \"VAXENTRY_TEST_TOKEN\": that environment variable is not set"),
        "{}",
        stderr(&o)
    );
    let o = run(Some("secret-token-987"));
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("1 sent"));
    for text in [stdout(&o), stderr(&o)] {
        assert!(
            !text.contains("secret-token-987"),
            "the token must never be printed"
        );
    }
}

#[test]
fn the_time_comes_from_vaxentry_now_and_the_zone_from_tz() {
    let o = common::binary(&tempdir())
        .args(["bundle", "assets/examples/adult-flu.json"])
        .env("TZ", "Pacific/Honolulu")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let bundle: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        bundle["timestamp"], "2026-11-25T10:30:00-10:00",
        "VAXENTRY_NOW, seen in Honolulu"
    );
    assert_eq!(
        bundle["entry"][2]["resource"]["occurrenceDateTime"],
        "2026-10-01T14:05:00-10:00"
    );

    let o = common::binary(&tempdir())
        .args(["bundle", "assets/examples/adult-flu.json"])
        .env(vaxentry::clock::NOW_ENV, "half past three")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("VAXENTRY_NOW: 'half past three' is not a time"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn import_warns_when_the_mrn_is_stored_for_someone_else() {
    let data = data_dir_with(&["assets/examples/adult-flu.json"]);
    let dir = data.to_str().unwrap();
    let other = std::fs::read_to_string("assets/examples/adult-flu.json")
        .unwrap()
        .replace("Lindqvist", "Smith");
    let path = write("other.json", &other);
    let o = vaxentry(&["--data-dir", dir, "import", path.to_str().unwrap()]);
    assert!(
        stdout(&o).contains("warning MRN: MRN-004211 is stored for Lindqvist"),
        "{}",
        stdout(&o)
    );
    // Its dose is the stored one (same MRN, vaccine, day and lot): refused unless meant.
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("--allow-duplicates"), "{}", stdout(&o));
}

#[test]
fn a_record_imported_again_is_not_a_second_visit() {
    let data = tempdir();
    let dir = data.to_str().unwrap();
    let record = "assets/examples/adult-flu.json";
    let o = vaxentry(&["--data-dir", dir, "import", record]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let first = stdout(&o);
    let id = imported_id(&first);

    // Again, and again with --submit: the same visit, now put in the outbox.
    let o = vaxentry(&["--data-dir", dir, "import", record]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).contains(&format!(
            "already imported as {id} (saved), nothing new imported"
        )),
        "{}",
        stdout(&o)
    );
    let o = vaxentry(&["--data-dir", dir, "import", "--submit", record]);
    assert!(
        stdout(&o).contains("put in the outbox now"),
        "{}",
        stdout(&o)
    );
    let o = vaxentry(&["--data-dir", dir, "import", "--submit", record]);
    assert!(
        stdout(&o).contains(&format!("already imported as {id} (queued)")),
        "{}",
        stdout(&o)
    );
    let o = vaxentry(&["--data-dir", dir, "list", "--json"]);
    let rows: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
}

#[test]
fn a_dose_already_stored_is_imported_only_when_meant() {
    let data = data_dir_with(&["assets/examples/adult-flu.json"]);
    let dir = data.to_str().unwrap();
    // The same dose typed again into another file (a note differs, the lot's case too).
    let record = adult_flu();
    let mut again = record.clone();
    let dose = &mut again["doses"][0];
    dose["note"] = "typed again".into();
    let lot = dose["lot"].as_str().unwrap().to_lowercase();
    dose["lot"] = lot.into();
    let path = write("again.json", &again.to_string());
    let o = vaxentry(&["--data-dir", dir, "import", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("not imported, 1 error(s)")
            && stdout(&o).contains("Dose 1 · CVX")
            && stdout(&o).contains("is already stored for MRN MRN-004211"),
        "{}",
        stdout(&o)
    );
    let o = vaxentry(&[
        "--data-dir",
        dir,
        "import",
        "--allow-duplicates",
        path.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("imported as"), "{}", stdout(&o));

    // Another lot is another dose: imported without asking.
    let mut other = record;
    other["doses"][0]["lot"] = "ZZ999".into();
    let path = write("other-lot.json", &other.to_string());
    let o = vaxentry(&["--data-dir", dir, "import", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn a_closed_stdout_does_not_stop_an_import_halfway() {
    let data = tempdir();
    let dir = data.to_str().unwrap().to_string();
    let mut child = common::binary(&tempdir())
        .args(["--data-dir", &dir, "import"])
        .args(common::EXAMPLES.map(|n| format!("assets/examples/{n}.json")))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // As `| head -0` would: nobody reads what it prints.
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let o = vaxentry(&["--data-dir", &dir, "list", "--json"]);
    let rows: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        rows.as_array().unwrap().len(),
        common::EXAMPLES.len(),
        "every file imported"
    );
}

#[test]
fn files_that_are_not_small_regular_text_files_are_refused_without_hanging() {
    let dir = tempdir();
    let fifo = dir.join("pipe.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let big = write("big.json", &" ".repeat(2 * 1024 * 1024));
    for (path, says) in [
        ("/dev/zero".to_string(), "not a regular file"),
        (fifo.display().to_string(), "not a regular file"),
        (dir.display().to_string(), "not a regular file"),
        (big.display().to_string(), "at most 1048576 are read"),
    ] {
        let o = vaxentry(&["check", &path]);
        assert_eq!(o.status.code(), Some(2), "{path}");
        assert!(stdout(&o).contains(says), "{path}: {}", stdout(&o));
    }
}

#[test]
fn a_byte_order_mark_is_passed_over_and_a_repeated_key_is_named() {
    let text = std::fs::read_to_string("assets/examples/adult-flu.json").unwrap();
    let bom = write("bom.json", &format!("\u{feff}{text}"));
    let o = vaxentry(&["check", bom.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let twice = write(
        "twice.json",
        &text.replacen(
            "\"lot\": \"UT8291AA\",",
            "\"lot\": \"UT8291AA\", \"lot\": \"OTHER\",",
            1,
        ),
    );
    let o = vaxentry(&["check", twice.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stdout(&o).contains("\"lot\" appears twice"),
        "{}",
        stdout(&o)
    );
}

/// `n` record files in one folder: the adult example, each with its own MRN.
fn record_files(n: usize) -> Vec<String> {
    let folder = tempdir();
    let record = adult_flu();
    (0..n)
        .map(|i| {
            let mut r = record.clone();
            r["patient"]["mrn"] = format!("MRN-{i:05}").into();
            let path = folder.join(format!("r{i}.json"));
            std::fs::write(&path, r.to_string()).unwrap();
            path.to_string_lossy().into_owned()
        })
        .collect()
}

/// Runs vaxentry with `args`, kills it once it has printed `lines` lines, and returns
/// what it printed (the lines already in the pipe when it was killed too).
fn kill_after_lines(args: &[&str], lines: usize) -> Vec<String> {
    use std::io::{BufRead, BufReader};
    let mut child = common::binary(&tempdir())
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed: Vec<String> = out.by_ref().take(lines).map_while(Result::ok).collect();
    child.kill().unwrap();
    child.wait().unwrap();
    printed.extend(out.map_while(Result::ok));
    printed
}

#[test]
fn an_interrupted_import_run_again_makes_each_record_once() {
    let data = tempdir();
    let dir = data.to_str().unwrap();
    let files = record_files(120);
    let mut args = vec!["--data-dir", dir, "import", "--submit"];
    args.extend(files.iter().map(String::as_str));

    // Killed after 10, 40 and 80 files were reported (it may have gone a little
    // further, even between a save and putting the visit in the outbox).
    for lines in [10, 40, 80] {
        kill_after_lines(&args, lines);
    }
    let o = vaxentry(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = vaxentry(&args);
    assert_eq!(
        stdout(&o).matches("(queued), nothing new imported").count(),
        120,
        "{}",
        stdout(&o)
    );
    let o = vaxentry(&["--data-dir", dir, "list", "--json"]);
    let rows: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 120, "one visit per record");
    assert!(rows.iter().all(|r| r["state"] == "queued"), "{rows:?}");
}

#[test]
fn an_import_killed_mid_batch_keeps_every_record_it_reported() {
    let data = tempdir();
    let dir = data.to_str().unwrap();
    let files = record_files(1100);
    let mut args = vec!["--data-dir", dir, "import"];
    args.extend(files.iter().map(String::as_str));
    // Files are imported in batches; each batch's lines come once it is durable. Kill
    // it as soon as the first lines come: the next batch is then halfway.
    let reported: Vec<String> = kill_after_lines(&args, 1)
        .iter()
        .filter(|l| l.contains("imported as"))
        .map(|l| imported_id(l))
        .collect();
    assert!(!reported.is_empty());
    let o = vaxentry(&["--data-dir", dir, "list", "--jsonl"]);
    let stored: Vec<String> = stdout(&o)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(stored.len() < files.len(), "killed before the end");
    for id in &reported {
        assert!(stored.contains(id), "{id} was reported imported");
        let o = vaxentry(&["--data-dir", dir, "show", id]);
        assert_eq!(o.status.code(), Some(0));
    }
    // Every bundle file under its name is whole, one per stored visit.
    let mut whole = 0;
    for day in std::fs::read_dir(data.join("bundles")).unwrap() {
        for file in std::fs::read_dir(day.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            if path.extension().is_some_and(|e| e == "json")
                && !path.file_name().unwrap().to_string_lossy().starts_with('.')
            {
                let text = std::fs::read_to_string(&path).unwrap();
                serde_json::from_str::<serde_json::Value>(&text)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                whole += 1;
            }
        }
    }
    // (A kill between a batch's commit and its renames would leave its files under
    // their temporary names; the database has the bundles, and export writes them.)
    assert!(
        whole >= reported.len() && whole <= stored.len(),
        "{whole} whole bundle files for {} reported and {} stored visits",
        reported.len(),
        stored.len()
    );
    // Run again: the rest is imported, nothing twice, and the temporary files a
    // killed import left, once settled, are gone (one is planted, as a kill mid-batch leaves them:
    // no process has a pid above the kernel's limit of 2^22).
    let planted =
        data.join("bundles/.staging/.b.json.4194999.0123456789abcdef0123456789abcdef.tmp");
    std::fs::write(&planted, "{\"resourceType\": \"Bun").unwrap();
    // They are removed once settled (a file minutes old is never being written).
    let long_ago = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
    for entry in std::fs::read_dir(data.join("bundles/.staging")).unwrap() {
        let file = std::fs::File::options()
            .write(true)
            .open(entry.unwrap().path());
        file.unwrap().set_modified(long_ago).unwrap();
    }
    let o = vaxentry(&args);
    assert_eq!(o.status.code(), Some(0));
    let left: Vec<_> = std::fs::read_dir(data.join("bundles/.staging"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(
        stdout(&o).matches("nothing new imported").count(),
        stored.len(),
        "{}",
        stdout(&o)
    );
    let o = vaxentry(&["--data-dir", dir, "list", "--jsonl"]);
    assert_eq!(stdout(&o).lines().count(), files.len());
}

#[test]
fn saved_visits_are_sent_by_id_or_all_at_once() {
    let data = tempdir();
    let dir = data.to_str().unwrap();
    let mut ids = Vec::new();
    for (i, record) in ["adult-flu", "historical"].iter().enumerate() {
        let o = vaxentry(&[
            "--data-dir",
            dir,
            "import",
            &format!("assets/examples/{record}.json"),
        ]);
        assert_eq!(o.status.code(), Some(0), "{i}: {}", stdout(&o));
        ids.push(imported_id(&stdout(&o)));
    }
    let o = vaxentry(&["--data-dir", dir, "send", &ids[0][..8]]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o).trim(), format!("{}: put in the outbox", ids[0]));
    assert!(
        stderr(&o).contains("no endpoint is configured"),
        "{}",
        stderr(&o)
    );
    // Again: it already waits.
    let o = vaxentry(&["--data-dir", dir, "send", &ids[0]]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("already waits in the outbox"),
        "{}",
        stdout(&o)
    );
    let o = vaxentry(&["--data-dir", dir, "send", "--all-saved"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(stdout(&o).trim(), format!("{}: put in the outbox", ids[1]));
    assert!(
        stderr(&o).contains("1 saved visit(s) put in the outbox"),
        "{}",
        stderr(&o)
    );
    let o = vaxentry(&["--data-dir", dir, "list", "--state", "queued", "--json"]);
    let rows: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2);
    // Neither ids nor --all-saved: clap says what is missing.
    let o = vaxentry(&["--data-dir", dir, "send"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn show_versions_lists_each_save_with_its_bundle() {
    let data = tempdir();
    let dir = data.to_str().unwrap();
    let config = write(
        "station.toml",
        "[clinic]\ntimezone = \"America/New_York\"\nstation = \"Room 2\"\n",
    );
    let o = vaxentry(&[
        "--config",
        config.to_str().unwrap(),
        "--data-dir",
        dir,
        "import",
        "assets/examples/adult-flu.json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let id = imported_id(&stdout(&o));
    let o = vaxentry(&["--data-dir", dir, "show", "--versions", &id[..8]]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with(&format!(
            "# visit {id}: 1 version(s)\n# version 1: saved 2026-11-25T15:30:00-05:00 by "
        )),
        "{out}"
    );
    assert!(out.contains(" at Room 2, bundle "), "{out}");
    assert!(out.contains("\"resourceType\": \"Bundle\""), "{out}");
}

#[test]
fn list_streams_json_and_json_lines() {
    let data = tempdir();
    let dir = data.to_str().unwrap();
    let o = vaxentry(&["--data-dir", dir, "list", "--json"]);
    assert_eq!(stdout(&o).trim(), "[]", "an empty store is an empty array");
    for record in ["adult-flu", "historical", "child-four-doses"] {
        let o = vaxentry(&[
            "--data-dir",
            dir,
            "import",
            &format!("assets/examples/{record}.json"),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    }
    let o = vaxentry(&["--data-dir", dir, "list", "--json"]);
    let array: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(array.as_array().unwrap().len(), 3);
    let o = vaxentry(&["--data-dir", dir, "list", "--jsonl"]);
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        serde_json::Value::Array(lines),
        array,
        "the same rows, a line each"
    );
    let o = vaxentry(&["--data-dir", dir, "list", "--json", "--jsonl"]);
    assert_eq!(o.status.code(), Some(2), "one format at a time");
}

#[test]
fn the_lot_inventory_lists_adds_and_retires_lots() {
    let data = data_dir_with(&[
        "assets/examples/adult-flu.json",
        "assets/examples/historical.json",
    ]);
    let dir = data.to_str().unwrap();
    let lots = |extra: &[&str]| -> Vec<serde_json::Value> {
        let mut args = vec!["--data-dir", dir, "lots", "--json"];
        args.extend(extra);
        let o = vaxentry(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        serde_json::from_str::<serde_json::Value>(&stdout(&o))
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    };
    // A saved dose given here records its lot, NDC as sent; a historical one does not.
    let on_hand = lots(&[]);
    assert_eq!(on_hand.len(), 1, "{on_hand:?}");
    assert_eq!(on_hand[0]["lot"], "UT8291AA");
    assert_eq!(on_hand[0]["ndc"], "49281-0425-50");
    // A shipment arrives; soonest expiry first. One lot is one row however typed.
    for (lot, expires) in [
        ("NEW1", "06/2027"),
        ("OLD1", "2026-12-15"),
        ("new 1", "062027"),
    ] {
        let o = vaxentry(&[
            "--data-dir",
            dir,
            "lots",
            "add",
            "140",
            lot,
            "--mvx",
            "pmc",
            "--expires",
            expires,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let on_hand = lots(&["--vaccine", "140"]);
    let names: Vec<_> = on_hand.iter().map(|l| l["lot"].as_str().unwrap()).collect();
    assert_eq!(names, ["OLD1", "NEW1", "UT8291AA"]);
    assert_eq!(on_hand[0]["expired"], false);
    assert_eq!(on_hand[1]["expiration"], "2027-06-30");
    assert_eq!(on_hand[1]["manufacturer"], "PMC");
    // As text: a header, then a lot a line.
    let o = vaxentry(&["--data-dir", dir, "lots", "--vaccine", "140"]);
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[0].starts_with("CVX  vaccine") && lines[0].contains("expires"),
        "{text}"
    );
    assert!(
        lines[1].contains("OLD1") && lines[1].contains("2026-12-15"),
        "{text}"
    );
    // Once its day has passed, a lot on hand is marked expired.
    let o = common::binary(&tempdir())
        .env(vaxentry::clock::NOW_ENV, "2027-01-10T09:00:00-05:00")
        .args(["--data-dir", dir, "lots", "--json", "--vaccine", "140"])
        .output()
        .unwrap();
    let later: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(later[0]["lot"], "OLD1");
    assert_eq!(later[0]["expired"], true);
    // Retired: off hand, still known.
    let o = vaxentry(&["--data-dir", dir, "lots", "retire", "140", "OLD1"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(lots(&[]).len(), 2);
    assert_eq!(lots(&["--all"]).len(), 3);
    let o = vaxentry(&["--data-dir", dir, "lots", "retire", "140", "OLD1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no lot OLD1"), "{}", stderr(&o));
    // Mistakes name the value and what to do.
    for (args, says) in [
        (
            ["add", "999x", "L", "--mvx", "PMC", "--expires", "06/2027"],
            "not a known CVX",
        ),
        (
            ["add", "140", "L", "--mvx", "ZZZ", "--expires", "06/2027"],
            "not a known MVX",
        ),
        (
            ["add", "140", "L", "--mvx", "PMC", "--expires", "13/2027"],
            "--expires",
        ),
        (
            ["add", "140", "L", "--mvx", "PMC", "--expires", "10/2026"],
            "expired on 2026-10-31",
        ),
        (
            [
                "add",
                "140",
                "L\u{202e}1",
                "--mvx",
                "PMC",
                "--expires",
                "06/2027",
            ],
            "control characters",
        ),
    ] {
        let mut all = vec!["--data-dir", dir, "lots"];
        all.extend(args);
        let o = vaxentry(&all);
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains(says), "{}", stderr(&o));
    }
    // The volume of a dose, which fills each dose's amount: kept and shown; a value
    // that is no dose is refused.
    let add = |ml: &str| {
        vaxentry(&[
            "--data-dir",
            dir,
            "lots",
            "add",
            "110",
            "PX1",
            "--mvx",
            "SKB",
            "--expires",
            "05/2027",
            "--ml",
            ml,
        ])
    };
    let o = add(".5");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("0.5 mL a dose"), "{}", stdout(&o));
    assert_eq!(lots(&["--vaccine", "110"])[0]["dose_ml"], "0.5");
    for bad in ["0", "half", "0.0", "50"] {
        let o = add(bad);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(stderr(&o).contains("--ml"), "{}", stderr(&o));
    }
    assert_eq!(lots(&["--vaccine", "110"])[0]["dose_ml"], "0.5");
}

/// `history MRN`: the doses here and those the endpoint has, asked now; when the
/// endpoint is down, what it said last and when, with exit status 1.
#[test]
fn history_shows_the_doses_here_and_at_the_endpoint_even_when_it_is_down() {
    let clinic = Clinic::sending_to_fhir("mode = \"transaction\"\nrequest_timeout_secs = 2\n");
    clinic.run(&["import", "--submit", "assets/examples/adult-flu.json"]);
    let o = clinic.run(&["sync"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let o = clinic.run(&["history", "MRN-004211"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("Here (1 dose(s) in this database):"),
        "{text}"
    );
    assert!(
        text.contains("From the endpoint, as of 15:30 today (1 dose(s)):"),
        "{text}"
    );
    assert!(
        text.contains("2026-10-01  CVX 140  completed         lot UT8291AA"),
        "{text}"
    );
    let o = clinic.run(&["history", "MRN-004211", "--json"]);
    let value: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(value["endpoint"]["fresh"], true);
    assert_eq!(
        value["endpoint"]["immunizations"][0]["lotNumber"],
        "UT8291AA"
    );
    assert_eq!(value["here"][0]["vaccine"], "140");

    clinic.server.down();
    let o = clinic.run(&["history", "MRN-004211"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("lot UT8291AA"), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("the endpoint could not be asked")
            && stderr(&o).contains("shown: what it said as of 15:30 today"),
        "{}",
        stderr(&o)
    );
}

/// `amend ID RECORD`: a sent visit corrected from a record file goes out as a new
/// message about the same doses; a visit never sent, a record with errors or with
/// another number of doses is refused, saying why.
#[test]
fn amend_sends_a_corrected_record_under_the_same_identifiers() {
    let clinic = Clinic::sending_to_fhir("mode = \"transaction\"\n");
    let o = clinic.run(&["import", "assets/examples/adult-flu.json"]);
    let id = imported_id(&stdout(&o));
    let mut corrected = adult_flu();
    corrected["doses"][0]["lot"] = "FIXED123".into();
    let corrected = write("corrected.json", &corrected.to_string());
    let o = clinic.run(&["amend", &id, corrected.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("it was never sent"), "{}", stderr(&o));

    clinic.run(&["send", &id]);
    assert_eq!(
        clinic.server.with(|s| s.records.changes),
        3,
        "the patient, the dose and its vaccinator (by NPI)"
    );
    // Exactly what went: the transaction made from the message. The first one
    // creates the dose unless the server has it; an amendment replaces it.
    let as_sent = || {
        let o = clinic.run(&["show", &id, "--as-sent"]);
        let sent: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(sent["type"], "transaction");
        sent["entry"][1]["request"]["method"].clone()
    };
    assert_eq!(as_sent(), "POST");
    let o = clinic.run(&["amend", &id, corrected.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("amended v2"), "{}", stdout(&o));
    assert_eq!(as_sent(), "PUT");
    let o = clinic.run(&["sync"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    clinic.server.with(|s| {
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        let doses: Vec<_> = s
            .records
            .resources
            .iter()
            .filter(|r| r.kind == "Immunization")
            .collect();
        assert_eq!(doses.len(), 1, "updated, not added");
        assert_eq!(doses[0].resource["lotNumber"], "FIXED123");
        assert_eq!(doses[0].version, 2);
    });

    let mut two = adult_flu();
    let dose = two["doses"][0].clone();
    two["doses"].as_array_mut().unwrap().push(dose);
    let two = write("two-doses.json", &two.to_string());
    let o = clinic.run(&["amend", &id, two.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("keeps the visit's 1 dose(s)"),
        "{}",
        stderr(&o)
    );
    let mut broken = adult_flu();
    broken["patient"]["birth_date"] = "2030-01-01".into();
    let broken = write("broken.json", &broken.to_string());
    let o = clinic.run(&["amend", &id, broken.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("error"), "{}", stderr(&o));
}

/// `amend` with a record for another MRN cannot move a sent dose to another patient:
/// the dose is voided under the first patient and recorded anew, with a new
/// identifier, under the second; a corrected name under the same MRN corrects the
/// server's Patient (a conditional update), and the same MRN is one Patient.
#[test]
fn amend_to_another_mrn_voids_and_records_anew_and_a_corrected_name_reaches_the_patient() {
    let clinic = Clinic::sending_to_fhir("mode = \"transaction\"\n");
    let o = clinic.run(&["import", "assets/examples/adult-flu.json"]);
    let id = imported_id(&stdout(&o));
    clinic.run(&["send", &id]);
    // The same MRN, the family name corrected: the server's Patient follows.
    let mut renamed = adult_flu();
    renamed["patient"]["family"] = "Lindqvist-Berg".into();
    let renamed = write("renamed.json", &renamed.to_string());
    let o = clinic.run(&["amend", &id, renamed.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    clinic.run(&["sync"]);
    clinic.server.with(|s| {
        let patients: Vec<_> = s
            .records
            .resources
            .iter()
            .filter(|r| r.kind == "Patient")
            .collect();
        assert_eq!(patients.len(), 1, "one Patient per MRN");
        assert_eq!(patients[0].resource["name"][0]["family"], "Lindqvist-Berg");
    });
    // Another MRN: voided under the first, recorded anew under the second.
    let mut other = adult_flu();
    other["patient"]["mrn"] = "MRN-009999".into();
    let other = write("other.json", &other.to_string());
    let o = clinic.run(&["amend", &id, other.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("voided under MRN-004211")
            && stdout(&o).contains("recorded anew under MRN-009999"),
        "{}",
        stdout(&o)
    );
    let o = clinic.run(&["sync"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    clinic.server.with(|s| {
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        let doses: Vec<_> = s
            .records
            .resources
            .iter()
            .filter(|r| r.kind == "Immunization")
            .collect();
        assert_eq!(
            doses.len(),
            2,
            "the first dose stays, voided; the new one is added"
        );
        assert_eq!(doses[0].resource["status"], "entered-in-error");
        assert_eq!(doses[1].resource["status"], "completed");
        assert_ne!(
            doses[0].resource["identifier"],
            doses[1].resource["identifier"]
        );
        assert_ne!(doses[0].resource["patient"], doses[1].resource["patient"]);
        let patients = s
            .records
            .resources
            .iter()
            .filter(|r| r.kind == "Patient")
            .count();
        assert_eq!(patients, 2);
    });
}

impl Clinic {
    /// The command, started and not waited for.
    fn start(&self, extra: &[&str]) -> std::process::Child {
        common::binary(&tempdir())
            .args(
                self.args
                    .iter()
                    .map(String::as_str)
                    .chain(extra.iter().copied()),
            )
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("starts")
    }
}

/// Two `amend` runs on one sent visit, started together, round after round: one is
/// queued and the other refused, never both (the same Bundle.id with different lots).
/// An `amend` and a `send` of one failed visit likewise leave it consistent: the
/// message the visit holds is the one that goes.
#[test]
fn corrections_started_together_by_two_processes_never_both_go() {
    let clinic = Clinic::sending_to_fhir("mode = \"transaction\"\n");
    for round in 0..6 {
        let mrn = format!("MRN-RACE-{round}");
        let lots: Vec<PathBuf> = ["AAA111", "BBB222"]
            .iter()
            .map(|lot| {
                let mut corrected = adult_flu();
                corrected["patient"]["mrn"] = mrn.clone().into();
                corrected["doses"][0]["lot"] = (*lot).into();
                write(&format!("{lot}.json"), &corrected.to_string())
            })
            .collect();
        let mut record = adult_flu();
        record["patient"]["mrn"] = mrn.clone().into();
        let record = write("race.json", &record.to_string());
        let o = clinic.run(&["import", record.to_str().unwrap()]);
        let id = imported_id(&stdout(&o));
        assert_eq!(clinic.run(&["send", &id]).status.code(), Some(0));
        let racing: Vec<_> = lots
            .iter()
            .map(|lot| clinic.start(&["amend", &id, lot.to_str().unwrap()]))
            .collect();
        let outputs: Vec<Output> = racing
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let won = outputs.iter().filter(|o| o.status.success()).count();
        assert_eq!(
            won,
            1,
            "round {round}: {:?}",
            outputs.iter().map(stderr).collect::<Vec<_>>()
        );
        let o = clinic.run(&["show", &id, "--versions"]);
        assert_eq!(stdout(&o).matches("amended").count(), 1, "{}", stdout(&o));
    }
    // A failed visit, amended and sent at once: whichever comes first, what is
    // recorded as sent is what was sent.
    clinic
        .server
        .with(|s| s.default = Some(common::server::Behaviour::BadRequest));
    let o = clinic.run(&["import", "assets/examples/historical.json"]);
    let id = imported_id(&stdout(&o));
    clinic.run(&["send", &id]);
    clinic.server.with(|s| s.default = None);
    let mut corrected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("assets/examples/historical.json").unwrap())
            .unwrap();
    corrected["patient"]["phone"] = "(413) 555-0199".into();
    let corrected = write("historical-fixed.json", &corrected.to_string());
    let amend = clinic.start(&["amend", &id, corrected.to_str().unwrap()]);
    let send = clinic.start(&["send", &id]);
    amend.wait_with_output().unwrap();
    send.wait_with_output().unwrap();
    clinic.run(&["sync", "--now"]);
    let o = clinic.run(&["show", &id]);
    let shown = stdout(&o);
    let sent = clinic.server.with(|s| s.accepted.clone());
    let bundle_id = shown
        .split("\"id\": \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    assert!(shown.contains("submitted"), "{shown}");
    assert!(
        sent.contains_key(&bundle_id),
        "the visit's message {bundle_id} is the one the server took: {sent:?}"
    );
}

/// `history` shows only the asked patient's doses, as plain text, and never asks for
/// every patient's: an endpoint that answers with another patient's dose, or with
/// terminal codes in its text, changes nothing on the screen; an empty MRN is refused.
#[test]
fn history_shows_only_the_patients_doses_in_plain_text() {
    let clinic = Clinic::sending_to_fhir("mode = \"transaction\"\nrequest_timeout_secs = 2\n");
    for mrn in ["", "   "] {
        let o = clinic.run(&["history", mrn]);
        assert_eq!(o.status.code(), Some(2), "{mrn:?}");
        assert!(stderr(&o).contains("every patient"), "{}", stderr(&o));
    }
    assert_eq!(clinic.server.with(|s| s.searches.len()), 0);
    let dose = |id: &str, patient: &str, lot: &str| {
        serde_json::json!({"fullUrl": format!("http://x/Immunization/{id}"), "resource": {
            "resourceType": "Immunization", "id": id, "status": "completed\u{1b}[2J",
            "vaccineCode": {"text": "flu\r\nFAKE LINE"},
            "occurrenceDateTime": "2026-10-01", "lotNumber": lot,
            "patient": {"reference": patient}}})
    };
    let page = serde_json::json!({"resourceType": "Bundle", "type": "searchset", "entry": [
        dose("i1", "Patient/p1", "LOT1\u{1b}]0;pwned\u{7}"),
        dose("i2", "Patient/p2", "OTHERS"),
        {"fullUrl": "http://x/Patient/p1", "search": {"mode": "include"}, "resource": {
            "resourceType": "Patient", "id": "p1",
            "identifier": [{"system": "urn:vaxentry:mrn", "value": "MRN-004211"}]}},
        {"fullUrl": "http://x/Patient/p2", "search": {"mode": "include"}, "resource": {
            "resourceType": "Patient", "id": "p2",
            "identifier": [{"system": "urn:vaxentry:mrn", "value": "MRN-999999"}]}}]});
    clinic
        .server
        .with(|s| s.search_script.push_back((200, page.to_string())));
    let o = clinic.run(&["history", "MRN-004211"]);
    let text = stdout(&o);
    assert!(text.contains("(1 dose(s)):"), "{text}");
    assert!(text.contains("lot LOT1]0;pwned"), "{text}");
    assert!(!text.contains("OTHERS"), "{text}");
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(!text.contains("\nFAKE LINE"), "{text}");
    assert!(stderr(&o).contains("not this patient's"), "{}", stderr(&o));
}

/// `void ID --dose N` without --yes says what would be sent and exits 0, sending
/// nothing; with --yes the dose goes as entered-in-error, and `list` shows it voided.
/// A visit that was never sent cannot be voided (exit 2, and why).
#[test]
fn void_says_what_it_would_send_then_sends_it_and_lists_the_dose_voided() {
    let clinic = Clinic::sending_to_fhir("mode = \"transaction\"\n");
    let o = clinic.run(&["import", "assets/examples/child-four-doses.json"]);
    let id = imported_id(&stdout(&o));
    let o = clinic.run(&["import", "assets/examples/adult-flu.json"]);
    let unsent = imported_id(&stdout(&o));
    clinic.run(&["send", &id]);
    assert_eq!(clinic.run(&["sync"]).status.code(), Some(0));
    let sent_before = clinic.server.with(|s| s.records.resources.len());
    let o = clinic.run(&["void", &id, "--dose", "2"]);
    assert_eq!(o.status.code(), Some(0), "a dry run: {}", stderr(&o));
    assert!(
        stdout(&o).contains("would send dose 2 (CVX 48)"),
        "{}",
        stdout(&o)
    );
    assert_eq!(clinic.run(&["sync"]).status.code(), Some(0));
    clinic.server.with(|s| {
        assert_eq!(s.records.resources.len(), sent_before);
        assert!(
            s.records
                .resources
                .iter()
                .all(|r| r.resource["status"] != "entered-in-error")
        );
    });
    let o = clinic.run(&["void", &id, "--dose", "2", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = clinic.run(&["list"]);
    assert!(
        stdout(&o).contains("110 48(voided) 216 116"),
        "{}",
        stdout(&o)
    );
    assert_eq!(clinic.run(&["sync"]).status.code(), Some(0));
    clinic.server.with(|s| {
        let voided: Vec<_> = s
            .records
            .resources
            .iter()
            .filter(|r| r.resource["status"] == "entered-in-error")
            .collect();
        assert_eq!(voided.len(), 1);
        assert_eq!(voided[0].resource["vaccineCode"]["coding"][0]["code"], "48");
    });
    let o = clinic.run(&["void", &unsent]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!stderr(&o).is_empty());
}

/// `vaxentry card`: off without `[card] issuer`, with what to set; with it, a patient's
/// card written as the specification's file, a PNG and an SVG (the user's only), its
/// `shc:/` text printed, and the key set to publish, with which the file verifies.
#[test]
fn card_issues_a_patients_card_as_files_and_prints_the_keys_to_publish() {
    let data = data_dir_with(&["assets/examples/adult-flu.json"]);
    let dir = data.to_str().unwrap();
    let o = vaxentry(&["--data-dir", dir, "card", "MRN-004211"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("[card] issuer"), "{}", stderr(&o));
    let config = data.join("config.toml");
    std::fs::write(
        &config,
        "[source]\nname = \"Riverside Family Clinic\"\n[card]\nissuer = \"https://clinic.example.org/cards/\"\n",
    )
    .unwrap();
    let with = |args: &[&str]| {
        let mut all = vec!["--config", config.to_str().unwrap(), "--data-dir", dir];
        all.extend(args);
        vaxentry(&all)
    };
    let out = tempdir();
    std::fs::create_dir_all(&out).unwrap();
    let o = with(&[
        "card",
        "MRN-004211",
        "--out",
        out.to_str().unwrap(),
        "--print",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o)
            .contains("SMART Health Card for Astrid Maria Lindqvist (born 1987-03-14): 1 dose(s)"),
        "{}",
        stderr(&o)
    );
    let printed = stdout(&o);
    let numeric = printed.lines().find(|l| l.starts_with("shc:/")).unwrap();
    for ext in ["smart-health-card", "png", "svg"] {
        let path = out.join(format!("card-MRN-004211.{ext}"));
        assert!(printed.contains(path.to_str().unwrap()), "{printed}");
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&path).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600, "{ext}");
    }
    let file: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("card-MRN-004211.smart-health-card")).unwrap(),
    )
    .unwrap();
    let jws = file["verifiableCredential"][0].as_str().unwrap();
    assert_eq!(vaxentry::card::qr::from_numeric(numeric).unwrap(), jws);
    // The key set to publish verifies the card; the issuer has no trailing slash.
    let o = with(&["card", "--jwks"]);
    let jwks: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let keys: Vec<_> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(vaxentry::card::jws::PublicKey::from_jwk)
        .collect();
    let verified = vaxentry::card::jws::verify(jws, &keys).unwrap();
    assert_eq!(verified.payload["iss"], "https://clinic.example.org/cards");
    // A patient or visit not held here, and a bad issuer, are named.
    let o = with(&["card", "MRN-NOBODY"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no patient with MRN MRN-NOBODY"),
        "{}",
        stderr(&o)
    );
    std::fs::write(&config, "[card]\nissuer = \"http://clinic.example.org\"\n").unwrap();
    let o = with(&["card", "MRN-004211"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not an https URL"), "{}", stderr(&o));
}

/// Bundles exported on one station are imported on another as received visits: the
/// same doses, listed as received and shown with where they came from, never sent;
/// the same files again make nothing new.
#[test]
fn bundles_exported_on_one_station_are_received_on_another() {
    let (one, other) = (tempdir(), tempdir());
    let (one_dir, other_dir) = (one.to_str().unwrap(), other.to_str().unwrap());
    let mut args = vec!["--data-dir", one_dir, "import"];
    let files: Vec<String> = common::EXAMPLES
        .iter()
        .map(|n| format!("assets/examples/{n}.json"))
        .collect();
    args.extend(files.iter().map(String::as_str));
    assert_eq!(vaxentry(&args).status.code(), Some(0));
    let out = tempdir().join("export");
    let o = vaxentry(&[
        "--data-dir",
        one_dir,
        "export",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let bundles: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    assert_eq!(bundles.len(), common::EXAMPLES.len());
    let mut args = vec!["--data-dir", other_dir, "import"];
    args.extend(bundles.iter().map(String::as_str));
    let o = vaxentry(&args);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let said = stdout(&o);
    assert_eq!(
        said.matches(": received as ").count(),
        6,
        "historical has two dates: {said}"
    );
    assert!(!said.contains("left out"), "{said}");
    // The same doses on both stations.
    let doses = |dir: &str| {
        let o = vaxentry(&["--data-dir", dir, "list", "--jsonl"]);
        let mut rows: Vec<String> = stdout(&o)
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                format!("{} {} {}", v["mrn"], v["visit_date"], v["vaccines"])
            })
            .collect();
        rows.sort();
        rows
    };
    let (mine, theirs) = (doses(one_dir), doses(other_dir));
    assert_eq!(theirs.len(), 6);
    for row in &theirs {
        let (mrn, _) = row.split_once(' ').unwrap();
        assert!(mine.iter().any(|m| m.starts_with(mrn)), "{row}");
    }
    let o = vaxentry(&["--data-dir", other_dir, "list", "--jsonl"]);
    assert!(
        stdout(&o).lines().all(|l| l.contains("\"received\"")),
        "{}",
        stdout(&o)
    );
    // Where it came from; never sent.
    let first: serde_json::Value =
        serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    let id = first["id"].as_str().unwrap();
    let o = vaxentry(&["--data-dir", other_dir, "show", id]);
    assert!(
        stdout(&o).contains("# received from file "),
        "{}",
        stdout(&o)
    );
    let o = vaxentry(&["--data-dir", other_dir, "send", id]);
    assert_ne!(o.status.code(), Some(0));
    assert!(
        format!("{}{}", stdout(&o), stderr(&o)).contains("received from elsewhere"),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
    // Again: nothing new.
    let o = vaxentry(&args);
    assert_eq!(
        stdout(&o).matches("nothing new").count(),
        6,
        "{}",
        stdout(&o)
    );
    assert_eq!(doses(other_dir).len(), 6);
    // --submit does not make a received visit one to send.
    let third = tempdir();
    let third = third.to_str().unwrap();
    let o = vaxentry(&["--data-dir", third, "import", "--submit", &bundles[0]]);
    assert!(
        stdout(&o).contains("--submit does not apply"),
        "{}",
        stdout(&o)
    );
    let o = vaxentry(&["--data-dir", third, "list", "--state", "queued"]);
    assert!(!stdout(&o).contains("MRN"), "{}", stdout(&o));
}

#[test]
fn forecast_of_a_history_file_as_json_keeps_the_input_order_and_cdcs_names() {
    let o = vaxentry(&[
        "forecast",
        "assets/examples/history-infant.json",
        "--as-of",
        "2026-05-15",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    insta::assert_json_snapshot!("forecast-infant", json);
    // The second Pediarix three weeks after the first is too soon for DTaP and polio;
    // after a birth dose of HepB it counts in CDC's HepB 4-dose series.
    let second: Vec<(String, String)> = json["doses"][5]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["group"].as_str().unwrap().into(),
                g["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expected = [
        ("DTaP/Tdap/Td", "Not Valid"),
        ("HepB", "Valid"),
        ("Polio", "Not Valid"),
    ];
    assert_eq!(
        second,
        expected.map(|(g, s)| (g.to_string(), s.to_string()))
    );
    assert_eq!(
        json["doses"][5]["groups"][0]["reason"],
        "too soon after an earlier dose"
    );
}

#[test]
fn forecast_prints_a_table_a_nurse_reads_at_a_glance() {
    let o = vaxentry(&[
        "forecast",
        "assets/examples/history-infant.json",
        "--as-of",
        "2026-05-15",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("As of 2026-05-15 (CDC CDSi, supporting data 4.64)\n"),
        "{out}"
    );
    assert!(out.contains("Due today: "), "{out}");
    assert!(
        out.contains("DTaP/Tdap/Td     Not Complete        2"),
        "{out}"
    );
    assert!(
        out.contains(
            "2026-04-02  CVX 110  DTaP/Tdap/Td: Not Valid (too soon after an earlier dose)"
        ),
        "{out}"
    );
}

#[test]
fn a_history_that_cannot_be_read_names_the_field_and_exits_2() {
    let history = |text: &str| write("history.json", text);
    let cases = [
        ("{", "not JSON"),
        (
            r#"{"format":"vaxentry-record/1"}"#,
            "format: must be \"vaxentry-history/1\"",
        ),
        (
            r#"{"format":"vaxentry-history/1","patient":{"birth_date":"2026-02-30"}}"#,
            "patient.birth_date: \"2026-02-30\" is not a date",
        ),
        (
            r#"{"format":"vaxentry-history/1","patient":{"birth_date":"2026-01-01","gender":"f"}}"#,
            "patient.gender: \"f\" is not female, male or unknown",
        ),
        (
            r#"{"format":"vaxentry-history/1","patient":{"birth_date":"2026-01-01"},"doses":[{"vaccine":"999","date":"2026-02-01"}]}"#,
            "doses[0].vaccine: \"999\" is not a CVX code CDSi knows",
        ),
        (
            r#"{"format":"vaxentry-history/1","patient":{"birth_date":"2026-01-01"},"doses":[{"vaccine":"08"}]}"#,
            "doses[0].date: missing",
        ),
        (
            r#"{"format":"vaxentry-history/1","patient":{"birth_date":"2026-01-01"},"doses":[{"vacine":"08","date":"2026-02-01"}]}"#,
            "doses[0]: unknown field \"vacine\"",
        ),
        (
            r#"{"format":"vaxentry-history/1","patient":{"birth_date":"2026-01-01"},"observations":[{"code":"999"}]}"#,
            "observations[0].code: \"999\" is not one of CDSi's coded observations",
        ),
    ];
    for (text, expected) in cases {
        let path = history(text);
        let o = vaxentry(&["forecast", path.to_str().unwrap(), "--as-of", "2026-05-15"]);
        assert_eq!(o.status.code(), Some(2), "{text}");
        assert!(stderr(&o).contains(expected), "{text}: {}", stderr(&o));
        assert!(stdout(&o).is_empty(), "{text}");
    }
    let o = vaxentry(&[
        "forecast",
        "assets/examples/history-infant.json",
        "--as-of",
        "someday",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--as-of \"someday\""), "{}", stderr(&o));
}

#[test]
fn forecast_of_a_stored_patient_uses_the_doses_held_here() {
    let data = data_dir_with(&["assets/examples/child-four-doses.json"]);
    let o = vaxentry(&[
        "--data-dir",
        data.to_str().unwrap(),
        "forecast",
        "--mrn",
        "MRN-118832",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    let doses = json["doses"].as_array().unwrap();
    assert_eq!(doses.len(), 4, "the four doses held here: {json}");
    let o = vaxentry(&[
        "--data-dir",
        data.to_str().unwrap(),
        "forecast",
        "--mrn",
        "MRN-NOBODY",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no patient with MRN MRN-NOBODY is stored here"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_cdsi_observation_changes_what_is_due() {
    let history = |observations: &str| {
        write(
            "history.json",
            &format!(
                r#"{{"format":"vaxentry-history/1","patient":{{"birth_date":"2000-01-01","gender":"female"}},"observations":[{observations}],"doses":[]}}"#
            ),
        )
    };
    let status_of = |path: &PathBuf, group: &str| {
        let o = vaxentry(&[
            "forecast",
            path.to_str().unwrap(),
            "--as-of",
            "2026-05-15",
            "--json",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        json["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["group"] == group)
            .map(|g| g["status"].as_str().unwrap().to_string())
    };
    assert_eq!(
        status_of(&history(""), "MMR").as_deref(),
        Some("Not Complete")
    );
    let pregnant = history(r#"{"code":"007","date":"2026-03-01"}"#);
    assert_eq!(
        status_of(&pregnant, "MMR").as_deref(),
        Some("Contraindicated")
    );
    // The picker's table lists CDSi's observations.
    let o = vaxentry(&["codes", "observation", "pregnant"]);
    assert!(stdout(&o).contains("007"), "{}", stdout(&o));
}

//! End to end: the real binary in a pseudo-terminal, typed at as a person would.

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

struct Session {
    parser: vt100::Parser,
    raw: Vec<u8>,
    output: mpsc::Receiver<Vec<u8>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    /// Held for the session's life: dropping it hangs up the child.
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

/// A new, empty home for one session.
fn new_home() -> std::path::PathBuf {
    let home = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("vaxentry-e2e-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&home).unwrap();
    home
}

/// What the binary runs with: `home` as its home, the same moment and zone whatever
/// this machine's clock says.
fn environment(home: &std::path::Path) -> Vec<(&'static str, std::ffi::OsString)> {
    vec![
        ("TERM", "xterm-256color".into()),
        ("HOME", home.into()),
        ("XDG_CONFIG_HOME", home.into()),
        ("XDG_DATA_HOME", home.into()),
        (vaxentry::clock::NOW_ENV, "2026-11-25T15:30:00-05:00".into()),
        ("TZ", "America/New_York".into()),
    ]
}

impl Session {
    fn start() -> Session {
        Session::start_in(&new_home())
    }

    fn start_in(home: &std::path::Path) -> Session {
        let pty = native_pty_system();
        let pair = pty
            .openpty(PtySize {
                rows: 24,
                cols: 80,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_vaxentry"));
        for (key, value) in environment(home) {
            cmd.env(key, value);
        }
        cmd.env_remove(vaxentry::store::DATA_DIR_ENV);
        let child = pair.slave.spawn_command(cmd).expect("spawn vaxentry");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("reader");
        let writer = pair.master.take_writer().expect("writer");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Session {
            _master: pair.master,
            parser: vt100::Parser::new(
                std::num::NonZero::new(24).unwrap(),
                std::num::NonZero::new(80).unwrap(),
                0,
            ),
            raw: Vec::new(),
            output: rx,
            writer,
            child,
        }
    }

    fn pump(&mut self, wait: Duration) {
        while let Ok(bytes) = self.output.recv_timeout(wait) {
            self.parser.process(&bytes);
            self.raw.extend_from_slice(&bytes);
        }
    }

    fn screen(&self) -> String {
        self.parser.screen().contents()
    }

    /// Waits until the screen shows `text`, or fails with the screen.
    fn wait_for(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            self.pump(Duration::from_millis(50));
            if self.screen().contains(text) {
                return;
            }
        }
        panic!("screen never showed {text:?}:\n{}", self.screen());
    }

    fn type_keys(&mut self, keys: &str) {
        for chunk in keys.split_inclusive(['\t', '\r']) {
            self.writer.write_all(chunk.as_bytes()).unwrap();
            self.writer.flush().unwrap();
            self.pump(Duration::from_millis(30));
        }
    }
}

const PAGE_DOWN: &str = "\x1b[6~";
const CTRL_Q: &str = "\x11";

#[test]
fn a_full_visit_typed_in_a_terminal_has_no_findings_and_the_terminal_is_restored() {
    let mut s = Session::start();
    s.wait_for("MRN");
    // 76 years old: Fluzone High-Dose is for 65 and over.
    s.type_keys("E2E-0001\tTester\tPat Q\t01/02/1950\tf\r");
    s.type_keys(PAGE_DOWN);
    s.wait_for("Dose 1 of 1");
    // Vaccine through the picker; the focus goes on to the lot, the first field the
    // dose still needs (status, time and "Given here" are defaulted).
    s.type_keys("fluzone hi");
    s.wait_for("match(es)");
    s.type_keys("\r");
    s.type_keys("LOT-77A\tpmc\rt+120\t\t0.5\tla\rNurse Joy\t\t\tMain St Clinic\t");
    s.wait_for("ready");
    let screen = s.screen();
    assert!(
        screen.contains("135  → Influenza, high-dose, trivalent, PF")
            || screen.contains("Dose 1 135"),
        "{screen}"
    );
    // Only the NDC, left empty, is recommended (· not ✓): nothing else is missing.
    assert!(
        screen.contains("✓ Patient") && screen.contains("· Dose 1") && screen.contains("·  NDC"),
        "{screen}"
    );
    assert!(
        !screen.contains('✗') && !screen.contains("to fill"),
        "{screen}"
    );

    s.type_keys(CTRL_Q);
    s.wait_for("Quit vaxentry?");
    s.type_keys("y");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        s.pump(Duration::from_millis(50));
        if let Some(status) = s.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "vaxentry did not exit");
    };
    s.pump(Duration::from_millis(100));
    assert!(status.success(), "exit status {status:?}");
    let raw = String::from_utf8_lossy(&s.raw);
    for (mode, off) in [
        ("alternate screen", "\x1b[?1049l"),
        ("bracketed paste", "\x1b[?2004l"),
        ("mouse capture", "\x1b[?1000l"),
    ] {
        assert!(raw.contains(off), "{mode} was not switched off on exit");
    }
    assert!(
        !s.parser.screen().hide_cursor(),
        "the cursor must be visible again"
    );
}

/// A keyboard-wedge scanner types a pack's GS1 DataMatrix into the Vaccine field all
/// at once (FNC1 as the GS byte, then Enter): the dose gets the lot, the expiry, and
/// the vaccine, maker and NDC of the lot on hand with that NDC.
#[test]
fn a_scan_typed_at_scanner_speed_fills_the_dose() {
    let home = new_home();
    let added = std::process::Command::new(env!("CARGO_BIN_EXE_vaxentry"))
        .envs(environment(&home))
        .env_remove(vaxentry::store::DATA_DIR_ENV)
        .args([
            "lots",
            "add",
            "140",
            "OLDER1",
            "--mvx",
            "PMC",
            "--expires",
            "01/2027",
        ])
        .args(["--ndc", "49281-0425-50"])
        .output()
        .unwrap();
    assert!(added.status.success(), "{added:?}");
    let mut s = Session::start_in(&home);
    s.wait_for("MRN");
    s.type_keys("E2E-0002\tScan\tSam\t01/02/1950\tm\r");
    s.type_keys(PAGE_DOWN);
    s.wait_for("Dose 1 of 1");
    // One write, as fast as the scanner sends it.
    s.writer
        .write_all(b"]d201003492814255091727063010UT8291AA\x1d21SN42\r")
        .unwrap();
    s.writer.flush().unwrap();
    s.wait_for("Scanned lot UT8291AA");
    let screen = s.screen();
    for shown in [
        "140  → Influenza",
        "UT8291AA",
        "PMC",
        "2027-06-30",
        "49281-0425-50",
    ] {
        assert!(screen.contains(shown), "{shown}:\n{screen}");
    }
    // The flu VIS's barcode (GS1 GDTI, AI 253), scanned the same way: that VIS and its
    // edition go into the dose.
    s.writer
        .write_all(b"]d2253088698300010311250131\r")
        .unwrap();
    s.writer.flush().unwrap();
    s.wait_for("Scanned VIS influenza-inactivated 2025-01-31");
    s.type_keys("\x06VIS given\r");
    s.wait_for("influenza-inactivated@2025-01-31");
    s.type_keys(CTRL_Q);
    s.wait_for("Quit vaxentry?");
    s.type_keys("y");
}

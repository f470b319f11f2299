//! `vaxentry receive`: the real binary listening on loopback, sent to as Redox and
//! other systems would: the right secret (either header), a wrong one, none, the same
//! bundle twice, a body that is no bundle, one too large, two senders at once, a kill
//! right after a 200, and SIGTERM.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use uuid::Uuid;
use vaxentry::store::Store;

const SECRET: &str = "a-long-shared-secret-0123456789";

fn tempdir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("vaxentry-receiver-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running receiver: its process, address and data folder.
struct Receiver {
    child: Child,
    addr: String,
    data: PathBuf,
}

impl Receiver {
    fn start() -> Receiver {
        let home = tempdir();
        let secret = home.join("secret");
        std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
        let config = home.join("config.toml");
        std::fs::write(
            &config,
            format!("[receive]\nsecret_file = \"{}\"\n", secret.display()),
        )
        .unwrap();
        let data = home.join("data");
        let mut child = common::binary(&home)
            .args(["--config", config.to_str().unwrap(), "--data-dir"])
            .arg(&data)
            .args(["receive", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("vaxentry receive: listening on http://")
            .unwrap_or_else(|| panic!("{line}"))
            .to_string();
        Receiver { child, addr, data }
    }

    /// POSTs `body` with these headers; the status and the answer's text.
    fn post(&self, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/fhir+json\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.addr,
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        let _ = stream.write_all(body.as_bytes());
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status: {answer}"));
        (status, answer)
    }

    fn visits(&self) -> i64 {
        Store::open(&self.data).unwrap().count().unwrap()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bundle(name: &str) -> String {
    vaxentry::fhir::message_for(
        &common::example(name),
        &common::settings(),
        common::now(),
        Uuid::new_v4(),
    )
    .unwrap()
    .json
}

const BEARER: (&str, &str) = ("Authorization", "Bearer a-long-shared-secret-0123456789");

#[test]
fn only_the_secret_gets_a_record_stored_once_and_bad_bodies_are_named() {
    let r = Receiver::start();
    let flu = bundle("adult-flu");
    for headers in [
        vec![],
        vec![("Authorization", "Bearer wrong-secret-0123456789")],
    ] {
        let (status, said) = r.post("/", &headers, &flu);
        assert_eq!(status, 401, "{said}");
    }
    assert_eq!(r.visits(), 0, "nothing stored without the secret");
    let (status, said) = r.post("/", &[BEARER], &flu);
    assert_eq!(status, 200, "{said}");
    assert!(said.contains("received as visit"), "{said}");
    assert_eq!(r.visits(), 1);
    // Redox's header, at /$process-message; the same bundle again: stored once.
    let token = ("verification-token", SECRET);
    let (status, said) = r.post("/$process-message", &[token], &flu);
    assert_eq!(status, 200, "{said}");
    assert!(said.contains("received before"), "{said}");
    assert_eq!(r.visits(), 1);
    // What is not a bundle, or names no patient, is answered 400 with the reason.
    let (status, said) = r.post("/", &[BEARER], "{\"resourceType\": \"Bun");
    assert_eq!(
        (status, said.contains("OperationOutcome")),
        (400, true),
        "{said}"
    );
    let (status, said) = r.post("/", &[BEARER], r#"{"resourceType": "Patient"}"#);
    assert_eq!(status, 400);
    assert!(said.contains("not a FHIR Bundle"), "{said}");
    let (status, _) = r.post("/elsewhere", &[BEARER], &flu);
    assert_eq!(status, 404);
    // Too large: refused before it is read.
    let mut stream = TcpStream::connect(&r.addr).unwrap();
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {SECRET}\r\nContent-Length: 999999999\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert_eq!(r.visits(), 1);
}

#[test]
fn two_senders_at_once_are_both_kept_and_a_200_survives_a_kill() {
    let mut r = Receiver::start();
    let bodies = [bundle("child-four-doses"), bundle("unicode-race")];
    std::thread::scope(|s| {
        for body in &bodies {
            let r = &r;
            s.spawn(move || {
                let (status, said) = r.post("/", &[BEARER], body);
                assert_eq!(status, 200, "{said}");
            });
        }
    });
    // Killed the moment the second 200 was read: both are there.
    r.child.kill().unwrap();
    r.child.wait().unwrap();
    assert_eq!(r.visits(), 2);
}

#[test]
fn sigterm_stops_it_cleanly_and_a_secret_others_can_read_is_refused() {
    let mut r = Receiver::start();
    let pid = r.child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = r.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let mut rest = String::new();
    r.child
        .stdout
        .as_mut()
        .unwrap()
        .read_to_string(&mut rest)
        .unwrap();
    assert!(rest.contains("stopped"), "{rest}");
    // Without a secret file, or with one others can read: it does not start.
    let home = tempdir();
    let secret = home.join("secret");
    std::fs::write(&secret, SECRET).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    let config = home.join("config.toml");
    for text in [
        String::new(),
        format!("[receive]\nsecret_file = \"{}\"\n", secret.display()),
    ] {
        std::fs::write(&config, text).unwrap();
        let o = common::binary(&home)
            .args(["--config", config.to_str().unwrap(), "--data-dir"])
            .arg(home.join("data"))
            .args(["receive", "--listen", "127.0.0.1:0"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
        let said = String::from_utf8_lossy(&o.stderr);
        assert!(said.contains("secret_file"), "{said}");
    }
}

//! `vaxentry receive --listen ADDR`: a small HTTP server that takes immunization
//! records pushed to this station (Redox delivering its events to a destination, or
//! any system POSTing a FHIR message Bundle) at `/` and `/$process-message`, and keeps
//! them as received visits.
//!
//! - A sender presents the shared secret of `[receive] secret_file`, as
//!   `Authorization: Bearer …` or as Redox's `verification-token` header; it is
//!   compared in constant time. Anything else gets 401, and nothing is stored.
//! - 200 is answered only once what came is stored durably (committed with the disk
//!   synced), so a sender that got its 200 never needs to send again. A bundle that
//!   cannot be read gets 400 with an OperationOutcome naming the problem, one over the
//!   size limit 413, and 503 while the database is busy, so the sender tries again.
//! - It binds to loopback unless told otherwise, and is meant to sit behind the
//!   clinic's TLS reverse proxy. It runs until stopped, and stops cleanly on SIGTERM
//!   or Ctrl+C.

use crate::clock::Clock;
use crate::config::Config;
use crate::fhir::received::read_bundle;
use crate::record::file;
use crate::store::Store;
use crate::store::received::Kept;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Where it listens when only a port, or nothing, is given.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8480";

pub fn run(store: &mut Store, config: &Config, listen: &str, clock: Clock) -> ExitCode {
    let secret = match secret(config) {
        Ok(s) => s,
        Err(e) => {
            err!("vaxentry receive: {e}");
            return ExitCode::from(super::UNREADABLE);
        }
    };
    let server = match tiny_http::Server::http(listen) {
        Ok(s) => s,
        Err(e) => {
            err!("vaxentry receive: cannot listen on {listen}: {e}");
            return ExitCode::from(super::UNREADABLE);
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        if let Err(e) = signal_hook::flag::register(signal, Arc::clone(&stop)) {
            err!("vaxentry receive: cannot watch for signals: {e}");
            return ExitCode::from(super::UNREADABLE);
        }
    }
    match server.server_addr().to_ip() {
        Some(addr) => out!("vaxentry receive: listening on http://{addr}"),
        None => out!("vaxentry receive: listening"),
    }
    let settings = config.bundle_settings();
    while !stop.load(Ordering::Relaxed) {
        match server.recv_timeout(Duration::from_millis(200)) {
            Ok(Some(request)) => answer(request, store, &secret, &settings, clock),
            Ok(None) => {}
            Err(e) => {
                err!("vaxentry receive: {e}");
                return ExitCode::from(super::UNREADABLE);
            }
        }
    }
    out!("vaxentry receive: stopped");
    ExitCode::SUCCESS
}

/// The shared secret, from a file only its owner can read.
fn secret(config: &Config) -> Result<[u8; 32], String> {
    let path = config.receive.secret_file.as_ref().ok_or(
        "set [receive] secret_file in the config: a file (owner-only) holding the secret senders present",
    )?;
    let meta = std::fs::metadata(path)
        .map_err(|e| format!("[receive] secret_file {}: {e}", path.display()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(format!(
            "[receive] secret_file {} can be read by others; chmod 600 it",
            path.display()
        ));
    }
    let text = file::read_text(path, 4096)
        .map_err(|e| format!("[receive] secret_file {}: {e}", path.display()))?;
    let secret = text.trim();
    if secret.len() < 16 {
        return Err(format!(
            "[receive] secret_file {} holds {} characters; a secret of at least 16 is needed",
            path.display(),
            secret.len()
        ));
    }
    Ok(Sha256::digest(secret.as_bytes()).into())
}

/// Whether the request presents the secret (its SHA-256 compared in constant time).
fn authorized(request: &tiny_http::Request, secret: &[u8; 32]) -> bool {
    let presented = request.headers().iter().find_map(|h| {
        let value = h.value.as_str().trim();
        if h.field.equiv("Authorization") {
            value.strip_prefix("Bearer ").map(str::trim)
        } else if h.field.equiv("verification-token") {
            Some(value)
        } else {
            None
        }
    });
    let Some(presented) = presented else {
        return false;
    };
    let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
    digest
        .iter()
        .zip(secret)
        .fold(0u8, |differ, (a, b)| differ | (a ^ b))
        == 0
}

fn answer(
    mut request: tiny_http::Request,
    store: &mut Store,
    secret: &[u8; 32],
    settings: &crate::fhir::BundleSettings,
    clock: Clock,
) {
    let path = request.url().split('?').next().unwrap_or("").to_string();
    let (status, outcome) = if *request.method() != tiny_http::Method::Post {
        (
            405,
            outcome("error", "not-supported", "only POST is accepted"),
        )
    } else if !["/", "/$process-message", "/%24process-message"].contains(&path.as_str()) {
        (
            404,
            outcome("error", "not-found", "POST to / or /$process-message"),
        )
    } else if !authorized(&request, secret) {
        (
            401,
            outcome(
                "error",
                "login",
                "the secret was not presented, or is not this station's",
            ),
        )
    } else {
        let source = format!(
            "{} (POST)",
            request
                .remote_addr()
                .map_or("a sender".into(), |a| a.to_string())
        );
        match body(&mut request) {
            Err(response) => response,
            Ok(text) => keep(&text, &source, store, settings, clock),
        }
    };
    let mut response =
        tiny_http::Response::from_string(outcome.to_string()).with_status_code(status);
    let mut headers = vec![("Content-Type", "application/fhir+json")];
    if status == 503 {
        headers.push(("Retry-After", "5"));
    }
    for (name, value) in headers {
        // ASCII constants: they always make a header.
        if let Ok(h) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(h);
        }
    }
    // A sender gone before its answer has what it sent stored all the same.
    let _ = request.respond(response);
}

/// The request's body as text, or the answer for one too large or not text.
fn body(request: &mut tiny_http::Request) -> Result<String, (u16, serde_json::Value)> {
    let most = file::MOST_BYTES as usize;
    let too_large = || {
        (
            413,
            outcome(
                "error",
                "too-costly",
                &format!("a bundle is at most {most} bytes"),
            ),
        )
    };
    if request.body_length().is_some_and(|n| n > most) {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    request
        .as_reader()
        .take(most as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            (
                400,
                outcome(
                    "error",
                    "structure",
                    &format!("the body could not be read: {e}"),
                ),
            )
        })?;
    if bytes.len() > most {
        return Err(too_large());
    }
    String::from_utf8(bytes).map_err(|_| {
        (
            400,
            outcome("error", "structure", "the body is not UTF-8 text"),
        )
    })
}

/// Keeps what a bundle holds; the answer.
fn keep(
    text: &str,
    source: &str,
    store: &mut Store,
    settings: &crate::fhir::BundleSettings,
    clock: Clock,
) -> (u16, serde_json::Value) {
    let read = match read_bundle(text, settings) {
        Ok(read) => read,
        Err(e) => return (400, outcome("error", "structure", &e)),
    };
    let now = clock.now();
    let mut said: Vec<String> = Vec::new();
    for visit in &read.visits {
        match store.receive(visit, text, source, now) {
            Ok(Kept::New(id)) => said.push(format!("received as visit {id}")),
            Ok(Kept::Known(id)) => said.push(format!("received before as visit {id}")),
            Ok(Kept::Voided(n)) => said.push(format!("{n} dose(s) received before voided")),
            Ok(Kept::Own(id)) => said.push(format!("this station's own visit {id}")),
            Err(e) if e.is_busy() => {
                return (
                    503,
                    outcome(
                        "error",
                        "transient",
                        "the database is busy; send it again shortly",
                    ),
                );
            }
            Err(e) => return (500, outcome("error", "exception", &e.to_string())),
        }
    }
    if read.visits.is_empty() {
        let why = read
            .left_out
            .first()
            .map_or("the bundle holds no immunizations", String::as_str);
        return (400, outcome("error", "structure", why));
    }
    let mut issues: Vec<serde_json::Value> = said
        .iter()
        .map(|s| issue("information", "informational", s))
        .collect();
    issues.extend(
        read.left_out
            .iter()
            .map(|l| issue("warning", "not-supported", l)),
    );
    (
        200,
        json!({"resourceType": "OperationOutcome", "issue": issues}),
    )
}

fn issue(severity: &str, code: &str, text: &str) -> serde_json::Value {
    json!({"severity": severity, "code": code, "diagnostics": crate::untrusted::plain(text)})
}

fn outcome(severity: &str, code: &str, text: &str) -> serde_json::Value {
    json!({"resourceType": "OperationOutcome", "issue": [issue(severity, code, text)]})
}

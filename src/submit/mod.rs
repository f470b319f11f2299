//! Sending visits: the endpoint and its authentication, one POST of a stored bundle
//! with the answer classified, and `sync`, which works through the outbox with
//! exponential backoff and jitter. The only module that touches the network.

pub mod auth;
pub mod endpoint;
pub mod outcome;

use crate::clock::Clock;
use crate::store::Store;
use crate::store::outbox::After;
use anyhow::Result;
use auth::{AuthSettings, TokenCache, TokenResponse, client_assertion};
pub use endpoint::Endpoint;
pub use outcome::{Issue, Outcome};
use std::time::Duration;
use ureq::Agent;

/// The configured endpoint, checked, with a warning added when the config file
/// itself can be read by other users. `None` when no endpoint is configured.
pub fn configured_endpoint(config: &crate::config::Config) -> Option<Result<Endpoint, String>> {
    let cfg = config.endpoint.as_ref()?;
    Some(Endpoint::from_config(cfg).map(|mut endpoint| {
        if let Some(path) = &config.loaded_from {
            auth::warn_if_readable_by_others(path, &mut endpoint.warnings);
        }
        endpoint
    }))
}

/// Answers larger than this are cut (they are only shown to the user).
const MAX_BODY: u64 = 1024 * 1024;
const FHIR_JSON: &str = "application/fhir+json";

/// Sends bundles to one endpoint, reusing connections and the access token.
pub struct Submitter {
    pub endpoint: Endpoint,
    /// "Now" for retry times, token lifetimes and client assertions.
    pub clock: Clock,
    agent: Agent,
    tokens: TokenCache,
}

impl Submitter {
    pub fn new(endpoint: Endpoint, clock: Clock) -> Submitter {
        let agent: Agent = Agent::config_builder()
            .timeout_connect(Some(endpoint.connect_timeout))
            .timeout_global(Some(endpoint.request_timeout))
            .http_status_as_error(false)
            .user_agent(concat!("vaxentry/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Submitter {
            endpoint,
            clock,
            agent,
            tokens: TokenCache::default(),
        }
    }

    /// POSTs one bundle; on a 401/403 with a token, gets a new token once and retries.
    pub fn send(&mut self, bundle_json: &str) -> Outcome {
        let mut refreshed = false;
        loop {
            let authorization = match self.authorization() {
                Ok(a) => a,
                Err(outcome) => return outcome,
            };
            let mut request = self
                .agent
                .post(&self.endpoint.url)
                .header("Content-Type", FHIR_JSON)
                .header("Accept", FHIR_JSON);
            if let Some(value) = &authorization {
                request = request.header("Authorization", value);
            }
            let mut response = match request.send(bundle_json) {
                Ok(r) => r,
                Err(e) => {
                    return Outcome::TryLater {
                        status: None,
                        reason: describe(&e, self.endpoint.request_timeout),
                        retry_after: None,
                    };
                }
            };
            let status = response.status().as_u16();
            if matches!(status, 401 | 403)
                && matches!(self.endpoint.auth, AuthSettings::Jwt(_))
                && !refreshed
            {
                self.tokens.clear();
                refreshed = true;
                continue;
            }
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = match response
                .body_mut()
                .with_config()
                .limit(MAX_BODY)
                .read_to_string()
            {
                Ok(b) => b,
                Err(e) if (200..300).contains(&status) => {
                    format!("(the answer could not be read: {e})")
                }
                Err(e) => {
                    return Outcome::TryLater {
                        status: Some(status),
                        reason: format!("the answer could not be read: {e}"),
                        retry_after: None,
                    };
                }
            };
            return outcome::classify(status, retry_after.as_deref(), body, self.clock.now());
        }
    }

    /// The Authorization header value, getting a token first when needed.
    fn authorization(&mut self) -> Result<Option<String>, Outcome> {
        let jwt = match &self.endpoint.auth {
            AuthSettings::None => return Ok(None),
            AuthSettings::Bearer(token) => return Ok(Some(format!("Bearer {}", token.expose()))),
            AuthSettings::Jwt(jwt) => jwt,
        };
        if let Some(token) = self.tokens.valid(self.clock.now()) {
            return Ok(Some(format!("Bearer {}", token.expose())));
        }
        let assertion = client_assertion(jwt, self.clock.now().timestamp()).map_err(|reason| {
            Outcome::CredentialsRefused {
                status: 0,
                body: reason,
            }
        })?;
        let response = self.agent.post(&jwt.token_url).send_form([
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion.as_str()),
        ]);
        let mut response = response.map_err(|e| Outcome::TryLater {
            status: None,
            reason: format!(
                "token endpoint: {}",
                describe(&e, self.endpoint.request_timeout)
            ),
            retry_after: None,
        })?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_string()
            .unwrap_or_default();
        match status {
            200..=299 => {
                let token: TokenResponse =
                    serde_json::from_str(&body).map_err(|_| Outcome::TryLater {
                        status: Some(status),
                        reason: "the token endpoint's answer has no access_token".into(),
                        retry_after: None,
                    })?;
                let now = self.clock.now();
                self.tokens.store(
                    token.access_token,
                    now,
                    Duration::from_secs(token.expires_in),
                );
                Ok(self
                    .tokens
                    .valid(now)
                    .map(|t| format!("Bearer {}", t.expose())))
            }
            400 | 401 | 403 => Err(Outcome::CredentialsRefused {
                status,
                body: format!("the token endpoint refused the credentials: {body}"),
            }),
            _ => Err(outcome::classify(status, None, body, self.clock.now())),
        }
    }
}

/// A network error in a few plain words (never with headers or tokens).
fn describe(e: &ureq::Error, timeout: Duration) -> String {
    match e {
        ureq::Error::Timeout(_) => format!("no answer within {:.1} s", timeout.as_secs_f64()),
        ureq::Error::HostNotFound => {
            "the server's name was not found (DNS); check the network".into()
        }
        ureq::Error::ConnectionFailed => {
            "cannot connect to the server; it may be down or the network is off".into()
        }
        ureq::Error::Io(io) => format!("the connection failed: {}", io.kind()),
        other => format!("network problem: {other}"),
    }
}

/// When to try again: 5 s doubling up to 15 min, ±20 % jitter; the server's
/// Retry-After when it gives one.
pub fn next_try(attempts_so_far: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(wait) = retry_after {
        return wait;
    }
    let base = Duration::from_secs(5).saturating_mul(1 << attempts_so_far.min(10));
    let capped = base.min(Duration::from_secs(15 * 60));
    capped.mul_f64(0.8 + fastrand::f64() * 0.4)
}

/// What one pass through the outbox did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SyncReport {
    pub sent: usize,
    /// Failed for good in this pass (rejected, credentials refused, too many tries).
    pub failed: usize,
    /// Tried and will be tried again.
    pub deferred: usize,
    /// Still waiting after the pass.
    pub waiting: u32,
    /// A problem worth showing (the last one).
    pub problem: Option<String>,
}

/// Visits claimed at a time: small enough that another process can share the work.
const BATCH: usize = 50;

/// Sends what is due, a batch at a time. A connection-level problem (or the server
/// asking to slow down) ends the pass early: the rest waits for the next pass rather
/// than timing out one by one.
pub fn sync(
    store: &mut Store,
    submitter: &mut Submitter,
    ignore_backoff: bool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<SyncReport> {
    let lease = submitter.endpoint.request_timeout * (BATCH as u32 + 1);
    let mut report = SyncReport::default();
    let total = store.queue_counts()?.0 as usize;
    let mut done = 0;
    // Each visit is tried at most once a pass, even when its retry is due at once.
    let mut tried = std::collections::HashSet::new();
    'pass: loop {
        let (due, again): (Vec<_>, Vec<_>) = store
            .claim_due(submitter.clock.now(), lease, BATCH, ignore_backoff)?
            .into_iter()
            .partition(|d| tried.insert(d.id));
        store.release(&again.iter().map(|d| d.id).collect::<Vec<_>>())?;
        if due.is_empty() {
            break;
        }
        for (i, item) in due.iter().enumerate() {
            progress(done, total.max(done));
            done += 1;
            let outcome = submitter.send(&item.bundle_json);
            let after = record(store, submitter, item, &outcome, &mut report)?;
            let stop = matches!(after, After::RetryAt(_))
                && matches!(
                    outcome,
                    Outcome::TryLater { status: None, .. }
                        | Outcome::TryLater {
                            status: Some(429 | 503),
                            ..
                        }
                );
            if stop {
                let rest: Vec<_> = due[i + 1..].iter().map(|d| d.id).collect();
                store.release(&rest)?;
                break 'pass;
            }
        }
    }
    progress(done, total.max(done));
    report.waiting = store.queue_counts()?.0;
    Ok(report)
}

/// Records one attempt's outcome and says where the visit went.
fn record(
    store: &mut Store,
    submitter: &Submitter,
    item: &crate::store::outbox::Due,
    outcome: &Outcome,
    report: &mut SyncReport,
) -> Result<After> {
    let now = submitter.clock.now();
    let tried = item.attempts + 1;
    let (after, http, kind, body) = match outcome {
        Outcome::Submitted { status, body } => (
            After::Submitted,
            Some(*status),
            "submitted",
            Some(body.as_str()),
        ),
        Outcome::Rejected { status, body, .. } => (
            After::Failed,
            Some(*status),
            "rejected",
            Some(body.as_str()),
        ),
        Outcome::CredentialsRefused { status, body } => (
            After::Failed,
            (*status > 0).then_some(*status),
            "credentials",
            Some(body.as_str()),
        ),
        Outcome::TryLater {
            status,
            retry_after,
            ..
        } if tried < submitter.endpoint.max_attempts => {
            let wait = chrono::Duration::from_std(next_try(item.attempts, *retry_after))
                .unwrap_or(chrono::Duration::minutes(15));
            (After::RetryAt(now + wait), *status, "retry", None)
        }
        Outcome::TryLater { status, .. } => (After::Failed, *status, "retry", None),
    };
    let mut detail = outcome.reason();
    if after == After::Failed && kind == "retry" {
        detail = format!("gave up after {tried} tries: {detail}");
    }
    store.record_attempt(
        item.id,
        &item.bundle_id,
        now,
        http,
        kind,
        &detail,
        body,
        after,
    )?;
    match after {
        After::Submitted => report.sent += 1,
        After::Failed => {
            report.failed += 1;
            report.problem = Some(detail);
        }
        After::RetryAt(_) => {
            report.deferred += 1;
            report.problem = Some(detail);
        }
    }
    Ok(after)
}

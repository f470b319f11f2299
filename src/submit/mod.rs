//! Sending visits: the endpoint and its authentication, one POST of a bundle with the
//! answer classified, and the retry policy (exponential backoff with jitter). The
//! only module that touches the network; it never touches the store.

pub mod auth;
pub mod endpoint;
pub mod outcome;
pub mod search;

use crate::clock::Clock;
use crate::untrusted::{plain, redact};
use auth::{AuthSettings, TokenCache, client_assertion};
pub use endpoint::Endpoint;
pub use outcome::{Body, Issue, Outcome};
use std::time::Duration;
use ureq::Agent;

/// The configured endpoint, checked, with a warning added when the config file
/// itself can be read by other users. `None` when no endpoint is configured.
pub fn configured_endpoint(config: &crate::config::Config) -> Option<Result<Endpoint, String>> {
    let cfg = config.endpoint.as_ref()?;
    Some(Endpoint::from_config(cfg).and_then(|mut endpoint| {
        if !endpoint.is_this_machine()
            && let Some(unset) = config.identifiers.unset()
        {
            return Err(format!(
                "[identifiers] {unset} is not set: a receiver cannot match vaxentry's own default system to your patients and doses, so nothing is sent until it is. Set mrn_system and immunization_system to your clinic's systems (for example \"urn:oid:2.16.840.1.113883.3.1234.1\", from your registry or EHR); saving works meanwhile"
            ));
        }
        if endpoint.protocol == endpoint::Protocol::RedoxWrite {
            redox_source_id(&config.source.endpoint, &mut endpoint.warnings)?;
        }
        if let Some(path) = &config.loaded_from {
            auth::warn_if_readable_by_others(path, &mut endpoint.warnings);
        }
        Ok(endpoint)
    }))
}

/// Redox tells an organisation's sources apart by `MessageHeader.source.endpoint`,
/// its Source ID (a UUID from the Redox dashboard): with several API keys, a message
/// without the right one is refused or routed as another source's. Unset, a warning
/// says so; set, it must be a UUID or a URI.
fn redox_source_id(source: &str, warnings: &mut Vec<String>) -> Result<(), String> {
    let source = source.trim();
    if source == crate::config::Source::default().endpoint {
        warnings.push(
            "[source] endpoint is not set: Redox names the sending source by it when your organisation has several API keys; set it to the Source ID from the Redox dashboard".into(),
        );
        return Ok(());
    }
    let uri = source.split_once(':').is_some_and(|(scheme, rest)| {
        !rest.is_empty()
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    }) && !source.contains(char::is_whitespace);
    if uuid::Uuid::try_parse(source).is_ok() || uri {
        return Ok(());
    }
    Err(format!(
        "[source] endpoint = \"{source}\" is not a Redox Source ID: give the Source ID from the Redox dashboard (a UUID such as 0b1f4f7a-9c3e-4d2b-8a61-3f2e5d7c9b10), or a URI"
    ))
}

/// Answers larger than this are cut (they are only shown to the user).
const MAX_BODY: u64 = 1024 * 1024;
const FHIR_JSON: &str = "application/fhir+json";
/// How long an idle connection is kept for the next request.
const IDLE_CONNECTION: Duration = Duration::from_secs(4);

/// Sends bundles to one endpoint, reusing connections and the access token.
pub struct Submitter {
    pub endpoint: Endpoint,
    /// "Now" for retry times, token lifetimes and client assertions.
    pub clock: Clock,
    /// Who this sender is, in the outbox's claims.
    pub claimer: String,
    agent: Agent,
    /// Shared by the connections sending at once; held while a token is fetched, so
    /// one token serves them all.
    tokens: std::sync::Mutex<TokenCache>,
}

impl Submitter {
    pub fn new(endpoint: Endpoint, clock: Clock) -> Submitter {
        let agent: Agent = Agent::config_builder()
            .timeout_connect(Some(endpoint.connect_timeout))
            .timeout_global(Some(endpoint.request_timeout))
            .http_status_as_error(false)
            // A message is never sent on to another address: a redirect is an answer.
            .max_redirects(0)
            // Servers close idle connections (Apache after 5 s): one kept longer is
            // likely dead, and a pass's first send would fail on it.
            .max_idle_age(IDLE_CONNECTION)
            .user_agent(concat!("vaxentry/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Submitter {
            endpoint,
            clock,
            claimer: uuid::Uuid::new_v4().to_string(),
            agent,
            tokens: std::sync::Mutex::new(TokenCache::default()),
        }
    }

    /// POSTs one message (as the endpoint takes it: see `Protocol::wire`); on a
    /// 401/403 with a token, gets a new token once and retries. `still_ours` is asked
    /// right before each POST, once the token is at hand: false (another sender took
    /// the visit while this one waited) sends nothing.
    pub fn send(
        &self,
        message_json: &str,
        sending: endpoint::Sending,
        still_ours: &(dyn Fn() -> bool + Sync),
    ) -> Outcome {
        let bundle_json = match self.endpoint.protocol.wire(message_json, sending) {
            Ok(wire) => wire,
            Err(why) => return Outcome::NotSent(why),
        };
        let bundle_json = bundle_json.as_str();
        let response = self.authorized(still_ours, &|authorization| {
            let request = self
                .agent
                .post(&self.endpoint.url)
                .header("Content-Type", FHIR_JSON)
                .header("Accept", FHIR_JSON);
            with_auth(request, authorization).send(bundle_json)
        });
        match response {
            Ok((response, authorization)) => {
                self.classify(response, Some(bundle_json), authorization.as_deref())
            }
            Err(outcome) => outcome,
        }
    }

    /// Sends a request with the endpoint's authorization, once `ready` says to; on a
    /// 401/403 with a token, gets a new token once and sends it again. A connection
    /// the server had closed while it sat idle is tried once more on a new one. Gives
    /// the answer and the Authorization header it was sent with.
    fn authorized(
        &self,
        ready: &dyn Fn() -> bool,
        send: &dyn Fn(Option<&str>) -> Result<Response, ureq::Error>,
    ) -> Result<(Response, Option<String>), Outcome> {
        let mut refreshed = false;
        let mut reconnected = false;
        loop {
            let authorization = self.authorization()?;
            if !ready() {
                return Err(Outcome::ClaimLost);
            }
            let response = match send(authorization.as_deref()) {
                Ok(response) => response,
                Err(e) if !reconnected && closed_while_idle(&e) => {
                    reconnected = true;
                    continue;
                }
                Err(e) => {
                    return Err(Outcome::TryLater {
                        status: None,
                        reason: describe(&e, self.endpoint.request_timeout),
                        retry_after: None,
                    });
                }
            };
            let status = response.status().as_u16();
            if matches!(status, 401 | 403)
                && matches!(self.endpoint.auth, AuthSettings::Jwt(_))
                && !refreshed
            {
                self.token_cache().clear();
                refreshed = true;
                continue;
            }
            return Ok((response, authorization));
        }
    }

    /// What an answer means (`sent`: the bundle it answers; `authorization`: the
    /// header it was sent with, whose secret a careless server may echo back).
    fn classify(
        &self,
        mut response: Response,
        sent: Option<&str>,
        authorization: Option<&str>,
    ) -> Outcome {
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let headers = outcome::Headers {
            retry_after: header("retry-after"),
            location: header("location"),
            content_type: header("content-type"),
        };
        let body = without_secrets(read_body(&mut response), authorization);
        outcome::classify(
            status,
            &headers,
            body,
            sent,
            self.endpoint.protocol.sent_as(),
            self.clock.now(),
        )
    }

    /// The Authorization header value, getting a token first when needed.
    fn authorization(&self) -> Result<Option<String>, Outcome> {
        let jwt = match &self.endpoint.auth {
            AuthSettings::None => return Ok(None),
            AuthSettings::Bearer(token) => return Ok(Some(format!("Bearer {}", token.expose()))),
            AuthSettings::Jwt(jwt) => jwt,
        };
        let mut tokens = self.token_cache();
        if let Some(token) = tokens.valid(self.clock.now()) {
            return Ok(Some(format!("Bearer {}", token.expose())));
        }
        let assertion = client_assertion(jwt, self.clock.now().timestamp()).map_err(|reason| {
            Outcome::CredentialsRefused {
                status: 0,
                body: reason,
            }
        })?;
        let mut form = vec![
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion.as_str()),
        ];
        if let Some(scope) = &jwt.scope {
            form.push(("scope", scope));
        }
        let response = self.agent.post(&jwt.token_url).send_form(form);
        let mut response = response.map_err(|e| Outcome::TryLater {
            status: None,
            reason: format!(
                "token endpoint: {}",
                describe(&e, self.endpoint.request_timeout)
            ),
            retry_after: None,
        })?;
        let status = response.status().as_u16();
        let body = read_body(&mut response);
        if let (200..=299, Body::Text(text)) = (status, &body) {
            let token = auth::usable_token(text).map_err(|why| Outcome::TryLater {
                status: Some(status),
                reason: format!("the token endpoint's answer {why}"),
                retry_after: None,
            })?;
            let now = self.clock.now();
            let bearer = format!("Bearer {}", token.access_token);
            // This request uses the token it fetched, however short its life; the
            // cache keeps it while it has most of its life left.
            tokens.store(token.access_token, now, token.lifetime);
            return Ok(Some(bearer));
        }
        // Whatever else it says is kept and shown: without the assertion it may echo.
        let body = without_secrets(body, Some(&assertion));
        let text = match &body {
            Body::Text(t) => t.clone(),
            Body::Unreadable(why) => why.clone(),
        };
        match status {
            200..=299 => Err(Outcome::TryLater {
                status: Some(status),
                reason: format!("the token endpoint's answer could not be read: {text}"),
                retry_after: None,
            }),
            400 | 401 | 403 => Err(Outcome::CredentialsRefused {
                status,
                body: format!(
                    "the token endpoint refused the credentials: {}",
                    plain(&text)
                ),
            }),
            _ => Err(outcome::classify_failure(
                status,
                &outcome::Headers::default(),
                body,
                None,
                self.clock.now(),
            )),
        }
    }
}

impl Submitter {
    /// The token cache (a sender that panicked while holding it left it usable).
    fn token_cache(&self) -> std::sync::MutexGuard<'_, TokenCache> {
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The request with the Authorization header, when there is one.
fn with_auth<B>(
    request: ureq::RequestBuilder<B>,
    authorization: Option<&str>,
) -> ureq::RequestBuilder<B> {
    match authorization {
        Some(value) => request.header("Authorization", value),
        None => request,
    }
}

/// An HTTP answer.
type Response = ureq::http::Response<ureq::Body>;

/// An answer's body: text up to the size limit, or why it could not be read.
fn read_body(response: &mut Response) -> Body {
    match response
        .body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_vec()
    {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Body::Text(text),
            Err(_) => Body::Unreadable("it is not UTF-8 text".into()),
        },
        Err(ureq::Error::BodyExceedsLimit(_)) => {
            Body::Unreadable(format!("it is larger than {} MB", MAX_BODY / (1024 * 1024)))
        }
        Err(e) => Body::Unreadable(format!("it was cut off ({})", plain(&e.to_string()))),
    }
}

/// An answer's text without the secrets a server may echo back: the credential sent
/// (`authorization`: a header value, or a client assertion) and anything else that
/// looks like a token.
fn without_secrets(body: Body, authorization: Option<&str>) -> Body {
    let sent = authorization.map(|a| a.trim_start_matches("Bearer ").trim());
    let known: Vec<&str> = sent.into_iter().collect();
    match body {
        Body::Text(text) => Body::Text(redact(&text, &known)),
        Body::Unreadable(why) => Body::Unreadable(redact(&why, &known)),
    }
}

/// The server closed a kept-alive connection while it sat idle: the request never got
/// an answer, and is sent again at once on a new connection (the same Bundle.id, so a
/// receiver that did get it keeps it once).
fn closed_while_idle(e: &ureq::Error) -> bool {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
    matches!(e, ureq::Error::Io(io) if matches!(io.kind(), BrokenPipe | ConnectionAborted | ConnectionReset | UnexpectedEof))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redox_source_id_is_a_uuid_or_a_uri_and_unset_is_warned_about() {
        let mut warnings = Vec::new();
        for fine in [
            "0b1f4f7a-9c3e-4d2b-8a61-3f2e5d7c9b10",
            "https://clinic.example.org/fhir/acks",
            "urn:oid:2.16.840.1.113883.3.1234",
        ] {
            assert_eq!(redox_source_id(fine, &mut warnings), Ok(()), "{fine}");
        }
        assert!(warnings.is_empty());
        for wrong in ["Riverside clinic", "0b1f4f7a-9c3e", "1234", ":x"] {
            let err = redox_source_id(wrong, &mut warnings).unwrap_err();
            assert!(
                err.contains("[source] endpoint") && err.contains("Source ID"),
                "{err}"
            );
        }
        redox_source_id("urn:vaxentry:local", &mut warnings).unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("Source ID"), "{warnings:?}");
    }

    #[test]
    fn only_redox_endpoints_check_the_source_id() {
        let redox = crate::config::Config::parse(
            "[source]\nendpoint = \"front desk\"\n[endpoint]\nkind = \"redox\"\nbase_url = \"http://127.0.0.1:9\"\ndestination_slug = \"d\"\n",
        )
        .unwrap();
        let err = configured_endpoint(&redox).unwrap().unwrap_err();
        assert!(err.contains("not a Redox Source ID"), "{err}");
        let fhir = crate::config::Config::parse(
            "[source]\nendpoint = \"front desk\"\n[endpoint]\nkind = \"fhir\"\nbase_url = \"http://127.0.0.1:9/fhir\"\n",
        )
        .unwrap();
        assert!(configured_endpoint(&fhir).unwrap().is_ok());
    }
}

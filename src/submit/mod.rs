//! Sending visits: the endpoint and its authentication, one POST of a bundle with the
//! answer classified, and the retry policy (exponential backoff with jitter). The
//! only module that touches the network; it never touches the store.

pub mod auth;
pub mod endpoint;
pub mod outcome;
pub mod search;

use crate::clock::Clock;
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
    /// 401/403 with a token, gets a new token once and retries.
    pub fn send(&self, message_json: &str, sending: endpoint::Sending) -> Outcome {
        let bundle_json = match self.endpoint.protocol.wire(message_json, sending) {
            Ok(wire) => wire,
            Err(why) => return Outcome::NotSent(why),
        };
        let bundle_json = bundle_json.as_str();
        let response = self.authorized(&|authorization| {
            let request = self
                .agent
                .post(&self.endpoint.url)
                .header("Content-Type", FHIR_JSON)
                .header("Accept", FHIR_JSON);
            with_auth(request, authorization).send(bundle_json)
        });
        match response {
            Ok(response) => self.classify(response, Some(bundle_json)),
            Err(outcome) => outcome,
        }
    }

    /// Sends a request with the endpoint's authorization; on a 401/403 with a token,
    /// gets a new token once and sends it again.
    fn authorized(
        &self,
        send: &dyn Fn(Option<&str>) -> Result<Response, ureq::Error>,
    ) -> Result<Response, Outcome> {
        let mut refreshed = false;
        loop {
            let authorization = self.authorization()?;
            let response = send(authorization.as_deref()).map_err(|e| Outcome::TryLater {
                status: None,
                reason: describe(&e, self.endpoint.request_timeout),
                retry_after: None,
            })?;
            let status = response.status().as_u16();
            if matches!(status, 401 | 403)
                && matches!(self.endpoint.auth, AuthSettings::Jwt(_))
                && !refreshed
            {
                self.token_cache().clear();
                refreshed = true;
                continue;
            }
            return Ok(response);
        }
    }

    /// What an answer means (`sent`: the bundle it answers).
    fn classify(&self, mut response: Response, sent: Option<&str>) -> Outcome {
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
        };
        let body = read_body(&mut response);
        outcome::classify(status, &headers, body, sent, self.clock.now())
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
        let text = match &body {
            Body::Text(t) => t.clone(),
            Body::Unreadable(why) => why.clone(),
        };
        match status {
            200..=299 => {
                let token = auth::usable_token(&text).map_err(|why| Outcome::TryLater {
                    status: Some(status),
                    reason: format!("the token endpoint's answer {why}"),
                    retry_after: None,
                })?;
                let now = self.clock.now();
                let bearer = format!("Bearer {}", token.access_token);
                // This request uses the token it fetched, however short its life; the
                // cache keeps it only while it has more than the renewal margin left.
                tokens.store(token.access_token, now, token.lifetime);
                Ok(Some(bearer))
            }
            400 | 401 | 403 => Err(Outcome::CredentialsRefused {
                status,
                body: format!(
                    "the token endpoint refused the credentials: {}",
                    outcome::plain(&text)
                ),
            }),
            _ => Err(outcome::classify(
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
        Err(e) => Body::Unreadable(format!(
            "it was cut off ({})",
            outcome::plain(&e.to_string())
        )),
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

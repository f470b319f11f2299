//! HTTP, the transport there is: one POST of a message's wire form with the
//! endpoint's authorization (a token fetched, cached and renewed as needed), its answer
//! read by `outcome` (and so by `fhir::answer`), and the Immunization search. The only
//! code that touches the network.

use super::auth::{AuthSettings, TokenCache, client_assertion};
use super::endpoint::Endpoint;
use super::outcome::{self, Body, Outcome};
use super::protocol::Protocol;
use super::search::{self, Found, check_mrn, next_link, same_server, the_patients};
use super::transport::{Parcel, Transport};
use crate::clock::Clock;
use crate::fhir::transaction::token;
use crate::untrusted::{plain, redact};
use serde_json::Value as Json;
use std::collections::HashSet;
use std::time::Duration;
use ureq::Agent;

/// Answers larger than this are cut (they are only shown to the user).
const MAX_BODY: u64 = 1024 * 1024;
const FHIR_JSON: &str = "application/fhir+json";
/// How long an idle connection is kept for the next request.
const IDLE_CONNECTION: Duration = Duration::from_secs(4);

/// One endpoint over HTTP, reusing connections and the access token.
pub struct Http {
    protocol: Protocol,
    url: String,
    search_url: String,
    request_timeout: Duration,
    auth: AuthSettings,
    agent: Agent,
    /// Shared by the connections sending at once; held while a token is fetched, so
    /// one token serves them all.
    tokens: std::sync::Mutex<TokenCache>,
}

impl Http {
    pub fn new(endpoint: &Endpoint) -> Http {
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
        Http {
            protocol: endpoint.protocol,
            url: endpoint.url.clone(),
            search_url: endpoint.search_url.clone(),
            request_timeout: endpoint.request_timeout,
            auth: endpoint.auth.clone(),
            agent,
            tokens: std::sync::Mutex::new(TokenCache::default()),
        }
    }
}

impl Transport for Http {
    fn wire(&self, parcel: &Parcel) -> Result<String, String> {
        self.protocol
            .wire(parcel.visit, parcel.bundle_id, parcel.message)
    }

    /// POSTs the parcel's wire form; on a 401/403 with a token, gets a new token once
    /// and retries.
    fn deliver(
        &self,
        parcel: &Parcel,
        clock: Clock,
        still_ours: &(dyn Fn() -> bool + Sync),
    ) -> Outcome {
        let wire = match self.wire(parcel) {
            Ok(wire) => wire,
            Err(why) => return Outcome::NotSent(why),
        };
        let response = self.authorized(clock, still_ours, &|authorization| {
            let request = self
                .agent
                .post(&self.url)
                .header("Content-Type", FHIR_JSON)
                .header("Accept", FHIR_JSON);
            with_auth(request, authorization).send(wire.as_str())
        });
        match response {
            Ok((response, authorization)) => {
                self.classify(response, Some(&wire), authorization.as_deref(), clock)
            }
            Err(outcome) => outcome,
        }
    }

    /// Redox's form-encoded `_search`, or a FHIR server's `GET Immunization?…`, with
    /// the patients included, and every `next` page on the same server, each once.
    fn immunizations_of(&self, system: &str, value: &str, clock: Clock) -> Result<Found, String> {
        let value = check_mrn(value)?;
        let patient = token(system, value);
        let include = "Immunization:patient";
        let first = self.authorized(clock, &|| true, &|authorization| match self.protocol {
            Protocol::RedoxWrite => with_auth(
                self.agent
                    .post(&self.search_url)
                    .header("Accept", FHIR_JSON),
                authorization,
            )
            .send_form([
                ("patient.identifier", patient.as_str()),
                ("_include", include),
            ]),
            Protocol::ProcessMessage | Protocol::Transaction => with_auth(
                self.agent
                    .get(&self.search_url)
                    .query("patient.identifier", &patient)
                    .query("_include", include)
                    .header("Accept", FHIR_JSON),
                authorization,
            )
            .call(),
        });
        let mut pages = vec![self.searchset(first, clock)?];
        let mut read = HashSet::new();
        let mut incomplete = None;
        while let Some(next) = pages.last().and_then(next_link) {
            if !same_server(&next, &self.search_url) {
                incomplete = Some(format!(
                    "the endpoint's next page is on another server ({}); it was not read",
                    plain(&next)
                ));
                break;
            }
            if !read.insert(next.clone()) {
                incomplete = Some(
                    "the endpoint's next page is one already read; the pages after it were not read"
                        .into(),
                );
                break;
            }
            if pages.len() == search::MAX_PAGES {
                incomplete = Some(format!(
                    "only the first {} pages were read; the endpoint has more",
                    search::MAX_PAGES
                ));
                break;
            }
            let response = self.authorized(clock, &|| true, &|authorization| {
                with_auth(
                    self.agent.get(&next).header("Accept", FHIR_JSON),
                    authorization,
                )
                .call()
            });
            pages.push(self.searchset(response, clock)?);
        }
        let (immunizations, others) = the_patients(&pages, system, value);
        if others > 0 {
            let why = format!(
                "{others} Immunization(s) in the endpoint's answer are not this patient's (or do not say whose they are), and were left out"
            );
            incomplete = Some(match incomplete {
                Some(before) => format!("{before}; {why}"),
                None => why,
            });
        }
        Ok(Found {
            immunizations,
            incomplete,
        })
    }
}

impl Http {
    /// Sends a request with the endpoint's authorization, once `ready` says to; on a
    /// 401/403 with a token, gets a new token once and sends it again. A connection
    /// the server had closed while it sat idle is tried once more on a new one. Gives
    /// the answer and the Authorization header it was sent with.
    fn authorized(
        &self,
        clock: Clock,
        ready: &dyn Fn() -> bool,
        send: &dyn Fn(Option<&str>) -> Result<Response, ureq::Error>,
    ) -> Result<(Response, Option<String>), Outcome> {
        let mut refreshed = false;
        let mut reconnected = false;
        loop {
            let authorization = self.authorization(clock)?;
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
                        reason: describe(&e, self.request_timeout),
                        retry_after: None,
                    });
                }
            };
            let status = response.status().as_u16();
            if matches!(status, 401 | 403)
                && matches!(self.auth, AuthSettings::Jwt(_))
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
        clock: Clock,
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
            self.protocol.sent_as(),
            clock.now(),
        )
    }

    /// The Authorization header value, getting a token first when needed.
    fn authorization(&self, clock: Clock) -> Result<Option<String>, Outcome> {
        let jwt = match &self.auth {
            AuthSettings::None => return Ok(None),
            AuthSettings::Bearer(token) => return Ok(Some(format!("Bearer {}", token.expose()))),
            AuthSettings::Jwt(jwt) => jwt,
        };
        let mut tokens = self.token_cache();
        if let Some(token) = tokens.valid(clock.now()) {
            return Ok(Some(format!("Bearer {}", token.expose())));
        }
        let assertion = client_assertion(jwt, clock.now().timestamp()).map_err(|reason| {
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
            reason: format!("token endpoint: {}", describe(&e, self.request_timeout)),
            retry_after: None,
        })?;
        let status = response.status().as_u16();
        let body = read_body(&mut response);
        if let (200..=299, Body::Text(text)) = (status, &body) {
            let token = super::auth::usable_token(text).map_err(|why| Outcome::TryLater {
                status: Some(status),
                reason: format!("the token endpoint's answer {why}"),
                retry_after: None,
            })?;
            let now = clock.now();
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
                clock.now(),
            )),
        }
    }

    /// A searchset Bundle from an answer, or why there is none.
    fn searchset(
        &self,
        response: Result<(Response, Option<String>), Outcome>,
        clock: Clock,
    ) -> Result<Json, String> {
        let (mut response, authorization) = response.map_err(|outcome| outcome.reason())?;
        let status = response.status().as_u16();
        if !(200..=299).contains(&status) {
            let body = without_secrets(read_body(&mut response), authorization.as_deref());
            let why = outcome::classify_failure(
                status,
                &outcome::Headers::default(),
                body,
                None,
                clock.now(),
            )
            .reason();
            return Err(match status {
                404 | 405 | 501 => format!(
                    "the endpoint does not offer an Immunization search (HTTP {status}): {why}"
                ),
                _ => why,
            });
        }
        let text = match read_body(&mut response) {
            Body::Text(text) => text,
            Body::Unreadable(why) => return Err(format!("the answer could not be read ({why})")),
        };
        let bundle: Json = serde_json::from_str(text.trim_start_matches('\u{feff}'))
            .map_err(|_| "the endpoint's answer to the search is not JSON".to_string())?;
        if bundle["resourceType"] != "Bundle" {
            return Err(format!(
                "the endpoint answered the search with {}, not a Bundle",
                plain(bundle["resourceType"].as_str().unwrap_or("something else"))
            ));
        }
        Ok(bundle)
    }
}

impl Http {
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

//! Sending visits: the endpoint and its authentication, the transport that carries
//! each message (HTTP today, behind [`transport::Transport`]), what an answer means
//! (`outcome`, reading bodies through `fhir::answer`) and the retry policy (exponential
//! backoff with jitter). It never touches the store.

pub mod auth;
pub mod endpoint;
pub mod http;
pub mod outcome;
pub mod protocol;
pub mod search;
pub mod transport;
pub mod url;

use crate::clock::Clock;
pub use endpoint::Endpoint;
pub use outcome::{Body, Issue, Outcome};
use search::Found;
use std::time::Duration;
pub use transport::{Parcel, Transport};

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
        if endpoint.protocol == protocol::Protocol::RedoxWrite {
            redox_source_id(&config.source.endpoint)?;
        }
        if let Some(path) = &config.loaded_from {
            auth::warn_if_readable_by_others(path, &mut endpoint.warnings);
        }
        Ok(endpoint)
    }))
}

/// Redox tells an organisation's sources apart by `MessageHeader.source.endpoint`,
/// its Source ID (a UUID from the Redox dashboard): with several API keys, a message
/// without the right one is refused or routed as another source's. It must be set,
/// to a UUID or a URI, before anything goes to Redox.
fn redox_source_id(source: &str) -> Result<(), String> {
    let source = source.trim();
    if source == crate::config::Source::default().endpoint {
        return Err(
            "[source] endpoint is not set: Redox names the sending source by it, so nothing is sent to Redox until it is. Set it to the Source ID from the Redox dashboard (a UUID); saving works meanwhile".into(),
        );
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

/// Sends messages to one endpoint: the settings that pace the outbox, and the
/// transport that carries them.
pub struct Submitter {
    pub endpoint: Endpoint,
    /// "Now" for retry times, token lifetimes and client assertions.
    pub clock: Clock,
    /// Who this sender is, in the outbox's claims.
    pub claimer: String,
    transport: Box<dyn Transport>,
}

impl Submitter {
    /// A sender over the endpoint's own transport.
    pub fn new(endpoint: Endpoint, clock: Clock) -> Submitter {
        let transport = Box::new(http::Http::new(&endpoint));
        Submitter::over(endpoint, clock, transport)
    }

    /// A sender over `transport`.
    pub fn over(endpoint: Endpoint, clock: Clock, transport: Box<dyn Transport>) -> Submitter {
        Submitter {
            endpoint,
            clock,
            claimer: uuid::Uuid::new_v4().to_string(),
            transport,
        }
    }

    /// Sends a stored message; `still_ours` is asked right before it goes.
    pub fn send(&self, parcel: &Parcel, still_ours: &(dyn Fn() -> bool + Sync)) -> Outcome {
        self.transport.deliver(parcel, self.clock, still_ours)
    }

    /// What goes to the endpoint for a stored message, exactly.
    pub fn wire(&self, parcel: &Parcel) -> Result<String, String> {
        self.transport.wire(parcel)
    }

    /// The Immunizations the endpoint holds for the patient with identifier
    /// `system|value`; the error says in plain words why they could not be read.
    pub fn immunizations_of(&self, system: &str, value: &str) -> Result<Found, String> {
        self.transport.immunizations_of(system, value, self.clock)
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
    fn a_redox_source_id_is_a_uuid_or_a_uri_and_unset_is_refused() {
        for fine in [
            "0b1f4f7a-9c3e-4d2b-8a61-3f2e5d7c9b10",
            "https://clinic.example.org/fhir/acks",
            "urn:oid:2.16.840.1.113883.3.1234",
        ] {
            assert_eq!(redox_source_id(fine), Ok(()), "{fine}");
        }
        for wrong in ["Riverside clinic", "0b1f4f7a-9c3e", "1234", ":x"] {
            let err = redox_source_id(wrong).unwrap_err();
            assert!(
                err.contains("[source] endpoint") && err.contains("Source ID"),
                "{err}"
            );
        }
        let unset = redox_source_id("urn:vaxentry:local").unwrap_err();
        assert!(
            unset.contains("is not set") && unset.contains("nothing is sent"),
            "{unset}"
        );
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

//! The seam between the outbox and the wire: a [`Transport`] delivers a stored
//! message and reads a patient's immunizations back, over whatever the receiver
//! speaks. HTTP (`http.rs`) is the one there is; another receiver (HL7 v2 over MLLP,
//! a SOAP gateway) is one more file implementing this trait, and one more arm of
//! `config::EndpointConfig`.

use super::Outcome;
use super::search::Found;
use crate::clock::Clock;
use uuid::Uuid;

/// A stored message to deliver: its visit, its Bundle.id, and its text as stored.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Parcel<'a> {
    pub visit: Uuid,
    pub bundle_id: &'a str,
    pub message: &'a str,
}

/// How messages reach one receiver.
pub trait Transport: Send + Sync {
    /// What goes to the receiver for `parcel`, exactly (`vaxentry show --as-sent`).
    fn wire(&self, parcel: &Parcel) -> Result<String, String>;

    /// Sends `parcel` and reads the answer. `still_ours` is asked right before it goes
    /// (once credentials are at hand): false sends nothing ([`Outcome::ClaimLost`]).
    /// `clock` dates tokens and a Retry-After given as a date.
    fn deliver(
        &self,
        parcel: &Parcel,
        clock: Clock,
        still_ours: &(dyn Fn() -> bool + Sync),
    ) -> Outcome;

    /// The immunizations the receiver holds for the patient with identifier
    /// `system|value`, or why they could not be read.
    fn immunizations_of(&self, system: &str, value: &str, clock: Clock) -> Result<Found, String>;
}

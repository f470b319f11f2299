//! Which operation an endpoint speaks, and what goes on the wire for a stored
//! message: the message itself, or the transaction made from it.

use crate::fhir::answer::SentAs;
pub use crate::fhir::transaction::Sending;
use uuid::Uuid;

pub const REDOX_BASE: &str = "https://api.redoxengine.com";
pub const REDOX_TOKEN_URL: &str = "https://api.redoxengine.com/v2/auth/token";

/// Which operation the endpoint speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// Redox `Immunization/$write`.
    RedoxWrite,
    /// A FHIR server's `$process-message`.
    ProcessMessage,
    /// A FHIR server without messaging: each message is sent as a conditional
    /// transaction (`fhir::transaction`) POSTed to the base.
    Transaction,
}

impl Protocol {
    /// What its answers are read as.
    pub fn sent_as(self) -> SentAs {
        match self {
            Protocol::RedoxWrite => SentAs::RedoxWrite,
            Protocol::ProcessMessage => SentAs::Message,
            Protocol::Transaction => SentAs::Transaction,
        }
    }

    /// What is sent for visit `visit`'s stored message `message` (its Bundle.id is
    /// `bundle_id`): the message itself, or the transaction made from it, the same one
    /// every time. The one place a stored message's wire form is made: the sender,
    /// the outbox's answer view and `show --as-sent` all read it here.
    pub fn wire(self, visit: Uuid, bundle_id: &str, message: &str) -> Result<String, String> {
        match self {
            Protocol::RedoxWrite | Protocol::ProcessMessage => Ok(message.to_string()),
            Protocol::Transaction => serde_json::from_str(message)
                .map_err(|e| format!("the stored message is not JSON ({e})"))
                .and_then(|message| {
                    crate::fhir::transaction::transaction_of(
                        &message,
                        Sending::of(visit, bundle_id),
                    )
                    .map_err(|e| e.to_string())
                })
                .map(|transaction| format!("{transaction:#}\n")),
        }
    }
}

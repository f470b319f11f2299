//! What a screen's update is given besides its own state ([`Ctx`]: the time, the
//! settings, where sending stands) and what it gives back ([`Reply`]: work for the
//! event loop, a notice, where to go, what to ask). The app applies the reply; no
//! screen touches another's state.

use super::msg::{Confirm, Effect, Screen, SyncStatus};
use super::text;
use crate::clock::ClinicTime;
use crate::fhir::BundleSettings;
use crate::store::VisitState;
use uuid::Uuid;

/// What every screen may read.
#[derive(Clone, Copy, Debug)]
pub struct Ctx<'a> {
    pub now: ClinicTime,
    pub settings: &'a BundleSettings,
    pub sync: &'a SyncStatus,
}

/// What a screen's update asks of the app.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reply {
    pub effects: Vec<Effect>,
    /// What to tell the user on the status line.
    pub notice: Option<String>,
    /// The screen to show next.
    pub go: Option<Screen>,
    /// A question to ask.
    pub ask: Option<Confirm>,
}

impl Reply {
    pub fn none() -> Reply {
        Reply::default()
    }

    pub fn notice(text: impl Into<String>) -> Reply {
        Reply {
            notice: Some(text.into()),
            ..Reply::default()
        }
    }

    pub fn effects(effects: Vec<Effect>) -> Reply {
        Reply {
            effects,
            ..Reply::default()
        }
    }

    pub fn effect(effect: Effect) -> Reply {
        Reply::effects(vec![effect])
    }

    pub fn ask(question: Confirm) -> Reply {
        Reply {
            ask: Some(question),
            ..Reply::default()
        }
    }

    pub fn go(screen: Screen) -> Reply {
        Reply {
            go: Some(screen),
            ..Reply::default()
        }
    }

    /// This reply, telling the user `text` as well (when there is something to tell).
    pub fn with_notice(mut self, text: Option<String>) -> Reply {
        if text.is_some() {
            self.notice = text;
        }
        self
    }

    /// Ctrl+G on a stored visit (its view, or History): a saved or failed visit goes in
    /// the outbox; other states say where they stand.
    pub fn send_stored(id: Uuid, state: VisitState) -> Reply {
        match state {
            state if state.may_be_queued() => Reply::effect(Effect::Send(id)),
            VisitState::Queued => Reply::notice(text::already_waiting()),
            VisitState::Draft => Reply::notice(text::draft_not_sent()),
            VisitState::Received => Reply::notice(text::RECEIVED_NOT_SENT),
            _ => Reply::notice(text::already_sent()),
        }
    }
}

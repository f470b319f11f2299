//! Runs the app's effects against the store and turns their outcomes into messages.
//! The only place the form touches the database.

use super::app::{Effect, Msg};
use crate::store::Store;
use chrono::{DateTime, FixedOffset};

/// Runs one effect (other than Quit); returns the message that reports its outcome.
pub fn run(effect: Effect, store: &mut Store, now: DateTime<FixedOffset>) -> Option<Msg> {
    let failed = |what: &str, e: anyhow::Error| Some(Msg::StoreFailed(format!("{what}: {e:#}")));
    match effect {
        Effect::Quit => None,
        Effect::SaveDraft { id, visit } => Some(Msg::DraftSaved(
            store
                .save_draft(id, &visit, now)
                .map_err(|e| format!("{e:#}")),
        )),
        Effect::Save { id, visit, message } => Some(Msg::Saved(
            store
                .save(id, &visit, &message.json, &message.bundle_id, now)
                .map(|s| s.export_path)
                .map_err(|e| format!("{e:#}")),
        )),
        Effect::DeleteDraft(id) => match store.delete_draft(id) {
            Ok(_) => None,
            Err(e) => failed("The draft could not be deleted", e),
        },
        Effect::LoadHistory { query, append } => match store.list(&query) {
            Ok(rows) => Some(Msg::HistoryLoaded {
                text: query.text,
                rows,
                append,
            }),
            Err(e) => failed("The history could not be read", e),
        },
        Effect::Open { id, purpose } => match store.get(id) {
            Ok(Some(visit)) => Some(Msg::Opened {
                visit: Box::new(visit),
                purpose,
            }),
            Ok(None) => Some(Msg::StoreFailed(
                "That visit is no longer in the database".into(),
            )),
            Err(e) => failed("The visit could not be read", e),
        },
    }
}

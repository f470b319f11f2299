//! Runs the app's effects against the store and turns their outcomes into messages.
//! The only place the form touches the database. (Quit and SyncNow are the event
//! loop's own.)

use super::msg::{AnswerRead, Done, Effect};
use super::screens::outbox;
use super::text;
use crate::card;
use crate::clock::ClinicTime;
use crate::corrections;
use crate::fhir::BundleSettings;
use crate::store::Store;

/// Runs one effect; returns what reports its outcome.
pub fn run(
    effect: Effect,
    store: &mut Store,
    now: ClinicTime,
    settings: &BundleSettings,
) -> Option<Done> {
    let failed =
        |what: &str, e: crate::store::Error| Some(Done::StoreFailed(text::store_failed(what, &e)));
    match effect {
        Effect::Quit | Effect::SyncNow | Effect::AskEndpoint(_) => None,
        Effect::SaveDraft { id, visit, aside } => Some(Done::DraftSaved(
            match aside {
                true => store.put_draft_aside(id, &visit, now),
                false => store.save_draft(id, &visit, now),
            }
            .map_err(|e| format!("{e:#}")),
        )),
        Effect::Save {
            id,
            visit,
            message,
            submit,
        } => {
            let mut result = store.save(id, &visit, &message, now).map(|s| s.export_path);
            if submit && let Ok(path) = result {
                result = store.queue(id, now).map(|_| path);
            }
            Some(Done::Saved {
                result: result.map_err(|e| format!("{e:#}")),
                submitted: submit,
            })
        }
        Effect::DeleteDraft(id) => match store.delete_draft(id) {
            Ok(_) => None,
            Err(e) => failed(text::DRAFT_NOT_DELETED, e),
        },
        Effect::LoadHistory { query, append } => match store.list(&query) {
            Ok(rows) => Some(Done::HistoryLoaded {
                text: query.text,
                rows,
                append,
            }),
            Err(e) => failed(text::HISTORY_NOT_READ, e),
        },
        Effect::Open { id, purpose } => match store.get(id) {
            Ok(Some(visit)) => Some(Done::Opened {
                visit: Box::new(visit),
                purpose,
            }),
            Ok(None) => Some(Done::StoreFailed(text::VISIT_GONE.into())),
            Err(e) => failed(text::VISIT_NOT_READ, e),
        },
        Effect::LoadOutbox => match store.outbox(outbox::ROWS) {
            Ok(rows) => Some(Done::OutboxLoaded(rows)),
            Err(e) => failed(text::OUTBOX_NOT_READ, e),
        },
        Effect::Send(id) => Some(Done::Queued {
            id,
            result: store.queue(id, now).map_err(|e| format!("{e:#}")),
        }),
        Effect::RetryNow(id) => match store.retry_now(id, now) {
            Ok(_) => None,
            Err(e) => failed(text::NOT_QUEUED_AGAIN, e),
        },
        Effect::LookupPatient(mrn) => match store.patient(&mrn).and_then(|p| {
            let doses = store.doses_of(&mrn)?;
            Ok((p, doses, store.endpoint_history(&mrn)?))
        }) {
            Ok((patient, doses, endpoint)) => Some(Done::PatientLooked {
                mrn,
                patient: patient.map(Box::new),
                doses,
                endpoint,
            }),
            Err(e) => failed(text::PATIENT_NOT_READ, e),
        },
        Effect::Void { id, dose } => Some(Done::Voided(
            corrections::plan_void(store, id, dose)
                .and_then(|plan| {
                    corrections::void(store, id, &plan, now, settings)?;
                    Ok(corrections::describe(&plan.doses))
                })
                .map_err(|e| format!("{e:#}")),
        )),
        Effect::Amend {
            id,
            visit,
            message,
            sending,
        } => Some(Done::Amended(
            corrections::amend(store, id, &visit, &message, sending, now, settings)
                .map_err(|e| format!("{e:#}")),
        )),
        Effect::Resubmit(id) => Some(Done::Resubmitted(
            corrections::send_again(store, id, now, settings).map_err(|e| format!("{e:#}")),
        )),
        Effect::OpenAnswer { id, protocol } => {
            let answer = (|| -> crate::store::Result<Option<AnswerRead>> {
                let Some(row) = store
                    .outbox(outbox::ROWS)?
                    .into_iter()
                    .find(|r| r.row.id == id)
                else {
                    return Ok(None);
                };
                let stored = store.get(id)?;
                let bundle_id = stored
                    .as_ref()
                    .and_then(|v| v.bundle_id.clone())
                    .unwrap_or_default();
                let message = stored.and_then(|v| v.bundle_json);
                let sent = match (protocol, message) {
                    (Some(protocol), Some(message)) => protocol.wire(id, &bundle_id, &message).ok(),
                    (None, message) => message,
                    (Some(_), None) => None,
                };
                Ok(Some(AnswerRead {
                    attempts: store.attempts(id)?,
                    body: store.response_body(id)?,
                    row,
                    sent,
                }))
            })();
            match answer {
                Ok(Some(read)) => Some(Done::AnswerLoaded(Box::new(read))),
                Ok(None) => Some(Done::StoreFailed(text::NOT_IN_OUTBOX.into())),
                Err(e) => failed(text::ANSWER_NOT_READ, e),
            }
        }
        Effect::SuggestPatients(typed) => match store.patients_matching(&typed, 3) {
            Ok(matches) => Some(Done::PatientSuggestions { typed, matches }),
            Err(e) => failed(text::PATIENT_NOT_READ, e),
        },
        Effect::LoadLots => match store
            .lots(None, true)
            .and_then(|lots| Ok((lots, store.habits()?)))
        {
            Ok((lots, habits)) => Some(Done::LotsLoaded { lots, habits }),
            Err(e) => failed(text::LOTS_NOT_READ, e),
        },
        Effect::IssueCard { visit, whole } => Some(Done::CardIssued {
            visit,
            whole,
            result: issue_card(store, visit, whole, now, settings).map(Box::new),
        }),
        Effect::SaveCard(card) => Some(Done::CardSaved(save_card(store, &card))),
        Effect::OpenVersions(id) => match store.versions(id) {
            Ok(versions) if versions.is_empty() => Some(Done::StoreFailed(text::no_versions())),
            Ok(versions) => Some(Done::VersionsLoaded { id, versions }),
            Err(e) => failed(text::VERSIONS_NOT_READ, e),
        },
    }
}

/// A card for the patient of `visit`: every dose of theirs held here (`whole`), or the
/// visit's; signed with the key in the data folder (made on first use).
fn issue_card(
    store: &Store,
    visit: uuid::Uuid,
    whole: bool,
    now: ClinicTime,
    settings: &BundleSettings,
) -> Result<card::Card, String> {
    let url = settings.card_issuer.clone().ok_or(card::NO_ISSUER)?;
    let which = match whole {
        true => {
            let stored = store
                .get(visit)
                .map_err(|e| e.to_string())?
                .ok_or(text::VISIT_GONE)?;
            card::Held::Patient(stored.row.mrn.clone())
        }
        false => card::Held::Visit(visit),
    };
    let issuer = card::Issuer {
        url,
        organization: settings.clinic.clone().unwrap_or_default(),
    };
    card::issue_held(store, &which, &issuer, now)
}

/// Writes the card's files into the data folder's `cards` (owner-only).
fn save_card(store: &Store, card: &card::Card) -> Result<Vec<std::path::PathBuf>, String> {
    let dir = store.data_dir().join("cards");
    crate::store::private_dir(&dir).map_err(|e| format!("{e:#}"))?;
    let name = format!("{}-{}", card.name, card.birth_date);
    card::files::write_files(card, &dir, &name)
}

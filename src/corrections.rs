//! Corrections to what was sent. A visit sent again, or with doses voided (marked
//! entered-in-error), goes out as a new message (new Bundle.id and MessageHeader.id)
//! about the same Patient and Immunizations (the same ids and identifiers), so the
//! receiver updates what it has. Each is queued and kept as a new version. An
//! amendment is the same, with the record as the user corrected it.

use crate::clock::ClinicTime;
use crate::fhir::{BundleSettings, message_sent_again};
use crate::record::{FieldId, Visit};
use crate::store::{self, Asked, Refusal, Store, VisitState, versions};
use anyhow::{Result, bail};
use uuid::Uuid;

const ENTERED_IN_ERROR: &str = "entered-in-error";

/// Builds the visit's next message and queues it (a visit submitted or failed).
pub fn send_again(
    store: &mut Store,
    id: Uuid,
    now: ClinicTime,
    settings: &BundleSettings,
) -> Result<()> {
    let stored = store
        .get(id)?
        .ok_or_else(|| anyhow::anyhow!("that visit is not in the database"))?;
    let sending = stored.message_seq + 1;
    let message = message_sent_again(&stored.visit()?, settings, now, id, sending)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(store.resubmit(id, &message, sending, now)?)
}

/// What a void will send: the visit with the doses marked entered-in-error, and those
/// doses (index, vaccine as typed), as its `sending`th new message.
#[derive(Clone, Debug, PartialEq)]
pub struct Void {
    pub visit: Visit,
    pub doses: Vec<(usize, String)>,
    pub sending: u32,
}

/// Plans voiding dose `dose` (0-based) of a submitted visit, or every dose when
/// `None`. Refused for a visit not yet accepted, or a dose already voided.
pub fn plan_void(store: &Store, id: Uuid, dose: Option<usize>) -> Result<Void> {
    let stored = store
        .get(id)?
        .ok_or_else(|| anyhow::anyhow!("that visit is not in the database"))?;
    let state = stored.row.state;
    if !state.may_be_voided() {
        return Err(store::Error::Refused(Refusal {
            state,
            asked: Asked::Void,
        })
        .into());
    }
    let mut visit = stored.visit()?;
    let count = visit.doses.len();
    let chosen: Vec<usize> = match dose {
        Some(i) if i < count => vec![i],
        Some(i) => bail!("the visit has {count} dose(s); there is no dose {}", i + 1),
        None => (0..count).collect(),
    };
    let mut doses = Vec::new();
    for i in chosen {
        let d = &mut visit.doses[i];
        if d.get(FieldId::Status).trim() == ENTERED_IN_ERROR {
            if dose.is_some() {
                bail!("dose {} was voided already", i + 1);
            }
            continue;
        }
        d.set(FieldId::Status, ENTERED_IN_ERROR);
        doses.push((i, d.get(FieldId::Vaccine).trim().to_string()));
    }
    if doses.is_empty() {
        bail!("every dose of this visit was voided already");
    }
    Ok(Void {
        visit,
        doses,
        sending: stored.message_seq + 1,
    })
}

/// Sends the planned void: a new message with the doses as entered-in-error, under
/// their first identifiers. The local record keeps the doses, marked so.
pub fn void(
    store: &mut Store,
    id: Uuid,
    plan: &Void,
    now: ClinicTime,
    settings: &BundleSettings,
) -> Result<()> {
    let message = message_sent_again(&plan.visit, settings, now, id, plan.sending)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(store.send_correction(
        id,
        &plan.visit,
        &message,
        plan.sending,
        now,
        versions::Reason::Voided,
    )?)
}

/// Sends a corrected record of a sent (submitted or failed) visit: `message` is its
/// next message (built with `message_sent_again`, as the form previewed it), about the
/// same Patient and Immunizations, and its `sending`th. Queued, and kept as a new
/// version. Returns that version's number.
pub fn amend(
    store: &mut Store,
    id: Uuid,
    corrected: &Visit,
    message: &crate::fhir::Message,
    sending: u32,
    now: ClinicTime,
) -> Result<u32> {
    let stored = store
        .get(id)?
        .ok_or_else(|| anyhow::anyhow!("that visit is not in the database"))?;
    let state = stored.row.state;
    if !state.may_be_corrected() {
        bail!(
            "only a sent visit (submitted or failed) is amended; this one is {}{}",
            state.as_str(),
            match state {
                VisitState::Queued => ": correct it once it is sent",
                _ => ": it was never sent, so save the corrected record in its place",
            }
        );
    }
    let doses = stored.visit()?.doses.len();
    if corrected.doses.len() != doses {
        // Immunization ids follow the doses' places: a dose added or taken away
        // would move another dose's id.
        bail!(
            "a correction keeps the visit's {doses} dose(s); void a dose to take it back, or start a new visit to add one"
        );
    }
    store.send_correction(
        id,
        corrected,
        message,
        sending,
        now,
        versions::Reason::Amended,
    )?;
    Ok(store.versions(id)?.last().map_or(0, |v| v.number))
}

/// The dose list in words: "dose 1 (CVX 140), dose 2 (CVX 115)".
pub fn describe(doses: &[(usize, String)]) -> String {
    doses
        .iter()
        .map(|(i, vaccine)| format!("dose {} (CVX {vaccine})", i + 1))
        .collect::<Vec<_>>()
        .join(", ")
}

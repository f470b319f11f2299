//! Corrections to what was sent. A visit sent again, or with doses voided (marked
//! entered-in-error), goes out as a new message (new Bundle.id and MessageHeader.id)
//! about the same Patient and Immunizations (the same ids and identifiers), so the
//! receiver updates what it has. Each is queued and kept as a new version. An
//! amendment is the same, with the record as the user corrected it, and carries only
//! the doses that changed. A correction that names another patient (another MRN)
//! cannot move a dose: the doses are voided under the patient they were sent for and
//! recorded anew, with new identifiers, under the other.

use crate::clock::ClinicTime;
use crate::fhir::{BundleSettings, Correction, message_for, message_sent_again};
use crate::record::{FieldId, Visit};
use crate::store::{self, Asked, Refusal, Store, StoredVisit, VisitState, versions};
use anyhow::{Result, bail};
use uuid::Uuid;

const ENTERED_IN_ERROR: &str = "entered-in-error";

/// What the next message of a stored visit is made against. With `changes_only`,
/// only the doses that differ from the stored record go (an amendment, a void).
pub fn correction_of(stored: &StoredVisit, changes_only: bool) -> Result<Correction> {
    let before = match changes_only {
        true => Some(stored.visit()?),
        false => None,
    };
    Ok(Correction::after(
        stored.bundle_json.as_deref(),
        stored.message_seq,
        before,
    ))
}

fn stored(store: &Store, id: Uuid) -> Result<StoredVisit> {
    store
        .get(id)?
        .ok_or_else(|| anyhow::anyhow!("that visit is not in the database"))
}

/// Builds the visit's next message, every dose as it is, and queues it (a visit
/// submitted or failed).
pub fn send_again(
    store: &mut Store,
    id: Uuid,
    now: ClinicTime,
    settings: &BundleSettings,
) -> Result<()> {
    let stored = stored(store, id)?;
    let correction = correction_of(&stored, false)?;
    let message = message_sent_again(&stored.visit()?, settings, now, id, &correction)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(store.resubmit(id, &message, correction.sending, now)?)
}

/// What a void will send: the visit with the doses marked entered-in-error, and those
/// doses (index, vaccine as typed), as its next message.
#[derive(Clone, Debug, PartialEq)]
pub struct Void {
    pub visit: Visit,
    pub doses: Vec<(usize, String)>,
    pub correction: Correction,
}

/// Plans voiding dose `dose` (0-based) of a submitted visit, or every dose when
/// `None`. Refused for a visit not yet accepted, or a dose already voided.
pub fn plan_void(store: &Store, id: Uuid, dose: Option<usize>) -> Result<Void> {
    let stored = stored(store, id)?;
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
        correction: correction_of(&stored, true)?,
    })
}

/// Sends the planned void: a new message with the doses as entered-in-error, under
/// their first identifiers (only those doses). The local record keeps the doses,
/// marked so.
pub fn void(
    store: &mut Store,
    id: Uuid,
    plan: &Void,
    now: ClinicTime,
    settings: &BundleSettings,
) -> Result<()> {
    let message = message_sent_again(&plan.visit, settings, now, id, &plan.correction)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(store.send_correction(
        id,
        &plan.visit,
        &message,
        plan.correction.sending,
        now,
        versions::Reason::Voided,
    )?)
}

/// What an amendment did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Amended {
    /// Sent as the visit's next message: this version number.
    Version(u32),
    /// The patient changed: the doses were voided under the old one, and recorded
    /// anew under the new one as this new visit.
    Moved { to: Uuid },
}

/// Whether a corrected record names another patient than the one sent: another MRN
/// (its case and spaces aside).
pub fn moves_patient(before: &Visit, corrected: &Visit) -> bool {
    let mrn = |v: &Visit| crate::clinic::normalized(v.patient.get(FieldId::Mrn));
    mrn(before) != mrn(corrected)
}

/// The MRN a visit was sent for.
pub fn sent_mrn(store: &Store, id: Uuid) -> Result<String> {
    Ok(stored(store, id)?
        .visit()?
        .patient
        .get(FieldId::Mrn)
        .trim()
        .to_string())
}

/// Sends a corrected record of a sent (submitted or failed) visit: `message` is its
/// next message (built with `message_sent_again` and `correction_of`, as the form
/// previewed it), about the same Patient and Immunizations, and its `sending`th: it is
/// refused if the visit changed since the correction was read. Queued, and kept as a
/// new version. A record for another MRN is not an amendment: see [`Amended::Moved`].
pub fn amend(
    store: &mut Store,
    id: Uuid,
    corrected: &Visit,
    message: &crate::fhir::Message,
    sending: u32,
    now: ClinicTime,
    settings: &BundleSettings,
) -> Result<Amended> {
    let stored = stored(store, id)?;
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
    let before = stored.visit()?;
    if moves_patient(&before, corrected) {
        return move_to_patient(store, &stored, corrected, sending, now, settings);
    }
    if corrected.doses.len() != before.doses.len() {
        // Immunization ids follow the doses' places: a dose added or taken away
        // would move another dose's id.
        bail!(
            "a correction keeps the visit's {} dose(s); void a dose to take it back, or start a new visit to add one",
            before.doses.len()
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
    Ok(Amended::Version(
        store.versions(id)?.last().map_or(0, |v| v.number),
    ))
}

/// A sent visit's doses belong to another patient: every dose of the sent visit is
/// voided under the patient it was sent for (its `sending`th message), and recorded
/// anew under the other (a new visit, so new identifiers), queued. One store
/// transaction does both: neither happens alone.
fn move_to_patient(
    store: &mut Store,
    stored: &StoredVisit,
    corrected: &Visit,
    sending: u32,
    now: ClinicTime,
    settings: &BundleSettings,
) -> Result<Amended> {
    let id = stored.row.id;
    let before = stored.visit()?;
    let mut voided = before.clone();
    for dose in &mut voided.doses {
        dose.set(FieldId::Status, ENTERED_IN_ERROR);
    }
    let mut anew = corrected.clone();
    anew.doses
        .retain(|d| d.get(FieldId::Status).trim() != ENTERED_IN_ERROR);
    if anew.doses.is_empty() {
        bail!(
            "every dose of this visit was voided already; there is nothing to record for the other patient"
        );
    }
    let correction = Correction {
        sending,
        ..correction_of(stored, true)?
    };
    let void_message = message_sent_again(&voided, settings, now, id, &correction)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let to = Uuid::new_v4();
    let new_message = message_for(&anew, settings, now, to).map_err(|e| anyhow::anyhow!("{e}"))?;
    store.move_doses(
        id,
        &voided,
        &void_message,
        sending,
        to,
        &anew,
        &new_message,
        now,
    )?;
    Ok(Amended::Moved { to })
}

/// The dose list in words: "dose 1 (CVX 140), dose 2 (CVX 115)".
pub fn describe(doses: &[(usize, String)]) -> String {
    doses
        .iter()
        .map(|(i, vaccine)| format!("dose {} (CVX {vaccine})", i + 1))
        .collect::<Vec<_>>()
        .join(", ")
}

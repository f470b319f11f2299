//! The form's messages to the user, in one place: notices on the status line and the
//! questions it asks. Plain words that say what happened and what to do next.

use super::bindings::{Scope, key, short};
use super::msg::Action;
use crate::store::VisitState;
use std::path::Path;

/// The key for `action` anywhere, as a message names it.
fn k(action: Action) -> String {
    key(Scope::Everywhere, &action)
}

// Saving and sending.

pub fn saved(bundle_file: &Path) -> String {
    format!("Saved. Bundle file: {}", bundle_file.display())
}

pub fn saved_and_queued(bundle_file: &Path) -> String {
    format!(
        "Saved and queued to send. Bundle file: {}",
        bundle_file.display()
    )
}

pub fn saved_no_endpoint(bundle_file: &Path) -> String {
    format!(
        "Saved and queued, but no endpoint is configured: add [endpoint] to config.toml (see README) to send it. Bundle file: {}",
        bundle_file.display()
    )
}

pub fn not_saved(why: &str) -> String {
    format!("Not saved: {why}")
}

pub fn not_saved_errors(errors: usize) -> String {
    format!("Not saved: {errors} error(s) to fix first, listed here")
}

pub const STORED_QUEUED: &str = "Put in the outbox; sending it now";
pub const STORED_QUEUED_NO_ENDPOINT: &str = "Put in the outbox, but no endpoint is configured: add [endpoint] to config.toml (see README) to send it";
pub fn already_waiting() -> String {
    format!(
        "This visit already waits in the outbox ({})",
        k(Action::Outbox)
    )
}
pub fn already_sent() -> String {
    format!(
        "This visit was sent; to send it again as a new message, choose it in the Outbox ({})",
        k(Action::Outbox)
    )
}
pub fn draft_not_sent() -> String {
    format!(
        "A draft is not sent: open it ({}), finish it and press {}",
        k(Action::Enter),
        k(Action::SaveAndSubmit)
    )
}

pub fn not_queued(why: &str) -> String {
    format!("Not put in the outbox: {why}")
}

pub const NOT_SAVED_FIX_LISTED: &str = "Not saved: fix the errors listed here first";
pub fn already_stored() -> String {
    format!(
        "This visit is already stored; {} sends it, {} starts a new visit for the same patient",
        k(Action::SaveAndSubmit),
        k(Action::CopyAsNew)
    )
}
pub const RESUBMITTED: &str =
    "Queued again as a NEW message (new Bundle.id); the receiver will see it as a separate message";

pub const VOID_ONLY_SUBMITTED: &str = "Only a visit the endpoint accepted (✓ submitted) can be voided; one not sent yet can still be corrected";
pub const ASK_VOID: &str = "Void this visit? Every dose is sent again as entered-in-error (a NEW message with the same Immunization identifiers), so the receiver marks them as recorded by mistake. The visit stays here, marked. Do this only for a visit that should never have been recorded.";

pub fn voided(what: &str) -> String {
    format!("Voided {what}: the message is queued; the receiver will mark them entered-in-error")
}

pub fn not_voided(why: &str) -> String {
    format!("Not voided: {why}")
}

pub fn not_resubmitted(why: &str) -> String {
    format!("Not sent again: {why}")
}

pub const SENDING_NOW: &str = "Sending it now";
pub const SENDING_ALL: &str = "Sending everything that waits or failed";
pub fn already_submitted_send_again() -> String {
    format!(
        "This visit was submitted already; press {} to send it again as a new message",
        key(Scope::Outbox, &Action::Resubmit)
    )
}
pub fn still_waiting_retry() -> String {
    format!(
        "This visit is still waiting; {} sends it now",
        key(Scope::Outbox, &Action::Retry)
    )
}

// Drafts.

pub fn draft_not_kept(why: &str) -> String {
    format!("The draft could not be kept ({why}); it is tried again in a second")
}

pub fn not_quit_draft_failed(why: &str) -> String {
    format!(
        "Not quit: the visit could not be kept as a draft ({why}); free some disk space or save it, then quit again"
    )
}

pub const DRAFT_RESUMED: &str = "Draft resumed: carry on where you left off";
pub fn draft_kept_for_later() -> String {
    format!(
        "The draft is kept: History ({}) has it, and it is offered again next time",
        k(Action::History)
    )
}
pub const DRAFT_DELETED: &str = "Draft deleted";
pub const DRAFT_OPENED: &str = "Draft opened in the form";

pub fn only_drafts_deleted(state: VisitState) -> String {
    format!(
        "Only drafts can be deleted; this visit is {}",
        state.as_str()
    )
}

// Visits and doses.

pub const NEW_VISIT_STARTED: &str =
    "New visit started; performer and location kept from the last one";
pub fn new_visit_draft_kept() -> String {
    format!(
        "New visit started; the last one stays in History ({}) as a draft",
        k(Action::History)
    )
}
pub const NEW_VISIT_SAME_PATIENT: &str = "New visit for the same patient: add today's doses";
pub fn copy_as_new_in_history() -> String {
    format!(
        "{} works in History ({}): pick a past visit to start a new one for that patient",
        k(Action::CopyAsNew),
        k(Action::History)
    )
}
pub fn new_visit_key() -> String {
    format!("{} starts a new visit", k(Action::NewVisit))
}
pub const LAST_DOSE_STAYS: &str = "A visit needs at least one dose; change this one instead";
pub fn go_to_dose_first() -> String {
    format!(
        "Go to the dose you want to remove first ({})",
        key(Scope::Form, &Action::NextPage)
    )
}

pub fn dose_added(count: usize) -> String {
    format!("Dose {count} added; date, performer, location and funding copied from the dose before")
}

pub fn carried_cleared(fields: &str) -> String {
    format!(
        "A dose given elsewhere: {fields} (carried from this clinic) cleared; type them only if the record says so"
    )
}

pub fn not_applying_cleared(fields: &str) -> String {
    format!("{fields} cleared: they do not apply to this status")
}

pub fn field_full(label: &str, most: usize) -> String {
    format!("{label} holds at most {most} characters; the rest was left out")
}

pub fn dose_removed(index: usize) -> String {
    format!("Dose {} removed", index + 1)
}

pub fn mass_clinic_from_a_dose() -> String {
    format!(
        "{f8} starts a mass clinic from a dose: go to the dose ({}), then press {f8}",
        key(Scope::Form, &Action::NextPage),
        f8 = key(Scope::Form, &Action::MassClinic)
    )
}
pub fn mass_clinic_needs_product() -> String {
    format!(
        "A mass clinic needs the dose's vaccine and lot: fill them in, then press {}",
        key(Scope::Form, &Action::MassClinic)
    )
}

pub fn mass_clinic_started(vaccine: &str, lot: &str) -> String {
    format!(
        "Mass clinic: CVX {vaccine} lot {lot} each visit; type patient, site, {}. {} ends",
        short(Scope::Everywhere, &Action::Save),
        key(Scope::Form, &Action::MassClinic)
    )
}

pub fn mass_clinic_ended(saved: u32) -> String {
    format!("Mass clinic ended after {saved} visit(s)")
}

pub fn scan_unreadable(why: &str) -> String {
    format!("Not a readable pack barcode: {why}. Scan it again, or type the lot and expiry")
}

/// Where a scanned pack's vaccine came from.
pub enum ScannedProduct<'a> {
    /// A lot on hand with the scan's NDC (its CVX).
    OnHand(&'a str),
    /// CDC's NDC crosswalk.
    Listed(&'a crate::codes::ndc::Package),
    /// Neither knows the pack.
    NotListed,
}

/// What a scan filled in, and what is left to do (one 80-column line, most often).
pub fn scanned(scan: &crate::record::gs1::Scan, product: ScannedProduct) -> String {
    let mut said = vec![];
    if let Some(lot) = &scan.lot {
        said.push(format!("lot {lot}"));
    }
    if let Some(expiry) = scan.expiry {
        said.push(format!("exp {expiry}"));
    }
    let product = match product {
        ScannedProduct::OnHand(cvx) => format!("; CVX {cvx} + NDC from lots on hand"),
        ScannedProduct::Listed(package) => match package.cvx.as_slice() {
            [cvx] => format!("; CVX {cvx} {} (CDC NDC list)", package.name),
            several => format!(
                "; NDC {} is CVX {}: choose the vaccine",
                package.ndc,
                several.join(" or ")
            ),
        },
        ScannedProduct::NotListed => match scan.ndc_digits() {
            Some(digits) => format!("; NDC {digits} unknown: choose the vaccine"),
            None => "; choose the vaccine".to_string(),
        },
    };
    let check = if scan.check_digit_ok {
        ""
    } else {
        "; check digit wrong, compare the pack"
    };
    let lot = if scan.lot_may_hold_serial {
        "; check the lot: no GS in the scan, a serial may have run into it"
    } else {
        ""
    };
    format!("Scanned {}{product}{check}{lot}", said.join(" "))
}

/// A VIS barcode named the VIS and its edition.
pub fn vis_scanned(key: &str, edition: chrono::NaiveDate, current: bool) -> String {
    let which = if current {
        "the current edition"
    } else {
        "not the current edition: check the VIS"
    };
    format!("Scanned VIS {key} {edition}, {which}")
}

/// A typed NDC filled the vaccine, maker or route.
pub fn ndc_filled(package: &crate::codes::ndc::Package, count: usize) -> String {
    let what = if count == 1 { "field" } else { "fields" };
    format!(
        "NDC {} is {}: {count} {what} filled from CDC's NDC list",
        package.ndc, package.name
    )
}

pub fn funding_follows(funding: &str, eligibility: &str) -> String {
    let name = crate::codes::table(crate::codes::TableId::Funding)
        .get(funding)
        .map_or(funding.to_string(), |f| f.display.clone());
    format!(
        "Funding {funding} ({name}), as CDC links it to {eligibility}; type another if the stock was"
    )
}

pub fn lot_looked_up(lot: &str) -> String {
    format!("Lot {lot} is on hand: its maker, expiry and NDC are filled in")
}

pub fn new_lot_cleared(lot: &str, fields: &str) -> String {
    format!(
        "Lot {lot} is not on hand: {fields} belonged to the lot before, so type this lot's; it joins the lots on hand when saved"
    )
}

pub fn lot_from_inventory(lot: &str, expires: &str, others: usize) -> String {
    let others = match others {
        0 => String::new(),
        n => format!(", {n} more"),
    };
    format!("Lot {lot} exp {expires} on hand{others}; check the vial")
}

pub fn not_on_a_dose() -> String {
    format!(
        "{} switches a dose between given here and historical: go to the dose first",
        key(Scope::Form, &Action::ToggleGivenHere)
    )
}

/// Alt+H switched dose `i` (0-based).
pub const DATE_GIVEN_ELSEWHERE: &str = ": type the date it was given";

pub fn given_here_switched(i: usize, given_here: bool, cleared: Option<&str>) -> String {
    let what = match given_here {
        true => "given here",
        false => "historical (given elsewhere)",
    };
    match cleared {
        Some(cleared) => format!("Dose {} is {what}; {cleared}", i + 1),
        None => format!("Dose {} is {what}", i + 1),
    }
}

pub fn not_done_switched(i: usize, not_done: bool, cleared: Option<&str>) -> String {
    let what = match not_done {
        true => "not given: say why",
        false => "given",
    };
    match cleared {
        Some(cleared) => format!("Dose {} is {what}; {cleared}", i + 1),
        None => format!("Dose {} is {what}", i + 1),
    }
}

pub const ADULT_ELIGIBILITY: &str = "eligibility V01 (19 or older: not VFC)";
pub const CHILD_ELIGIBILITY: &str =
    "VFC eligibility V01 cleared: the patient is under 19; type theirs (1 to 7)";

pub fn from_cdc_pack(values: &str) -> String {
    format!("{values} as CDC lists the pack")
}

pub fn dose_number_from(number: u32, counted: usize) -> String {
    let doses = match counted {
        1 => "1 known dose".to_string(),
        n => format!("{n} known doses"),
    };
    format!("dose number {number} from {doses}; type another if they had doses elsewhere")
}

pub fn as_last_time(values: &str) -> String {
    format!("{values} as last time")
}

pub fn lot_filled(lot: &str) -> String {
    format!("Lot {lot} filled in from the last dose of this vaccine; check it matches the vial")
}

// The preview.

pub const NO_MATCH: &str = "No match; press / to search";

pub fn not_in_preview(search: &str) -> String {
    format!("'{search}' is not in the preview")
}

// Questions.

pub const ASK_QUIT: &str = "Quit vaxentry? This visit is not saved yet; it is kept as a draft and offered when vaxentry starts again.";
pub const ASK_DELETE_DRAFT: &str = "Delete this draft? What was typed in it is lost.";
pub fn suggestion_shown(which: usize, of: usize, who: &str) -> String {
    format!("Suggested {which} of {of}: {who}; F7 fills it in")
}

pub fn answer_the_question() -> String {
    format!(
        "Answer the question first: {} yes, {} no, {} not now",
        key(Scope::Confirm, &Action::Answer(true)),
        key(Scope::Confirm, &Action::Answer(false)),
        key(Scope::Confirm, &Action::Dismiss)
    )
}
/// Before saving a visit with doses the patient already has that day elsewhere.
pub fn ask_move_doses(from: &str, to: &str) -> String {
    format!(
        "The MRN was {from} when sent, now {to}. A dose cannot move to another patient: void the doses under {from} and record them anew under {to}? (y/n)"
    )
}

pub fn ask_save_given_before(doses: usize) -> String {
    let which = if doses == 1 {
        "A dose in this visit is".to_string()
    } else {
        format!("{doses} doses in this visit are")
    };
    format!(
        "{which} already stored for this patient on the same day in another visit (see Review). Save it anyway, as a dose given again?"
    )
}

pub const ASK_RESUBMIT: &str = "Send this visit again as a NEW message, with a new Bundle.id? The endpoint will see it as a second message; do this only when it asks for it.";
pub const ASK_DROP_CORRECTION: &str =
    "Drop this correction? The stored visit stays exactly as it was.";
pub const CORRECTION_DROPPED: &str = "Correction dropped; the stored visit is as it was";
pub fn correction_open() -> String {
    format!(
        "A correction is open in the form: save it ({}) or drop it ({}) first",
        k(Action::Save),
        k(Action::NewVisit)
    )
}
pub fn ask_new_visit() -> String {
    format!(
        "Start a new visit? This one is not saved yet; it stays in History ({}) as a draft.",
        k(Action::History)
    )
}

pub fn ask_remove_dose(index: usize, vaccine: &str) -> String {
    let vaccine = if vaccine.is_empty() {
        "no vaccine yet"
    } else {
        vaccine
    };
    format!(
        "Remove dose {} ({vaccine})? Its fields will be lost.",
        index + 1
    )
}

pub fn ask_resume_draft(patient_name: &str) -> String {
    let name = if patient_name.is_empty() {
        "no name yet"
    } else {
        patient_name
    };
    format!(
        "A visit was being typed when vaxentry last stopped ({name}). Resume it? {} resumes, {} keeps it for later in History (delete it there).",
        key(Scope::Confirm, &Action::Answer(true)),
        key(Scope::Confirm, &Action::Answer(false))
    )
}

// Sending status and problems from the store.

pub fn sending_off(why: &str) -> String {
    format!("Sending is off: {why}")
}

pub fn warning(text: &str) -> String {
    format!("Warning: {text}")
}

pub fn store_failed(what: &str, why: &crate::store::Error) -> String {
    format!("{what}: {why:#}")
}

pub const SENDER_FAILED: &str = "The sender stopped on an internal error in this pass; nothing was lost, and it tries again at the next one";

pub const VISIT_GONE: &str = "That visit is no longer in the database";
pub const NOT_IN_OUTBOX: &str = "That visit is no longer in the outbox";
pub const DRAFT_NOT_DELETED: &str = "The draft could not be deleted";
pub const HISTORY_NOT_READ: &str = "The history could not be read";
pub const VISIT_NOT_READ: &str = "The visit could not be read";
pub const OUTBOX_NOT_READ: &str = "The outbox could not be read";
pub const NOT_QUEUED_AGAIN: &str = "Could not queue it again";
pub const ANSWER_NOT_READ: &str = "The answer could not be read";
pub fn correcting_sent() -> String {
    format!(
        "Correcting a sent visit: fix it, then {} sends it again about the same doses",
        short(Scope::Everywhere, &Action::Save)
    )
}
pub fn correcting_saved() -> String {
    format!(
        "Correcting a saved visit (not sent yet): {} saves it in its place",
        k(Action::Save)
    )
}
pub const CORRECT_AFTER_SENT: &str =
    "It waits in the outbox: it can be corrected once it is sent (or failed)";
pub fn correct_stored_only() -> String {
    format!(
        "This is the visit in the form: change it here; correct stored ones from {}",
        k(Action::History)
    )
}
pub fn sent_doses_stay() -> String {
    format!(
        "Sent doses stay: {} on a dose voids it; add a dose in a new visit ({})",
        key(Scope::Form, &Action::RemoveDose),
        short(Scope::Everywhere, &Action::CopyAsNew)
    )
}
pub fn void_after_correcting() -> String {
    format!(
        "Save the correction ({}) or drop it ({}) first: a void sends the dose as sent",
        short(Scope::Everywhere, &Action::Save),
        short(Scope::Everywhere, &Action::NewVisit)
    )
}

pub fn ask_void_dose(i: usize, vaccine: &str) -> String {
    format!(
        "Void dose {} (CVX {vaccine})? It is sent again as entered-in-error (a NEW message with the same Immunization identifier), so the receiver marks it as recorded by mistake. The visit stays here, the dose marked.",
        i + 1
    )
}

pub fn amended(version: u32) -> String {
    format!("Correction queued as version {version}: a new message about the same doses")
}

pub fn amended_no_endpoint(version: u32) -> String {
    format!(
        "Correction kept as version {version}; no endpoint is configured, so it waits in the outbox (see README: [endpoint])"
    )
}

pub const MOVED: &str = "Another MRN: the doses are voided under the first patient and recorded anew under this one; both messages are queued";
pub const MOVED_NO_ENDPOINT: &str = "Another MRN: the doses are voided under the first patient and recorded anew under this one; no endpoint is configured, so both wait in the outbox";

pub fn not_amended(why: &str) -> String {
    format!("Not corrected: {why}")
}

pub const LOTS_NOT_READ: &str = "The lots on hand could not be read";
pub const VERSIONS_NOT_READ: &str = "The versions could not be read";
pub fn no_versions() -> String {
    format!(
        "This visit has no versions yet: a draft gets its first when it is saved ({})",
        k(Action::Save)
    )
}
pub fn versions_of_stored() -> String {
    format!(
        "Versions are kept for stored visits: open one from the History ({}) and press {}",
        k(Action::History),
        key(Scope::Preview, &Action::Versions)
    )
}
pub const PATIENT_NOT_READ: &str = "The stored patient could not be read";
pub const STORED_PATIENT_USED: &str =
    "The stored patient for this MRN is filled in; check it against the person in front of you";
/// A returning patient's MRN was typed, and nothing else yet.
pub fn stored_patient_found(mrn: &str, known: &crate::record::Fields) -> String {
    use crate::record::FieldId;
    format!(
        "{mrn} is stored: {}, {}, born {}. {} fills it in",
        known.get(FieldId::Family).trim(),
        known.get(FieldId::Given).trim(),
        known.get(FieldId::BirthDate).trim(),
        key(Scope::Form, &Action::UseStoredPatient)
    )
}

pub const NO_STORED_PATIENT: &str = "No patient is stored under this MRN yet";

pub const CARD_OF_STORED: &str =
    "A card is issued for a stored visit's patient: open the visit from History (F4), then k";

pub const CARD_SHOWN: &str = "The card is on the screen: Esc goes back";

/// The window cannot show the card's QR code whole.
pub fn card_too_small(version: i16, columns: u16, rows: u16) -> String {
    format!(
        "This card's QR code (version {version}) needs a window of at least {columns}x{rows} to be scanned off the screen: enlarge the window or make the font smaller, or press s to write the card as files (a .smart-health-card file, and the QR code as PNG and SVG) to print or send"
    )
}

/// A card's files were written.
pub fn card_saved(paths: &[std::path::PathBuf]) -> String {
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    format!("Card written: {}", shown.join(", "))
}

/// Where a received visit came from.
pub fn received_from(source: &str, at: &str) -> String {
    format!(
        "Received from {} at {at}: kept as it came, never sent or corrected from here",
        crate::untrusted::plain(source)
    )
}

pub const RECEIVED_NOT_SENT: &str = "This visit was received from elsewhere: it is never sent from here; the system that made it sends it";

pub const RECEIVED_NOT_CORRECTED: &str = "This visit was received from elsewhere: it is corrected by the system that made it, and the correction received here; to record more for the patient, start a new visit (Ctrl+R in History)";

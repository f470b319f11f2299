//! The terminal UI's vocabulary, shared by every screen: what the user asks for
//! ([`Action`]), what finished work reports ([`Done`]), the work the event loop runs
//! ([`Effect`]), and the names of screens, sections, questions and click targets. It
//! imports no screen, so every screen can speak it without knowing the others.

use crate::clock::ClinicTime;
use crate::fhir::Message;
use crate::record::identity::StoredDose;
use crate::record::{FieldId, Fields, Visit};
use crate::store::endpoint_history::EndpointHistory;
use crate::store::outbox::{Attempt, OutboxRow};
use crate::store::versions::Version;
use crate::store::{ListQuery, StoredVisit, VisitRow};
use crate::submit::protocol::Protocol;
use std::path::PathBuf;
use tui_input::InputRequest;
use uuid::Uuid;

/// The screen in front of the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Form,
    Preview,
    History,
    Outbox,
    /// A patient's SMART Health Card, as a QR code.
    Card,
}

/// A box over the screen that takes the keys while it is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Help { scroll: u16 },
    Confirm(Confirm),
}

/// A section of the form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    Patient,
    Dose(usize),
    Review,
}

/// What a click can land on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A section of the form (Patient, a dose, Review).
    Page(Page),
    /// A field of the section shown.
    Field(FieldId),
    /// A problem on the Review section.
    Finding(usize),
    /// A row of the history or the outbox.
    Row(usize),
}

/// A question the user must answer with y or n.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Confirm {
    Quit,
    RemoveDose(usize),
    NewVisit,
    /// A draft from an earlier session was found at start.
    ResumeDraft,
    DeleteDraft(Uuid),
    /// Send a submitted visit again, as a new message.
    Resubmit(Uuid),
    /// Void every dose of a sent visit.
    Void(Uuid),
    /// Void one dose of a sent visit, from its correction in the form.
    VoidDose {
        id: Uuid,
        dose: usize,
    },
    /// Save a visit with a dose the patient already has that day in another visit.
    SaveGivenBefore {
        submit: bool,
    },
    /// Save a correction of a sent visit that names another patient: its doses are
    /// voided under the first and recorded anew under the other.
    MoveDoses,
}

/// Why a stored visit is opened from the history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Read-only preview (a draft is resumed in the form instead).
    View,
    /// A new visit for the same patient.
    CopyAsNew,
    /// Correcting it in the form.
    Amend,
}

/// Everything the user can ask for, already decoded from keys and mouse.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    NextField,
    PrevField,
    NextPage,
    PrevPage,
    Up,
    Down,
    Enter,
    Escape,
    Edit(InputRequest),
    Paste(String),
    Help,
    AddDose,
    RemoveDose,
    NewVisit,
    Quit,
    Answer(bool),
    /// Esc on a question: not now, nothing is done.
    Dismiss,
    /// A click on something the last draw laid out.
    Clicked(Target),
    /// Ctrl+P: show the exact bundle.
    Preview,
    /// Ctrl+S: save the visit and its bundle.
    Save,
    /// F4: the saved visits.
    History,
    /// `/` in the preview: search.
    Search,
    /// `n` in the preview: next match.
    NextMatch,
    /// Ctrl+R: a new visit for the same patient.
    CopyAsNew,
    Home,
    End,
    PageUp,
    PageDown,
    /// Delete on a history row.
    Delete,
    /// Ctrl+G: save, then send.
    SaveAndSubmit,
    /// F6: the outbox.
    Outbox,
    /// `r` in the outbox.
    Retry,
    /// `a` in the outbox.
    RetryAll,
    /// `s` in the outbox.
    Resubmit,
    /// `x` in the outbox: void the chosen sent visit (asks first).
    Void,
    /// F7: fill the patient stored under the MRN typed.
    UseStoredPatient,
    /// `v` in a stored visit's view (Alt+V in the history): its versions.
    Versions,
    /// A SMART Health Card for the patient of the visit in view (or chosen).
    Card,
    /// On the card: every dose of the patient held here, or this visit's.
    CardDoses,
    /// On the card: write its files.
    SaveCard,
    /// `e` in a stored visit's view (Alt+E in the history): correct it in the form.
    Amend,
    /// F8: begin a mass clinic from this dose, or end it.
    MassClinic,
    /// Ctrl+F: the list of fields to jump to, or close it.
    JumpToField,
    /// Alt+D: what is due for the patient, in full, or close it.
    ShowDue,
    /// Alt+H: the dose switches between given here and historical.
    ToggleGivenHere,
    /// The next stored patient matching what is typed.
    NextSuggestion,
    /// A key that is no answer to the question asked.
    NotAnAnswer,
    /// The dose in front becomes not given (or given again).
    ToggleNotDone,
}

/// The endpoint's answers about a visit, as the store keeps them: its outbox row,
/// every attempt, the last answer, and what was sent (to read the answer against).
#[derive(Clone, Debug, PartialEq)]
pub struct AnswerRead {
    pub row: OutboxRow,
    pub attempts: Vec<Attempt>,
    pub body: Option<String>,
    pub sent: Option<String>,
}

/// What finished work reports, fed back by the event loop.
#[derive(Clone, Debug, PartialEq)]
pub enum Done {
    /// A card was issued for a visit's patient (`whole`: every dose held here), or
    /// why not.
    CardIssued {
        visit: Uuid,
        whole: bool,
        result: Result<Box<crate::card::Card>, String>,
    },
    /// A card's files were written (their paths), or why not.
    CardSaved(Result<Vec<PathBuf>, String>),
    Saved {
        result: Result<PathBuf, String>,
        submitted: bool,
    },
    DraftSaved(Result<(), String>),
    HistoryLoaded {
        text: String,
        rows: Vec<VisitRow>,
        append: bool,
    },
    Opened {
        visit: Box<StoredVisit>,
        purpose: Purpose,
    },
    StoreFailed(String),
    Synced(super::sync::Report),
    OutboxLoaded(Vec<OutboxRow>),
    /// The endpoint's answers about a visit were read.
    AnswerLoaded(Box<AnswerRead>),
    /// Every version of a stored visit was read.
    VersionsLoaded {
        id: Uuid,
        versions: Vec<Version>,
    },
    /// The lots on hand.
    LotsLoaded {
        lots: Vec<crate::store::lots::Lot>,
        habits: Vec<crate::store::habits::Habit>,
    },
    /// The stored patients matching what was typed.
    PatientSuggestions {
        typed: String,
        matches: Vec<crate::store::patients::PatientMatch>,
    },
    Resubmitted(Result<(), String>),
    /// A visit's doses were voided (which, in words), or why not.
    Voided(Result<String, String>),
    /// A correction of a sent visit was queued as this version, or why not.
    Amended(Result<crate::corrections::Amended, String>),
    /// A stored visit was put in the outbox, or why not.
    Queued {
        id: Uuid,
        result: Result<(), String>,
    },
    /// The patient stored under an MRN (none if there is none), its doses, and what
    /// the endpoint last said they are.
    PatientLooked {
        mrn: String,
        patient: Option<Box<Fields>>,
        doses: Vec<StoredDose>,
        endpoint: Option<EndpointHistory>,
    },
    /// The endpoint answered about a patient's immunizations.
    EndpointAnswered(super::sync::HistoryAnswer),
}

/// What comes into the app: the user's actions, finished work, the clock and the
/// window.
#[derive(Clone, Debug, PartialEq)]
pub enum Msg {
    User(Action),
    Done(Done),
    Tick(ClinicTime),
    Resize { width: u16, height: u16 },
}

impl From<Action> for Msg {
    fn from(action: Action) -> Msg {
        Msg::User(action)
    }
}

impl From<Done> for Msg {
    fn from(done: Done) -> Msg {
        Msg::Done(done)
    }
}

/// Work for the event loop.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    Quit,
    /// Issue a card for the patient of `visit`: every dose held here, or `visit`'s.
    IssueCard {
        visit: Uuid,
        whole: bool,
    },
    /// Write a card's files into the data folder's `cards`.
    SaveCard(Box<crate::card::Card>),
    SaveDraft {
        id: Uuid,
        visit: Box<Visit>,
        /// Put aside for later (Ctrl+N), not cut short.
        aside: bool,
    },
    /// Save the visit with exactly this message (and put it in the outbox).
    Save {
        id: Uuid,
        visit: Box<Visit>,
        message: Message,
        submit: bool,
    },
    DeleteDraft(Uuid),
    LoadHistory {
        query: ListQuery,
        append: bool,
    },
    Open {
        id: Uuid,
        purpose: Purpose,
    },
    /// Ask the sender to go now.
    SyncNow,
    LoadOutbox,
    RetryNow(Option<Uuid>),
    Resubmit(Uuid),
    /// The endpoint's answers about a visit; `protocol` says what was sent, so the
    /// answer's entry numbers are read against it.
    OpenAnswer {
        id: Uuid,
        protocol: Option<Protocol>,
    },
    /// Show every version of a stored visit.
    OpenVersions(Uuid),
    /// Read the lots on hand again (a save may have added one).
    LoadLots,
    /// Look up the stored patients matching an MRN or family name being typed.
    SuggestPatients(String),
    /// Queue a corrected record of a sent visit as its next message (Ctrl+S and
    /// Ctrl+G alike: a correction is meant to go).
    /// Send a corrected record of a sent visit: `message` is its next message (or,
    /// when the record names another patient, its doses are moved: see
    /// `corrections::amend`).
    Amend {
        id: Uuid,
        visit: Box<Visit>,
        message: Message,
        /// Which new message of the visit it is (refused if another came meanwhile).
        sending: u32,
    },
    /// Look up the patient stored under this MRN.
    LookupPatient(String),
    /// Ask the endpoint for the immunizations of the patient with this MRN (the
    /// event loop's own: the sender asks).
    AskEndpoint(String),
    /// Put a saved (or failed) visit in the outbox.
    Send(Uuid),
    /// Void one dose of a sent visit, or every dose (sent again as entered-in-error).
    Void {
        id: Uuid,
        dose: Option<usize>,
    },
}

/// Where sending stands, for the header and the outbox.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SyncStatus {
    /// How the configured endpoint takes messages; `None` when none is configured
    /// (no sender runs).
    pub protocol: Option<Protocol>,
    pub waiting: u32,
    pub failed: u32,
    /// When the last pass ended, and its problem if it had one.
    pub last: Option<(ClinicTime, Option<String>)>,
}

//! The screens, each with its own state, update and drawing: the entry form, the
//! preview, the history, the outbox and a patient's SMART Health Card, and the
//! overlays (help, questions).

pub mod card;
pub mod form;
pub mod history;
pub mod outbox;
pub mod overlays;
pub mod preview;

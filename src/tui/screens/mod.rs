//! The screens, each with its own state, update and drawing: the entry form, the
//! preview, the history and the outbox, and the overlays (help, questions).

pub mod form;
pub mod history;
pub mod outbox;
pub mod overlays;
pub mod preview;

//! The SMART Health Card screen: a patient's card as a QR code to scan off the
//! terminal, with whose it is and the doses it holds; `a` switches between every dose
//! held here and the visit's own, `s` writes the card's files.

pub mod view;

use crate::card::Card;
use crate::tui::msg::{Action, Effect, Screen};
use crate::tui::reply::Reply;
use crate::tui::text;
use uuid::Uuid;

/// The card on screen and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct CardView {
    pub card: Card,
    /// The visit it was asked from, and whether it holds every dose of the patient
    /// held here (else only that visit's).
    pub visit: Uuid,
    pub whole: bool,
    /// The screen Esc goes back to.
    pub back: Screen,
}

pub fn update(view: &CardView, action: Action) -> Reply {
    match action {
        Action::Escape => Reply::go(view.back),
        Action::CardDoses => Reply::effect(Effect::IssueCard {
            visit: view.visit,
            whole: !view.whole,
        }),
        Action::SaveCard => Reply::effect(Effect::SaveCard(Box::new(view.card.clone()))),
        Action::Card => Reply::notice(text::CARD_SHOWN),
        _ => Reply::none(),
    }
}

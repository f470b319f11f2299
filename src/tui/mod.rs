//! The entry form: terminal setup and restore, the event loop (generic over the
//! ratatui backend so tests run the real loop), state, keys and drawing.

pub mod app;
pub mod keys;
pub mod theme;
pub mod view;

use crate::config::Config;
use crate::fhir::{Clock, SystemClock};
use anyhow::{Context, Result};
use app::{App, Effect, update};
use keys::{KeyContext, to_msg};
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::crossterm::event::{
    self, DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event,
};
use ratatui::crossterm::execute;
use std::time::Duration;

/// Runs the form in the real terminal until the user quits.
pub fn run(config: &Config) -> Result<()> {
    let mut terminal = ratatui::init();
    install_panic_hook();
    let result = execute!(std::io::stdout(), EnableBracketedPaste, EnableMouseCapture)
        .context("cannot set up the terminal")
        .and_then(|_| {
            let size = terminal.size().context("cannot read the terminal size")?;
            let mut app = App::new(
                SystemClock.now(),
                &config.source.name,
                (size.width, size.height),
                theme::Theme::from_env(),
            );
            run_loop(&mut terminal, &mut app, || {
                next_event(Duration::from_secs(1))
            })
        });
    restore();
    result
}

/// Undoes everything `run` set up. Safe to call more than once.
fn restore() {
    let _ = execute!(
        std::io::stdout(),
        DisableBracketedPaste,
        DisableMouseCapture
    );
    ratatui::restore();
}

/// On a panic, put the terminal back before the message is printed.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = execute!(
            std::io::stdout(),
            DisableBracketedPaste,
            DisableMouseCapture
        );
        previous(info);
    }));
}

/// Waits up to `timeout` for an event; `None` means a clock tick.
fn next_event(timeout: Duration) -> Result<Option<Event>> {
    if event::poll(timeout)? {
        Ok(Some(event::read()?))
    } else {
        Ok(None)
    }
}

/// The event loop: draw, wait for an event (or a tick), update, run the effects.
/// `next` returns `Ok(None)` for a tick; an error ends the loop.
pub fn run_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    mut next: impl FnMut() -> Result<Option<Event>>,
) -> Result<()>
where
    B::Error: Send + Sync + 'static,
{
    loop {
        terminal.draw(|frame| view::draw(frame, app))?;
        let msg = match next()? {
            Some(event) => to_msg(
                &event,
                KeyContext {
                    mode: app.mode,
                    page: app.page,
                },
            ),
            None => Some(app::Msg::Tick(SystemClock.now())),
        };
        let Some(msg) = msg else { continue };
        if update(app, msg).contains(&Effect::Quit) {
            return Ok(());
        }
    }
}

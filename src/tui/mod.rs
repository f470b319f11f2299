//! The terminal app: set-up and restore, and the event loop (generic over the ratatui
//! backend, so a test runs the real loop on a test terminal). State and routing are in
//! `app`, each screen in `screens/`, keys in `bindings`, clicks in `layout`, words
//! shown to the user in `text`.

pub mod app;
pub mod bindings;
pub mod effects;
pub mod input;
pub mod layout;
pub mod msg;
pub mod reply;
pub mod screens;
pub mod sync;
pub mod text;
pub mod theme;
pub mod view;
pub mod widgets;

use crate::clock::Clock;
use crate::config::Config;
use crate::store::Store;
use anyhow::{Context, Result};
use app::{App, update};
use input::{KeyContext, to_msg};
use msg::{Done, Effect, Msg};
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::crossterm::event::{
    self, DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event,
};
use ratatui::crossterm::execute;
use std::collections::VecDeque;
use std::path::Path;
use std::time::{Duration, Instant};

/// Runs the form in the real terminal until the user quits. With an endpoint
/// configured, a sender thread works through the outbox meanwhile.
pub fn run(config: &Config, clock: Clock, store: &mut Store, data_dir: &Path) -> Result<()> {
    // Read before the terminal changes, so a problem is reported in plain text.
    let draft = store.latest_draft()?;
    let counts = store.queue_counts()?;
    let (worker, endpoint_notice, protocol) = match crate::submit::configured_endpoint(config) {
        None => (None, None, None),
        Some(Err(e)) => (None, Some(text::sending_off(&e)), None),
        Some(Ok(endpoint)) => {
            let warning = endpoint.warnings.first().map(|w| text::warning(w));
            let protocol = Some(endpoint.protocol);
            (
                Some(sync::Worker::spawn(
                    data_dir.to_path_buf(),
                    endpoint,
                    clock,
                    config.bundle_settings().mrn_system,
                )),
                warning,
                protocol,
            )
        }
    };
    let mut terminal = ratatui::init();
    install_panic_hook();
    let result = execute!(std::io::stdout(), EnableBracketedPaste, EnableMouseCapture)
        .context("cannot set up the terminal")
        .and_then(|_| {
            let size = terminal.size().context("cannot read the terminal size")?;
            let mut app = App::new(
                clock.now(),
                config.bundle_settings(),
                (size.width, size.height),
                theme::Theme::from_env(),
            );
            app.sync.protocol = protocol;
            // The lots on hand fill in a chosen vaccine's lot; without them, it is typed.
            app.form.stock(
                store.lots(None, true).unwrap_or_default(),
                store.habits().unwrap_or_default(),
            );
            // Checked when the config was read.
            let station = config.station.defaults().unwrap_or_default();
            app.form.use_station_defaults(station, clock.now());
            (app.sync.waiting, app.sync.failed) = counts;
            app.notice = config
                .warnings()
                .first()
                .or(store.warnings.first())
                .map(|w| text::warning(w))
                .or(endpoint_notice);
            if let Some(draft) = draft {
                match draft.visit() {
                    Ok(visit) => app.offer_draft(draft.row.id, visit),
                    Err(e) => app.notice = Some(format!("{e:#}")),
                }
            }
            run_loop(
                &mut terminal,
                &mut app,
                store,
                worker.as_ref(),
                clock,
                next_event,
            )
        });
    restore();
    if let Some(worker) = worker {
        worker.stop();
    }
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

/// On a panic of the form's own thread, put the terminal back before the message is
/// printed. A panic on another thread (the sender) leaves the terminal to the form:
/// that thread catches it and the form says sending stopped.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    let ui = std::thread::current().id();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() != ui {
            return;
        }
        let _ = execute!(
            std::io::stdout(),
            DisableBracketedPaste,
            DisableMouseCapture
        );
        previous(info);
    }));
}

/// Waits up to `timeout` for an event; `None` means the time ran out.
fn next_event(timeout: Duration) -> Result<Option<Event>> {
    if event::poll(timeout)? {
        Ok(Some(event::read()?))
    } else {
        Ok(None)
    }
}

/// How often the clock ticks (and so the longest a change waits to reach the draft).
pub const TICK: Duration = Duration::from_secs(1);

/// The event loop: draw, wait for an event or the next tick, update, run the
/// effects (feeding their outcomes back in). `next(timeout)` returns `Ok(None)` when
/// the timeout passes with no event; an error ends the loop.
pub fn run_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    store: &mut Store,
    worker: Option<&sync::Worker>,
    clock: Clock,
    mut next: impl FnMut(Duration) -> Result<Option<Event>>,
) -> Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let mut last_tick = Instant::now();
    loop {
        let mut layout = layout::Layout::default();
        terminal.draw(|frame| layout = view::draw(frame, app))?;
        let wait = TICK.saturating_sub(last_tick.elapsed());
        let mut msgs = VecDeque::new();
        if let Some(event) = next(wait)? {
            msgs.extend(to_msg(&event, KeyContext::of(app), &layout));
        }
        // Ticks come on time even while keys arrive without a pause.
        if last_tick.elapsed() >= TICK {
            last_tick = Instant::now();
            msgs.push_back(Msg::Tick(clock.now()));
        }
        if let Some(worker) = worker {
            msgs.extend(worker.reports.try_iter().map(|r| Done::Synced(r).into()));
            msgs.extend(
                worker
                    .answers
                    .try_iter()
                    .map(|a| Done::EndpointAnswered(a).into()),
            );
        }
        while let Some(msg) = msgs.pop_front() {
            for effect in update(app, msg) {
                match effect {
                    Effect::Quit => {
                        // Quit only with the visit safe: a draft that could not be
                        // written keeps vaxentry open, and says why.
                        let failed = msgs.iter().find_map(|m| match m {
                            Msg::Done(Done::DraftSaved(Err(e))) => Some(e.clone()),
                            _ => None,
                        });
                        let Some(why) = failed else {
                            return Ok(());
                        };
                        msgs.retain(|m| !matches!(m, Msg::Done(Done::DraftSaved(_))));
                        app.form.draft_dirty = true;
                        app.notice = Some(text::not_quit_draft_failed(&why));
                    }
                    Effect::SyncNow => {
                        if let Some(worker) = worker {
                            let _ = worker.commands.send(sync::Command::Now);
                        }
                    }
                    Effect::AskEndpoint(mrn) => {
                        if let Some(worker) = worker {
                            let _ = worker.commands.send(sync::Command::History(mrn));
                        }
                    }
                    other => msgs
                        .extend(effects::run(other, store, app.now, &app.settings).map(Msg::Done)),
                }
            }
        }
    }
}

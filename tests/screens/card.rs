//! The SMART Health Card screen: issued from History (Alt+K) and from a visit's view
//! (k), the QR code drawn so that it decodes off the screen, every dose or the visit's
//! (a), written as files (s), Esc back; too small a window, and no issuer, say what to
//! do.

use super::*;
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use vaxentry::tui::msg::Screen;

/// A station issuing cards, with a fixed key (so the code is the same each run), and
/// the patient's two visits stored.
fn issuing(size: (u16, u16)) -> App {
    with_store(|s| *s = new_store());
    let key = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
    let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap();
    let dir = with_store(|s| s.path().parent().unwrap().to_path_buf());
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dir.join(vaxentry::card::key::KEY_FILE))
        .and_then(|mut f| std::io::Write::write_all(&mut f, pem.as_bytes()))
        .unwrap();
    let mut earlier = common::example("adult-flu");
    earlier.doses[0].set(FieldId::Administered, "2025-10-02 10:00");
    earlier.doses[0].set(FieldId::Lot, "EARLIER1");
    save_visit(&earlier);
    save_visit(&common::example("adult-flu"));
    let mut a = app(size);
    a.settings.card_issuer = Some("https://clinic.example.org/cards".into());
    a
}

/// What the screen's QR code holds, read off the drawn cells by an independent QR
/// decoder: each cell is two modules, `▀` the upper dark, `▄` the lower, `█` both.
fn scanned(terminal: &Terminal<TestBackend>) -> Option<String> {
    let buffer = terminal.backend().buffer();
    let (w, h) = (
        usize::from(buffer.area.width),
        usize::from(buffer.area.height),
    );
    let scale = 4;
    let mut pixels = vec![255u8; w * scale * h * 2 * scale];
    for y in 0..h {
        for x in 0..w {
            let cell = &buffer[(x as u16, y as u16)];
            let (top, bottom) = match cell.symbol() {
                "█" => (true, true),
                "▀" => (true, false),
                "▄" => (false, true),
                _ => (false, false),
            };
            for (half, dark) in [(0, top), (1, bottom)] {
                for dy in 0..scale {
                    for dx in 0..scale {
                        let (px, py) = (x * scale + dx, (y * 2 + half) * scale + dy);
                        pixels[py * w * scale + px] = if dark { 0 } else { 255 };
                    }
                }
            }
        }
    }
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(w * scale, h * 2 * scale, |x, y| {
            pixels[y * w * scale + x]
        });
    let grids = image.detect_grids();
    grids
        .first()
        .and_then(|g| g.decode().ok())
        .map(|(_, text)| text)
}

#[test]
fn a_card_is_issued_from_history_and_scans_off_the_screen() {
    let mut a = issuing((120, 60));
    drive(&mut a, keys("<F4><A-k>"));
    assert_eq!(a.screen, Screen::Card, "{:?}", a.notice);
    let card = a.card.clone().unwrap().card;
    assert_eq!(card.doses.len(), 2, "every dose held here");
    let terminal = render(&a);
    assert_eq!(scanned(&terminal).as_deref(), Some(card.numeric.as_str()));
    let screen = terminal.backend().to_string();
    assert!(
        screen.contains("Astrid Maria Lindqvist (born 1987-03-14): 2 dose(s)"),
        "{screen}"
    );
    snap!("card-120x60", terminal.backend());
    // The visit's own doses only, and back.
    drive(&mut a, keys("a"));
    assert_eq!(a.card.as_ref().unwrap().card.doses.len(), 1);
    assert!(
        render(&a)
            .backend()
            .to_string()
            .contains("this visit's doses")
    );
    drive(&mut a, keys("a"));
    assert_eq!(a.card.as_ref().unwrap().card.doses.len(), 2);
    // Written as files, the user's only.
    drive(&mut a, keys("s"));
    let notice = a.notice.clone().unwrap();
    assert!(notice.starts_with("Card written: "), "{notice}");
    let dir = with_store(|s| s.path().parent().unwrap().join("cards"));
    for ext in ["smart-health-card", "png", "svg"] {
        let path = dir.join(format!("card-Astrid_Maria_Lindqvist-1987-03-14.{ext}"));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{ext}");
    }
    drive(&mut a, keys("<Esc>"));
    assert_eq!(a.screen, Screen::History);
}

#[test]
fn a_card_from_a_visits_view_goes_back_to_it_and_too_small_a_window_says_so() {
    for size in [(80, 24), (120, 40)] {
        let mut a = issuing(size);
        drive(&mut a, keys("<F4><Enter>k"));
        assert_eq!(a.screen, Screen::Card, "{:?}", a.notice);
        let terminal = render(&a);
        let screen = terminal.backend().to_string();
        assert!(screen.contains("needs a window of at least"), "{screen}");
        snap!(format!("card-{}x{}", size.0, size.1), terminal.backend());
        drive(&mut a, keys("<Esc>"));
        assert_eq!(a.screen, Screen::Preview, "back to the visit");
        assert!(a.preview.is_some());
    }
}

#[test]
fn without_an_issuer_no_card_is_issued_and_it_says_what_to_set() {
    let mut a = issuing((80, 24));
    a.settings.card_issuer = None;
    drive(&mut a, keys("<F4><A-k>"));
    assert_eq!(a.screen, Screen::History);
    assert!(
        a.notice.as_deref().unwrap_or("").contains("[card] issuer"),
        "{:?}",
        a.notice
    );
}

//! A card as files to hand over: `card-NAME.smart-health-card` (the specification's
//! file for download, `{"verifiableCredential": [JWS]}`), and the QR code as a PNG and
//! an SVG, each readable by the user only (they hold a patient's record) and written
//! as the store writes its files (whole or not at all, never through a link).

use super::{Card, qr};
use std::path::{Path, PathBuf};

/// Pixels a QR module in the PNG and SVG.
const SCALE: usize = 8;

/// Writes the card's three files into `dir` under `card-NAME` (`name` made safe for a
/// file name), replacing those of an earlier card; the paths written.
pub fn write_files(card: &Card, dir: &Path, name: &str) -> Result<Vec<PathBuf>, String> {
    let name: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let file = serde_json::json!({ "verifiableCredential": [card.jws] }).to_string();
    let png = qr::png(&card.matrix, SCALE)?;
    let svg = qr::svg(&card.matrix, SCALE);
    let mut written = Vec::new();
    for (ext, bytes) in [
        ("smart-health-card", file.as_bytes()),
        ("png", png.as_slice()),
        ("svg", svg.as_bytes()),
    ] {
        let path = dir.join(format!("card-{name}.{ext}"));
        crate::store::write_atomically(None, &path, bytes).map_err(|e| format!("{e:#}"))?;
        written.push(path);
    }
    Ok(written)
}

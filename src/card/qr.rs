//! The card as a QR code: the JWS as the `shc:/` numeric string (each character as two
//! digits, its code minus 45), in two segments (bytes for `shc:/`, numeric for the
//! digits), at error correction L in the smallest version, as the SMART Health Cards
//! specification asks; drawn as a matrix, an SVG or a PNG, with the 4-module quiet zone.

use qrcode::bits::Bits;
use qrcode::{EcLevel, QrCode, Version};

/// The largest QR version a single card may take (the specification's limit).
pub const MOST_VERSION: i16 = 22;

/// The quiet zone round the code, in modules.
pub const QUIET: usize = 4;

/// The `shc:/` string of a JWS.
pub fn numeric(jws: &str) -> String {
    let digits: String = jws
        .bytes()
        .map(|b| format!("{:02}", b.saturating_sub(45)))
        .collect();
    format!("shc:/{digits}")
}

/// The JWS an `shc:/` string holds.
pub fn from_numeric(text: &str) -> Result<String, String> {
    let digits = text
        .trim()
        .strip_prefix("shc:/")
        .ok_or("a health card's QR text starts with shc:/")?;
    if digits.len() % 2 == 1 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the digits after shc:/ are not pairs of digits".into());
    }
    digits
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            let n = (pair[0] - b'0') * 10 + (pair[1] - b'0');
            char::from_u32(u32::from(n) + 45)
                .filter(|c| c.is_ascii_graphic())
                .ok_or_else(|| format!("{n} is no character of a JWS"))
        })
        .collect()
}

/// A QR code's modules, row by row (`true` dark), without the quiet zone.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    pub version: i16,
    pub width: usize,
    pub dark: Vec<bool>,
}

impl Matrix {
    /// Whether the module at (x, y) is dark; the quiet zone and beyond are light.
    pub fn is_dark(&self, x: i64, y: i64) -> bool {
        let inside = |v: i64| (0..self.width as i64).contains(&v);
        inside(x) && inside(y) && self.dark[y as usize * self.width + x as usize]
    }

    /// The width with the quiet zone on both sides.
    pub fn framed(&self) -> usize {
        self.width + 2 * QUIET
    }
}

/// The QR code of an `shc:/` string, in the smallest version that holds it; an error
/// when it needs more than version 22.
pub fn matrix(numeric: &str) -> Result<Matrix, String> {
    let digits = numeric.strip_prefix("shc:/").unwrap_or(numeric);
    for version in 1..=MOST_VERSION {
        let mut bits = Bits::new(Version::Normal(version));
        let fits = bits.push_byte_data(b"shc:/").is_ok()
            && bits.push_numeric_data(digits.as_bytes()).is_ok()
            && bits.push_terminator(EcLevel::L).is_ok();
        if !fits {
            continue;
        }
        let code = QrCode::with_bits(bits, EcLevel::L).map_err(|e| e.to_string())?;
        return Ok(Matrix {
            version,
            width: code.width(),
            dark: code
                .to_colors()
                .into_iter()
                .map(|c| c == qrcode::Color::Dark)
                .collect(),
        });
    }
    Err(format!(
        "the card needs a QR code larger than version {MOST_VERSION}, the most one code may be"
    ))
}

/// The code as lines of half blocks, two rows of modules a line, with the quiet zone:
/// `▀` a dark module above a light one, `▄` below, `█` both. Drawn dark on light.
pub fn half_blocks(matrix: &Matrix) -> Vec<String> {
    let side = matrix.framed() as i64;
    let quiet = QUIET as i64;
    (0..(side + 1) / 2)
        .map(|row| {
            (0..side)
                .map(|x| {
                    let top = matrix.is_dark(x - quiet, 2 * row - quiet);
                    let bottom = matrix.is_dark(x - quiet, 2 * row + 1 - quiet);
                    match (top, bottom) {
                        (true, true) => '█',
                        (true, false) => '▀',
                        (false, true) => '▄',
                        (false, false) => ' ',
                    }
                })
                .collect()
        })
        .collect()
}

/// The code as an SVG, `scale` pixels a module, black on white.
pub fn svg(matrix: &Matrix, scale: usize) -> String {
    let size = matrix.framed() * scale;
    let mut path = String::new();
    for y in 0..matrix.width {
        for x in 0..matrix.width {
            if matrix.dark[y * matrix.width + x] {
                let (px, py) = ((x + QUIET) * scale, (y + QUIET) * scale);
                path.push_str(&format!("M{px} {py}h{scale}v{scale}h-{scale}z"));
            }
        }
    }
    format!(
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{size}" height="{size}" viewBox="0 0 {size} {size}" shape-rendering="crispEdges"><rect width="{size}" height="{size}" fill="#fff"/><path fill="#000" d="{path}"/></svg>
"##
    )
}

/// The code as a greyscale PNG, `scale` pixels a module, black on white.
pub fn png(matrix: &Matrix, scale: usize) -> Result<Vec<u8>, String> {
    let (pixels, size) = greyscale(matrix, scale);
    let side = u32::try_from(size).map_err(|_| "the image is too large")?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .and_then(|mut w| w.write_image_data(&pixels))
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// The code's pixels (0 black, 255 white), `scale` a module with the quiet zone, and
/// the side in pixels.
pub fn greyscale(matrix: &Matrix, scale: usize) -> (Vec<u8>, usize) {
    let size = matrix.framed() * scale;
    let mut pixels = vec![255u8; size * size];
    for (i, pixel) in pixels.iter_mut().enumerate() {
        let (x, y) = ((i % size) / scale, (i / size) / scale);
        if matrix.is_dark(x as i64 - QUIET as i64, y as i64 - QUIET as i64) {
            *pixel = 0;
        }
    }
    (pixels, size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jws_reads_back_from_its_numeric_string() {
        let jws = "eyJ6aXAiOiJERUYifQ.abc-_.xyz";
        let text = numeric(jws);
        assert!(text.starts_with("shc:/56762909"), "{text}");
        assert_eq!(from_numeric(&text).unwrap(), jws);
        assert!(from_numeric("shc:/5").is_err());
        assert!(from_numeric("shc:/ab").is_err());
        assert!(from_numeric("http://x").is_err());
        assert!(
            from_numeric("shc:/99").is_err(),
            "99 + 45 is no JWS character"
        );
    }

    #[test]
    fn half_blocks_draw_two_rows_a_line_with_the_quiet_zone() {
        let code = matrix(&numeric("abc")).unwrap();
        let lines = half_blocks(&code);
        assert_eq!(lines.len(), (21 + 8usize).div_ceil(2));
        assert!(lines.iter().all(|l| l.chars().count() == 29));
        assert!(
            lines[0].trim().is_empty() && lines[1].trim().is_empty(),
            "quiet zone"
        );
        // The finder pattern's top edge: row 4 (line 2, upper half), columns 4 to 10.
        let line: Vec<char> = lines[2].chars().collect();
        assert!(
            line[4..11].iter().all(|c| matches!(c, '▀' | '█')),
            "{}",
            lines[2]
        );
    }

    #[test]
    fn the_code_is_the_smallest_version_and_too_long_a_card_is_refused() {
        let short = matrix(&numeric("abc")).unwrap();
        assert_eq!((short.version, short.width), (1, 21));
        assert!(matrix(&numeric(&"a".repeat(1195))).is_ok_and(|m| m.version <= 22));
        assert!(matrix(&numeric(&"a".repeat(1400))).is_err());
    }
}

//! GS1 2D barcodes on vaccine packs and vials, as a keyboard-wedge scanner types them:
//! the element string with FNC1 sent as GS (0x1D), after an optional symbology prefix
//! (`]d2` DataMatrix, `]C1` GS1-128, `]Q3` QR, `]e0` DataBar), or the human-readable
//! `(01)…(17)…(10)…(21)…` form. Reads AI 01 (GTIN-14), 17 (expiry, YYMMDD; day 00 is
//! the month's last day), 10 (lot) and 21 (serial); and the barcode printed on a
//! Vaccine Information Statement, AI 253 (GDTI: document type and edition serial).

use chrono::NaiveDate;

const GS: char = '\u{1d}';

/// What a scan says.
#[derive(Clone, Debug, PartialEq)]
pub struct Scan {
    pub gtin: String,
    /// The GTIN's check digit is right. A scanner types what the symbol holds, and a
    /// pack printed with a wrong one must still be usable: the form says so instead.
    pub check_digit_ok: bool,
    pub expiry: Option<NaiveDate>,
    pub lot: Option<String>,
    pub serial: Option<String>,
    /// The scan had no GS at all, and its lot holds `21` followed by more: a scanner
    /// that drops GS runs the serial into the lot, and the two cannot be told apart.
    /// The lot is read as written, and the user is asked to check it.
    pub lot_may_hold_serial: bool,
}

impl Scan {
    /// The 10 NDC digits a US drug GTIN carries (`0` or `3`, `03`, NDC, check digit),
    /// without the dashes, which only the product's NDC can place.
    pub fn ndc_digits(&self) -> Option<&str> {
        self.gtin
            .get(1..3)
            .filter(|prefix| *prefix == "03")
            .and_then(|_| self.gtin.get(3..13))
    }
}

/// The longest scan read: the four elements at their longest, with prefix and GSs.
pub const LONGEST: usize = 80;

/// The text after a scanner's symbology prefix, if any.
fn without_prefix(text: &str) -> &str {
    ["]d2", "]C1", "]Q3", "]e0"]
        .iter()
        .find_map(|prefix| text.strip_prefix(prefix))
        .unwrap_or(text)
}

/// Whether `text` is how a scan starts, so a field should take more than it holds
/// until Enter reads it.
pub fn could_be_scan(text: &str) -> bool {
    let body = without_prefix(text);
    let digits_from = |at: usize| body.bytes().skip(at).take(14).all(|b| b.is_ascii_digit());
    body.starts_with("(01)")
        || body.starts_with("(253)")
        || (body.starts_with("01") && digits_from(0))
        || (body.starts_with("253") && body.len() >= 16 && digits_from(3))
}

/// The GDTI a VIS barcode holds (AI 253: the 13-digit document type, then the
/// edition's serial), as CDC's fully encoded string `253…`: `None` when `text` is not
/// such a barcode, an error when it is one that cannot be right.
pub fn parse_vis(text: &str) -> Option<Result<String, String>> {
    let body = without_prefix(text.trim());
    let gdti = match body.strip_prefix("(253)") {
        Some(rest) => rest,
        None if body.len() >= 16 && body.bytes().all(|b| b.is_ascii_digit()) => {
            body.strip_prefix("253")?
        }
        None => return None,
    };
    if gdti.len() < 13 || gdti.len() > 30 || !gdti.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Err(format!(
            "a VIS barcode (253) holds 13 to 30 digits, not '{gdti}'"
        )));
    }
    if check_digit(&gdti[..12]) != u32::from(gdti.as_bytes()[12] - b'0') {
        return Some(Err(format!(
            "the VIS document code {} has a wrong check digit; scan it again",
            &gdti[..13]
        )));
    }
    Some(Ok(format!("253{gdti}")))
}

/// `None` when `text` does not look like a scan; otherwise what it says, or what is
/// wrong with it.
pub fn parse(text: &str) -> Option<Result<Scan, String>> {
    let text = text.trim_matches(|c: char| c.is_whitespace() && c != GS);
    let body = without_prefix(text);
    let elements = if body.starts_with("(01)") {
        human_readable(body)
    } else if body.starts_with("01")
        && body.len() >= 16
        && body
            .get(2..16)
            .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()))
    {
        element_string(body)
    } else {
        return None;
    };
    let without_gs = !body.contains(GS) && !body.starts_with('(');
    Some(elements.and_then(scan).map(|mut scan| {
        scan.lot_may_hold_serial = without_gs
            && scan.serial.is_none()
            && scan
                .lot
                .as_deref()
                .and_then(|lot| lot.find("21"))
                .is_some_and(|at| at > 0);
        scan
    }))
}

/// `(01)00349281042450(17)270630(10)UT8291AA`
fn human_readable(body: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(after) = rest.strip_prefix('(') {
        let (ai, after) = after.split_once(')').ok_or("a '(' has no ')' after it")?;
        let end = after.find('(').unwrap_or(after.len());
        out.push((ai.to_string(), after[..end].to_string()));
        rest = &after[end..];
    }
    if !rest.is_empty() {
        return Err(format!("'{rest}' is not inside an (AI) element"));
    }
    Ok(out)
}

/// `01003492810424501727063010UT8291AA<GS>21…`: fixed-length elements run on; a
/// variable-length one ends at GS or at the end.
fn element_string(body: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut rest = body.trim_start_matches(GS);
    while !rest.is_empty() {
        let ai = rest.get(..2).ok_or("an element is cut short")?;
        let after = &rest[2..];
        let fixed = match ai {
            "01" => Some(14),
            "17" | "11" | "15" => Some(6),
            "10" | "21" => None,
            other => return Err(format!("AI {other} is not one a vaccine pack carries")),
        };
        let (value, next) = match fixed {
            Some(n) => {
                let value = after
                    .get(..n)
                    .ok_or_else(|| format!("AI {ai} needs {n} digits"))?;
                (value, &after[n..])
            }
            None => match after.find(GS) {
                Some(end) => (&after[..end], &after[end..]),
                None => (after, ""),
            },
        };
        out.push((ai.to_string(), value.to_string()));
        rest = next.trim_start_matches(GS);
    }
    Ok(out)
}

fn scan(elements: Vec<(String, String)>) -> Result<Scan, String> {
    let mut scan = Scan {
        gtin: String::new(),
        check_digit_ok: false,
        expiry: None,
        lot: None,
        serial: None,
        lot_may_hold_serial: false,
    };
    let mut seen = std::collections::HashSet::new();
    for (ai, value) in elements {
        if !seen.insert(ai.clone()) {
            return Err(format!(
                "AI {ai} is in the scan twice; a pack's barcode has each once"
            ));
        }
        match ai.as_str() {
            "01" => (scan.gtin, scan.check_digit_ok) = gtin(&value)?,
            "17" => scan.expiry = Some(expiry(&value)?),
            "10" => scan.lot = Some(text_value("lot (10)", &value)?),
            "21" => scan.serial = Some(text_value("serial (21)", &value)?),
            // Production and best-before dates say nothing the record needs.
            "11" | "15" => {}
            other => return Err(format!("AI {other} is not one a vaccine pack carries")),
        }
    }
    if scan.gtin.is_empty() {
        return Err("it has no GTIN (01)".into());
    }
    Ok(scan)
}

/// The GTIN, and whether its check digit is right.
fn gtin(value: &str) -> Result<(String, bool), String> {
    if value.len() != 14 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("GTIN '{value}' is not 14 digits"));
    }
    let right = check_digit(&value[..13]) == u32::from(value.as_bytes()[13] - b'0');
    Ok((value.to_string(), right))
}

/// The GS1 check digit of `digits` (ASCII digits): weights 3 and 1 from the right.
fn check_digit(digits: &str) -> u32 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    (10 - sum % 10) % 10
}

fn expiry(value: &str) -> Result<NaiveDate, String> {
    let bad = || format!("expiry (17) '{value}' is not a YYMMDD date");
    if value.len() != 6 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let number = |range: std::ops::Range<usize>| value[range].parse::<u32>().map_err(|_| bad());
    let (year, month, day) = (2000 + number(0..2)? as i32, number(2..4)?, number(4..6)?);
    let date = if day == 0 {
        // Day 00: the last day of the month.
        NaiveDate::from_ymd_opt(year, month, 1)
            .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
            .and_then(|d| d.pred_opt())
    } else {
        NaiveDate::from_ymd_opt(year, month, day)
    };
    date.ok_or_else(bad)
}

fn text_value(what: &str, value: &str) -> Result<String, String> {
    if value.is_empty() || value.chars().count() > 20 || value.chars().any(char::is_control) {
        return Err(format!(
            "the {what} '{value}' is not 1 to 20 printable characters"
        ));
    }
    Ok(value.to_string())
}

/// Whether an 11-digit NDC is the one these 10 digits write (in 4-4-2, 5-3-2 or 5-4-1,
/// the 11-digit form pads one segment with a leading zero).
pub fn ndc11_matches(ndc11: &str, digits10: &str) -> bool {
    ndc11.len() == 11
        && digits10.len() == 10
        && [(0, 0), (5, 5), (9, 9)].iter().any(|(zero, at)| {
            ndc11.as_bytes()[*zero] == b'0'
                && format!("{}{}", &ndc11[..*at], &ndc11[at + 1..]) == digits10
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_shapes_a_scanner_types_read_the_same() {
        // The example GTIN's check digit is wrong (4 would be right): it still reads.
        let expected = Scan {
            gtin: "00349281042450".into(),
            check_digit_ok: false,
            expiry: Some(day(2027, 6, 30)),
            lot: Some("UT8291AA".into()),
            serial: None,
            lot_may_hold_serial: false,
        };
        for text in [
            "01003492810424501727063010UT8291AA",
            "]d201003492810424501727063010UT8291AA",
            "(01)00349281042450(17)270630(10)UT8291AA",
        ] {
            assert_eq!(parse(text), Some(Ok(expected.clone())), "{text}");
        }
        let with_serial = parse("]d2010034928104245017270600\u{1d}10UT8291AA\u{1d}21SN123")
            .unwrap()
            .unwrap();
        assert_eq!(with_serial.expiry, Some(day(2027, 6, 30)), "day 00");
        assert_eq!(with_serial.serial.as_deref(), Some("SN123"));
        assert_eq!(with_serial.ndc_digits(), Some("4928104245"));
    }

    #[test]
    fn what_is_not_a_scan_is_left_alone_and_a_bad_scan_says_why() {
        for typed in ["flu", "140", "01", "UT8291AA", "0100349", ""] {
            assert_eq!(parse(typed), None, "{typed}");
        }
        for (bad, says) in [
            ("01003492810424501713453010UT8291AA", "expiry"),
            ("0100349281042450991234", "AI 99"),
            ("(01)00349281042450(10", "')'"),
            ("(01)00349281042450(10)AAA(10)BBB", "twice"),
            ("]d201003492810424501727063010AAA\u{1d}10BBB", "twice"),
        ] {
            let err = parse(bad).unwrap().unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn a_serial_that_may_have_run_into_the_lot_is_flagged() {
        // Without GS, "21SN123" after the lot cannot be told from the lot's own end.
        let run_on = parse("01003492810424501727063010UT82921SN123")
            .unwrap()
            .unwrap();
        assert_eq!(run_on.lot.as_deref(), Some("UT82921SN123"));
        assert!(run_on.lot_may_hold_serial);
        let separated = parse("010034928104245017270630\u{1d}10UT829\u{1d}21SN123")
            .unwrap()
            .unwrap();
        assert!(!separated.lot_may_hold_serial);
        assert!(
            !parse("01003492810424501727063010UT8291AA")
                .unwrap()
                .unwrap()
                .lot_may_hold_serial
        );
        assert!(could_be_scan("]d20100349281042450"));
        assert!(could_be_scan("(01)0034"));
        assert!(!could_be_scan("flu"));
    }

    #[test]
    fn a_vis_barcode_reads_as_cdcs_encoded_string() {
        for text in [
            "253088698300010311250131",
            "]d2253088698300010311250131",
            "(253)088698300010311250131",
        ] {
            assert_eq!(
                parse_vis(text),
                Some(Ok("253088698300010311250131".to_string())),
                "{text}"
            );
            assert!(could_be_scan(text), "{text}");
            assert_eq!(parse(text), None, "not a pack");
        }
        assert!(
            parse_vis("253088698300010411250131")
                .unwrap()
                .unwrap_err()
                .contains("check digit")
        );
        assert!(parse_vis("(253)0886").unwrap().is_err());
        for typed in ["253", "2530886", "flu", "0100349281042450"] {
            assert_eq!(parse_vis(typed), None, "{typed}");
        }
    }

    #[test]
    fn a_right_check_digit_is_known() {
        let scan = parse("0100349281042454").unwrap().unwrap();
        assert!(scan.check_digit_ok);
        assert!(!parse("0100349281042455").unwrap().unwrap().check_digit_ok);
    }

    #[test]
    fn ten_ndc_digits_match_their_eleven_digit_form() {
        assert!(
            ndc11_matches("49281042450", "4928142450"),
            "5-3-2: 49281-424-50"
        );
        assert!(ndc11_matches("00006404741", "0006404741"), "4-4-2");
        assert!(ndc11_matches("58160081205", "5816008125"), "5-4-1");
        assert!(
            !ndc11_matches("49281042450", "4928104245"),
            "49281-0424-5 is another pack"
        );
    }

    proptest! {
        #[test]
        fn any_text_is_read_without_panicking(text in "\\PC{0,60}") {
            let _ = parse(&text);
        }

        #[test]
        fn an_element_string_reads_back_what_was_written(
            body in "[0-9]{13}",
            year in 20u32..60,
            month in 1u32..=12,
            lot in "[A-Z0-9]{1,20}",
            serial in proptest::option::of("[A-Z0-9]{1,20}"),
        ) {
            let gtin = format!("{body}{}", check_digit(&body));
            let mut text = format!("]d201{gtin}17{year:02}{month:02}0010{lot}");
            if let Some(serial) = &serial {
                text.push_str(&format!("\u{1d}21{serial}"));
            }
            let scan = parse(&text).unwrap().unwrap();
            prop_assert!(scan.check_digit_ok);
            prop_assert_eq!(scan.gtin, gtin);
            prop_assert_eq!(scan.lot, Some(lot));
            prop_assert_eq!(scan.serial, serial);
            prop_assert_eq!(scan.expiry.map(|d| d.format("%y%m").to_string()), Some(format!("{year:02}{month:02}")));
        }
    }
}

//! Text that came from outside (a server's answer, a file) made safe to keep and show:
//! one plain line without terminal escapes or bidi overrides, and without the secrets
//! a careless server echoes back (an Authorization header, a token, a signed client
//! assertion).

/// Bidi controls, which can make text read differently from what it holds.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// The longest text [`plain`] keeps, in characters.
pub const PLAIN_MAX: usize = 300;

/// Text made safe to show and log: no control characters (terminal escapes), no bidi
/// overrides, one line, at most [`PLAIN_MAX`] characters.
pub fn plain(text: &str) -> String {
    plain_within(text, PLAIN_MAX)
}

/// [`plain`], at most `most` characters (an ellipsis ends what was cut).
pub fn plain_within(text: &str, most: usize) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .collect();
    let one_line = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(most) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

/// What stands in for a secret that was taken out.
pub const REDACTED: &str = "[redacted]";

/// `text` without secrets: each of `known` (the token and assertion this request
/// used), every `Bearer …` credential, every JSON Web Token (three base64url parts, the
/// first starting `eyJ`) and the value of any `access_token`, `client_assertion`,
/// `refresh_token` or `id_token` field, in JSON or a form.
pub fn redact(text: &str, known: &[&str]) -> String {
    let mut out = text.to_string();
    for secret in known.iter().map(|s| s.trim()).filter(|s| s.len() >= 8) {
        out = out.replace(secret, REDACTED);
    }
    let out = redact_after(&out, "bearer", |c| c == ' ' || c == '\t', is_token_char);
    let out = redact_jwts(&out);
    [
        "access_token",
        "client_assertion",
        "refresh_token",
        "id_token",
    ]
    .iter()
    .fold(out, |text, name| {
        redact_after(
            &text,
            name,
            |c| matches!(c, '"' | '\'' | ':' | '=' | ' ' | '\\'),
            is_token_char,
        )
    })
}

/// Characters of a token, a JWT or a form value.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/' | '=' | '%')
}

/// Replaces the run of `value` characters that follows each `name` (found without
/// regard to case, then past any `between` characters) with [`REDACTED`].
fn redact_after(
    text: &str,
    name: &str,
    between: impl Fn(char) -> bool,
    value: impl Fn(char) -> bool,
) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    while let Some(found) = lower[from..].find(name) {
        let name_end = from + found + name.len();
        let value_start = name_end
            + text[name_end..]
                .char_indices()
                .find(|(_, c)| !between(*c))
                .map_or(text.len() - name_end, |(i, _)| i);
        let value_end = value_start
            + text[value_start..]
                .char_indices()
                .find(|(_, c)| !value(*c))
                .map_or(text.len() - value_start, |(i, _)| i);
        out.push_str(&text[from..value_start]);
        if value_end > value_start && &text[value_start..value_end] != REDACTED {
            out.push_str(REDACTED);
        } else {
            out.push_str(&text[value_start..value_end]);
        }
        from = value_end.max(name_end);
    }
    out.push_str(&text[from..]);
    out
}

/// Replaces every JSON Web Token (`eyJ…` header, payload and signature) with
/// [`REDACTED`].
fn redact_jwts(text: &str) -> String {
    let base64url = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    while let Some(found) = text[from..].find("eyJ") {
        let start = from + found;
        let end = start
            + text[start..]
                .char_indices()
                .find(|(_, c)| !(base64url(*c) || *c == '.'))
                .map_or(text.len() - start, |(i, _)| i);
        out.push_str(&text[from..start]);
        if text[start..end]
            .split('.')
            .filter(|p| !p.is_empty())
            .count()
            >= 2
        {
            out.push_str(REDACTED);
        } else {
            out.push_str(&text[start..end]);
        }
        from = end;
    }
    out.push_str(&text[from..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_has_no_escapes_and_one_line() {
        assert_eq!(plain("a\u{1b}]0;title\u{7}b\r\nc"), "a]0;titleb c");
        assert_eq!(plain("x\u{202E}y"), "xy");
        assert_eq!(plain_within("abcdef", 3), "abc…");
    }

    #[test]
    fn secrets_echoed_by_a_server_are_taken_out() {
        let echoed =
            r#"{"error": "bad request", "headers": {"Authorization": "Bearer tok-123456789"}}"#;
        let clean = redact(echoed, &[]);
        assert!(!clean.contains("tok-123456789"), "{clean}");
        assert!(clean.contains("Bearer [redacted]"), "{clean}");
        let jwt = "eyJhbGciOiJFUzM4NCJ9.eyJpc3MiOiJjIn0.c2lnbmF0dXJl";
        let form = format!("grant_type=client_credentials&client_assertion={jwt}&x=1");
        let clean = redact(&form, &[]);
        assert!(
            !clean.contains("eyJpc3M") && clean.ends_with("&x=1"),
            "{clean}"
        );
        let clean = redact(&format!("token {jwt} was refused"), &[]);
        assert_eq!(clean, "token [redacted] was refused");
        let clean = redact(
            r#"{"access_token": "opaque-value-1", "expires_in": 10}"#,
            &[],
        );
        assert!(!clean.contains("opaque-value-1"), "{clean}");
        let clean = redact(
            "the token s3cr3t-opaque-token is unknown",
            &["s3cr3t-opaque-token"],
        );
        assert_eq!(clean, "the token [redacted] is unknown");
        assert_eq!(redact("nothing secret here", &[]), "nothing secret here");
    }
}

//! Checking an endpoint's URLs: HTTPS except to this machine, and nothing that would
//! send a message somewhere other than the path given.

use std::net::IpAddr;

/// HTTPS is required, except to this machine or when `allow_http` is set for testing.
/// A URL with credentials, a query, a fragment, `.` or `..` (written or as `%2e`), or
/// a port outside 1 to 65535 is refused: each would send the message somewhere other
/// than the path given, or put a password in messages.
pub fn check_url(key: &str, url: &str, allow_http: bool) -> Result<(), String> {
    let uri: ureq::http::Uri = url
        .parse()
        .map_err(|_| format!("{key}: that is not a URL"))?;
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(format!(
            "{key}: the URL holds a user name or password; remove it and use [endpoint.auth] for credentials"
        ));
    }
    let path = uri.path();
    if uri.query().is_some() || url.contains('#') {
        return Err(format!(
            "{key}: '{path}' is followed by a query or #fragment; give the base URL alone"
        ));
    }
    // `%2e` is a dot to the server that reads the path.
    let decoded = path.replace("%2e", ".").replace("%2E", ".");
    if decoded.split('/').any(|part| part == ".." || part == ".") {
        return Err(format!(
            "{key}: the URL's path '{path}' has '.' or '..' in it; give the base URL itself"
        ));
    }
    let host = uri
        .host()
        .ok_or_else(|| format!("{key}: '{url}' has no host"))?;
    if let Some(port) = uri
        .authority()
        .and_then(|a| a.as_str().rsplit_once(':'))
        .map(|(_, p)| p)
        && !port.contains(']')
        && !port.parse::<u16>().is_ok_and(|p| p > 0)
    {
        return Err(format!(
            "{key}: '{port}' is not a port; give a number from 1 to 65535, or none for the usual one"
        ));
    }
    match uri.scheme_str() {
        Some("https") => Ok(()),
        Some("http") if allow_http || is_loopback(host) => Ok(()),
        Some("http") => Err(format!(
            "{key}: '{url}' is plain HTTP; patient data must go over HTTPS. Use https://, or set allow_http = true only for a test server"
        )),
        _ => Err(format!("{key}: '{url}' must start with https://")),
    }
}

/// This machine: `localhost`, 127.0.0.0/8 or ::1.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

//! A local endpoint for the submission tests: plays the token endpoint, the
//! `$write` / `$process-message` endpoint, a FHIR server's transactions and its
//! Immunization search (Redox's form-encoded `_search` and FHIR's GET, with paging)
//! over plain HTTP/1.1 with keep-alive, checks every request (JWT signature and
//! claims, headers, message rules), and can be told to misbehave in each way a real
//! server does.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the server answers one `$write`.
#[derive(Clone, Debug, PartialEq)]
pub enum Behaviour {
    Ok,
    /// 400 with an OperationOutcome naming the lot number of the first dose.
    BadRequest,
    /// 401, as if the token had been revoked.
    Unauthorized,
    /// 429 with `Retry-After: N`.
    TooMany(u64),
    ServerError,
    /// Answers 200, but only after this long (longer than the client waits).
    Slow(Duration),
    /// Answers 200 after this long (within the client's wait), keeping the connection.
    Late(Duration),
    /// Closes the connection without answering.
    Drop,
    /// Answers with bytes that are not HTTP.
    Garbage,
    /// Any answer: status, extra header lines (each ending in CRLF), body bytes. The
    /// message counts as accepted when `accepts` says so (a 200 that reports an error
    /// does not store it).
    Raw {
        status: u16,
        headers: String,
        body: Vec<u8>,
        accepts: bool,
    },
    /// A 200 that promises a longer body than it sends, then hangs up.
    Cut,
    /// 400 with an OperationOutcome that echoes the request's headers, the
    /// Authorization header among them.
    EchoHeaders,
}

/// What the JWT client assertions must look like.
pub struct JwtCheck {
    pub key: jsonwebtoken::DecodingKey,
    pub algorithm: jsonwebtoken::Algorithm,
    pub client_id: String,
    pub key_id: String,
}

#[derive(Default)]
pub struct State {
    /// Answers for the next `$write` requests, then `default`.
    pub script: VecDeque<Behaviour>,
    pub default: Option<Behaviour>,
    /// Random faults for the fault run: (seed, chance in percent).
    pub faults: Option<(u64, u64)>,
    pub jwt: Option<JwtCheck>,
    /// The token endpoint's answer, with `{token}` where the token goes (default: a
    /// token that lives 300 s).
    pub token_answer: Option<String>,
    /// How long the token endpoint takes to answer.
    pub token_delay: Option<Duration>,
    /// Each token works for one request only.
    pub single_use_tokens: bool,
    /// The token endpoint refuses every request, echoing it (the client assertion).
    pub token_echo: bool,
    pub bearer: Option<String>,
    pub issued: HashSet<String>,
    /// The `scope` of each token request.
    pub scopes: Vec<Option<String>>,
    pub jtis: HashSet<String>,
    /// Bundle.id -> how many times it was accepted (a real receiver de-duplicates).
    pub accepted: HashMap<String, usize>,
    /// Each message accepted the first time, in the order it came.
    pub received: Vec<serde_json::Value>,
    pub write_requests: usize,
    pub token_requests: usize,
    pub connections: usize,
    /// Messages being answered now, and the most there ever were at once.
    pub in_flight: usize,
    pub most_in_flight: usize,
    /// Anything a request got wrong; the tests assert this stays empty.
    pub problems: Vec<String>,
    /// What transactions wrote.
    pub records: super::fhir_records::Records,
    /// Search results per page (0: 50).
    pub page_size: usize,
    /// Each search as it came: method, path and body.
    pub searches: Vec<(String, String, String)>,
    /// Answers (status, body) for the next searches, before the records are searched.
    pub search_script: VecDeque<(u16, String)>,
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<State>>,
    up: Arc<AtomicBool>,
}

impl TestServer {
    pub fn start() -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().unwrap();
        let server = TestServer {
            addr,
            state: Arc::new(Mutex::new(State::default())),
            up: Arc::new(AtomicBool::new(true)),
        };
        server.serve(listener);
        server
    }

    fn serve(&self, listener: TcpListener) {
        let state = self.state.clone();
        let up = self.up.clone();
        let addr = self.addr;
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if !up.load(Ordering::SeqCst) {
                    // Going down: stop listening so connections are refused.
                    break;
                }
                let Ok(stream) = stream else { continue };
                let state = state.clone();
                state.lock().unwrap().connections += 1;
                std::thread::spawn(move || serve_connection(stream, state, addr));
            }
        });
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn token_url(&self) -> String {
        format!("http://{}/v2/auth/token", self.addr)
    }

    /// Stops listening: new connections are refused until `up`.
    pub fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag and drops the listener.
        let _ = TcpStream::connect(self.addr);
        std::thread::sleep(Duration::from_millis(50));
    }

    pub fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
        for _ in 0..50 {
            if let Ok(listener) = TcpListener::bind(self.addr) {
                self.serve(listener);
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("could not listen on {} again", self.addr);
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }
}

struct Request {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: String,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn respond(stream: &mut TcpStream, status: u16, extra: &str, body: &str) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        429 => "Too Many Requests",
        _ => "Error",
    };
    // One write, so no small-packet delays.
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/fhir+json\r\nContent-Length: {}\r\n{extra}\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes())?;
    stream.flush()
}

fn serve_connection(stream: TcpStream, state: Arc<Mutex<State>>, addr: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let mut writer = stream.try_clone().expect("clone");
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let keep_going = if request.path == "/v2/auth/token" {
            token(&mut writer, &request, &state, addr)
        } else if request.method == "GET" || request.path.ends_with("/Immunization/_search") {
            search(&mut writer, &request, &state, addr)
        } else {
            write(&mut writer, &request, &state)
        };
        if !keep_going {
            return;
        }
    }
}

/// The fields of a form body or a URL query (`a=1&b=x+y`), decoded.
fn form_fields(text: &str) -> HashMap<String, String> {
    text.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            let v = v.replace('+', " ");
            let v = percent_encoding::percent_decode_str(&v).decode_utf8_lossy();
            (k.to_string(), v.into_owned())
        })
        .collect()
}

fn token(
    stream: &mut TcpStream,
    request: &Request,
    state: &Arc<Mutex<State>>,
    addr: SocketAddr,
) -> bool {
    let mut s = state.lock().unwrap();
    s.token_requests += 1;
    let form = form_fields(&request.body);
    s.scopes.push(form.get("scope").cloned());
    let mut problems = Vec::new();
    if request.method != "POST"
        || !request
            .headers
            .get("content-type")
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
    {
        problems.push("token request is not a form POST".to_string());
    }
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        problems.push(format!("grant_type is {:?}", form.get("grant_type")));
    }
    if form.get("client_assertion_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    {
        problems.push(format!(
            "client_assertion_type is {:?}",
            form.get("client_assertion_type")
        ));
    }
    let token_url = format!("http://{addr}/v2/auth/token");
    match (&s.jwt, form.get("client_assertion")) {
        (Some(check), Some(assertion)) => {
            // Times are checked against the tests' clock, not this machine's.
            let mut validation = jsonwebtoken::Validation::new(check.algorithm);
            validation.validate_exp = false;
            validation.set_audience(&[token_url.as_str()]);
            validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
            match jsonwebtoken::decode::<vaxentry::submit::auth::AssertionClaims>(
                assertion,
                &check.key,
                &validation,
            ) {
                Ok(data) => {
                    let c = data.claims;
                    if data.header.kid.as_deref() != Some(check.key_id.as_str()) {
                        problems.push(format!("kid is {:?}", data.header.kid));
                    }
                    if c.iss != check.client_id || c.sub != check.client_id {
                        problems.push("iss and sub must both be the client id".into());
                    }
                    let now = super::now().timestamp();
                    if c.exp <= now {
                        problems.push("the client assertion has expired".into());
                    }
                    if c.exp - now > 300 {
                        problems.push("exp is more than 5 minutes ahead".into());
                    }
                    // A minute of skew is allowed, as real token services allow it (and
                    // a test's running clock is seconds ahead of the fixed one).
                    if c.iat > now + 60 {
                        problems.push("iat is in the future".into());
                    }
                    if !s.jtis.insert(c.jti.clone()) {
                        problems.push("jti was used before".into());
                    }
                }
                Err(e) => problems.push(format!("the client assertion does not verify: {e}")),
            }
        }
        _ => problems.push("no client assertion".into()),
    }
    if !problems.is_empty() {
        s.problems.extend(problems);
        drop(s);
        return respond(stream, 401, "", "{\"error\": \"invalid_client\"}").is_ok();
    }
    if s.token_echo {
        drop(s);
        let echo = serde_json::json!({"error": "invalid_request", "request": request.body});
        return respond(stream, 400, "", &echo.to_string()).is_ok();
    }
    let token = uuid::Uuid::new_v4().to_string();
    s.issued.insert(token.clone());
    let answer = match &s.token_answer {
        Some(template) => template.replace("{token}", &token),
        None => format!(
            "{{\"access_token\": \"{token}\", \"token_type\": \"bearer\", \"expires_in\": 300}}"
        ),
    };
    let delay = s.token_delay;
    drop(s);
    if let Some(delay) = delay {
        std::thread::sleep(delay);
    }
    respond(stream, 200, "", &answer).is_ok()
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn bearer_token(request: &Request) -> Option<&str> {
    request
        .headers
        .get("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
}

/// The request carries a token this server issued, or the static one it expects.
fn authorised(s: &State, request: &Request) -> bool {
    let auth = bearer_token(request);
    match (&s.jwt, &s.bearer) {
        (Some(_), _) => auth.is_some_and(|t| s.issued.contains(t)),
        (None, Some(expected)) => auth == Some(expected.as_str()),
        (None, None) => true,
    }
}

/// Answers one message, counting how many are answered at once.
fn write(stream: &mut TcpStream, request: &Request, state: &Arc<Mutex<State>>) -> bool {
    {
        let mut s = state.lock().unwrap();
        s.in_flight += 1;
        s.most_in_flight = s.most_in_flight.max(s.in_flight);
    }
    let keep_alive = answer_write(stream, request, state);
    state.lock().unwrap().in_flight -= 1;
    keep_alive
}

fn answer_write(stream: &mut TcpStream, request: &Request, state: &Arc<Mutex<State>>) -> bool {
    let mut s = state.lock().unwrap();
    s.write_requests += 1;
    let content_type = request
        .headers
        .get("content-type")
        .cloned()
        .unwrap_or_default();
    if !(content_type.starts_with("application/fhir+json")
        || content_type.starts_with("application/json"))
    {
        s.problems.push(format!("Content-Type is {content_type:?}"));
    }
    if request.headers.get("accept").map(String::as_str) != Some("application/fhir+json") {
        s.problems
            .push(format!("Accept is {:?}", request.headers.get("accept")));
    }
    let auth = bearer_token(request).map(str::to_string);
    if !authorised(&s, request) {
        drop(s);
        return respond(stream, 401, "", "").is_ok();
    }
    if s.single_use_tokens
        && let Some(token) = &auth
    {
        s.issued.remove(token);
    }
    let bundle: serde_json::Value = match serde_json::from_str(&request.body) {
        Ok(v) => v,
        Err(_) => {
            s.problems.push("the body is not JSON".into());
            drop(s);
            return respond(stream, 400, "", "").is_ok();
        }
    };
    let transaction = bundle["type"] == "transaction";
    if !transaction {
        let problems = vaxentry::fhir::message_problems(&bundle);
        s.problems.extend(problems);
    }
    let bundle_id = bundle["id"].as_str().unwrap_or("").to_string();
    let behaviour = match s.script.pop_front() {
        Some(b) => b,
        None => match s.faults {
            Some((seed, chance)) => {
                let mut rng = XorShift(seed);
                let roll = rng.next();
                s.faults = Some((rng.0, chance));
                if roll % 100 < chance {
                    let page = |content_type: &str, body: &str| Behaviour::Raw {
                        status: 200,
                        headers: format!("Content-Type: {content_type}\r\n"),
                        body: body.as_bytes().to_vec(),
                        accepts: false,
                    };
                    [
                        Behaviour::ServerError,
                        Behaviour::TooMany(0),
                        Behaviour::Drop,
                        Behaviour::Garbage,
                        Behaviour::Slow(Duration::from_millis(1500)),
                        Behaviour::Unauthorized,
                        // A proxy or sign-in page answers in the server's place.
                        page("text/html", "<html><body>Sign in to continue</body></html>"),
                        page("text/plain", "\u{feff}OK"),
                    ][(roll / 100 % 8) as usize]
                        .clone()
                } else {
                    Behaviour::Ok
                }
            }
            None => s.default.clone().unwrap_or(Behaviour::Ok),
        },
    };
    let accept = |s: &mut State| {
        let times = s.accepted.entry(bundle_id.clone()).or_default();
        *times += 1;
        if *times == 1 {
            s.received.push(bundle.clone());
        }
    };
    // What a receiver that took the message answers.
    let taken = |s: &mut State| {
        if transaction {
            let mut problems = Vec::new();
            let answer = s.records.transaction(&bundle, &mut problems);
            s.problems.extend(problems);
            answer.to_string()
        } else if request.path.ends_with("$process-message") {
            // FHIR messaging: a response message about the one received.
            let header = bundle["entry"][0]["resource"]["id"].clone();
            serde_json::json!({"resourceType": "Bundle", "type": "message", "entry": [
                    {"fullUrl": "urn:uuid:7c1e8a52-5b1a-4d5e-9a3f-0e2b4c6d8f10", "resource": {
                        "resourceType": "MessageHeader",
                        "eventCoding": bundle["entry"][0]["resource"]["eventCoding"].clone(),
                        "source": {"endpoint": "http://receiver.example"},
                        "response": {"identifier": header, "code": "ok"}}}]})
            .to_string()
        } else {
            "{\"resourceType\": \"Bundle\", \"type\": \"message\"}".to_string()
        }
    };
    match behaviour {
        Behaviour::Ok | Behaviour::Late(_) => {
            accept(&mut s);
            let answer = taken(&mut s);
            drop(s);
            if let Behaviour::Late(wait) = behaviour {
                std::thread::sleep(wait);
            }
            respond(stream, 200, "", &answer).is_ok()
        }
        Behaviour::BadRequest => {
            drop(s);
            let outcome = r#"{"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "required", "diagnostics": "Lot number is not valid for this product", "expression": ["Bundle.entry[2].resource.lotNumber"]}]}"#;
            respond(stream, 400, "", outcome).is_ok()
        }
        Behaviour::Unauthorized => {
            // The token stops working, as if revoked.
            if let Some(t) = &auth {
                s.issued.remove(t);
            }
            drop(s);
            respond(stream, 401, "", "").is_ok()
        }
        Behaviour::TooMany(secs) => {
            drop(s);
            respond(stream, 429, &format!("Retry-After: {secs}\r\n"), "").is_ok()
        }
        Behaviour::ServerError => {
            drop(s);
            respond(stream, 500, "", "{\"error\": \"boom\"}").is_ok()
        }
        Behaviour::Slow(wait) => {
            // Processed, then answered too late: the client retries the same bundle
            // and the receiver sees the Bundle.id again.
            accept(&mut s);
            let answer = taken(&mut s);
            drop(s);
            std::thread::sleep(wait);
            let _ = respond(stream, 200, "", &answer);
            false
        }
        Behaviour::Drop => false,
        Behaviour::Garbage => {
            drop(s);
            let _ = stream.write_all(b"this is not HTTP at all\r\n\r\n");
            false
        }
        Behaviour::Raw {
            status,
            headers,
            body,
            accepts,
        } => {
            if accepts {
                accept(&mut s);
            }
            drop(s);
            let content_type = if headers.to_ascii_lowercase().contains("content-type:") {
                ""
            } else {
                "Content-Type: application/fhir+json\r\n"
            };
            let head = format!(
                "HTTP/1.1 {status} Answer\r\n{content_type}Content-Length: {}\r\n{headers}\r\n",
                body.len()
            );
            let mut bytes = head.into_bytes();
            bytes.extend_from_slice(&body);
            stream.write_all(&bytes).is_ok() && stream.flush().is_ok()
        }
        Behaviour::EchoHeaders => {
            drop(s);
            let headers: Vec<String> = request
                .headers
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            let outcome = serde_json::json!({"resourceType": "OperationOutcome", "issue": [
                {"severity": "error", "code": "invalid",
                 "diagnostics": format!("bad request; headers were {}", headers.join("; "))}]});
            respond(stream, 400, "", &outcome.to_string()).is_ok()
        }
        Behaviour::Cut => {
            // The server took it; the answer never arrives whole.
            accept(&mut s);
            drop(s);
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: 500\r\n\r\n{\"resourceType\": \"Bun",
            );
            false
        }
    }
}

/// Answers an Immunization search: FHIR's `GET …/Immunization?patient.identifier=…`
/// (a page at a time, `_page` naming the page) or Redox's form-encoded POST to
/// `…/Immunization/_search`.
fn search(
    stream: &mut TcpStream,
    request: &Request,
    state: &Arc<Mutex<State>>,
    addr: SocketAddr,
) -> bool {
    let mut s = state.lock().unwrap();
    s.searches.push((
        request.method.clone(),
        request.path.clone(),
        request.body.clone(),
    ));
    if !authorised(&s, request) {
        drop(s);
        return respond(stream, 401, "", "").is_ok();
    }
    if let Some((status, body)) = s.search_script.pop_front() {
        drop(s);
        return respond(stream, status, "", &body).is_ok();
    }
    let (path, query) = match request.method.as_str() {
        "GET" => request
            .path
            .split_once('?')
            .map_or((request.path.as_str(), ""), |(p, q)| (p, q)),
        _ => {
            let form_type = request.headers.get("content-type").cloned();
            if !form_type
                .as_deref()
                .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
            {
                s.problems
                    .push(format!("_search Content-Type is {form_type:?}"));
            }
            (request.path.as_str(), request.body.as_str())
        }
    };
    let fields = form_fields(query);
    let page: usize = fields
        .get("_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1);
    let patient = fields
        .get("patient.identifier")
        .map(|v| super::fhir_records::token_of(v));
    let Some(patient) = patient else {
        s.problems.push(format!(
            "a search without patient.identifier: {path}?{query}"
        ));
        drop(s);
        return respond(stream, 400, "", "").is_ok();
    };
    let all = s.records.immunizations_of(&patient);
    let size = if s.page_size == 0 { 50 } else { s.page_size };
    let found: Vec<_> = all.iter().skip((page - 1) * size).take(size).collect();
    let mut links = vec![
        serde_json::json!({"relation": "self", "url": format!("http://{addr}{}", request.path)}),
    ];
    if page * size < all.len() {
        let base = request
            .path
            .split_once('?')
            .map_or(request.path.as_str(), |(p, _)| p);
        let next = format!(
            "http://{addr}{base}?{}&_page={}",
            query
                .split('&')
                .filter(|kv| !kv.starts_with("_page="))
                .collect::<Vec<_>>()
                .join("&"),
            page + 1
        );
        links.push(serde_json::json!({"relation": "next", "url": next}));
    }
    let mut entry: Vec<_> = found
        .iter()
        .map(|r| serde_json::json!({
            "fullUrl": format!("http://{addr}/Immunization/{}", r["id"].as_str().unwrap_or_default()),
            "resource": r,
            "search": {"mode": "match"},
        }))
        .collect();
    // `_include=Immunization:patient`: each Patient the page's doses name, once.
    if fields.get("_include").map(String::as_str) == Some("Immunization:patient") {
        let mut included = std::collections::BTreeSet::new();
        for r in &found {
            if let Some(reference) = r["patient"]["reference"].as_str()
                && included.insert(reference.to_string())
                && let Some(patient) = s.records.resource(reference)
            {
                entry.push(serde_json::json!({
                    "fullUrl": format!("http://{addr}/{reference}"),
                    "resource": patient,
                    "search": {"mode": "include"},
                }));
            }
        }
    }
    let answer = serde_json::json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": all.len(),
        "link": links,
        "entry": entry,
    });
    drop(s);
    respond(stream, 200, "", &answer.to_string()).is_ok()
}

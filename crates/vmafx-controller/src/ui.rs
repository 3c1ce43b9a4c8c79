//! The web dashboard, served under `/ui` on the HTTP port by the controller (and `vmafx up`),
//! its page, script and style compiled into the binary: no CDN, machines may be offline.
//!
//! | Method and path    | Does                                                             |
//! |--------------------|------------------------------------------------------------------|
//! | `GET /ui/`         | the page (one document; the script draws jobs, a job, nodes, models, submit) |
//! | `GET /ui/assets/…` | its script, style and icon                                       |
//! | `POST /ui/login`   | `{"token": …}`: a session for that token (a read token is enough to look) |
//! | `GET /ui/session`  | who the session is (401 without one)                             |
//! | `POST /ui/logout`  | ends the session                                                 |
//! | `/ui/api/v1/…`     | the job API of [`crate::http_adapter`], for the session's token  |
//!
//! A session is a random id in a cookie (`Secure`, `HttpOnly`, `SameSite=Strict`, path
//! `/ui`) that maps, in this controller's memory, to the token it was opened with: every call
//! authenticates that token again, so a revoked token ends its sessions at once, and the
//! session can do exactly what the token may. Changes (login, logout, submit, cancel, drain)
//! are refused unless the browser says the request comes from this origin (`Origin` or
//! `Sec-Fetch-Site`), on top of the cookie's `SameSite=Strict`: no other site can make a
//! browser change anything. Every answer carries a Content-Security-Policy that allows only
//! this origin's script and style.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt as _;
use vmafx_core::{job_json, FramesShown, JobState};
use vmafx_store::{JobQuery, Store};

use crate::auth::{random_secret, Auth, Denied};
use crate::http_adapter::{api_routes, authorize, denied_response, peer_of, ApiError, Asked};
use crate::{now_ms, Controller};

const INDEX_HTML: &str = include_str!("../ui/index.html");
const APP_JS: &str = include_str!("../ui/app.js");
const APP_CSS: &str = include_str!("../ui/app.css");
const ICON_SVG: &str = include_str!("../ui/icon.svg");

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "vmafx_session";
/// How long a session lasts from login.
pub const SESSION_TTL_MS: i64 = 12 * 3600 * 1000;
/// Sessions kept at most; past it the oldest goes first.
pub const MAX_SESSIONS: usize = 10_000;
/// What a dashboard answer may load and do: this origin's script, style and images only; no
/// inline script, no framing, forms and connections to this origin.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
/// Jobs the live event stream follows (the newest).
const EVENT_JOBS: u32 = 200;
/// How often the event stream looks again without a wake-up (progress is not a store change).
const EVENT_TICK: Duration = Duration::from_secs(1);

/// The open sessions: the sha256 of a session id → the token it acts with. Memory only: a
/// restarted controller asks everyone to log in again.
#[derive(Clone, Default)]
pub struct Sessions {
    inner: Arc<Mutex<HashMap<[u8; 32], Session>>>,
}

struct Session {
    token: String,
    created_ms: i64,
}

fn id_hash(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

impl Sessions {
    /// A new session acting with `token`; its id (the cookie's value).
    pub fn open(&self, token: &str, now: i64) -> std::io::Result<String> {
        let id = random_secret()?;
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, s| now - s.created_ms < SESSION_TTL_MS);
        while map.len() >= MAX_SESSIONS {
            let Some(oldest) = map.iter().min_by_key(|(_, s)| s.created_ms).map(|(k, _)| *k) else { break };
            map.remove(&oldest);
        }
        map.insert(id_hash(&id), Session { token: token.to_string(), created_ms: now });
        Ok(id)
    }

    /// The token of a live session.
    pub fn token(&self, id: &str, now: i64) -> Option<String> {
        let map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&id_hash(id)).filter(|s| now - s.created_ms < SESSION_TTL_MS).map(|s| s.token.clone())
    }

    pub fn close(&self, id: &str) {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).remove(&id_hash(id));
    }
}

/// The value of cookie `name` in `headers`.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether a request that changes something comes from a page of this origin: the browser's
/// `Sec-Fetch-Site` says `same-origin`, or its `Origin` names this host. A request with
/// neither (not a browser's) is refused too: the dashboard's own calls always carry them.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        return site == "same-origin";
    }
    match (text("origin"), text("host")) {
        (Some(origin), Some(host)) => {
            origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://")) == Some(host)
        }
        _ => false,
    }
}

/// What the dashboard's handlers share.
struct Ui<S> {
    controller: Controller<S>,
    tokens: Auth,
    sessions: Sessions,
}

impl<S> Ui<S> {
    /// The token of the request's live session, if it has one.
    fn session_token(&self, headers: &HeaderMap) -> Option<String> {
        cookie(headers, SESSION_COOKIE).and_then(|id| self.sessions.token(id, now_ms()))
    }
}

impl<S> Clone for Ui<S> {
    fn clone(&self) -> Self {
        Self {
            controller: self.controller.clone(),
            tokens: self.tokens.clone(),
            sessions: self.sessions.clone(),
        }
    }
}

/// The dashboard's routes (merged into the HTTP router).
pub fn router<S: Store>(controller: Controller<S>, tokens: Auth) -> Router<Controller<S>> {
    let state = Ui { controller, tokens, sessions: Sessions::default() };
    let api = api_routes::<S>().layer(middleware::from_fn_with_state(state.clone(), session_gate::<S>));
    let pages = Router::new()
        // The page's links are relative to `/ui/`.
        .route("/ui", get(|| async { axum::response::Redirect::permanent("/ui/") }))
        .route("/ui/", get(|| async { page(INDEX_HTML, "text/html; charset=utf-8") }))
        .route("/ui/assets/app.js", get(|| async { page(APP_JS, "text/javascript; charset=utf-8") }))
        .route("/ui/assets/app.css", get(|| async { page(APP_CSS, "text/css; charset=utf-8") }))
        .route("/ui/assets/icon.svg", get(|| async { page(ICON_SVG, "image/svg+xml") }))
        .route("/ui/login", post(login::<S>))
        .route("/ui/logout", post(logout::<S>))
        .route("/ui/session", get(session::<S>))
        .with_state(state);
    Router::new().nest("/ui/api", api).merge(pages).layer(middleware::map_response(secure_headers))
}

fn page(body: &'static str, content_type: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

/// Every dashboard answer: the CSP, no sniffing, no framing, no referrer.
async fn secure_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

fn cross_site() -> Response {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "permission_denied",
        "cross-site request refused: changes are accepted only from the dashboard's own pages".into(),
    )
    .into_response()
}

fn no_session() -> Response {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "not logged in (or the session expired): log in with a token".into(),
    )
    .into_response()
}

/// The `/ui/api` calls: the session's token, authenticated and checked as a bearer token
/// would be; changes only from this origin.
async fn session_gate<S: Store>(State(ui): State<Ui<S>>, req: Request, next: Next) -> Response {
    let changes = !matches!(*req.method(), Method::GET | Method::HEAD);
    if changes && !same_origin(req.headers()) {
        return cross_site();
    }
    let Some(token) = ui.session_token(req.headers()) else {
        return no_session();
    };
    let asked = Asked::of(&req);
    match authorize(&ui.controller, &ui.tokens, Some(&format!("Bearer {token}")), asked).await {
        Ok(caller) => {
            let mut req = req;
            req.extensions_mut().insert(caller);
            next.run(req).await
        }
        Err(denied @ (Denied::Unknown | Denied::Revoked { .. })) => {
            if let Some(id) = cookie(req.headers(), SESSION_COOKIE) {
                ui.sessions.close(id);
            }
            denied_response(denied)
        }
        Err(denied) => denied_response(denied),
    }
}

fn set_cookie(value: &str, max_age_s: i64) -> HeaderValue {
    let cookie =
        format!("{SESSION_COOKIE}={value}; Path=/ui; Max-Age={max_age_s}; Secure; HttpOnly; SameSite=Strict");
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `POST /ui/login {"token": "..."}`: checks the token (failures count towards the address's
/// throttle, as on the API) and opens a session. Node credentials are refused: they are a
/// node's identity, not a person's.
async fn login<S: Store>(State(ui): State<Ui<S>>, req: Request) -> Response {
    if !same_origin(req.headers()) {
        return cross_site();
    }
    let peer = peer_of(&req);
    let body: Bytes = match axum::body::to_bytes(req.into_body(), 64 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "invalid_argument", "body: too large".into())
                .into_response()
        }
    };
    let token = match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(v) => v.get("token").and_then(|t| t.as_str()).map(|t| t.trim().to_string()).unwrap_or_default(),
        Err(_) => String::new(),
    };
    if token.is_empty() {
        return ApiError::new(StatusCode::BAD_REQUEST, "invalid_argument", "token: is required".into())
            .into_response();
    }
    let caller =
        match ui.tokens.authenticate(ui.controller.store(), Some(&format!("Bearer {token}")), peer).await {
            Ok(c) if c.node_id.is_some() => {
                return ApiError::new(
                    StatusCode::FORBIDDEN,
                    "permission_denied",
                    "this is a node's credential: log in with a read, submit or admin token".into(),
                )
                .into_response()
            }
            Ok(c) => c,
            Err(e) => return denied_response(e),
        };
    let id = match ui.sessions.open(&token, now_ms()) {
        Ok(id) => id,
        Err(e) => {
            return ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("cannot make a session id: {e}"),
            )
            .into_response()
        }
    };
    tracing::info!(token = %caller.name, role = caller.role.kind(), "dashboard login");
    let mut response = Json(json!({"name": caller.name, "role": caller.role.kind()})).into_response();
    response.headers_mut().insert(header::SET_COOKIE, set_cookie(&id, SESSION_TTL_MS / 1000));
    response
}

async fn logout<S: Store>(State(ui): State<Ui<S>>, headers: HeaderMap) -> Response {
    if !same_origin(&headers) {
        return cross_site();
    }
    if let Some(id) = cookie(&headers, SESSION_COOKIE) {
        ui.sessions.close(id);
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, set_cookie("", 0));
    response
}

/// Who the session is: `{"name", "role"}`, or 401.
async fn session<S: Store>(State(ui): State<Ui<S>>, req: Request) -> Response {
    let Some(token) = ui.session_token(req.headers()) else {
        return no_session();
    };
    let peer = peer_of(&req);
    match ui.tokens.authenticate(ui.controller.store(), Some(&format!("Bearer {token}")), peer).await {
        Ok(c) => Json(json!({"name": c.name, "role": c.role.kind()})).into_response(),
        Err(e) => denied_response(e),
    }
}

/// `GET /v1/events`: server-sent events, one `job` event (the job as `GET /v1/jobs/{id}`
/// shows it, without scores) each time one of the newest jobs changes state, progress or
/// pooled VMAF,
/// starting with each of them once. Woken by the controller's changes, and once a second
/// for progress.
pub(crate) async fn events<S: Store>(State(c): State<Controller<S>>) -> Response {
    // Each stream reads the store once a second: a bounded number of them.
    let Some(slot) = EventSlot::take() else {
        return ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "resource_exhausted",
            format!("{MAX_EVENT_STREAMS} event streams are open on this controller: close one, or try again later"),
        )
        .into_response();
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Event>(64);
    tokio::spawn(async move {
        let _slot = slot;
        let mut seen: HashMap<String, (JobState, u64, u32, Option<u64>)> = HashMap::new();
        loop {
            let changed = c.changed();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let query = JobQuery { state: None, cursor: None, limit: EVENT_JOBS, newest_first: true };
            match c.job_page(query).await {
                Ok((jobs, _)) => {
                    let mut now_seen = HashMap::with_capacity(jobs.len());
                    for job in jobs.iter().rev() {
                        // The pooled VMAF may be recorded a moment after the state.
                        let key = (job.state, job.frames_done, job.segments_done, job.vmaf.map(f64::to_bits));
                        if seen.get(&job.id) != Some(&key) {
                            let data = job_json(job, FramesShown::None).to_string();
                            if tx.send(Event::default().event("job").data(data)).await.is_err() {
                                return;
                            }
                        }
                        now_seen.insert(job.id.clone(), key);
                    }
                    seen = now_seen;
                }
                Err(e) => {
                    let data = json!({"message": e.to_string()}).to_string();
                    if tx.send(Event::default().event("problem").data(data)).await.is_err() {
                        return;
                    }
                }
            }
            tokio::select! {
                _ = changed => {}
                _ = tokio::time::sleep(EVENT_TICK) => {}
                _ = tx.closed() => return,
            }
        }
    });
    Sse::new(ReceiverStream::new(rx).map(Ok::<_, Infallible>))
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// Event streams open at most on one controller.
pub const MAX_EVENT_STREAMS: usize = 256;

static EVENT_STREAMS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// One of the [`MAX_EVENT_STREAMS`], given back when dropped.
struct EventSlot;

impl EventSlot {
    fn take() -> Option<Self> {
        use std::sync::atomic::Ordering;
        EVENT_STREAMS
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < MAX_EVENT_STREAMS).then_some(n + 1))
            .ok()
            .map(|_| EventSlot)
    }
}

impl Drop for EventSlot {
    fn drop(&mut self) {
        EVENT_STREAMS.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn sessions_act_with_their_token_until_they_expire_or_close() {
        let s = Sessions::default();
        let a = s.open("tok-a", 1_000).unwrap();
        let b = s.open("tok-b", 1_000).unwrap();
        assert_ne!(a, b);
        assert_eq!(s.token(&a, 2_000).as_deref(), Some("tok-a"));
        assert_eq!(s.token("made-up", 2_000), None);
        assert_eq!(s.token(&a, 1_000 + SESSION_TTL_MS), None, "expired");
        s.close(&b);
        assert_eq!(s.token(&b, 2_000), None);
    }

    #[test]
    fn sessions_are_bounded_oldest_out_first() {
        let s = Sessions::default();
        let first = s.open("t", 0).unwrap();
        for i in 1..MAX_SESSIONS as i64 {
            s.open("t", i).unwrap();
        }
        let last = s.open("t", MAX_SESSIONS as i64).unwrap();
        assert_eq!(s.inner.lock().unwrap().len(), MAX_SESSIONS);
        assert_eq!(s.token(&first, 10), None);
        assert!(s.token(&last, 10).is_some());
    }

    #[test]
    fn event_streams_are_bounded() {
        let slots: Vec<_> = (0..MAX_EVENT_STREAMS).map_while(|_| EventSlot::take()).collect();
        assert_eq!(slots.len(), MAX_EVENT_STREAMS);
        assert!(EventSlot::take().is_none());
        drop(slots);
        assert!(EventSlot::take().is_some());
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let h = headers(&[("cookie", "a=1; vmafx_session_x=2"), ("cookie", "vmafx_session=abc; b=3")]);
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers(&[("cookie", "x=1")]), SESSION_COOKIE), None);
    }

    #[test]
    fn only_same_origin_requests_may_change_things() {
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!same_origin(&headers(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://h:1"),
            ("host", "h:1")
        ])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(same_origin(&headers(&[("origin", "https://127.0.0.1:8443"), ("host", "127.0.0.1:8443")])));
        assert!(!same_origin(&headers(&[("origin", "https://evil.example"), ("host", "127.0.0.1:8443")])));
        assert!(!same_origin(&headers(&[("origin", "null"), ("host", "h")])));
        assert!(!same_origin(&headers(&[("host", "h")])), "no Origin, no Sec-Fetch-Site: not a page of ours");
    }
}

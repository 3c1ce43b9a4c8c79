//! The HTTP face of the controller: the JSON job API under `/v1` (bearer token, like gRPC),
//! and health checks and Prometheus metrics without a token (probes and scrapers carry none).
//! Translation only: the logic is the controller's.
//!
//! | Method and path                | Does                                                   |
//! |--------------------------------|--------------------------------------------------------|
//! | `POST /v1/jobs`                | submit `{"score": {...}, "priority", "idempotency_key"}` |
//! | `GET /v1/jobs?state=&page_size=&page_token=&order=` | list, newest first (`order=oldest`: oldest first), paged |
//! | `GET /v1/jobs/{id}?scores=true`| one job; with its pooled and per-frame scores once done (`frames=false`: pooled only; `frames_offset`, `frames_limit`: a page) |
//! | `DELETE /v1/jobs/{id}`         | cancel                                                 |
//! | `GET /v1/nodes`                | registered nodes                                       |
//! | `POST /v1/nodes/{id}/drain`    | no new work for the node; it finishes and exits        |
//! | `GET /v1/jobs/{id}/series?from=&to=&points=&metrics=` | per-frame values for a plot (one point per frame up to 10,000, bucket extremes beyond) and the worst frames |
//! | `GET /v1/jobs/{id}/frames.csv` | per-frame scores as CSV                                |
//! | `GET /v1/jobs/{id}/segments`   | the work items: frames, state, attempts, node          |
//! | `GET /v1/jobs/{id}/worst-frames` | pictures of the worst frames: queues a small pictures job for a node at the first ask (one per job, shared), then says its state |
//! | `GET /v1/jobs/{id}/pictures/{frame}/{reference,distorted}.png` | a picture a pictures job made |
//! | `GET /v1/events`               | server-sent events: a `job` event for each change of the newest jobs |
//! | `GET /v1/models`               | built-in models, the model registry's versions, features |
//!
//! Errors are `{"error": {"code", "message", "field"?}}` with 400 (bad request, naming the
//! field), 401 (missing or wrong token), 403, 404 or 409.

use std::fmt::Write as _;

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use vmafx_core::metrics::{family, label_value, single};
use vmafx_core::{catalog, job_json, node_json, FramesShown, JobState, ScoreJobSpec};
use vmafx_store::{JobQuery, Store};

use crate::auth::{Auth, Caller, Denied, Role};
use crate::{now_ms, Controller, ControllerError, JobRequest};

/// The role a `/v1` call needs: reading takes a read token, submitting a submit token,
/// anything else (cancel, drain) an admin token.
fn http_need(method: &axum::http::Method, path: &str) -> Role {
    use axum::http::Method;
    match *method {
        Method::GET | Method::HEAD => Role::Read,
        Method::POST if path.trim_end_matches('/') == "/v1/jobs" => Role::Submit,
        // Its own jobs; anyone's needs admin (checked with the job).
        Method::DELETE if path.starts_with("/v1/jobs/") => Role::Submit,
        _ => Role::Admin,
    }
}

/// The `/v1` routes, and `/metrics` with `metrics_need_token`, need a token of the right role;
/// the dashboard (`/ui`, [`crate::ui`]) serves the same routes under `/ui/api` to a session.
pub fn router<S: Store>(controller: Controller<S>, tokens: Auth, metrics_need_token: bool) -> Router {
    let gate = middleware::from_fn_with_state((controller.clone(), tokens.clone()), require_token::<S>);
    let api = api_routes::<S>().layer(gate.clone());
    let metrics_route = Router::new().route("/metrics", get(metrics::<S>));
    let metrics_route = if metrics_need_token { metrics_route.layer(gate) } else { metrics_route };
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz::<S>))
        .merge(metrics_route)
        .merge(api)
        .merge(crate::ui::router(controller.clone(), tokens))
        .with_state(controller)
}

/// The job API's routes, without authentication (each face adds its own).
pub(crate) fn api_routes<S: Store>() -> Router<Controller<S>> {
    Router::new()
        .route("/v1/jobs", post(submit::<S>).get(list::<S>))
        .route("/v1/jobs/{id}", get(job::<S>).delete(cancel::<S>))
        .route("/v1/jobs/{id}/series", get(series::<S>))
        .route("/v1/jobs/{id}/frames.csv", get(frames_csv::<S>))
        .route("/v1/jobs/{id}/segments", get(segments::<S>))
        .route("/v1/jobs/{id}/worst-frames", get(worst_frames::<S>))
        .route("/v1/jobs/{id}/pictures/{frame}/{side}", get(picture::<S>))
        .route("/v1/events", get(crate::ui::events::<S>))
        .route("/v1/nodes", get(nodes::<S>))
        .route("/v1/queue", get(queue::<S>))
        .route("/v1/nodes/{id}/drain", post(drain::<S>))
        .route("/v1/models", get(models::<S>))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such API path".into()) })
}

/// An error as the API answers it.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<String>,
    /// Seconds for a `Retry-After` header (429).
    retry_after_s: Option<u64>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: String) -> Self {
        Self { status, code, message, field: None, retry_after_s: None }
    }

    fn bad_request(field: &str, message: impl Into<String>) -> Self {
        let message = format!("{field}: {}", message.into());
        Self { field: Some(field.into()), ..Self::new(StatusCode::BAD_REQUEST, "invalid_argument", message) }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({"code": self.code, "message": self.message});
        if let Some(f) = self.field {
            error["field"] = json!(f);
        }
        let mut response = (self.status, Json(json!({ "error": error }))).into_response();
        if let Some(s) = self.retry_after_s.and_then(|s| s.to_string().parse().ok()) {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, s);
        }
        response
    }
}

impl From<ControllerError> for ApiError {
    fn from(e: ControllerError) -> Self {
        let message = e.to_string();
        match e {
            ControllerError::InvalidArgument { field, .. } => {
                Self { field: Some(field), ..Self::new(StatusCode::BAD_REQUEST, "invalid_argument", message) }
            }
            ControllerError::JobNotFound(_) | ControllerError::NodeNotFound(_) => {
                Self::new(StatusCode::NOT_FOUND, "not_found", message)
            }
            ControllerError::NotYourItem { .. } | ControllerError::NotYourJob { .. } => {
                Self::new(StatusCode::FORBIDDEN, "permission_denied", message)
            }
            ControllerError::Overloaded { retry_after_ms, .. } => Self {
                retry_after_s: Some(retry_after_ms.div_ceil(1000)),
                ..Self::new(StatusCode::TOO_MANY_REQUESTS, "resource_exhausted", message)
            },
            ControllerError::IdempotencyConflict { .. } => Self {
                field: Some("idempotency_key".into()),
                ..Self::new(StatusCode::CONFLICT, "already_exists", message)
            },
            ControllerError::UnknownNode(_) | ControllerError::NoResult { .. } => {
                Self::new(StatusCode::CONFLICT, "failed_precondition", message)
            }
            ControllerError::InputUnavailable { .. } => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
            }
            ControllerError::Store(s) if s.is_unavailable() => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                format!("the controller cannot write its state ({s}); nothing was recorded: try again once it has space"),
            ),
            ControllerError::Store(_) | ControllerError::Internal(_) => {
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
            }
        }
    }
}

type ApiResult = Result<Response, ApiError>;

/// The address a connection came from, over TLS or not (failed authentications are counted
/// per address).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub std::net::SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, tokio::net::TcpListener>>
    for Peer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, tokio::net::TcpListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, crate::tls::TlsIncoming>>
    for Peer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, crate::tls::TlsIncoming>) -> Self {
        Peer(*stream.remote_addr())
    }
}

/// Authenticates a call and checks its role ([`http_need`]).
async fn require_token<S: Store>(
    State((controller, tokens)): State<(Controller<S>, Auth)>,
    headers: HeaderMap,
    req: Request,
    next: Next,
) -> Response {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    match authorize(&controller, &tokens, authorization, Asked::of(&req)).await {
        Ok(caller) => {
            let mut req = req;
            req.extensions_mut().insert(caller);
            next.run(req).await
        }
        Err(denied) => denied_response(denied),
    }
}

/// What a request asks, for [`authorize`]: the role it needs ([`http_need`]) and where it
/// comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Asked {
    pub need: Role,
    pub peer: Option<std::net::IpAddr>,
}

impl Asked {
    pub fn of(req: &Request) -> Self {
        Self { need: http_need(req.method(), req.uri().path()), peer: peer_of(req) }
    }
}

/// The address a request came from.
pub(crate) fn peer_of(req: &Request) -> Option<std::net::IpAddr> {
    req.extensions().get::<axum::extract::ConnectInfo<Peer>>().map(|c| c.0 .0.ip())
}

/// Who `authorization` is, if they may do what was asked.
pub(crate) async fn authorize<S: Store>(
    controller: &Controller<S>,
    tokens: &Auth,
    authorization: Option<&str>,
    asked: Asked,
) -> Result<Caller, Denied> {
    let caller = tokens.authenticate(controller.store(), authorization, asked.peer).await?;
    caller.need(asked.need)?;
    Ok(caller)
}

/// The API's answer to a refused call: 429, 401 (with `WWW-Authenticate`) or 403.
pub(crate) fn denied_response(denied: Denied) -> Response {
    match denied {
        Denied::Throttled => {
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "resource_exhausted", Denied::Throttled.to_string())
                .into_response()
        }
        e if e.unauthenticated() => {
            let mut r =
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", e.to_string()).into_response();
            r.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
            r
        }
        e => ApiError::new(StatusCode::FORBIDDEN, "permission_denied", e.to_string()).into_response(),
    }
}

/// The body of `POST /v1/jobs`, shaped like gRPC's `SubmitJobRequest`. Every field is optional
/// here so that a missing one gets the controller's message naming it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitBody {
    #[serde(default)]
    score: Option<ScoreBody>,
    #[serde(default)]
    priority: i32,
    #[serde(default)]
    idempotency_key: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScoreBody {
    #[serde(default)]
    reference: String,
    #[serde(default)]
    distorted: String,
    #[serde(default)]
    model: String,
    #[serde(default)]
    model_path: Option<String>,
    #[serde(default)]
    features: Vec<String>,
    #[serde(default)]
    subsample: u32,
    #[serde(default)]
    segment_frames: Option<u64>,
    #[serde(default)]
    requirements: vmafx_core::Requirements,
    #[serde(default)]
    encode: Option<vmafx_core::EncodeSpec>,
    #[serde(default)]
    inputs: vmafx_core::InputOptions,
    #[serde(default)]
    estimate: Option<vmafx_core::EstimateSpec>,
}

async fn submit<S: Store>(
    State(c): State<Controller<S>>,
    Extension(who): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    // The key may come in the body or, as HTTP clients often send it, in a header.
    let header_key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(String::from);
    let request = job_request(&body, header_key, who)?;
    let (job, created) = c.submit(request).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(job_json(&c.view(job, false).await?, FramesShown::None))).into_response())
}

/// A `POST /v1/jobs` body as a request from `who`: its shape checked, nothing else (what
/// the controller checks of every request comes next, in `Controller::submit`).
pub(crate) fn job_request(
    body: &[u8],
    header_key: Option<String>,
    who: Caller,
) -> Result<JobRequest, ApiError> {
    let body: SubmitBody = serde_json::from_slice(body).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_argument", format!("body: not a job: {e}"))
    })?;
    let score = body.score.ok_or_else(|| ApiError::bad_request("score", "is required"))?;
    Ok(JobRequest {
        spec: ScoreJobSpec {
            reference: score.reference,
            distorted: score.distorted,
            model: score.model,
            model_path: score.model_path,
            features: score.features,
            subsample: score.subsample,
            segment_frames: score.segment_frames,
            encode: score.encode,
            pictures: None,
            requirements: score.requirements,
            inputs: score.inputs,
            versions: Default::default(),
            estimate: score.estimate,
        },
        priority: body.priority,
        idempotency_key: body.idempotency_key.or(header_key),
        owner: who.name,
    })
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    state: Option<String>,
    page_size: Option<u32>,
    page_token: Option<String>,
    order: Option<String>,
}

async fn list<S: Store>(State(c): State<Controller<S>>, Query(q): Query<ListQuery>) -> ApiResult {
    let state = match q.state.as_deref() {
        None | Some("") => None,
        Some(s) => Some(s.parse::<JobState>().map_err(|e| ApiError::bad_request("state", e))?),
    };
    let cursor = match q.page_token.as_deref() {
        None | Some("") => None,
        Some(t) => Some(
            t.parse::<i64>()
                .map_err(|_| ApiError::bad_request("page_token", "not a token from a previous page"))?,
        ),
    };
    let newest_first = match q.order.as_deref() {
        None | Some("") | Some("newest") => true,
        Some("oldest") => false,
        Some(o) => return Err(ApiError::bad_request("order", format!("`{o}`: expected newest or oldest"))),
    };
    let limit = q.page_size.filter(|&n| n > 0).unwrap_or(50).min(1000);
    let (jobs, next) = c.job_page(JobQuery { state, cursor, limit, newest_first }).await?;
    let list: Vec<Value> = jobs.iter().map(|j| job_json(j, FramesShown::None)).collect();
    Ok(Json(json!({ "jobs": list, "next_page_token": next.map(|t| t.to_string()).unwrap_or_default() }))
        .into_response())
}

#[derive(Debug, Deserialize)]
struct ScoresQuery {
    #[serde(default)]
    scores: bool,
    frames: Option<bool>,
    frames_offset: Option<usize>,
    frames_limit: Option<usize>,
}

impl ScoresQuery {
    fn frames(&self) -> FramesShown {
        match (self.frames, self.frames_offset, self.frames_limit) {
            (Some(false), ..) => FramesShown::None,
            (_, None, None) => FramesShown::All,
            (_, offset, limit) => {
                FramesShown::Page { offset: offset.unwrap_or(0), limit: limit.unwrap_or(usize::MAX) }
            }
        }
    }
}

async fn job<S: Store>(
    State(c): State<Controller<S>>,
    Path(id): Path<String>,
    Query(q): Query<ScoresQuery>,
) -> ApiResult {
    let job = c.job_view(&id, q.scores).await?;
    Ok(Json(job_json(&job, q.frames())).into_response())
}

async fn cancel<S: Store>(
    State(c): State<Controller<S>>,
    Extension(who): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult {
    let only_owner = (who.role != Role::Admin).then_some(who.name.as_str());
    let job = c.cancel(&id, only_owner).await?;
    Ok(Json(job_json(&c.view(job, false).await?, FramesShown::None)).into_response())
}

async fn nodes<S: Store>(State(c): State<Controller<S>>) -> ApiResult {
    let nodes: Vec<Value> = c.node_infos().await?.iter().map(node_json).collect();
    Ok(Json(json!({ "nodes": nodes })).into_response())
}

async fn queue<S: Store>(State(c): State<Controller<S>>) -> ApiResult {
    let (pools, pending_items) = c.queue().await?;
    Ok(Json(json!({ "pools": pools, "pending_items": pending_items })).into_response())
}

async fn drain<S: Store>(State(c): State<Controller<S>>, Path(id): Path<String>) -> ApiResult {
    c.drain(&id).await?;
    let nodes = c.node_infos().await?;
    let node = nodes.iter().find(|n| n.id == id).ok_or(ControllerError::NodeNotFound(id))?;
    Ok(Json(node_json(node)).into_response())
}

async fn models<S: Store>(State(c): State<Controller<S>>) -> Json<Value> {
    let (list, problem) = c.models().await;
    let features: Vec<Value> = catalog::FEATURES
        .iter()
        .map(|f| json!({"name": f.name, "description": f.description, "outputs": f.outputs}))
        .collect();
    let mut body = json!({ "models": list, "features": features });
    if let Some(p) = problem {
        body["registry_problem"] = json!(p);
    }
    Json(body)
}

/// Ready when the store answers.
async fn readyz<S: Store>(State(c): State<Controller<S>>) -> impl IntoResponse {
    match c.store().stats().await {
        Ok(_) => (StatusCode::OK, "ready\n".to_string()),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("store unavailable: {e}\n")),
    }
}

/// Prometheus text exposition (version 0.0.4).
async fn metrics<S: Store>(State(c): State<Controller<S>>) -> impl IntoResponse {
    let (stats, nodes) = match (c.store().stats().await, c.nodes().await) {
        (Ok(s), Ok(n)) => (s, n),
        (Err(e), _) => {
            return (StatusCode::SERVICE_UNAVAILABLE, [(header::CONTENT_TYPE, "text/plain")], e.to_string())
        }
        (_, Err(e)) => {
            return (StatusCode::SERVICE_UNAVAILABLE, [(header::CONTENT_TYPE, "text/plain")], e.to_string())
        }
    };
    let now = now_ms();
    let mut out = String::new();
    family(&mut out, "vmafx_jobs", "gauge", "Jobs by state.");
    for state in JobState::ALL {
        let n = stats.jobs.iter().find(|(s, _)| s == state).map_or(0, |(_, n)| *n);
        let _ = writeln!(out, "vmafx_jobs{{state=\"{state}\"}} {n}");
    }
    single(&mut out, "vmafx_queue_depth", "gauge", "Work items waiting for a node.", stats.pending_items);
    family(
        &mut out,
        "vmafx_pool_queue_depth",
        "gauge",
        "Work items queued or running per node pool (pool=\"\": jobs that name no pool); what pool autoscalers follow.",
    );
    for q in stats.pool_queues() {
        let _ = writeln!(out, "vmafx_pool_queue_depth{{pool=\"{}\"}} {}", label_value(&q.pool), q.depth());
    }
    let age = stats.oldest_pending_ms.map_or(0.0, |t| (now - t).max(0) as f64 / 1000.0);
    single(
        &mut out,
        "vmafx_oldest_pending_age_seconds",
        "gauge",
        "Age of the oldest job with a waiting work item.",
        age,
    );
    let live = nodes.iter().filter(|n| n.live).count();
    family(&mut out, "vmafx_nodes", "gauge", "Registered nodes, live or gone.");
    let _ = writeln!(out, "vmafx_nodes{{state=\"live\"}} {live}");
    let _ = writeln!(out, "vmafx_nodes{{state=\"gone\"}} {}", nodes.len() - live);
    c.metrics().write(&mut out);
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}

#[derive(Debug, Deserialize)]
struct SeriesQuery {
    from: Option<u64>,
    to: Option<u64>,
    points: Option<usize>,
    /// Comma-separated metric names; empty: every metric.
    metrics: Option<String>,
}

/// A finished job with its scores, or 409 naming the state it is in.
async fn scored<S: Store>(
    c: &Controller<S>,
    id: &str,
) -> Result<(vmafx_core::JobView, vmafx_core::Scores), ApiError> {
    let mut job = c.job_view(id, true).await?;
    match job.scores.take() {
        Some(scores) => Ok((job, scores)),
        None => Err(ApiError::new(
            StatusCode::CONFLICT,
            "failed_precondition",
            format!("job {id} is {}: it has scores once it has succeeded", job.state),
        )),
    }
}

/// Frames `from..=to` of every metric (or those `metrics` names) for a plot: one point per
/// frame up to `points` (at most 10,000) frames, bucket extremes beyond
/// ([`vmafx_core::plot::window`]); and the worst frames of `vmaf`.
async fn series<S: Store>(
    State(c): State<Controller<S>>,
    Path(id): Path<String>,
    Query(q): Query<SeriesQuery>,
) -> ApiResult {
    use vmafx_core::plot;
    let (_, scores) = scored(&c, &id).await?;
    let first = scores.frames.first().map_or(0, |f| f.frame_num);
    let last = scores.frames.last().map_or(0, |f| f.frame_num);
    let from = q.from.unwrap_or(first).max(first);
    let to = q.to.unwrap_or(last).min(last);
    if from > to {
        return Err(ApiError::bad_request(
            "from",
            format!("{from} is past `to` {to} (frames {first}..={last})"),
        ));
    }
    let only: Vec<String> =
        q.metrics.as_deref().unwrap_or("").split(',').filter(|m| !m.is_empty()).map(String::from).collect();
    if let Some(unknown) = only.iter().find(|m| scores.index_of(m).is_none()) {
        return Err(ApiError::bad_request(
            "metrics",
            format!("job {id} has no metric `{unknown}`; it has {}", scores.metrics.join(", ")),
        ));
    }
    let window = plot::window(&scores, from, to, q.points.unwrap_or(plot::WINDOW_POINTS), &only);
    let worst: Vec<Value> = plot::worst_frames(&scores, "vmaf", plot::WORST_MARKED)
        .into_iter()
        .map(|(frame, value)| json!({"frame": frame, "vmaf": value}))
        .collect();
    let metrics: serde_json::Map<String, Value> =
        window.metrics.into_iter().map(|(name, points)| (name, json!(points))).collect();
    Ok(Json(json!({
        "first": first, "last": last, "from": window.from, "to": window.to,
        "bucketed": window.bucketed, "metrics": metrics, "worst": worst, "all_metrics": scores.metrics,
    }))
    .into_response())
}

/// A finished job's per-frame scores as CSV (the columns of `vmafx score --format csv`).
async fn frames_csv<S: Store>(State(c): State<Controller<S>>, Path(id): Path<String>) -> ApiResult {
    let (_, scores) = scored(&c, &id).await?;
    let report = vmafx_core::Report { info: Default::default(), scores };
    let disposition = format!("attachment; filename=\"vmafx-{}.csv\"", id.replace(['"', '\\'], ""));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        report.render(vmafx_core::ReportFormat::Csv),
    )
        .into_response())
}

/// A job's work items: which frames each covers, its state, attempts, and the node that
/// holds or last held it.
async fn segments<S: Store>(State(c): State<Controller<S>>, Path(id): Path<String>) -> ApiResult {
    c.job(&id).await?;
    let items = c.store().items_without_results(&id).await.map_err(ControllerError::from)?;
    let list: Vec<Value> = items
        .iter()
        .map(|i| {
            json!({
                "index": i.index, "start": i.segment.start, "frames": i.segment.frames,
                "state": i.state.as_str(), "attempts": i.attempts, "node": i.lease_node,
                "error": i.last_error,
            })
        })
        .collect();
    Ok(Json(json!({ "segments": list })).into_response())
}

/// How wide the worst frames' pictures are at most (the dashboard shows two side by side).
pub const WORST_PICTURE_WIDTH: u32 = 960;

/// `GET /v1/jobs/{id}/worst-frames`: the pictures of a succeeded job's worst frames (by
/// VMAF, [`vmafx_core::plot::WORST_MARKED`] of them). The controller never reads inputs: the
/// first ask submits a pictures job (one per scored job, shared by everyone who asks, at the
/// job's priority + 1) and a node makes them; the answer says where that job is:
/// `{"state": "queued"|"running"|"ready"|"failed", "job", "frames", "error"?}`. Asking again
/// reads the scored job's scores again: to wait, follow the pictures job itself.
async fn worst_frames<S: Store>(
    State(c): State<Controller<S>>,
    Extension(who): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult {
    use vmafx_core::plot;
    let (source, scores) = scored(&c, &id).await?;
    let frames: Vec<u64> =
        plot::worst_frames(&scores, "vmaf", plot::WORST_MARKED).into_iter().map(|(f, _)| f).collect();
    if frames.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "failed_precondition",
            format!("job {id} has no VMAF values to rank its frames by"),
        ));
    }
    let spec = ScoreJobSpec {
        pictures: Some(vmafx_core::PictureSpec { frames: frames.clone(), max_width: WORST_PICTURE_WIDTH }),
        features: vec![],
        segment_frames: None,
        ..source.spec
    };
    let request = JobRequest {
        spec,
        priority: source.priority.saturating_add(1),
        idempotency_key: Some(format!("worst-frames:{id}")),
        owner: who.name,
    };
    let (job, _) = c.submit(request).await?;
    let state = match job.state {
        JobState::Succeeded => "ready",
        JobState::Failed | JobState::Cancelled => "failed",
        JobState::Queued => "queued",
        JobState::Running => "running",
    };
    Ok(Json(json!({"state": state, "job": job.id, "frames": frames, "error": job.error})).into_response())
}

/// `GET /v1/jobs/{id}/pictures/{frame}/{side}.png`: a picture a pictures job made.
async fn picture<S: Store>(
    State(c): State<Controller<S>>,
    Path((id, frame, side)): Path<(String, u64, String)>,
) -> ApiResult {
    let job = c.job(&id).await?;
    let not_found = |what: String| ApiError::new(StatusCode::NOT_FOUND, "not_found", what);
    if job.spec.pictures.is_none() {
        return Err(not_found(format!("job {id} makes no pictures")));
    }
    if job.state != JobState::Succeeded {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "failed_precondition",
            format!("job {id} is {}: its pictures exist once it has succeeded", job.state),
        ));
    }
    let items = c.store().items(&id).await.map_err(ControllerError::from)?;
    let found = items
        .into_iter()
        .filter_map(|i| i.result)
        .flat_map(|r| r.pictures)
        .find(|p| p.frame_num == frame)
        .ok_or_else(|| not_found(format!("job {id} has no picture of frame {frame}")))?;
    let png = match side.as_str() {
        "reference.png" => found.reference_png,
        "distorted.png" => found.distorted_png,
        _ => return Err(not_found(format!("`{side}`: ask for reference.png or distorted.png"))),
    };
    Ok((
        [(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "private, max-age=86400, immutable")],
        png,
    )
        .into_response())
}

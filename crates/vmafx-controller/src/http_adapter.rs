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
//! | `GET /v1/models`               | built-in models                                        |
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

/// The `/v1` routes, and `/metrics` with `metrics_need_token`, need a token of the right role.
pub fn router<S: Store>(controller: Controller<S>, tokens: Auth, metrics_need_token: bool) -> Router {
    let gate = middleware::from_fn_with_state((controller.clone(), tokens), require_token::<S>);
    let api = Router::new()
        .route("/v1/jobs", post(submit::<S>).get(list::<S>))
        .route("/v1/jobs/{id}", get(job::<S>).delete(cancel::<S>))
        .route("/v1/nodes", get(nodes::<S>))
        .route("/v1/queue", get(queue::<S>))
        .route("/v1/nodes/{id}/drain", post(drain::<S>))
        .route("/v1/models", get(models))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such API path".into()) })
        .layer(gate.clone());
    let metrics_route = Router::new().route("/metrics", get(metrics::<S>));
    let metrics_route = if metrics_need_token { metrics_route.layer(gate) } else { metrics_route };
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz::<S>))
        .merge(metrics_route)
        .merge(api)
        .with_state(controller)
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
    fn new(status: StatusCode, code: &'static str, message: String) -> Self {
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
    let peer = req.extensions().get::<axum::extract::ConnectInfo<Peer>>().map(|c| c.0 .0.ip());
    let need = http_need(req.method(), req.uri().path());
    let checked = match tokens.authenticate(controller.store(), authorization, peer).await {
        Ok(caller) => caller.need(need).map(|()| caller),
        Err(e) => Err(e),
    };
    match checked {
        Ok(caller) => {
            let mut req = req;
            req.extensions_mut().insert(caller);
            next.run(req).await
        }
        Err(Denied::Throttled) => {
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "resource_exhausted", Denied::Throttled.to_string())
                .into_response()
        }
        Err(e) if e.unauthenticated() => {
            let mut r =
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", e.to_string()).into_response();
            r.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
            r
        }
        Err(e) => ApiError::new(StatusCode::FORBIDDEN, "permission_denied", e.to_string()).into_response(),
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
            requirements: score.requirements,
            inputs: score.inputs,
            versions: Default::default(),
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

async fn models() -> Json<Value> {
    let list: Vec<Value> = catalog::BUILTIN_MODELS
        .iter()
        .map(|m| json!({"name": m.name, "description": m.description, "default": m.name == catalog::DEFAULT_MODEL}))
        .collect();
    Json(json!({ "models": list }))
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

//! The HTTP layer: axum routers for the Management API (`/api/v2/...`), the Authentication API
//! (`/oauth/token`, `/oauth/revoke`, `/dbconnections/...`), OpenID Connect (`/authorize`,
//! `/userinfo`, logout, discovery, JWKS), the Universal Login pages (`/u/...`, `/lo/...`), and operations (`/healthz`, `/readyz`, `/metrics`,
//! `/api/v2/openapi.json`). Handlers are thin: they extract the tenant (from the Host header),
//! the caller and the body, call sluice-core, and map `CoreError` to HTTP once ([`error`]).

pub mod cors;
pub mod dbconnections;
pub mod error;
pub mod extract;
pub mod login;
pub mod mgmt;
pub mod oauth;
pub mod oidc;
pub mod openapi;
pub mod ops;
pub mod reset;
pub mod wellknown;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use http::{HeaderName, Request};
use metrics_exporter_prometheus::PrometheusRecorder;
use sluice_core::Core;
use sluice_core::extend::Extensibility;
use sluice_core::management::Management;
use sluice_oidc::Oidc;
use std::sync::Arc;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// Largest request body accepted (seven 100 KB scripts plus configuration fit).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Shared state of every handler: the domain core and the metrics recorder.
#[derive(Clone)]
pub struct AppState {
    pub core: Arc<Core>,
    /// The OAuth 2.0 / OIDC service, over the same core.
    pub oidc: Arc<Oidc>,
    /// Rules, Hooks and Actions (the core's extensibility service).
    pub extend: Arc<Extensibility>,
    /// The Management API's other operations.
    pub mgmt: Arc<Management>,
    pub metrics: Arc<PrometheusRecorder>,
    /// The Universal Login templates, compiled once.
    pub pages: Arc<login::Pages>,
}

impl AppState {
    pub fn new(core: Arc<Core>) -> Self {
        AppState {
            oidc: Arc::new(Oidc::new(core.clone())),
            extend: core.extend.clone(),
            mgmt: Arc::new(Management::new(core.clone())),
            core,
            metrics: Arc::new(ops::new_recorder()),
            pages: Arc::new(login::Pages::new()),
        }
    }
}

/// The whole application router.
pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .merge(mgmt::router())
        .merge(oauth::router())
        .merge(dbconnections::router())
        .merge(reset::router())
        .merge(oidc::router())
        .merge(login::router())
        .merge(wellknown::router())
        .merge(ops::router())
        .merge(openapi::router())
        .fallback(error::not_found_fallback)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(state.clone(), cors::cors))
        .layer(axum::middleware::from_fn_with_state(state.clone(), ops::track_metrics))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                // Path only: query strings can carry codes and tokens.
                tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
            }),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

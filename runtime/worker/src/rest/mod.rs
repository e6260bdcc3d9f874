//! The Kafka Connect REST API (COMPAT §1): the same paths, bodies, status codes and error bodies
//! as Connect's Jersey resources, served by axum.
//!
//! This layer only maps HTTP onto the [`Herder`] trait and the worker's [`LogLevels`]; it holds
//! no connector state of its own, so the standalone and distributed herders share it. Every
//! non-2xx answer is Connect's `{"error_code":N,"message":"…"}` — including the router's own
//! 404/405 and extractor failures (see [`error::json_errors`]).
//!
//! Of the internal inter-worker endpoints (§1.8) only `POST /connectors/{c}/tasks` is served
//! (unsigned: no session keys yet); forwarding to the leader is the distributed herder's, which
//! reads the request's `?forward=` through [`forward_param`].
//! Not served yet: `PUT /connectors/{c}/fence`, `admin.listeners`, and HTTPS listeners
//! (refused at start-up).

mod body;
mod connectors;
pub mod error;
mod forwarding;
mod listeners;
mod loggers;
mod plugins;
mod root;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, put, MethodRouter};
use axum::Router;
use tokio::net::TcpListener;

pub use error::ApiError;
pub use forwarding::forward_param;
pub use listeners::{parse_listeners, ListenerError};
pub use root::CONNECT_VERSION;

use crate::herder::{Herder, HerderResult};
use crate::logging::LogLevels;

/// Connect's REST request timeout (`RestServer.DEFAULT_REST_REQUEST_TIMEOUT_MS`).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(90);

/// Query parameters in order, repeats kept (`?expand=status&expand=info`).
type QueryPairs = Vec<(String, String)>;

/// What every handler shares.
#[derive(Clone)]
struct AppState {
    herder: Arc<dyn Herder>,
    logs: LogLevels,
}

/// Awaits a herder call under Connect's 90 s request timeout (500 `Request timed out`).
async fn call<T>(fut: impl Future<Output = HerderResult<T>>) -> Result<T, ApiError> {
    match tokio::time::timeout(REQUEST_TIMEOUT, fut).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(_) => Err(ApiError::new(500, "Request timed out")),
    }
}

/// The first value of query parameter `name` (JAX-RS `@QueryParam` takes the first).
fn first_param<'a>(q: &'a QueryPairs, name: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// A boolean query parameter as JAX-RS reads it (`Boolean.valueOf`: only `true`, in any case,
/// is true), `default` when absent.
fn flag(q: &QueryPairs, name: &str, default: bool) -> bool {
    first_param(q, name).map_or(default, |v| v.eq_ignore_ascii_case("true"))
}

/// Adds `path` and `path/` (Jersey matches both) to `router`.
fn route(
    router: Router<AppState>,
    path: &str,
    methods: MethodRouter<AppState>,
) -> Router<AppState> {
    let router = router.route(path, methods.clone());
    if path == "/" {
        router
    } else {
        router.route(&format!("{path}/"), methods)
    }
}

/// The REST API as an axum router, for [`serve`] or for embedding.
pub fn router(herder: Arc<dyn Herder>, logs: LogLevels) -> Router {
    use connectors as c;
    let routes = [
        ("/", get(root::server_info)),
        ("/health", get(root::health)),
        ("/metrics", get(root::metrics)),
        ("/connectors", get(c::list).post(c::create)),
        ("/connectors/{c}", get(c::info).delete(c::delete)),
        (
            "/connectors/{c}/config",
            get(c::get_config).put(c::put_config).patch(c::patch_config),
        ),
        ("/connectors/{c}/status", get(c::status)),
        (
            "/connectors/{c}/tasks",
            get(c::tasks).post(c::put_task_configs),
        ),
        ("/connectors/{c}/tasks-config", get(c::tasks_config)),
        ("/connectors/{c}/tasks/{t}/status", get(c::task_status)),
        (
            "/connectors/{c}/tasks/{t}/restart",
            axum::routing::post(c::restart_task),
        ),
        ("/connectors/{c}/restart", axum::routing::post(c::restart)),
        ("/connectors/{c}/pause", put(c::pause)),
        ("/connectors/{c}/resume", put(c::resume)),
        ("/connectors/{c}/stop", put(c::stop)),
        ("/connectors/{c}/topics", get(c::topics)),
        ("/connectors/{c}/topics/reset", put(c::reset_topics)),
        (
            "/connectors/{c}/offsets",
            get(c::offsets)
                .patch(c::alter_offsets)
                .delete(c::reset_offsets),
        ),
        ("/connector-plugins", get(plugins::list)),
        ("/connector-plugins/{p}/config", get(plugins::config_def)),
        (
            "/connector-plugins/{p}/config/validate",
            put(plugins::validate),
        ),
        ("/admin/loggers", get(loggers::list)),
        (
            "/admin/loggers/{logger}",
            get(loggers::get).put(loggers::set),
        ),
    ];
    let router = routes
        .into_iter()
        .fold(Router::new(), |r, (path, methods)| route(r, path, methods));
    router
        .fallback(|| async { ApiError::http(axum::http::StatusCode::NOT_FOUND) })
        .layer(axum::middleware::from_fn(forwarding::record_forward))
        .layer(axum::middleware::map_response(error::json_errors))
        .with_state(AppState { herder, logs })
}

/// Serves the REST API on `listener` until `shutdown` completes, then finishes the requests in
/// flight.
pub async fn serve(
    listener: TcpListener,
    herder: Arc<dyn Herder>,
    logs: LogLevels,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    axum::serve(listener, router(herder, logs))
        .with_graceful_shutdown(shutdown)
        .await
}

/// The REST server of a worker: its bound listeners, ready before the herder starts so that
/// `/health` can answer 503 during start-up.
#[derive(Debug)]
pub struct RestServer {
    listeners: Vec<TcpListener>,
}

impl RestServer {
    /// Binds every address of Connect's `listeners` setting (see [`parse_listeners`]).
    pub async fn bind(listeners: &str) -> io::Result<RestServer> {
        let addrs = parse_listeners(listeners)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let mut bound = Vec::with_capacity(addrs.len());
        for addr in addrs {
            let listener = TcpListener::bind(addr).await.map_err(|e| {
                io::Error::new(e.kind(), format!("listeners: cannot bind {addr}: {e}"))
            })?;
            bound.push(listener);
        }
        Ok(RestServer { listeners: bound })
    }

    /// The addresses actually bound (port 0 resolved).
    pub fn local_addrs(&self) -> io::Result<Vec<SocketAddr>> {
        self.listeners.iter().map(TcpListener::local_addr).collect()
    }

    /// Serves every listener until `shutdown` completes.
    pub async fn serve(
        self,
        herder: Arc<dyn Herder>,
        logs: LogLevels,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let app = router(herder, logs);
        let (tx, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = tx.send(true);
        });
        let mut servers = tokio::task::JoinSet::new();
        for listener in self.listeners {
            let mut rx = rx.clone();
            let app = app.clone();
            servers.spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = rx.wait_for(|stop| *stop).await;
                    })
                    .await
            });
        }
        while let Some(done) = servers.join_next().await {
            done.map_err(io::Error::other)??;
        }
        Ok(())
    }
}

//! Connect's `?forward=` query parameter on leader-only writes (COMPAT §1.5): a worker that is
//! not the leader sends the request on with `forward=true`; one receiving `forward=true` that
//! still cannot serve it sends it on once more with `forward=false`; one receiving
//! `forward=false` answers 409. That bounds how far a request travels while workers disagree
//! about who leads.
//!
//! The REST layer does not forward: the herder does. This middleware only records the
//! parameter for the request being served, so the herder's methods read it with
//! [`forward_param`] without every [`crate::herder::Herder`] method taking it.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

tokio::task_local! {
    static FORWARD: Option<bool>;
}

/// The `?forward=` of the REST request this task is serving: None when absent (a client's own
/// request) or outside a request (the worker's own background work).
pub fn forward_param() -> Option<bool> {
    FORWARD.try_with(|f| *f).ok().flatten()
}

/// Runs the handler with the request's `forward` parameter recorded (the first one, parsed as
/// JAX-RS's `Boolean.valueOf`: only `true`, in any case, is true).
pub(super) async fn record_forward(request: Request, next: Next) -> Response {
    let forward = request.uri().query().and_then(|q| {
        q.split('&')
            .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
            .find(|(k, _)| *k == "forward")
            .map(|(_, v)| v.eq_ignore_ascii_case("true"))
    });
    FORWARD.scope(forward, next.run(request)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_parameter_is_seen_inside_the_scope_only() {
        assert_eq!(forward_param(), None);
        let inside = FORWARD.scope(Some(false), async { forward_param() }).await;
        assert_eq!(inside, Some(false));
    }
}

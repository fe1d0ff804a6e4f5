//! Serving: the accept loop over hyper's HTTP/1 connections (a header read timeout, so a
//! client that never finishes its request head does not hold a connection for ever),
//! graceful shutdown (requests in flight are finished, within a grace period), and the
//! signals — SIGTERM or Ctrl-C to stop, SIGHUP to reload.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::service::{Service, Trigger};

/// How long the listener rests after an accept error that is not one connection's
/// (e.g. out of file descriptors), so as not to spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves `service` on `listener` until `shutdown` completes, then stops accepting and
/// finishes the requests in flight. Connections still open after the request timeout and
/// five seconds more are closed.
pub async fn serve(
    listener: TcpListener,
    service: Arc<Service>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = &service.config().limits;
    let grace = limits.request_timeout + Duration::from_secs(5);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Some(limits.header_timeout));
    let router = crate::routes::router(service);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    tracing::error!("accept error: {e}");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        // Answers are small: send them at once rather than wait to fill a segment.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {e}");
        }
        let connection = http.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(router.clone()),
        );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client gone mid-request, or a head not sent in time: that connection's
            // end, nothing to answer.
            if let Err(e) = connection.await {
                tracing::debug!("connection closed: {e}");
            }
        });
    }
    drop(listener);
    tracing::info!(
        connections = graceful.count(),
        "shutting down: no new connections, finishing requests in flight"
    );
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => {
            tracing::warn!("grace period over: closing the connections still open");
        }
    }
    Ok(())
}

/// An accept error that is one connection's, not the listener's.
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// Completes on SIGTERM or Ctrl-C (SIGINT).
pub async fn terminated() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = term => {}
    }
}

/// Reloads the rules directory on every SIGHUP until the runtime stops. The reload runs
/// off the async workers; a refusal is logged and counted, and the old catalog keeps
/// serving.
pub fn reload_on_hangup(service: Arc<Service>) -> std::io::Result<tokio::task::JoinHandle<()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangups = signal(SignalKind::hangup())?;
        Ok(tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                let worker = Arc::clone(&service);
                // The outcome is logged and counted by `Service::reload`.
                let _ = tokio::task::spawn_blocking(move || worker.reload(Trigger::Signal)).await;
            }
        }))
    }
    #[cfg(not(unix))]
    {
        let _ = service;
        Ok(tokio::spawn(async {}))
    }
}

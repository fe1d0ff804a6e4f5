//! Serving: the listener, graceful shutdown (requests in flight are finished, within a
//! grace period), and the signals — SIGTERM or Ctrl-C to stop, SIGHUP to reload.

use std::future::Future;
use std::sync::Arc;

use axum::serve::ListenerExt as _;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::service::{Service, Trigger};

/// Serves `service` on `listener` until `shutdown` completes, then stops accepting and
/// finishes the requests in flight. Connections still open after the request timeout and
/// five seconds more are closed.
pub async fn serve(
    listener: TcpListener,
    service: Arc<Service>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let grace = service.config().limits.request_timeout + std::time::Duration::from_secs(5);
    let listener = listener.tap_io(|tcp| {
        // Answers are small: send them at once rather than wait to fill a segment.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {e}");
        }
    });
    let stopping = Arc::new(Notify::new());
    let signalled = Arc::clone(&stopping);
    let server =
        axum::serve(listener, crate::routes::router(service)).with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: no new connections, finishing requests in flight");
            signalled.notify_one();
        });
    tokio::select! {
        served = server.into_future() => served,
        () = async {
            stopping.notified().await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!("grace period over: closing the connections still open");
            Ok(())
        }
    }
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

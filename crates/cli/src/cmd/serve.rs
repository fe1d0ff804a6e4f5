//! `serve`: the catalog over HTTP (the `policy-match-server` crate), until SIGTERM or
//! Ctrl-C; SIGHUP reloads the rules directory.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use policy_match_server::{Config, Limits, Service};

use crate::args::{ErrorFormat, ServeArgs};
use crate::exit::{self, EXIT_OK};

pub fn run(rules: Option<&Path>, args: &ServeArgs, format: ErrorFormat) -> u8 {
    let started = Instant::now();
    let catalog = match crate::catalog::load(rules, format) {
        Ok(catalog) => catalog,
        Err(code) => return code,
    };
    let took = started.elapsed();
    let config = Config {
        rules: rules.map(Path::to_path_buf),
        admin_token: args.admin_token.clone(),
        limits: Limits {
            max_body_bytes: args.max_body_bytes as usize,
            max_profiles: args.max_profiles as usize,
            request_timeout: Duration::from_millis(args.request_timeout_ms),
            ..Limits::default()
        },
        max_pushes: args.push.max_pushes,
        max_unlocks: args.push.max_unlocks,
    };
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.threads {
        runtime.worker_threads(usize::from(n));
    }
    let runtime = match runtime.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            return exit::report(
                exit::fatal(format!("cannot start the runtime: {e}")),
                format,
            );
        }
    };
    let served = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| format!("cannot listen on `{}`: {e}", args.listen))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("cannot read the address listened on: {e}"))?;
        let service = Service::new(catalog, took, config, crate::clock::SystemClock);
        policy_match_server::reload_on_hangup(std::sync::Arc::clone(&service))
            .map_err(|e| format!("cannot listen for SIGHUP: {e}"))?;
        tracing::info!(hash = service.catalog().hash(), %addr, "serving");
        // The one line a supervisor (or a test) reads to find a port chosen by the system.
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "listening on http://{addr}");
        let _ = stdout.flush();
        drop(stdout);
        policy_match_server::serve(listener, service, policy_match_server::terminated())
            .await
            .map_err(|e| format!("the server stopped: {e}"))
    });
    match served {
        Ok(()) => EXIT_OK,
        Err(message) => exit::report(exit::fatal(message), format),
    }
}

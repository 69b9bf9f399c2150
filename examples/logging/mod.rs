//! The examples' logging: stderr with readable timestamps, in colour on a terminal unless
//! `NO_COLOR`; `RUST_LOG` chooses (default `info`). The library's events arrive here too.

/// Installs the subscriber (once, at the start of `main`).
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let colour =
        std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colour).init();
}

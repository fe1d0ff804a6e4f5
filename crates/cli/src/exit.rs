//! Exit codes, and how a command's failure is reported on stderr.
//!
//! Exit codes a scheduler can act on: 0 ok, 1 fatal (bad arguments, unreadable input,
//! unknown enterprise), 2 a batch (`match`, `audit`) completed with rejected rows or
//! per-pair errors, 3 the catalog is invalid (or, under `check --deny-warnings`, has
//! warnings), 4 rule tests failed. A closed stdout is no failure: `policy-match list |
//! head -3` exits 0.

use std::io::{self, Write as _};

use policy_match::diag::Diagnostic;

use crate::args::ErrorFormat;

pub const EXIT_OK: u8 = 0;
pub const EXIT_FATAL: u8 = 1;
pub const EXIT_ROWS_REJECTED: u8 = 2;
pub const EXIT_CATALOG_INVALID: u8 = 3;
pub const EXIT_TESTS_FAILED: u8 = 4;

/// What a command returns: its exit code, or why it stopped.
pub type Outcome = Result<u8, Failure>;

/// Why a command stopped.
#[derive(Debug)]
pub enum Failure {
    /// Bad input or an impossible request: the message, exit 1.
    Fatal(String),
    /// Writing stdout failed; a broken pipe (the reader is gone) ends the command quietly.
    Stdout(io::Error),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        Failure::Stdout(e)
    }
}

/// A fatal failure with `message`.
pub fn fatal(message: impl Into<String>) -> Failure {
    Failure::Fatal(message.into())
}

/// Reports `failure` on stderr in `format` and returns its exit code.
pub fn report(failure: Failure, format: ErrorFormat) -> u8 {
    report_to(&mut io::stderr().lock(), failure, format)
}

fn report_to(err: &mut impl io::Write, failure: Failure, format: ErrorFormat) -> u8 {
    let message = match failure {
        Failure::Stdout(e) if e.kind() == io::ErrorKind::BrokenPipe => return EXIT_OK,
        Failure::Stdout(e) => format!("cannot write to stdout: {e}"),
        Failure::Fatal(message) => message,
    };
    let _ = match format {
        ErrorFormat::Human => writeln!(err, "error: {message}"),
        ErrorFormat::Json => writeln!(err, "{}", serde_json::json!({ "error": message })),
    };
    EXIT_FATAL
}

/// Reports the diagnostics of an invalid catalog on stderr and returns exit code 3.
pub fn catalog_invalid(diags: &[Diagnostic], format: ErrorFormat) -> u8 {
    diagnostics(diags, format);
    let errors = diags.iter().filter(|d| d.is_error()).count();
    summary(
        format,
        format_args!(
            "the catalog is invalid: {errors} error(s), {} warnings",
            diags.len() - errors
        ),
    );
    EXIT_CATALOG_INVALID
}

/// Writes `diags` on stderr in `format`: drawn by miette (`human`), or one JSON object a
/// line (`json`).
pub fn diagnostics(diags: &[Diagnostic], format: ErrorFormat) {
    let mut err = io::stderr().lock();
    for d in diags {
        let _ = match format {
            ErrorFormat::Human => write!(err, "{}", render(d)),
            ErrorFormat::Json => writeln!(err, "{}", serde_json::to_string(d).unwrap_or_default()),
        };
    }
}

/// The closing `error: …` line of a failed check on stderr, in the human format only
/// (the JSON format is the diagnostics alone).
pub fn summary(format: ErrorFormat, what: std::fmt::Arguments<'_>) {
    if let ErrorFormat::Human = format {
        let _ = writeln!(io::stderr().lock(), "error: {what}");
    }
}

/// A diagnostic as miette draws it, without colour, for terminals and snapshots.
fn render(d: &Diagnostic) -> String {
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(100)
            .with_links(false);
    let mut out = String::new();
    if handler.render_report(&mut out, &d.report()).is_err() {
        out = format!("{d}\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_pipe_ends_quietly_with_exit_0() {
        let mut err = Vec::new();
        let closed = io::Error::from(io::ErrorKind::BrokenPipe);
        assert_eq!(
            report_to(&mut err, closed.into(), ErrorFormat::Human),
            EXIT_OK
        );
        assert!(err.is_empty());
    }

    #[test]
    fn another_write_error_is_fatal_and_said() {
        let mut err = Vec::new();
        let full = io::Error::other("no space left on device");
        assert_eq!(
            report_to(&mut err, full.into(), ErrorFormat::Json),
            EXIT_FATAL
        );
        assert_eq!(
            String::from_utf8(err).unwrap(),
            "{\"error\":\"cannot write to stdout: no space left on device\"}\n"
        );
    }
}

//! Rule diagnostics: every problem found while loading a catalog, located in its file.
//!
//! Loading collects all diagnostics instead of stopping at the first; each has a stable
//! code (`rule::unknown_tag`), a severity, a lowercase message with user input in
//! backticks, an optional help line and, when known, the byte span in the source file.
//! An error stops the catalog from loading; a warning (`lint::*`) does not.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use miette::LabeledSpan;
use serde::Serialize;

/// The stable code of a diagnostic: scripts and tests match on these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Code {
    /// The measure file is not valid TOML or not the measure file shape.
    #[serde(rename = "rule::syntax")]
    Syntax,
    /// The measure id is not of the form `M001`, or does not match its file name.
    #[serde(rename = "rule::bad_id")]
    BadId,
    /// Two measure files declare the same id.
    #[serde(rename = "rule::duplicate_id")]
    DuplicateId,
    /// A tag outside the schema's vocabulary.
    #[serde(rename = "rule::unknown_tag")]
    UnknownTag,
    /// A field the schema does not declare.
    #[serde(rename = "rule::unknown_field")]
    UnknownField,
    /// An expression or value of the wrong type.
    #[serde(rename = "rule::type_mismatch")]
    TypeMismatch,
    /// An expression outside the typed subset, too long or too deep.
    #[serde(rename = "rule::bad_expr")]
    BadExpr,
    /// A measure or alternative with no condition.
    #[serde(rename = "rule::empty_eligibility")]
    EmptyEligibility,
    /// More conditions than the evaluator's 64-bit masks hold.
    #[serde(rename = "rule::too_many_conditions")]
    TooManyConditions,
    /// An effective window that ends before it starts.
    #[serde(rename = "rule::dates_out_of_order")]
    DatesOutOfOrder,
    /// A rule example that is malformed or does not fit the schema.
    #[serde(rename = "rule::bad_example")]
    BadExample,
    /// A condition without its Chinese label.
    #[serde(rename = "rule::empty_label")]
    EmptyLabel,
    /// A service window or zone that `centre.toml` does not have.
    #[serde(rename = "rule::unknown_window")]
    UnknownWindow,
    /// A 一类事 scenario that `centre.toml` does not have.
    #[serde(rename = "rule::unknown_scenario")]
    UnknownScenario,
    /// A measure without its nature, or with one that is not benefit, service, notice
    /// or internal.
    #[serde(rename = "rule::bad_nature")]
    BadNature,
    /// A benefit without the kind of its amount, with an unknown one, or with one its
    /// unit cannot count.
    #[serde(rename = "rule::bad_amount_kind")]
    BadAmountKind,
    /// An `[allow]` key that names no lint, or an allowance without its reason.
    #[serde(rename = "rule::bad_allow")]
    BadAllow,
    /// A file that is missing, unreadable or too large.
    #[serde(rename = "rule::io")]
    Io,
    /// Warning: a pushed measure whose every condition tests only identity tags, so
    /// that every enterprise of that identity is pushed it.
    #[serde(rename = "lint::identity_only")]
    IdentityOnly,
    /// Warning: a measure granted without application (`auto_grant`) with no
    /// `[benefit]` to decide its amount.
    #[serde(rename = "lint::auto_grant_without_amount")]
    AutoGrantWithoutAmount,
    /// `centre.toml` is not valid.
    #[serde(rename = "centre::syntax")]
    CentreSyntax,
    /// `schema.toml` is not valid TOML or not the schema shape.
    #[serde(rename = "schema::syntax")]
    SchemaSyntax,
    /// A tag namespace of the schema is malformed.
    #[serde(rename = "schema::bad_namespace")]
    SchemaBadNamespace,
    /// A field of the schema is malformed.
    #[serde(rename = "schema::bad_field")]
    SchemaBadField,
}

impl Code {
    /// The stable text of the code, e.g. `rule::unknown_tag`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Syntax => "rule::syntax",
            Code::BadId => "rule::bad_id",
            Code::DuplicateId => "rule::duplicate_id",
            Code::UnknownTag => "rule::unknown_tag",
            Code::UnknownField => "rule::unknown_field",
            Code::TypeMismatch => "rule::type_mismatch",
            Code::BadExpr => "rule::bad_expr",
            Code::EmptyEligibility => "rule::empty_eligibility",
            Code::TooManyConditions => "rule::too_many_conditions",
            Code::DatesOutOfOrder => "rule::dates_out_of_order",
            Code::BadExample => "rule::bad_example",
            Code::EmptyLabel => "rule::empty_label",
            Code::UnknownWindow => "rule::unknown_window",
            Code::UnknownScenario => "rule::unknown_scenario",
            Code::BadNature => "rule::bad_nature",
            Code::BadAmountKind => "rule::bad_amount_kind",
            Code::BadAllow => "rule::bad_allow",
            Code::Io => "rule::io",
            Code::IdentityOnly => "lint::identity_only",
            Code::AutoGrantWithoutAmount => "lint::auto_grant_without_amount",
            Code::CentreSyntax => "centre::syntax",
            Code::SchemaSyntax => "schema::syntax",
            Code::SchemaBadNamespace => "schema::bad_namespace",
            Code::SchemaBadField => "schema::bad_field",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How grave a diagnostic is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The catalog does not load.
    #[default]
    Error,
    /// Worth an officer's second look; the catalog loads.
    Warning,
}

impl Severity {
    /// The severity as JSON writes it: `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One located problem in a rules directory.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnostic {
    /// What kind of problem, stable for scripts.
    pub code: Code,
    /// An error (the catalog does not load) or a warning (it does).
    pub severity: Severity,
    /// Lowercase, with the input in backticks.
    pub message: String,
    /// A "did you mean" or how-to-fix line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Path relative to the rules directory, e.g. `measures/M017.toml`.
    pub file: String,
    /// The measure id, when the file declares one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measure: Option<String>,
    /// 1-based line and column of the span start, when the problem has a place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column (in characters) of the span start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// Byte range in the file's text.
    #[serde(skip)]
    pub span: Option<Range<usize>>,
    #[serde(skip)]
    source: Option<Arc<str>>,
}

impl Diagnostic {
    /// A diagnostic of `file` with no place yet.
    pub fn new(code: Code, file: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            help: None,
            file: file.into(),
            measure: None,
            line: None,
            column: None,
            span: None,
            source: None,
        }
    }

    /// Makes the diagnostic a warning: worth a second look, not stopping the catalog.
    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    /// Whether the diagnostic stops the catalog from loading.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Adds the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Names the measure the file declares.
    pub fn with_measure(mut self, id: Option<&str>) -> Self {
        self.measure = id.map(str::to_owned);
        self
    }

    /// Places the diagnostic at `span` of `source` (the whole file text).
    pub fn at(mut self, source: &Arc<str>, span: Range<usize>) -> Self {
        let start = span.start.min(source.len());
        let (line, column) = line_col(source, start);
        self.line = Some(line);
        self.column = Some(column);
        self.span = Some(start..span.end.clamp(start, source.len()));
        self.source = Some(Arc::clone(source));
        self
    }

    /// The diagnostic as a [`miette::Diagnostic`] with its source snippet, for a
    /// renderer of the caller's choice (the command line draws it with miette's
    /// graphical handler).
    pub fn report(&self) -> Report<'_> {
        Report(self)
    }
}

fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..floor_char_boundary(source, offset)];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, ":{l}:{c}")?;
        }
        if self.severity == Severity::Warning {
            f.write_str(": warning")?;
        }
        write!(f, ": {} [{}]", self.message, self.code)?;
        if let Some(m) = &self.measure {
            write!(f, " ({m})")?;
        }
        if let Some(h) = &self.help {
            write!(f, "\n  help: {h}")?;
        }
        Ok(())
    }
}

/// Adapter that lets miette draw a [`Diagnostic`] with its source snippet: the measure
/// and message as the headline, the code, the help line and the labelled span.
pub struct Report<'a>(&'a Diagnostic);

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0, f)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.measure {
            Some(m) => write!(f, "{}: {}", m, self.0.message),
            None => f.write_str(&self.0.message),
        }
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.0.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.0.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.0
            .help
            .as_ref()
            .map(|h| Box::new(h.as_str()) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.0
            .source
            .as_ref()
            .map(|_| self.0 as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.0.span.clone()?;
        self.0.source.as_ref()?;
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some("here".to_owned()),
            span.start
                ..span
                    .end
                    .max(span.start + 1)
                    .min(self.0.source.as_ref()?.len()),
        ))))
    }
}

impl miette::SourceCode for Diagnostic {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let source: &'a str = self.source.as_deref().unwrap_or("");
        let contents = source.read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.file.clone(),
            contents.data(),
            *contents.span(),
            contents.line(),
            contents.column(),
            contents.line_count(),
        )))
    }
}

/// Sorts diagnostics by file and position so that output is the same on every run.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (
            &a.file,
            a.span.as_ref().map(|s| s.start),
            a.code.as_str(),
            &a.message,
        )
            .cmp(&(
                &b.file,
                b.span.as_ref().map(|s| s.start),
                b.code.as_str(),
                &b.message,
            ))
    });
}

/// The names as the help lines list them: `` `a`, `b`, `c` ``.
pub fn listed(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The help line for `input` that is not one of `names`: "did you mean `x`?" when one
/// is close, else `lead` followed by every name.
pub fn did_you_mean_or_list(input: &str, names: &[&str], lead: &str) -> String {
    did_you_mean(input, names.iter().copied())
        .map(|s| format!("did you mean `{s}`?"))
        .unwrap_or_else(|| format!("{lead} {}", listed(names)))
}

/// The closest candidate to `input`, for "did you mean" help lines.
pub fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(input, c), c))
        .filter(|(d, c)| *d <= (c.len().max(input.len()) / 3).max(2))
        .min()
        .map(|(_, c)| c)
}

/// The message a caught panic carried, for an error that replaces it.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

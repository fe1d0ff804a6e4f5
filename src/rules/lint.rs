//! The lint pass: warnings over a checked measure, and the `[allow]` table that
//! acknowledges them.
//!
//! A warning is something an officer should look at twice: the measure is valid and the
//! catalog loads, but the rule may not say what the seed says. Each lint has a stable
//! code (`lint::identity_only`); a measure file silences one with a reason:
//!
//! ```toml
//! [allow]
//! identity_only = "事项一：面向全体市场主体"
//! ```
//!
//! The validator (`check`) runs this pass on each measure it accepts.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use toml::Spanned;

use crate::diag::Code;
use crate::diag::Diagnostic;
use crate::profile::schema::Schema;
use crate::rules::ir::Measure;
use crate::rules::syntax;

/// A warning the lint pass can give; `[allow]` names it without the `lint::` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lint {
    /// A `benefit` or `service` measure whose every condition tests only identity tags
    /// (kind, ownership, industry, business model, region): every enterprise of that identity gets it.
    IdentityOnly,
    /// A measure granted without application (`auto_grant`) with no `[benefit]`: data
    /// does not decide what it pays.
    AutoGrantWithoutAmount,
}

impl Lint {
    /// Every lint, in the order the rule format lists them.
    pub const ALL: [Lint; 2] = [Lint::IdentityOnly, Lint::AutoGrantWithoutAmount];

    /// The lint as `[allow]` names it, e.g. `identity_only`.
    pub fn name(self) -> &'static str {
        match self {
            Lint::IdentityOnly => "identity_only",
            Lint::AutoGrantWithoutAmount => "auto_grant_without_amount",
        }
    }

    /// The stable code of its warnings, e.g. `lint::identity_only`.
    pub fn code(self) -> Code {
        match self {
            Lint::IdentityOnly => Code::IdentityOnly,
            Lint::AutoGrantWithoutAmount => Code::AutoGrantWithoutAmount,
        }
    }

    /// The lint an `[allow]` key names, if any.
    pub fn parse(name: &str) -> Option<Lint> {
        Lint::ALL.into_iter().find(|l| l.name() == name)
    }
}

/// The warnings a measure file acknowledges, each with the officer's reason.
pub type Allowed = BTreeMap<Lint, String>;

/// Where a measure file stands, for locating what this module reports.
pub struct Site<'a> {
    /// Path relative to the rules directory.
    pub file: &'a str,
    /// The file's text.
    pub text: &'a Arc<str>,
    /// The measure id the file declares.
    pub id: Option<&'a str>,
    /// The `[eligibility]` table.
    pub eligibility: Range<usize>,
    /// The `delivery` list.
    pub delivery: Range<usize>,
}

impl Site<'_> {
    fn diagnostic(&self, code: Code, span: Range<usize>, message: String) -> Diagnostic {
        Diagnostic::new(code, self.file, message)
            .with_measure(self.id)
            .at(self.text, span)
    }
}

/// Checks the `[allow]` table: every key names a lint, every reason says something.
/// Returns what it acknowledges and an error for each key that does not.
pub fn allow(raw: Option<&syntax::Allow>, site: &Site) -> (Allowed, Vec<Diagnostic>) {
    let mut allowed = Allowed::new();
    let mut errors = Vec::new();
    let names = Lint::ALL.map(Lint::name);
    for (key, reason) in raw.map(Spanned::get_ref).into_iter().flatten() {
        let Some(lint) = Lint::parse(key.get_ref()) else {
            let help = crate::diag::did_you_mean_or_list(
                key.get_ref(),
                &names,
                "`[allow]` names a lint, one of",
            );
            errors.push(
                site.diagnostic(
                    Code::BadAllow,
                    key.span(),
                    format!("`[allow]` names no lint `{}`", key.get_ref()),
                )
                .with_help(help),
            );
            continue;
        };
        let text = reason.get_ref().trim();
        if text.is_empty() {
            errors.push(
                site.diagnostic(
                    Code::BadAllow,
                    reason.span(),
                    format!("`[allow]` gives `{}` no reason", lint.name()),
                )
                .with_help("say why the warning does not apply, quoting the seed, e.g. \"事项一：面向全体市场主体\""),
            );
            continue;
        }
        allowed.insert(lint, text.to_owned());
    }
    (allowed, errors)
}

/// The lint pass over one checked measure: a warning for each lint that fires and the
/// file does not allow.
pub fn measure(schema: &Schema, m: &Measure, allowed: &Allowed, site: &Site) -> Vec<Diagnostic> {
    let found = [
        identity_only(schema, m, site),
        auto_grant_without_amount(m, site),
    ];
    found
        .into_iter()
        .flatten()
        .filter(|(lint, _)| !allowed.contains_key(lint))
        .map(|(_, d)| d.warning())
        .collect()
}

fn identity_only(schema: &Schema, m: &Measure, site: &Site) -> Option<(Lint, Diagnostic)> {
    if !m.nature.pushed() {
        return None;
    }
    let mut tags: Vec<&str> = Vec::new();
    for (_, c) in m.conditions() {
        if !c.test.is_identity(schema) {
            return None;
        }
        for t in c.test.tags() {
            if !tags.contains(&t.as_str()) {
                tags.push(t);
            }
        }
    }
    if tags.is_empty() {
        return None;
    }
    let verb = if m.pushed() { "pushed" } else { "granted" };
    let listed = tags
        .iter()
        .map(|t| format!("`{t}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let lint = Lint::IdentityOnly;
    let d = site
        .diagnostic(
            lint.code(),
            site.eligibility.clone(),
            format!(
                "`{}` is a `{}` measure whose conditions test only identity ({listed}): every such enterprise is {verb} it",
                m.id,
                m.nature.as_str()
            ),
        )
        .with_help(format!(
            "if the seed names a narrower audience, add its condition; if it is meant for every such enterprise, say so: `[allow]` `{} = \"…\"`, quoting the seed",
            lint.name()
        ));
    Some((lint, d))
}

fn auto_grant_without_amount(m: &Measure, site: &Site) -> Option<(Lint, Diagnostic)> {
    if !m.auto_grant() || m.benefit.is_some() {
        return None;
    }
    let lint = Lint::AutoGrantWithoutAmount;
    let d = site
        .diagnostic(
            lint.code(),
            site.delivery.clone(),
            format!(
                "`{}` is granted without application (`auto_grant`) but has no `[benefit]`: no data decides what it pays",
                m.id
            ),
        )
        .with_help(format!(
            "add a `[benefit]` whose `expr` computes the amount from profile fields, drop `auto_grant` from `delivery`, or say why none is needed: `[allow]` `{} = \"…\"`",
            lint.name()
        ));
    Some((lint, d))
}

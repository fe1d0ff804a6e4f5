//! The validator: stage 1 (syntax) to stage 2 (IR), against the schema.
//!
//! It never stops at the first problem: every diagnostic of every file is collected.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use regex::Regex;

use crate::rules::centre::Centre;

use crate::diag::Code;
use crate::diag::Diagnostic;
use crate::lang::check::Want;
use crate::profile::enterprise::Profile;
use crate::profile::enterprise::RawValue;
use crate::profile::schema::Schema;
use crate::rules::centre::ScenarioRef;
use crate::rules::ir::AmountKind;
use crate::rules::ir::Benefit;
use crate::rules::ir::Condition;
use crate::rules::ir::Eligibility;
use crate::rules::ir::Example;
use crate::rules::ir::Expect;
use crate::rules::ir::Expr;
use crate::rules::ir::Group;
use crate::rules::ir::Measure;
use crate::rules::ir::Nature;
use crate::rules::ir::Test;
use crate::rules::lint;
use crate::rules::syntax;

/// The most conditions one measure may have, alternatives included: the evaluator keeps
/// a pair's statuses as 64-bit masks.
pub const MAX_CONDITIONS: usize = 64;

struct Ctx<'a> {
    schema: &'a Schema,
    file: &'a str,
    text: &'a Arc<str>,
    id: Option<String>,
    diags: Vec<Diagnostic>,
}

impl Ctx<'_> {
    fn push(&mut self, code: Code, span: Range<usize>, message: String, help: Option<String>) {
        let mut d = Diagnostic::new(code, self.file, message)
            .with_measure(self.id.as_deref())
            .at(self.text, span);
        d.help = help;
        self.diags.push(d);
    }

    fn label(&mut self, label: &toml::Spanned<String>) -> String {
        let text = label.get_ref().trim();
        if text.is_empty() {
            self.push(
                Code::EmptyLabel,
                label.span(),
                "condition has an empty label".into(),
                Some("write what the condition means in plain Chinese, e.g. \"小微企业\"".into()),
            );
        }
        text.to_owned()
    }

    fn tag(&mut self, tag: &toml::Spanned<String>) -> String {
        if let Err(p) = self.schema.check_tag(tag.get_ref()) {
            self.push(
                Code::UnknownTag,
                tag.span(),
                p.message(tag.get_ref()),
                p.help(),
            );
        }
        tag.get_ref().clone()
    }

    fn expr(&mut self, src: &toml::Spanned<String>, want: Want) -> Option<Expr> {
        match Expr::check(self.schema, src.get_ref(), want) {
            Ok(e) => Some(e),
            Err(problems) => {
                for p in problems {
                    let span = expr_span(self.text, src.span(), src.get_ref(), p.line, p.column);
                    self.push(p.code, span, p.message, p.help);
                }
                None
            }
        }
    }

    fn group(
        &mut self,
        label: Option<String>,
        all: &[syntax::TagCond],
        any: &[syntax::AnyCond],
        none: &[syntax::TagCond],
        when: &[syntax::WhenCond],
    ) -> Group {
        let mut conditions = Vec::new();
        for c in all {
            conditions.push(Condition {
                test: Test::Has(self.tag(&c.tag)),
                label: self.label(&c.label),
            });
        }
        for c in any {
            if c.tags.get_ref().is_empty() {
                self.push(
                    Code::EmptyEligibility,
                    c.tags.span(),
                    "`any` group lists no tag".into(),
                    None,
                );
            }
            let tags = c.tags.get_ref().iter().map(|t| self.tag(t)).collect();
            conditions.push(Condition {
                test: Test::Any(tags),
                label: self.label(&c.label),
            });
        }
        for c in none {
            conditions.push(Condition {
                test: Test::Lacks(self.tag(&c.tag)),
                label: self.label(&c.label),
            });
        }
        for c in when {
            let label = self.label(&c.label);
            if let Some(e) = self.expr(&c.expr, Want::Bool) {
                conditions.push(Condition {
                    test: Test::When(e),
                    label,
                });
            }
        }
        Group { label, conditions }
    }
}

/// Maps a 1-based (line, column) inside an expression to a byte span of the file.
/// Exact for a one-line string without escapes (basic or literal); otherwise the whole string.
fn expr_span(
    text: &str,
    string_span: Range<usize>,
    expr: &str,
    line: usize,
    column: usize,
) -> Range<usize> {
    let raw = text.get(string_span.clone()).unwrap_or("");
    let inner = ['"', '\'']
        .iter()
        .find_map(|q| raw.strip_prefix(*q).and_then(|r| r.strip_suffix(*q)));
    if inner == Some(expr) && line == 1 {
        let off: usize = expr
            .chars()
            .take(column.saturating_sub(1))
            .map(char::len_utf8)
            .sum();
        let start = string_span.start + 1 + off;
        let len = expr[off..].chars().next().map_or(1, char::len_utf8);
        return start..start + len;
    }
    string_span
}

fn toml_date(d: &toml::value::Datetime) -> Option<jiff::civil::Date> {
    match (d.date, d.time, d.offset) {
        (Some(date), None, None) => {
            jiff::civil::Date::new(date.year as i16, date.month as i8, date.day as i8).ok()
        }
        _ => None,
    }
}

/// What checking one file gave: the measure when it is valid, its declared id and
/// where that stands (for cross-file checks), every error, and the warnings of the lint
/// pass (run only on a valid measure).
pub struct Checked {
    pub measure: Option<Measure>,
    pub id: Option<(String, Range<usize>)>,
    pub diags: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

/// Checks one measure file. `file` is its path relative to the rules directory.
pub fn measure(schema: &Schema, centre: &Centre, file: &str, text: &Arc<str>) -> Checked {
    let raw: syntax::MeasureFile = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            let d = Diagnostic::new(Code::Syntax, file, e.message().trim().to_owned());
            let d = match e.span() {
                Some(span) => d.at(text, span),
                None => d,
            };
            return Checked {
                measure: None,
                id: None,
                diags: vec![d.with_measure(file_stem(file))],
                warnings: Vec::new(),
            };
        }
    };
    let mut cx = Ctx {
        schema,
        file,
        text,
        id: Some(raw.id.get_ref().clone()),
        diags: Vec::new(),
    };
    // A literal pattern: it cannot fail to compile.
    let id_re = Regex::new("^M[0-9]{3}$").expect("static regex");
    let id = raw.id.get_ref().clone();
    if !id_re.is_match(&id) {
        cx.push(
            Code::BadId,
            raw.id.span(),
            format!("measure id `{id}` is not of the form `M001`"),
            None,
        );
    } else if file_stem(file) != Some(id.as_str()) {
        cx.push(
            Code::BadId,
            raw.id.span(),
            format!("measure id `{id}` does not match the file name `{file}`"),
            Some(format!("name the file `measures/{id}.toml`")),
        );
    }
    if !(1..=32).contains(raw.article.get_ref()) {
        cx.push(
            Code::BadId,
            raw.article.span(),
            format!(
                "article `{}` is not between 1 and 32",
                raw.article.get_ref()
            ),
            None,
        );
    }
    if raw.implementation.get_ref().is_empty() {
        cx.push(
            Code::Syntax,
            raw.implementation.span(),
            "`implementation` lists neither `provincial` nor `local`".into(),
            None,
        );
    }
    if raw.delivery.get_ref().is_empty() {
        cx.push(
            Code::Syntax,
            raw.delivery.span(),
            "`delivery` lists neither `push` nor `auto_grant`".into(),
            None,
        );
    }
    let nature = nature(&mut cx, &raw.nature, raw.id.span());
    let window = |d: &Option<toml::Spanned<toml::value::Datetime>>, cx: &mut Ctx| {
        let d = d.as_ref()?;
        let parsed = toml_date(d.get_ref());
        if parsed.is_none() {
            cx.push(
                Code::Syntax,
                d.span(),
                "expected a date like `2027-12-31`, without time".into(),
                None,
            );
        }
        parsed.map(|p| (p, d.span()))
    };
    let valid_from = window(&raw.valid_from, &mut cx);
    let valid_until = window(&raw.valid_until, &mut cx);
    if let (Some((from, _)), Some((until, span))) = (&valid_from, &valid_until)
        && from > until
    {
        cx.push(
            Code::DatesOutOfOrder,
            span.clone(),
            format!("`valid_until` {until} is before `valid_from` {from}"),
            None,
        );
    }

    let zone = match centre.zone_of(raw.window.get_ref()) {
        Ok(z) => z.name.clone(),
        Err(suggestion) => {
            cx.push(
                Code::UnknownWindow,
                raw.window.span(),
                format!(
                    "window `{}` is in no zone of centre.toml",
                    raw.window.get_ref()
                ),
                Some(suggestion.map_or(
                    "add it to the zone that handles it in centre.toml".into(),
                    |s| format!("did you mean `{s}`?"),
                )),
            );
            String::new()
        }
    };
    let scenario_name =
        raw.scenario
            .as_ref()
            .and_then(|s| match centre.resolve_scenario(s.get_ref()) {
                Ok(ScenarioRef::Scenario(name)) => Some(name),
                Ok(ScenarioRef::Reform(_)) => None,
                Err(suggestion) => {
                    cx.push(
                        Code::UnknownScenario,
                        s.span(),
                        format!(
                            "scenario `{}` is neither a 一类事 nor a reform value of centre.toml",
                            s.get_ref()
                        ),
                        suggestion.map(|s| format!("did you mean `{s}`?")),
                    );
                    None
                }
            });

    let el = raw.eligibility.get_ref();
    let base = cx.group(None, &el.all, &el.any, &el.none, &el.when);
    let alternatives: Vec<Group> = el
        .alternative
        .iter()
        .map(|a| {
            let alt = a.get_ref();
            let label = cx.label(&alt.label);
            let g = cx.group(Some(label), &alt.all, &alt.any, &alt.none, &alt.when);
            if g.conditions.is_empty() && alt.when.is_empty() {
                cx.push(
                    Code::EmptyEligibility,
                    a.span(),
                    "alternative has no condition".into(),
                    None,
                );
            }
            g
        })
        .collect();
    let conditions = base.conditions.len()
        + alternatives
            .iter()
            .map(|a| a.conditions.len())
            .sum::<usize>();
    if conditions > MAX_CONDITIONS {
        cx.push(
            Code::TooManyConditions,
            raw.eligibility.span(),
            format!("eligibility has {conditions} conditions, over the limit of {MAX_CONDITIONS}"),
            Some("a measure this complex is several measures: split it".into()),
        );
    }
    let declared =
        el.all.len() + el.any.len() + el.none.len() + el.when.len() + el.alternative.len();
    if declared == 0 {
        cx.push(
            Code::EmptyEligibility,
            raw.eligibility.span(),
            "eligibility has no condition".into(),
            Some("a measure for every enterprise says so deliberately: `all = [{ tag = \"kind:enterprise\", label = \"企业\" }]`".into()),
        );
    }

    let benefit = raw.benefit.as_ref().and_then(|b| {
        let label = cx.label(&b.label);
        if let Some(cap) = &b.cap
            && !(cap.get_ref().is_finite() && *cap.get_ref() >= 0.0)
        {
            cx.push(
                Code::TypeMismatch,
                cap.span(),
                "`cap` must be a finite number, at least 0".into(),
                None,
            );
        }
        let kind = amount_kind(&mut cx, b);
        let expr = cx.expr(&b.expr, Want::Num)?;
        Some(Benefit {
            expr,
            kind: kind?,
            unit: b.unit,
            label,
            cap: b.cap.as_ref().map(|c| *c.get_ref()),
        })
    });

    let site = lint::Site {
        file,
        text,
        id: Some(raw.id.get_ref()),
        eligibility: raw.eligibility.span(),
        delivery: raw.delivery.span(),
    };
    let (allowed, bad_allow) = lint::allow(raw.allow.as_ref(), &site);
    cx.diags.extend(bad_allow);

    let examples = raw
        .examples
        .iter()
        .filter_map(|ex| example(&mut cx, ex))
        .collect();

    let measure = Measure {
        id,
        article: *raw.article.get_ref(),
        article_title: raw.article_title,
        text: raw.text,
        implementation: raw.implementation.into_inner(),
        basic_services: raw.basic_services,
        value_added_services: raw.value_added_services,
        channels: raw.channels,
        scenario: raw.scenario.map(toml::Spanned::into_inner),
        scenario_name,
        window: raw.window.into_inner(),
        zone,
        lead_departments: raw.lead_departments,
        topics: raw.topics,
        delivery: raw.delivery.into_inner(),
        // A missing or unknown nature is a diagnostic, so no measure is built with this.
        nature: nature.unwrap_or(Nature::Internal),
        valid_from: valid_from.map(|(d, _)| d),
        valid_until: valid_until.map(|(d, _)| d),
        eligibility: Eligibility { base, alternatives },
        benefit,
        examples,
        file: file.to_owned(),
    };
    let ok = cx.diags.is_empty();
    let warnings = match ok {
        true => lint::measure(schema, &measure, &allowed, &site),
        false => Vec::new(),
    };
    Checked {
        measure: ok.then_some(measure),
        id: Some((raw.id.get_ref().clone(), raw.id.span())),
        diags: cx.diags,
        warnings,
    }
}

/// The measure's nature: required, and one of the four, with a "did you mean" for a
/// misspelling. A missing key is reported at the id, the file's first key.
fn nature(
    cx: &mut Ctx,
    raw: &Option<toml::Spanned<String>>,
    id_span: Range<usize>,
) -> Option<Nature> {
    let names = Nature::ALL.map(Nature::as_str);
    let Some(raw) = raw else {
        cx.push(
            Code::BadNature,
            id_span,
            "`nature` is missing: say what the measure gives an enterprise".into(),
            Some(format!(
                "add `nature = \"…\"`, one of {}, with the seed's words in a comment",
                crate::diag::listed(&names)
            )),
        );
        return None;
    };
    let found = Nature::parse(raw.get_ref().trim());
    if found.is_none() {
        let hint = crate::diag::did_you_mean_or_list(raw.get_ref(), &names, "expected one of");
        cx.push(
            Code::BadNature,
            raw.span(),
            format!("unknown nature `{}`", raw.get_ref()),
            Some(hint),
        );
    }
    found
}

/// The kind of a benefit's amount: required, one of the four, with a unit it can be
/// counted in (money in yuan, a quota in 亩 or as a plot ratio).
fn amount_kind(cx: &mut Ctx, b: &syntax::Benefit) -> Option<AmountKind> {
    let names = AmountKind::ALL.map(AmountKind::as_str);
    let Some(raw) = &b.kind else {
        cx.push(
            Code::BadAmountKind,
            b.expr.span(),
            "the benefit has no `kind`: say what its amount is".into(),
            Some(format!(
                "add `kind = \"…\"` to `[benefit]`, one of {}",
                crate::diag::listed(&names)
            )),
        );
        return None;
    };
    let Some(kind) = AmountKind::parse(raw.get_ref().trim()) else {
        let hint = crate::diag::did_you_mean_or_list(raw.get_ref(), &names, "expected one of");
        cx.push(
            Code::BadAmountKind,
            raw.span(),
            format!("unknown amount kind `{}`", raw.get_ref()),
            Some(hint),
        );
        return None;
    };
    if !kind.fits(b.unit) {
        cx.push(
            Code::BadAmountKind,
            raw.span(),
            format!(
                "an amount of kind `{}` cannot be counted in `{}`",
                kind.as_str(),
                b.unit.as_str()
            ),
            Some("money (`cash`, `tax_deduction`, `fee_waiver`) is in `yuan`; a `quota` is in `mu` or `plot_ratio`".into()),
        );
        return None;
    }
    Some(kind)
}

fn example(cx: &mut Ctx, ex: &toml::Spanned<syntax::Example>) -> Option<Example> {
    let span = ex.span();
    let ex = ex.get_ref();
    let expect = match ex.expect.get_ref().as_str() {
        "eligible" => Expect::Eligible,
        "not_eligible" => Expect::NotEligible,
        "undetermined" => Expect::Undetermined,
        "amount_pending" => Expect::AmountPending,
        other => {
            cx.push(
                Code::BadExample,
                ex.expect.span(),
                format!("example `{}` expects `{other}`", ex.name),
                Some(
                    "expect one of `eligible`, `not_eligible`, `undetermined`, `amount_pending`"
                        .into(),
                ),
            );
            return None;
        }
    };
    let as_of = match &ex.as_of {
        Some(d) => match toml_date(d) {
            Some(d) => Some(d),
            None => {
                cx.push(
                    Code::BadExample,
                    span,
                    format!("example `{}` has an `as_of` that is not a date", ex.name),
                    None,
                );
                return None;
            }
        },
        None => None,
    };
    let mut fields = Vec::new();
    for (k, v) in &ex.fields {
        let raw = match v.get_ref() {
            toml::Value::Integer(i) => RawValue::Integer(*i),
            toml::Value::Float(f) => RawValue::Number(*f),
            toml::Value::Boolean(b) => RawValue::Bool(*b),
            toml::Value::String(s) => RawValue::Text(s.clone()),
            toml::Value::Datetime(d) => match toml_date(d) {
                Some(d) => RawValue::Text(d.to_string()),
                None => RawValue::Text(d.to_string()),
            },
            other => RawValue::Text(other.to_string()),
        };
        fields.push((k.clone(), raw));
    }
    let tags = ex.tags.iter().map(|t| t.get_ref().clone()).collect();
    match Profile::build(
        cx.schema,
        format!("example:{}", ex.name),
        ex.name.clone(),
        tags,
        fields,
    ) {
        Ok(profile) => Some(Example {
            name: ex.name.clone(),
            expect,
            as_of,
            profile,
            amount: ex.amount,
        }),
        Err(e) => {
            cx.push(
                Code::BadExample,
                span,
                format!("example `{}`: {e}", ex.name),
                None,
            );
            None
        }
    }
}

fn file_stem(file: &str) -> Option<&str> {
    std::path::Path::new(file).file_stem()?.to_str()
}

/// Cross-file checks: a measure id declared by two files. `ids` is (id, span, file) in
/// file order, for every file that parsed, valid or not.
pub fn duplicate_ids(
    ids: &[(String, Range<usize>, String)],
    sources: &BTreeMap<String, Arc<str>>,
) -> Vec<Diagnostic> {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    let mut diags = Vec::new();
    for (id, span, file) in ids {
        if let Some(first) = seen.insert(id, file) {
            diags.push(
                Diagnostic::new(
                    Code::DuplicateId,
                    file,
                    format!("measure id `{id}` is already defined in `{first}`"),
                )
                .with_help("each measure has exactly one file; merge the two or renumber one")
                .with_measure(Some(id))
                .at(&sources[file], span.clone()),
            );
        }
    }
    diags
}

//! The profile schema (一企一档 vocabulary): tag namespaces and typed fields.
//!
//! Parsed from `rules/schema.toml`; every rule, example and enterprise profile is checked
//! against it.

use std::collections::BTreeMap;
use std::sync::Arc;

use regex::Regex;
use serde::Deserialize;

use crate::diag::Code;
use crate::names::RESERVED;

use crate::diag::Diagnostic;

use crate::diag::did_you_mean;

/// The type of a profile field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Number,
    Integer,
    Date,
    Bool,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Number => "number",
            FieldType::Integer => "integer",
            FieldType::Date => "date",
            FieldType::Bool => "bool",
        }
    }
}

#[derive(Debug, Clone)]
pub struct FieldDef {
    pub name: String,
    /// Position in the schema's field order; profiles keep a presence bit per index.
    pub index: usize,
    pub ty: FieldType,
    pub unit: Option<String>,
    pub meaning: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// A fact the enterprise cannot change for a policy (its founding date): a clause
    /// that reads only identity fields and tags is never a near miss.
    pub identity: bool,
}

#[derive(Debug, Clone)]
pub enum Values {
    /// A closed list: value → plain-Chinese label.
    Closed(BTreeMap<String, String>),
    /// An open namespace whose values match a pattern.
    Pattern(Regex),
}

#[derive(Debug, Clone)]
pub struct Namespace {
    pub name: String,
    pub meaning: String,
    pub values: Values,
    pub hierarchical: bool,
    /// What the enterprise is (kind, ownership, industry, business model, region), not something it can
    /// change for a policy: a failed condition on it is never a near miss.
    pub identity: bool,
    /// Whether a condition on it narrows a measure's audience, so that pushes rank by
    /// it (精准推送's specificity). False for what every other market entity shares
    /// (kind, ownership): a measure for 民营企业 is not specific to any one of them.
    pub narrows: bool,
}

#[derive(Debug, Clone)]
pub struct Schema {
    pub namespaces: BTreeMap<String, Namespace>,
    /// Fields in index order.
    pub fields: Vec<FieldDef>,
    // Hashed: looked up for every field of every profile read.
    by_name: rustc_hash::FxHashMap<String, usize>,
}

/// Why a tag is not in the vocabulary; rendered by the caller with its own location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagProblem {
    NoColon,
    UnknownNamespace {
        suggestion: Option<String>,
    },
    UnknownValue {
        suggestion: Option<String>,
    },
    /// A value of an open namespace that does not match its pattern.
    PatternMismatch {
        pattern: String,
        suggestion: Option<String>,
    },
}

impl TagProblem {
    pub fn message(&self, tag: &str) -> String {
        match self {
            TagProblem::NoColon => format!("tag `{tag}` is not of the form `namespace:value`"),
            TagProblem::UnknownNamespace { .. } => {
                format!("unknown tag namespace in `{tag}`")
            }
            TagProblem::UnknownValue { .. } => format!("unknown tag `{tag}`"),
            TagProblem::PatternMismatch { pattern, .. } => {
                format!("tag `{tag}` does not match the pattern `{pattern}` of its namespace")
            }
        }
    }

    pub fn help(&self) -> Option<String> {
        match self {
            TagProblem::NoColon => {
                Some("write tags as `namespace:value`, e.g. `cert:high_tech`".into())
            }
            TagProblem::UnknownNamespace { suggestion }
            | TagProblem::UnknownValue { suggestion } => {
                suggestion.as_ref().map(|s| format!("did you mean `{s}`?"))
            }
            TagProblem::PatternMismatch { suggestion, .. } => {
                suggestion.as_ref().map(|s| format!("did you mean `{s}`?"))
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchema {
    #[serde(default)]
    tags: BTreeMap<String, toml::Spanned<RawNamespace>>,
    #[serde(default)]
    fields: BTreeMap<String, toml::Spanned<RawField>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNamespace {
    meaning: String,
    values: Option<BTreeMap<String, String>>,
    pattern: Option<String>,
    #[serde(default)]
    hierarchical: bool,
    #[serde(default)]
    identity: bool,
    #[serde(default = "narrows_by_default")]
    narrows: bool,
}

fn narrows_by_default() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    #[serde(rename = "type")]
    ty: FieldType,
    unit: Option<String>,
    meaning: String,
    min: Option<f64>,
    max: Option<f64>,
    #[serde(default)]
    identity: bool,
}

impl Schema {
    /// Whether the field `name` is an identity field (a fact the enterprise cannot
    /// change, such as its founding date).
    pub fn is_identity_field(&self, name: &str) -> bool {
        self.field(name).is_some_and(|f| f.identity)
    }

    /// Whether a condition on `tag` narrows a measure's audience (its namespace is not
    /// one every other market entity shares, such as kind or ownership).
    pub fn narrows(&self, tag: &str) -> bool {
        tag.split_once(':')
            .and_then(|(ns, _)| self.namespaces.get(ns))
            .is_none_or(|ns| ns.narrows)
    }

    /// Whether `tag` (`namespace:value`) is in an identity namespace.
    pub fn is_identity(&self, tag: &str) -> bool {
        tag.split_once(':')
            .and_then(|(ns, _)| self.namespaces.get(ns))
            .is_some_and(|ns| ns.identity)
    }

    /// Parses `schema.toml`; `file` names it in diagnostics.
    pub fn parse(file: &str, text: &Arc<str>) -> Result<Schema, Vec<Diagnostic>> {
        let raw: RawSchema = toml::from_str(text).map_err(|e| {
            let d = Diagnostic::new(Code::SchemaSyntax, file, e.message().to_owned());
            vec![match e.span() {
                Some(span) => d.at(text, span),
                None => d,
            }]
        })?;
        let mut diags = Vec::new();
        // A literal pattern, tested by every catalog load: it cannot fail to compile.
        let ident = Regex::new("^[a-z][a-z0-9_]*$").expect("static regex");
        let mut namespaces = BTreeMap::new();
        for (name, ns) in raw.tags {
            let span = ns.span();
            let ns = ns.into_inner();
            let bad = |msg: String| {
                Diagnostic::new(Code::SchemaBadNamespace, file, msg).at(text, span.clone())
            };
            if !ident.is_match(&name) {
                diags.push(bad(format!("namespace `{name}` must be lowercase ascii")));
            }
            let values = match (ns.values, ns.pattern) {
                (Some(v), None) => Values::Closed(v),
                (None, Some(p)) => match Regex::new(&p) {
                    Ok(re) => Values::Pattern(re),
                    Err(e) => {
                        diags.push(bad(format!(
                            "pattern of namespace `{name}` is not a valid regex: {e}"
                        )));
                        continue;
                    }
                },
                _ => {
                    diags.push(
                        bad(format!(
                            "namespace `{name}` needs exactly one of `values` or `pattern`"
                        ))
                        .with_help(
                            "a closed list uses `values = { … }`, an open one `pattern = \"…\"`",
                        ),
                    );
                    continue;
                }
            };
            namespaces.insert(
                name.clone(),
                Namespace {
                    name,
                    meaning: ns.meaning,
                    values,
                    hierarchical: ns.hierarchical,
                    identity: ns.identity,
                    narrows: ns.narrows,
                },
            );
        }
        let mut fields = Vec::new();
        for (name, f) in raw.fields {
            let span = f.span();
            let f = f.into_inner();
            if !ident.is_match(&name)
                || RESERVED.contains(&name.as_str())
                || crate::names::HELPERS.contains(&name.as_str())
            {
                diags.push(
                    Diagnostic::new(
                        Code::SchemaBadField,
                        file,
                        format!("field name `{name}` must be a lowercase identifier, not a reserved name ({RESERVED:?}) nor a helper ({:?})", crate::names::HELPERS),
                    )
                    .at(text, span),
                );
                continue;
            }
            if let (Some(lo), Some(hi)) = (f.min, f.max)
                && lo > hi
            {
                diags.push(
                    Diagnostic::new(
                        Code::SchemaBadField,
                        file,
                        format!("field `{name}` has min above max"),
                    )
                    .at(text, span.clone()),
                );
            }
            fields.push(FieldDef {
                index: fields.len(),
                name,
                ty: f.ty,
                unit: f.unit,
                meaning: f.meaning,
                min: f.min,
                max: f.max,
                identity: f.identity,
            });
        }
        if !diags.is_empty() {
            return Err(diags);
        }
        let by_name = fields.iter().map(|f| (f.name.clone(), f.index)).collect();
        Ok(Schema {
            namespaces,
            fields,
            by_name,
        })
    }

    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.by_name.get(name).map(|&i| &self.fields[i])
    }

    pub fn suggest_field(&self, name: &str) -> Option<String> {
        did_you_mean(name, self.fields.iter().map(|f| f.name.as_str())).map(str::to_owned)
    }

    /// Checks `namespace:value` against the vocabulary.
    pub fn check_tag(&self, tag: &str) -> Result<&Namespace, TagProblem> {
        let Some((ns_name, value)) = tag.split_once(':') else {
            return Err(TagProblem::NoColon);
        };
        let Some(ns) = self.namespaces.get(ns_name) else {
            let suggestion = did_you_mean(ns_name, self.namespaces.keys().map(String::as_str))
                .map(|n| format!("{n}:{value}"));
            return Err(TagProblem::UnknownNamespace { suggestion });
        };
        let ok = match &ns.values {
            Values::Closed(v) => v.contains_key(value),
            Values::Pattern(re) => re.is_match(value),
        };
        if ok {
            Ok(ns)
        } else {
            match &ns.values {
                Values::Closed(v) => Err(TagProblem::UnknownValue {
                    suggestion: did_you_mean(value, v.keys().map(String::as_str))
                        .map(|s| format!("{ns_name}:{s}")),
                }),
                Values::Pattern(re) => {
                    let suggestion = [value.to_uppercase(), value.to_lowercase()]
                        .into_iter()
                        .find(|v| re.is_match(v))
                        .map(|v| format!("{ns_name}:{v}"));
                    Err(TagProblem::PatternMismatch {
                        pattern: re.as_str().to_owned(),
                        suggestion,
                    })
                }
            }
        }
    }

    /// The plain label of a tag, for explanations: the closed-list label or the tag itself.
    pub fn tag_label(&self, tag: &str) -> String {
        tag.split_once(':')
            .and_then(|(ns, v)| match &self.namespaces.get(ns)?.values {
                Values::Closed(m) => m.get(v).cloned(),
                Values::Pattern(_) => None,
            })
            .unwrap_or_else(|| tag.to_owned())
    }
}

/// The built-in schema (`rules/schema.toml`), for the unit tests of the modules that read
/// profiles, in this crate and the batch crate.
#[doc(hidden)]
pub fn builtin_for_tests() -> Schema {
    let text: Arc<str> = include_str!("../../rules/schema.toml").into();
    // The embedded file is the one every test loads: a parse failure fails them all.
    Schema::parse("schema.toml", &text).expect("rules/schema.toml parses")
}

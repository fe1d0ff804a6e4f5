//! One measure's `CASE` of the push query: its tag columns, conditions and benefit, and
//! the decision of `eval::decide` over them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::civil::Date;

use crate::profile::schema::Schema;
use crate::rules::ir::Expr;
use crate::rules::ir::Group;
use crate::rules::ir::Measure;
use crate::rules::ir::Test;
use crate::sql::SqlError;
use crate::sql::expr::{Sql, Tr};
use crate::sql::{comment, ident, string_lit};

/// The columns of the `tagged` CTE: one per tested tag.
pub(super) struct TagColumns<'a> {
    schema: &'a Schema,
    pub(super) names: BTreeMap<String, String>,
}

impl<'a> TagColumns<'a> {
    pub(super) fn new(schema: &'a Schema, measures: &[&Measure]) -> Self {
        let mut tags: Vec<&str> = Vec::new();
        for m in measures {
            for (_, c) in m.conditions() {
                match &c.test {
                    Test::Has(t) | Test::Lacks(t) => tags.push(t),
                    Test::Any(ts) => tags.extend(ts.iter().map(String::as_str)),
                    Test::When(e) => tags.extend(e.tags.iter().map(String::as_str)),
                }
            }
            if let Some(b) = &m.benefit {
                tags.extend(b.expr.tags.iter().map(String::as_str));
            }
        }
        tags.sort_unstable();
        tags.dedup();
        // Named after the tag (no field name holds `:`), unless PostgreSQL would cut it.
        let names = tags
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let name = if t.len() <= 63 {
                    (*t).to_owned()
                } else {
                    format!("tag#{i}")
                };
                ((*t).to_owned(), ident(&name))
            })
            .collect();
        TagColumns { schema, names }
    }

    /// The column testing `tag`; `FALSE` for a tag the CTE does not compute (none).
    pub(super) fn column(&self, tag: &str) -> String {
        self.names
            .get(tag)
            .cloned()
            .unwrap_or_else(|| "FALSE".into())
    }

    /// Whether one of a profile's tags, `t.tag`, gives `tag`, as in
    /// `tags::Interner::tagset`: equal, or in a hierarchical namespace starting with it.
    pub(super) fn test(&self, tag: &str) -> String {
        let hierarchical = tag
            .split_once(':')
            .and_then(|(ns, _)| self.schema.namespaces.get(ns))
            .is_some_and(|ns| ns.hierarchical);
        let value_empty = tag.split_once(':').is_none_or(|(_, v)| v.is_empty());
        if !hierarchical {
            format!("t.tag = {}", string_lit(tag))
        } else if value_empty {
            // A value must have at least one character to be matched below.
            "FALSE".into()
        } else {
            format!("starts_with(t.tag, {})", string_lit(tag))
        }
    }
}

/// A condition line: its SQL and the label it comes from.
struct Line {
    sql: String,
    note: String,
}

impl Line {
    fn render(&self) -> String {
        if self.note.is_empty() {
            self.sql.clone()
        } else {
            format!("{}  -- {}", self.sql, comment(&self.note))
        }
    }
}

pub(super) struct MeasureQuery<'a> {
    pub(super) as_of: Date,
    pub(super) tags: &'a TagColumns<'a>,
    pub(super) measure: &'a Measure,
}

/// What a `when` clause becomes: whether it holds, and whether it failed.
struct Clause {
    holds: String,
    failed: Option<String>,
}

impl MeasureQuery<'_> {
    fn error(&self, expr: &str, reason: String) -> SqlError {
        SqlError {
            measure: self.measure.id.clone(),
            expr: expr.to_owned(),
            reason,
        }
    }

    fn expr(&self, e: &Expr) -> Result<(Sql, String), SqlError> {
        let tag = |t: &str| self.tags.column(t);
        let s = Tr {
            as_of: self.as_of,
            tag: &tag,
        }
        .expr(&e.tree)
        .map_err(|r| self.error(&e.source, r))?;
        let present: Vec<String> = e
            .fields
            .iter()
            .map(|f| format!("{} IS NOT NULL", ident(f)))
            .collect();
        Ok((s, present.join(" AND ")))
    }

    fn clause(&self, e: &Expr) -> Result<Clause, SqlError> {
        let (s, present) = self.expr(e)?;
        let value = if s.fallible {
            format!("({}) IS TRUE", s.text)
        } else {
            s.text.clone()
        };
        let guarded = |v: String| {
            if present.is_empty() {
                v
            } else {
                format!("({present} AND {v})")
            }
        };
        Ok(Clause {
            holds: guarded(value),
            failed: s.fallible.then(|| guarded(format!("({}) IS NULL", s.text))),
        })
    }

    fn tag_test(&self, t: &Test) -> Option<String> {
        match t {
            Test::Has(tag) => Some(self.tags.column(tag)),
            Test::Lacks(tag) => Some(format!("NOT {}", self.tags.column(tag))),
            Test::Any(tags) => Some(format!(
                "({})",
                tags.iter()
                    .map(|t| self.tags.column(t))
                    .collect::<Vec<_>>()
                    .join(" OR ")
            )),
            Test::When(_) => None,
        }
    }

    /// Every condition of a group, and the test that one of its clauses failed.
    fn group(&self, g: &Group) -> Result<(Vec<Line>, Option<String>), SqlError> {
        let mut lines = Vec::new();
        let mut tag_tests = Vec::new();
        let mut failures = Vec::new();
        for c in &g.conditions {
            let sql = match &c.test {
                Test::When(e) => {
                    let clause = self.clause(e)?;
                    failures.extend(clause.failed);
                    clause.holds
                }
                t => {
                    let s = self.tag_test(t).unwrap_or_else(|| "TRUE".into());
                    tag_tests.push(s.clone());
                    s
                }
            };
            lines.push(Line {
                sql,
                note: c.label.clone(),
            });
        }
        let failed = (!failures.is_empty()).then(|| {
            let any_failed = format!("({})", failures.join(" OR "));
            if tag_tests.is_empty() {
                any_failed
            } else {
                format!("({} AND {any_failed})", tag_tests.join(" AND "))
            }
        });
        Ok((lines, failed))
    }

    /// The `CASE` giving the measure's id when the pair is pushed, `NULL` otherwise.
    pub(super) fn case(&self) -> Result<String, SqlError> {
        let m = self.measure;
        let mut where_: Vec<Line> = Vec::new();
        let (base, _) = self.group(&m.eligibility.base)?;
        where_.extend(base);
        if !m.eligibility.alternatives.is_empty() {
            let mut alts = Vec::new();
            let mut failures = Vec::new();
            for (i, g) in m.eligibility.alternatives.iter().enumerate() {
                let (lines, failed) = self.group(g)?;
                let label = g
                    .label
                    .clone()
                    .unwrap_or_else(|| format!("alternative {}", i + 1));
                let body = if lines.is_empty() {
                    "TRUE".to_owned()
                } else {
                    lines
                        .iter()
                        .map(Line::render)
                        .collect::<Vec<_>>()
                        .join("\n                AND ")
                };
                let or = if i == 0 {
                    "                "
                } else {
                    "\n             OR "
                };
                alts.push(format!(
                    "{or}(  -- {}\n                    {body}\n                )",
                    comment(&label)
                ));
                if let Some(f) = failed {
                    failures.push((f, label));
                }
            }
            where_.push(Line {
                sql: format!(
                    "(  -- one alternative holds\n{}\n          )",
                    alts.concat()
                ),
                note: String::new(),
            });
            for (f, label) in failures {
                where_.push(Line {
                    sql: format!("NOT {f}"),
                    note: format!("no clause of「{}」fails to evaluate", comment(&label)),
                });
            }
        }
        if let Some(b) = &m.benefit {
            let (s, present) = self.expr(&b.expr)?;
            // An amount that waits on a missing field is still a push (amount pending);
            // a known amount below 0 is an error, never pushed.
            let value = format!("({}) >= 0", s.text);
            where_.push(Line {
                sql: if present.is_empty() {
                    value
                } else {
                    format!("(NOT ({present}) OR {value})")
                },
                note: format!("benefit pending or at least 0: {}", b.label),
            });
        }
        let mut out = String::new();
        let _ = writeln!(
            out,
            "    -- {} {}（第{}条） · {}",
            m.id,
            comment(&crate::report::explain::title(m)),
            m.article,
            comment(&m.file)
        );
        if where_.is_empty() {
            let _ = write!(out, "    {}", string_lit(&m.id));
            return Ok(out);
        }
        for (i, l) in where_.iter().enumerate() {
            let word = if i == 0 {
                "    CASE WHEN "
            } else {
                "\n          AND "
            };
            let _ = write!(out, "{word}{}", l.render());
        }
        let _ = write!(out, "\n      THEN {} END", string_lit(&m.id));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_tested_exactly_or_by_prefix_in_hierarchical_namespaces() {
        let schema = crate::profile::schema::builtin_for_tests();
        let cols = TagColumns {
            schema: &schema,
            names: BTreeMap::new(),
        };
        assert_eq!(
            cols.test("industry:C17"),
            "starts_with(t.tag, 'industry:C17')"
        );
        assert_eq!(cols.test("cert:it's"), "t.tag = 'cert:it''s'");
        assert_eq!(cols.column("kind:none"), "FALSE");
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
    }
}

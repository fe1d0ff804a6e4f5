//! The push list as one SQL query, for DuckDB and PostgreSQL (`compile --emit sql`).
//!
//! A data warehouse that already holds the population can compute the nightly push list
//! (精准推送) itself, and anyone can cross-check `policy-match match` with an independent
//! engine. [`push_query`] prints one query that reads a table or view `profiles` with the
//! columns `gen --out x.parquet` writes — `id`, `tags` (a list of text), then one column
//! per schema field: number `DOUBLE`, integer `BIGINT`, date `DATE`, bool `BOOLEAN`,
//! `NULL` for a missing value — and returns `(enterprise_id, measure_id)`, ordered by
//! both, exactly the pairs `match` writes to `eligible` (the pushes before the cap) for
//! every enterprise it does not reject.
//!
//! What the query reproduces, and how:
//!
//! - **Effective window and delivery.** `as_of` is known when the query is emitted, so
//!   measures out of their window or without `push` delivery are simply left out, and
//!   `as_of` is a `DATE` literal.
//! - **Tags.** One pass over the (enterprise, tag) pairs of `unnest(tags)` gives one
//!   boolean column per tag the measures test (named after the tag) with `bool_or`: by
//!   equality, or by `starts_with` in a hierarchical namespace (`industry:C17` matches
//!   `industry:C1713`), as `tags::Interner::tagset` does.
//! - **`when` clauses** are translated from the typed tree the checker made of them
//!   ([`crate::lang::tree`], never from the text), with rhai's semantics: integer
//!   arithmetic stays `BIGINT`, `/` is floating division and `NULLIF` turns a zero
//!   divisor into `NULL`, float comparisons use rhai's relative-epsilon rule (see
//!   `native::float_cmp`), dates are `DATE`s (`date ± integer days`, `date - date` days,
//!   `year`, `add_months` clamping to the month's end like jiff), `if` is `CASE`. Inside
//!   an expression `NULL` stands for a runtime error:
//!   `&&`, `||` and `if` short-circuit as rhai does (a `CASE` where an operand may be
//!   `NULL`), and `min`/`max` propagate it, unlike SQL's `LEAST`/`GREATEST`.
//! - **Decision** ([`crate::eval::decide`]): a clause holds when every field it reads is
//!   `NOT NULL` and it is true; the base group must hold and, if there are alternatives,
//!   one of them. A clause that fails to evaluate makes the pair an error, never pushed:
//!   in the base group it simply does not hold; in an alternative whose tag tests hold,
//!   the pair is excluded. A measure with a benefit is pushed when its amount evaluates
//!   to a number at least 0, or when a field the amount reads is missing (`match`
//!   reports that pair `amount_pending`: pushed, never granted); an amount that fails to
//!   evaluate is an error, never pushed.
//!
//! - **Shape.** One row per enterprise carries an array with one `CASE` per measure —
//!   the measure id when the pair is pushed, `NULL` otherwise — unnested and filtered:
//!   every condition is computed in a single scan of `profiles`.
//!
//! Not reproduced: arithmetic that leaves the range of `DOUBLE` or `BIGINT`, dates
//! outside years 1–9999, and float comparisons of two values whose product underflows
//! (both below about 1e-162 in magnitude): rhai errors or decides by its own rule where
//! PostgreSQL raises an error and DuckDB gives infinity — none of which a valid profile
//! holds. Rows `match` rejects (bad ids, unknown tags, out-of-range values, duplicate
//! ids) are not recognised: the query assumes a valid population, with unique ids. An
//! expression where rhai fails or not depending on which number type an `if` branch
//! gives at run time (such a number given to `year`, `days_between` or `add_months`,
//! which exist for integers only, or added to a date) would have no exact translation;
//! the checker refuses those, so every checked expression translates, and [`SqlError`]
//! is left for a tree of types no checked rule has. Rows come in the database's text
//! collation; ids and measure ids are ASCII digits and capitals, which the `C` collation
//! (and the usual language ones) orders as `match` does.
//!
//! Pure: this module builds a string and does no IO.

mod expr;
mod measure;

use std::fmt::Write as _;

use jiff::civil::Date;

use crate::compile::catalog::Catalog;
use crate::profile::schema::Schema;
use crate::rules::ir::Measure;
use crate::rules::ir::Test;
use crate::sql::measure::{MeasureQuery, TagColumns};

/// An expression the emitter cannot translate exactly; no query is emitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{measure}: `{expr}` has no exact SQL translation: {reason}")]
pub struct SqlError {
    /// The measure id.
    pub measure: String,
    /// The expression as written.
    pub expr: String,
    /// Why it has no exact translation.
    pub reason: String,
}

/// A quoted identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A quoted string literal (standard: backslashes are plain characters).
fn string_lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// One line of comment text.
fn comment(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// The fields the measures read, in schema order.
fn fields_read<'s>(schema: &'s Schema, measures: &[&Measure]) -> Vec<&'s str> {
    let mut read = std::collections::BTreeSet::new();
    for m in measures {
        for (_, c) in m.conditions() {
            if let Test::When(e) = &c.test {
                read.extend(e.fields.iter().map(String::as_str));
            }
        }
        if let Some(b) = &m.benefit {
            read.extend(b.expr.fields.iter().map(String::as_str));
        }
    }
    schema
        .fields
        .iter()
        .map(|f| f.name.as_str())
        .filter(|f| read.contains(f))
        .collect()
}

/// The push list of `match` as of `as_of`, restricted to `measures` (those out of their
/// effective window or not pushed — delivery without push, or a `notice` or `internal`
/// nature — contribute nothing), as one SQL query over
/// a table or view `profiles`. See the module documentation.
pub fn push_query<'m>(
    catalog: &Catalog,
    measures: impl IntoIterator<Item = &'m Measure>,
    as_of: Date,
) -> Result<String, SqlError> {
    let pushed: Vec<&Measure> = measures
        .into_iter()
        .filter(|m| m.in_effect(as_of) && m.pushed())
        .collect();
    let tags = TagColumns::new(&catalog.schema, &pushed);
    let cases = pushed
        .iter()
        .map(|m| {
            MeasureQuery {
                as_of,
                tags: &tags,
                measure: m,
            }
            .case()
        })
        .collect::<Result<Vec<_>, _>>()?;

    let mut q = String::new();
    let _ = writeln!(
        q,
        "-- policy-match eligible list (精准推送, before the per-enterprise cap) as of {as_of}, catalog {}: the (enterprise, measure)",
        catalog.hash
    );
    let _ = writeln!(
        q,
        "-- pairs `policy-match match --as-of {as_of} --tables eligible` writes, for {} measure(s) in effect that are pushed",
        pushed.len()
    );
    let _ = writeln!(
        q,
        "-- (push delivery, a benefit or service). Reads `profiles`: id, tags (a list of text), one column per schema field (NULL: missing)."
    );
    if cases.is_empty() {
        let _ = write!(
            q,
            "SELECT CAST(NULL AS VARCHAR) AS enterprise_id, CAST(NULL AS VARCHAR) AS measure_id\nWHERE FALSE"
        );
        return Ok(q);
    }
    let mut columns = vec!["profiles.id".to_owned()];
    columns.extend(
        fields_read(&catalog.schema, &pushed)
            .iter()
            .map(|f| format!("profiles.{}", ident(f))),
    );
    if tags.names.is_empty() {
        let _ = writeln!(q, "WITH tagged AS (");
        let _ = writeln!(q, "  SELECT {}", columns.join(", "));
        let _ = writeln!(q, "  FROM profiles\n)");
    } else {
        // One pass over every (enterprise, tag) pair; ids are unique in a valid population.
        let _ = writeln!(q, "WITH tag_tests AS (\n  SELECT t.id");
        for (tag, name) in &tags.names {
            let _ = writeln!(q, "    , bool_or({}) AS {name}", tags.test(tag));
        }
        let _ = writeln!(
            q,
            "  FROM (SELECT profiles.id, unnest(profiles.tags) AS tag FROM profiles) AS t\n  GROUP BY t.id\n),"
        );
        let _ = writeln!(q, "tagged AS (\n  SELECT {}", columns.join(", "));
        for name in tags.names.values() {
            let _ = writeln!(q, "    , COALESCE(tag_tests.{name}, FALSE) AS {name}");
        }
        let _ = writeln!(
            q,
            "  FROM profiles LEFT JOIN tag_tests ON tag_tests.id = profiles.id\n)"
        );
    }
    // One row per enterprise with one array entry per measure: the measure id when the
    // pair is pushed, NULL otherwise.
    let _ = writeln!(q, "SELECT enterprise_id, measure_id\nFROM (");
    let _ = writeln!(q, "  SELECT tagged.id AS enterprise_id, unnest(ARRAY[");
    let _ = writeln!(q, "{}", cases.join(",\n"));
    let _ = write!(
        q,
        "  ]) AS measure_id\n  FROM tagged\n) AS pairs\nWHERE measure_id IS NOT NULL\nORDER BY enterprise_id, measure_id"
    );
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn a_clause_failing_in_an_alternative_excludes_the_pair() {
        use crate::rules::ir::Condition;
        use crate::rules::ir::Eligibility;
        use crate::rules::ir::Group;
        let catalog = Catalog::builtin().expect("built-in catalog");
        let check = |src: &str| {
            crate::rules::ir::Expr::check(&catalog.schema, src, crate::lang::check::Want::Bool)
                .expect(src)
        };
        let cond = |test| Condition {
            label: "c".into(),
            test,
        };
        let mut m = catalog.measure("M017").expect("M017").clone();
        m.eligibility = Eligibility {
            base: Group {
                label: None,
                conditions: vec![cond(Test::Has("kind:enterprise".into()))],
            },
            alternatives: vec![
                Group {
                    label: Some("small".into()),
                    conditions: vec![cond(Test::Has("size:small".into()))],
                },
                Group {
                    label: Some("ratio".into()),
                    conditions: vec![
                        cond(Test::Lacks("size:micro".into())),
                        cond(Test::When(check("revenue_10k_yuan / employees > 10.0"))),
                    ],
                },
            ],
        };
        let q = push_query(&catalog, [&m], date(2025, 6, 30)).expect("translates");
        let present = "\"employees\" IS NOT NULL AND \"revenue_10k_yuan\" IS NOT NULL";
        for part in [
            "(  -- one alternative holds",
            "(  -- small\n                    \"size:small\"  -- c\n                )",
            &format!(
                "OR (  -- ratio\n                    NOT \"size:micro\"  -- c\n                AND ({present} AND ("
            ),
            &format!("AND NOT (NOT \"size:micro\" AND (({present} AND (("),
            ") IS NULL)))  -- no clause of「ratio」fails to evaluate",
        ] {
            assert!(q.contains(part), "{part}\n{q}");
        }
    }
}

//! The expression language of `when` clauses and benefits: the only place officer text
//! is parsed, type-checked against the schema, and limited in length and depth.

pub mod typing;

//! The expression language of `when` clauses and benefits: the only place officer text
//! is parsed ([`parse`]), limited in length and depth, and type-checked against the
//! schema ([`check`]). What it accepts becomes a typed tree ([`tree`]) that every later
//! stage reads instead of the text.

pub mod check;
pub mod parse;
pub mod problem;
pub mod tree;

#[cfg(test)]
mod tests;

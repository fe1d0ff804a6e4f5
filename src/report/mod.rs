//! Stage 5 and the views over a catalog: explanations for officers and platforms
//! (`explain`), counts and the service calendar (`views`), and the rule examples
//! (`ruletest`).

pub mod explain;
pub mod ruletest;
pub mod views;

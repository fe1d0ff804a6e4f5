//! Input: enterprise profiles (一企一档). The vocabulary they are checked against
//! (`schema`), the checked [`Profile`] (`enterprise`), raw records as readers give them
//! and the one check that turns a record into a profile or a [`Reject`](record::Reject)
//! (`record`), the 统一社会信用代码 (`uscc`), and the JSON Lines reader (`jsonl`).

pub mod enterprise;
pub mod jsonl;
pub mod record;
pub mod schema;
pub mod uscc;

pub use enterprise::{FieldValue, Profile, ProfileError, RawValue};

//! Rule text to checked IR (stages 1 and 2): the rules directory's files (`sources`),
//! the measure file as written (`syntax`), the service centre (`centre`), the validator
//! (`check`), the checked measure it produces (`ir`) and the warnings over it (`lint`).

pub mod centre;
pub mod check;
pub mod id;
pub mod ir;
pub mod lint;
pub mod sources;
pub mod syntax;

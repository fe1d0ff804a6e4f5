#![no_main]

#[path = "../../crates/cli/tests/it/support/fuzz_entry.rs"]
mod entry;

libfuzzer_sys::fuzz_target!(
    init: entry::keep_caught_panics(),
    |data: &[u8]| entry::population(data, "csv")
);

#![no_main]

#[path = "../../tests/support/fuzz_entry.rs"]
mod entry;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entry::population(data, "jsonl"));

//! JSONL, CSV/TSV, `.gz`/`.xz` streams and folders from arbitrary bytes;
//! the invariants are `norsk_io::fuzzing::check_records`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| norsk_io::fuzzing::check_records(data));

//! Text → tokens with offsets → windows → span decoding → char/byte offsets,
//! on arbitrary bytes with random logits; the invariants are
//! `norsk::fuzzing::check_ner_decode`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| norsk::fuzzing::check_ner_decode(data));

//! Model folders from arbitrary bytes: `config.json`, safetensors (single
//! and sharded, with their index), `pytorch_model.bin` zips and pickles; the
//! invariants are `norsk_model::fuzzing::check_model_folder`.
#![no_main]

libfuzzer_sys::fuzz_target!(
    init: norsk_model::fuzzing::allow_caught_pickle_panics(),
    |data: &[u8]| norsk_model::fuzzing::check_model_folder(data)
);

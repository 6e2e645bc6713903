//! Replays every committed seed of the `records` fuzz target (the
//! JSONL, CSV/TSV, compressed and folder inputs it found interesting, `fuzz/seeds/records/`)
//! through the same invariant checks the target runs.

#[test]
fn every_fuzz_seed_holds_the_invariants() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/records");
    let mut seeds: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    for seed in seeds {
        // Shown with the panic's message when a seed fails.
        eprintln!("seed {}", seed.display());
        norsk_io::fuzzing::check_records(&std::fs::read(&seed).unwrap());
    }
}

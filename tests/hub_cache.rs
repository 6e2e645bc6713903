//! Hub ids resolve through a Hugging Face cache laid out on disk, offline,
//! the way Python's `huggingface_hub` writes it (blobs, symlinked snapshots,
//! refs). One test per process: it sets `HF_HUB_CACHE` and `HF_HUB_OFFLINE`.

mod common;

use std::path::Path;

use common::fixture;
use norsk::{ModelSource, NerOptions, NerPipeline, Precision};

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// Writes `tiny-ner` into `cache` as `norsk-test/tiny-ner` at [`COMMIT`],
/// with `main` and `v1` pointing to it.
fn lay_out_cache(cache: &Path) {
    let repo = cache.join("models--norsk-test--tiny-ner");
    let snapshot = repo.join("snapshots").join(COMMIT);
    std::fs::create_dir_all(repo.join("blobs")).unwrap();
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::create_dir_all(&snapshot).unwrap();
    for entry in std::fs::read_dir(fixture("tiny-ner")).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let blob = repo
            .join("blobs")
            .join(format!("blob-{}", name.to_string_lossy()));
        std::fs::copy(entry.path(), &blob).unwrap();
        std::os::unix::fs::symlink(&blob, snapshot.join(&name)).unwrap();
    }
    std::fs::write(repo.join("refs/main"), COMMIT).unwrap();
    std::fs::write(repo.join("refs/v1"), COMMIT).unwrap();
}

#[test]
fn hub_ids_resolve_offline_through_the_shared_cache() {
    let cache = tempfile::tempdir().unwrap();
    lay_out_cache(cache.path());
    std::env::set_var("HF_HUB_CACHE", cache.path());
    std::env::set_var("HF_HUB_OFFLINE", "1");

    let expected = cache
        .path()
        .join("models--norsk-test--tiny-ner/snapshots")
        .join(COMMIT);
    for spec in [
        "norsk-test/tiny-ner",
        "norsk-test/tiny-ner@v1",
        &format!("norsk-test/tiny-ner@{COMMIT}"),
    ] {
        let dir = ModelSource::parse(spec)
            .resolve()
            .unwrap_or_else(|e| panic!("{spec}: {e}"));
        assert_eq!(dir, expected, "{spec}");
    }

    let dir = ModelSource::parse("norsk-test/tiny-ner").resolve().unwrap();
    let ner = NerPipeline::load(&dir, Precision::F32).unwrap();
    let local = NerPipeline::load(&fixture("tiny-ner"), Precision::F32).unwrap();
    let text = "Jens Stoltenberg møtte Erna Solberg i Oslo.";
    let options = NerOptions::default();
    assert_eq!(
        ner.tag(text, &options).unwrap(),
        local.tag(text, &options).unwrap()
    );

    let missing = ModelSource::parse("norsk-test/absent")
        .resolve()
        .unwrap_err();
    let message = missing.to_string();
    assert!(message.contains("norsk-test/absent"), "{message}");
    assert!(message.contains("HF_HUB_OFFLINE"), "{message}");
    let bad_rev = ModelSource::parse("norsk-test/tiny-ner@v9").resolve();
    assert!(bad_rev.is_err());
}

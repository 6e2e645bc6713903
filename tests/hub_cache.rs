//! Hub ids resolve through a Hugging Face cache laid out on disk, offline,
//! the way Python's `huggingface_hub` writes it (blobs, symlinked snapshots,
//! refs).

mod common;

use std::path::Path;

use common::{fixture, tiny_cls_with_channel};
use norsk::{Classifier, HubOptions, ModelSource, NerOptions, NerPipeline, Precision};

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// Writes the model folder `model` into `cache` as `norsk-test/{name}` at
/// [`COMMIT`], with `main` and `v1` pointing to it.
fn lay_out_cache(cache: &Path, model: &Path, name: &str) {
    let repo = cache.join(format!("models--norsk-test--{name}"));
    let snapshot = repo.join("snapshots").join(COMMIT);
    std::fs::create_dir_all(repo.join("blobs")).unwrap();
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::create_dir_all(&snapshot).unwrap();
    for entry in std::fs::read_dir(model).unwrap() {
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
    lay_out_cache(cache.path(), &fixture("tiny-ner"), "tiny-ner");
    let labels = ["politikk", "økonomi", "sport", "kultur"];
    let with_channel = tiny_cls_with_channel(&labels, 2, 3.0);
    lay_out_cache(cache.path(), with_channel.path(), "tiny-cls-lexical");
    std::fs::remove_file(with_channel.path().join("norsk_lexical.safetensors")).unwrap();
    lay_out_cache(cache.path(), with_channel.path(), "tiny-cls-half-lexical");
    let hub = HubOptions {
        offline: true,
        ..HubOptions::new(cache.path())
    };

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
            .resolve(&hub)
            .unwrap_or_else(|e| panic!("{spec}: {e}"));
        assert_eq!(dir, expected, "{spec}");
    }

    let dir = ModelSource::parse("norsk-test/tiny-ner")
        .resolve(&hub)
        .unwrap();
    let ner = NerPipeline::load(&dir, Precision::F32).unwrap();
    let local = NerPipeline::load(&fixture("tiny-ner"), Precision::F32).unwrap();
    let text = "Jens Stoltenberg møtte Erna Solberg i Oslo.";
    let options = NerOptions::default();
    assert_eq!(
        ner.tag(text, &options).unwrap(),
        local.tag(text, &options).unwrap()
    );

    let missing = ModelSource::parse("norsk-test/absent")
        .resolve(&hub)
        .unwrap_err();
    let message = norsk_io::error_message(&missing);
    assert!(message.contains("norsk-test/absent"), "{message}");
    assert!(message.contains("HF_HUB_OFFLINE"), "{message}");
    let bad_rev = ModelSource::parse("norsk-test/tiny-ner@v9").resolve(&hub);
    assert!(bad_rev.is_err());

    // A classifier's lexical channel comes with it from the cache.
    let dir = ModelSource::parse("norsk-test/tiny-cls-lexical")
        .resolve(&hub)
        .unwrap();
    let classifier = Classifier::load(&dir, Precision::F32).unwrap();
    assert_eq!(classifier.lexical().map(|c| c.terms()), Some(1));
    let half = norsk_io::error_message(
        &ModelSource::parse("norsk-test/tiny-cls-half-lexical")
            .resolve(&hub)
            .unwrap_err(),
    );
    assert!(half.contains("norsk_lexical.safetensors"), "{half}");
}

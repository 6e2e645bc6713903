//! Finding the model a command runs.

use std::path::PathBuf;

use anyhow::Context;
use norsk::ModelSource;

/// The folder of `--model` (a folder or a hub id), or of the shipped model
/// `default_name` when none is given.
pub fn resolve(model: Option<&str>, default_name: &str) -> anyhow::Result<PathBuf> {
    match model {
        Some(spec) => ModelSource::parse(spec)
            .resolve()
            .with_context(|| format!("cannot load model {spec:?}")),
        None => Ok(norsk::default_model_dir(default_name)?),
    }
}

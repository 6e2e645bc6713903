//! Finding the model a command runs. The environment (`HF_HOME`,
//! `HF_HUB_CACHE`, `HF_HUB_OFFLINE`, `HF_TOKEN`, `HF_ENDPOINT`,
//! `NORSK_MODELS`) is read here, at the edge, and passed to the library.

use std::path::PathBuf;

use anyhow::Context;
use norsk::{HubOptions, ModelSource};

/// The folder of `--model` (a folder or a hub id), or of the shipped model
/// `default_name` when none is given.
pub fn resolve(model: Option<&str>, default_name: &str) -> anyhow::Result<PathBuf> {
    match model {
        Some(spec) => ModelSource::parse(spec)
            .resolve(&hub())
            .with_context(|| format!("cannot load model {spec:?}")),
        None => Ok(norsk::default_model_dir(
            &norsk::model_roots_from_env(),
            default_name,
        )?),
    }
}

/// The hub settings of this process's environment.
pub fn hub() -> HubOptions {
    HubOptions::from_env()
}

use std::env;
use std::path::{Component, Path, PathBuf};

use hf_hub::api::sync::ApiBuilder;
use hf_hub::{Cache, Repo, RepoType};
use norsk_model::WEIGHT_FILE_NAMES;

use crate::error::BoxError;
use crate::NorskError;

/// Where a model comes from, as the user names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// A local folder in Hugging Face layout.
    Dir(PathBuf),
    /// A Hugging Face Hub id, `owner/name` with an optional `@revision`.
    Hub { repo: String, revision: String },
}

impl ModelSource {
    /// Reads a `--model` value: an existing path is a folder; so is a path
    /// whose first component is an existing folder (`models/x`, a mistyped
    /// model folder) or that starts with `/`, `./` or `../`; `owner/name` or
    /// `owner/name@revision` is a hub id; anything else is taken as a folder
    /// (and fails to resolve if it does not exist).
    pub fn parse(spec: &str) -> Self {
        let path = Path::new(spec);
        if path.exists() || is_local_path(path) || !looks_like_hub_id(spec) {
            return ModelSource::Dir(path.to_path_buf());
        }
        let (repo, revision) = match spec.split_once('@') {
            Some((repo, rev)) => (repo, rev),
            None => (spec, "main"),
        };
        ModelSource::Hub {
            repo: repo.to_string(),
            revision: revision.to_string(),
        }
    }

    /// The local folder that holds the model's files, downloading them from
    /// the hub if needed (never with `HF_HUB_OFFLINE=1`).
    pub fn resolve(&self) -> Result<PathBuf, NorskError> {
        match self {
            ModelSource::Dir(dir) if dir.is_dir() => Ok(dir.clone()),
            ModelSource::Dir(dir) => Err(NorskError::NoModelDir(dir.clone())),
            ModelSource::Hub { repo, revision } => resolve_hub(repo, revision),
        }
    }
}

/// A path that names a place on this machine, existing or not: absolute,
/// relative to `.` or `..`, or inside an existing folder.
fn is_local_path(path: &Path) -> bool {
    let mut components = path.components();
    match components.next() {
        Some(Component::Normal(first)) => components.next().is_some() && Path::new(first).is_dir(),
        Some(_) => true,
        None => false,
    }
}

fn looks_like_hub_id(spec: &str) -> bool {
    let repo = spec.split('@').next().unwrap_or_default();
    let mut parts = repo.split('/');
    let valid = |s: &str| {
        !s.is_empty()
            && !s.starts_with('.')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    matches!((parts.next(), parts.next(), parts.next()), (Some(a), Some(b), None) if valid(a) && valid(b))
}

/// The shipped default model for a task (e.g. `norsk-bert-ner`): `$NORSK_MODELS/<name>`
/// when set, else the workspace's `models/<name>`.
pub fn default_model_dir(name: &str) -> Result<PathBuf, NorskError> {
    let root = env::var_os("NORSK_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models"));
    let dir = root.join(name);
    if dir.join("config.json").is_file() {
        Ok(dir.canonicalize().unwrap_or(dir))
    } else {
        Err(NorskError::NoDefaultModel(dir))
    }
}

/// The hub cache folder, as `huggingface_hub` picks it: `HF_HUB_CACHE`,
/// else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
pub fn hub_cache_dir() -> PathBuf {
    if let Some(dir) = env::var_os("HF_HUB_CACHE") {
        return PathBuf::from(dir);
    }
    let home = env::var_os("HF_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .unwrap_or_else(|| PathBuf::from(".cache"))
                .join("huggingface")
        });
    home.join("hub")
}

fn offline() -> bool {
    env::var("HF_HUB_OFFLINE")
        .map(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"))
        .unwrap_or(false)
}

/// Fetches one file: `Ok(None)` when the repo has no such file.
type Fetch<'a> = dyn Fn(&str) -> Result<Option<PathBuf>, BoxError> + 'a;

fn resolve_hub(repo: &str, revision: &str) -> Result<PathBuf, NorskError> {
    let hub_err = |source: BoxError| NorskError::Hub {
        repo: format!("{repo}@{revision}"),
        source,
    };
    let cache_dir = hub_cache_dir();
    let hub_repo = Repo::with_revision(repo.to_string(), RepoType::Model, revision.to_string());
    let config = if offline() {
        let cached = Cache::new(cache_dir.clone()).repo(hub_repo);
        let snapshot = snapshot_for_commit(&cache_dir, repo, revision);
        let fetch = move |file: &str| -> Result<Option<PathBuf>, BoxError> {
            Ok(cached.get(file).or_else(|| {
                snapshot
                    .as_ref()
                    .map(|s| s.join(file))
                    .filter(|p| p.is_file())
            }))
        };
        if fetch("config.json").map_err(hub_err)?.is_none() {
            return Err(hub_err(
                format!(
                    "not in the cache at {} (HF_HUB_OFFLINE is set; looked for config.json of revision {revision} in {})",
                    cache_dir.display(),
                    cache_dir.join(repo_folder(repo)).display()
                )
                .into(),
            ));
        }
        fetch_model_files(&fetch).map_err(|e| {
            hub_err(
                format!(
                    "{e} (HF_HUB_OFFLINE is set, so only the cache at {} was searched)",
                    cache_dir.display()
                )
                .into(),
            )
        })?
    } else {
        let mut builder = ApiBuilder::new()
            .with_cache_dir(cache_dir)
            .with_progress(false)
            .with_token(
                env::var("HF_TOKEN")
                    .ok()
                    .or_else(|| Cache::from_env().token()),
            );
        if let Ok(endpoint) = env::var("HF_ENDPOINT") {
            builder = builder.with_endpoint(endpoint);
        }
        let api = builder.build().map_err(|e| hub_err(e.into()))?;
        let remote = api.repo(hub_repo);
        let fetch = move |file: &str| -> Result<Option<PathBuf>, BoxError> {
            match remote.get(file) {
                Ok(path) => Ok(Some(path)),
                Err(e) if is_not_found(&e) => Ok(None),
                Err(e) => Err(e.into()),
            }
        };
        fetch_model_files(&fetch).map_err(hub_err)?
    };
    Ok(config.parent().map(Path::to_path_buf).unwrap_or_default())
}

/// A missing file is the hub's HTTP status 404.
fn is_not_found(e: &hf_hub::api::sync::ApiError) -> bool {
    match e {
        hf_hub::api::sync::ApiError::RequestError(e) => matches!(**e, ureq::Error::Status(404, _)),
        _ => false,
    }
}

/// The cache folder of a model repo, as `huggingface_hub` names it.
fn repo_folder(repo: &str) -> String {
    format!("models--{}", repo.replace('/', "--"))
}

/// Python's cache also accepts a full commit hash as the revision.
fn snapshot_for_commit(cache: &Path, repo: &str, revision: &str) -> Option<PathBuf> {
    let dir = cache
        .join(repo_folder(repo))
        .join("snapshots")
        .join(revision);
    dir.is_dir().then_some(dir)
}

/// Gets config, tokenizer and weights; returns the path of `config.json`.
fn fetch_model_files(fetch: &Fetch) -> Result<PathBuf, BoxError> {
    let config = fetch("config.json")?.ok_or("the repo has no config.json")?;
    let has_tokenizer_json = fetch("tokenizer.json")?.is_some();
    fetch("tokenizer_config.json")?;
    if !has_tokenizer_json && fetch("vocab.txt")?.is_none() {
        return Err("the repo has neither tokenizer.json nor vocab.txt".into());
    }
    // A classifier's lexical channel, norsk's own files, when the repo has one.
    if fetch(norsk_lexical::LEXICAL_CONFIG)?.is_some()
        && fetch(norsk_lexical::LEXICAL_WEIGHTS)?.is_none()
    {
        return Err(format!(
            "the repo has {} but not {}",
            norsk_lexical::LEXICAL_CONFIG,
            norsk_lexical::LEXICAL_WEIGHTS
        )
        .into());
    }
    for name in WEIGHT_FILE_NAMES {
        if let Some(path) = fetch(name)? {
            if name.ends_with(".index.json") {
                for shard in norsk_model::shard_names(&path)? {
                    if norsk_model::is_sibling_shard(&shard) {
                        return Err(format!(
                            "the index refers to {shard}, a sibling folder's shard: only local model folders can share shards"
                        )
                        .into());
                    }
                    fetch(&shard)?.ok_or_else(|| format!("shard {shard} is missing"))?;
                }
            }
            return Ok(config);
        }
    }
    Err(format!("the repo has none of {}", WEIGHT_FILE_NAMES.join(", ")).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_404_status_is_a_missing_file() {
        let status = |code: u16| {
            let response = ureq::Response::new(code, "status", "").unwrap();
            hf_hub::api::sync::ApiError::RequestError(Box::new(ureq::Error::Status(code, response)))
        };
        assert!(is_not_found(&status(404)));
        assert!(!is_not_found(&status(500)));
        assert!(!is_not_found(&status(401)));
    }

    #[test]
    fn tells_hub_ids_from_paths() {
        assert_eq!(
            ModelSource::parse("NbAiLab/nb-bert-base@v2"),
            ModelSource::Hub {
                repo: "NbAiLab/nb-bert-base".into(),
                revision: "v2".into()
            }
        );
        assert!(matches!(
            ModelSource::parse("./models/x"),
            ModelSource::Dir(_)
        ));
        assert!(matches!(
            ModelSource::parse("/abs/path"),
            ModelSource::Dir(_)
        ));
        assert!(matches!(ModelSource::parse("a/b/c"), ModelSource::Dir(_)));
        assert!(matches!(ModelSource::parse("models"), ModelSource::Dir(_)));
    }

    #[test]
    fn a_mistyped_local_folder_is_not_a_hub_id() {
        // The tests run in the crate's folder, which has `src/`.
        for spec in ["src/nosuch-model", "../nosuch", "./x/y"] {
            let source = ModelSource::parse(spec);
            assert_eq!(source, ModelSource::Dir(spec.into()), "{spec}");
            let err = source.resolve().unwrap_err().to_string();
            assert!(
                err.contains(spec) && err.contains("does not exist"),
                "{err}"
            );
        }
        assert!(matches!(
            ModelSource::parse("nosuch-owner/model"),
            ModelSource::Hub { .. }
        ));
    }
}

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

    /// The local folder that holds the model's files, downloading a hub
    /// model's files into `hub`'s cache if needed (never when offline).
    pub fn resolve(&self, hub: &HubOptions) -> Result<PathBuf, NorskError> {
        match self {
            ModelSource::Dir(dir) if dir.is_dir() => Ok(dir.clone()),
            ModelSource::Dir(dir) => Err(NorskError::NoModelDir(dir.clone())),
            ModelSource::Hub { repo, revision } => resolve_hub(repo, revision, hub),
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

/// The shipped model `name` (e.g. `norsk-bert-ner`): `<root>/<name>` of the
/// first of `roots` that holds it (see [`model_roots_from_env`]).
pub fn default_model_dir(roots: &[PathBuf], name: &str) -> Result<PathBuf, NorskError> {
    roots
        .iter()
        .map(|root| root.join(name))
        .find(|dir| dir.join("config.json").is_file())
        .map(|dir| dir.canonicalize().unwrap_or(dir))
        .ok_or_else(|| NorskError::NoDefaultModel {
            name: name.to_string(),
            searched: roots.to_vec(),
        })
}

/// Where the shipped models are looked for, as the command line and the
/// Python module set it up: `$NORSK_MODELS` alone when set; else `models/`
/// in the current folder, then `models/` beside each folder above the
/// running program (a `norsk` built in a checkout's `target/release/` finds
/// the checkout's models). Nothing in the library calls this by itself.
pub fn model_roots_from_env() -> Vec<PathBuf> {
    if let Some(root) = env::var_os("NORSK_MODELS") {
        return vec![PathBuf::from(root)];
    }
    let mut roots = vec![PathBuf::from("models")];
    if let Ok(exe) = env::current_exe() {
        roots.extend(exe.ancestors().skip(1).map(|dir| dir.join("models")));
    }
    roots
}

/// Where and how hub ids are fetched: what `huggingface_hub` reads from its
/// environment, passed in by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubOptions {
    /// The cache folder (`…/huggingface/hub`), shared with Python.
    pub cache_dir: PathBuf,
    /// Only the cache is read; nothing is downloaded.
    pub offline: bool,
    /// An access token for gated or private repos.
    pub token: Option<String>,
    /// Another hub than huggingface.co (a mirror).
    pub endpoint: Option<String>,
}

impl HubOptions {
    /// Online, without a token, caching in `cache_dir`.
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        Self {
            cache_dir: cache_dir.into(),
            offline: false,
            token: None,
            endpoint: None,
        }
    }

    /// As `huggingface_hub` reads its environment: the cache from
    /// `HF_HUB_CACHE`, else `$HF_HOME/hub`, else
    /// `~/.cache/huggingface/hub`; `HF_HUB_OFFLINE`; the token from
    /// `HF_TOKEN` or the token file; `HF_ENDPOINT`. The command line and the
    /// Python module call this; nothing in the library does by itself.
    pub fn from_env() -> Self {
        let cache_dir = env::var_os("HF_HUB_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                env::var_os("HF_HOME")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| {
                        env::var_os("XDG_CACHE_HOME")
                            .map(PathBuf::from)
                            .or_else(|| {
                                env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache"))
                            })
                            .unwrap_or_else(|| PathBuf::from(".cache"))
                            .join("huggingface")
                    })
                    .join("hub")
            });
        let offline = env::var("HF_HUB_OFFLINE")
            .map(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"))
            .unwrap_or(false);
        Self {
            cache_dir,
            offline,
            token: env::var("HF_TOKEN")
                .ok()
                .or_else(|| Cache::from_env().token()),
            endpoint: env::var("HF_ENDPOINT").ok(),
        }
    }
}

/// Fetches one file: `Ok(None)` when the repo has no such file.
type Fetch<'a> = dyn Fn(&str) -> Result<Option<PathBuf>, BoxError> + 'a;

fn resolve_hub(repo: &str, revision: &str, hub: &HubOptions) -> Result<PathBuf, NorskError> {
    let hub_err = |source: BoxError| NorskError::Hub {
        repo: format!("{repo}@{revision}"),
        source,
    };
    let cache_dir = hub.cache_dir.clone();
    let hub_repo = Repo::with_revision(repo.to_string(), RepoType::Model, revision.to_string());
    let config = if hub.offline {
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
                    "not in the cache at {} (offline, as HF_HUB_OFFLINE asks; looked for config.json of revision {revision} in {})",
                    cache_dir.display(),
                    cache_dir.join(repo_folder(repo)).display()
                )
                .into(),
            ));
        }
        fetch_model_files(&fetch).map_err(|e| {
            hub_err(
                format!(
                    "{e} (offline, as HF_HUB_OFFLINE asks, so only the cache at {} was searched)",
                    cache_dir.display()
                )
                .into(),
            )
        })?
    } else {
        let mut builder = ApiBuilder::new()
            .with_cache_dir(cache_dir)
            .with_progress(false)
            .with_token(hub.token.clone());
        if let Some(endpoint) = &hub.endpoint {
            builder = builder.with_endpoint(endpoint.clone());
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
            let hub = HubOptions::new("/nonexistent/hub-cache");
            let err = source.resolve(&hub).unwrap_err().to_string();
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

    #[test]
    fn the_first_root_that_holds_a_shipped_model_gives_it() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        for root in [&a, &b] {
            std::fs::create_dir_all(root.path().join("m")).unwrap();
        }
        std::fs::write(b.path().join("m/config.json"), "{}").unwrap();
        let roots = [a.path().to_path_buf(), b.path().to_path_buf()];
        assert_eq!(
            default_model_dir(&roots, "m").unwrap(),
            b.path().join("m").canonicalize().unwrap()
        );
        std::fs::write(a.path().join("m/config.json"), "{}").unwrap();
        assert_eq!(
            default_model_dir(&roots, "m").unwrap(),
            a.path().join("m").canonicalize().unwrap()
        );
        let missing = default_model_dir(&roots, "other").unwrap_err().to_string();
        for root in &roots {
            assert!(missing.contains(&root.display().to_string()), "{missing}");
        }
        assert!(missing.contains("NORSK_MODELS"), "{missing}");
    }
}

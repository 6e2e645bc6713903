//! Sentence embeddings computed once: a file per encoder setting holding
//! each text's vector under a hash of the text, appended to as new texts
//! are embedded, so a second head training (another sample size, another
//! regularisation) embeds nothing again.
//!
//! File layout: records of a little-endian `u64` key followed by `dim`
//! little-endian `f32`s. A record cut short by a crash is ignored.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use norsk::{Article, EmbedOptions, Embedder};

use crate::TrainError;

/// Texts embedded per append to the file.
const CHUNK: usize = 64;

/// Vectors by text for one encoder and one way of embedding.
pub struct EmbeddingCache {
    path: PathBuf,
    dim: usize,
    vectors: HashMap<u64, Vec<f32>>,
}

impl EmbeddingCache {
    /// Opens (or starts) the cache in `dir` for the setting `key` (the
    /// encoder's folder, prompt, precision, pooling…) and vectors of `dim`.
    pub fn open(dir: &Path, key: &str, dim: usize) -> Result<Self, TrainError> {
        std::fs::create_dir_all(dir).map_err(|e| TrainError::io("create", dir, e))?;
        let path = dir.join(format!("{:016x}-{dim}.f32", fnv1a(key.as_bytes())));
        let mut vectors = HashMap::new();
        if path.is_file() {
            let mut bytes = Vec::new();
            File::open(&path)
                .and_then(|mut f| f.read_to_end(&mut bytes))
                .map_err(|e| TrainError::io("read", &path, e))?;
            let records = bytes.chunks_exact(8 + 4 * dim);
            let whole = bytes.len() - records.remainder().len();
            if whole < bytes.len() {
                // Cut a record torn by a crash, so appends stay aligned.
                OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .and_then(|f| f.set_len(whole as u64))
                    .map_err(|e| TrainError::io("write", &path, e))?;
            }
            for record in records {
                let (key, values) = record.split_at(8);
                let key = u64::from_le_bytes(key.try_into().expect("8 bytes"));
                let vector = values
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
                    .collect();
                vectors.insert(key, vector);
            }
        }
        Ok(Self { path, dim, vectors })
    }

    /// How many texts the cache holds.
    pub fn len(&self) -> usize {
        self.vectors.len()
    }

    /// Whether the cache holds no text.
    pub fn is_empty(&self) -> bool {
        self.vectors.is_empty()
    }

    /// The vector of every article, embedding with
    /// `embedder` only those not cached yet, and appending them to the file
    /// `CHUNK` at a time; `progress` hears the count done after each chunk.
    pub fn embed(
        &mut self,
        embedder: &Embedder,
        articles: &[Article],
        options: &EmbedOptions,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Vec<Vec<f32>>, TrainError> {
        let keys: Vec<u64> = articles.iter().map(article_key).collect();
        let mut seen = HashSet::new();
        let missing: Vec<usize> = (0..articles.len())
            .filter(|&i| !self.vectors.contains_key(&keys[i]) && seen.insert(keys[i]))
            .collect();
        let mut done = 0;
        for chunk in missing.chunks(CHUNK) {
            let batch: Vec<Article> = chunk.iter().map(|&i| articles[i]).collect();
            let vectors = embedder.embed_articles(&batch, options)?;
            self.append(chunk.iter().map(|&i| keys[i]).zip(vectors))?;
            done += chunk.len();
            progress(done, missing.len());
        }
        Ok(keys.iter().map(|k| self.vectors[k].clone()).collect())
    }

    fn append(&mut self, records: impl Iterator<Item = (u64, Vec<f32>)>) -> Result<(), TrainError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| TrainError::io("write", &self.path, e))?;
        let mut out = BufWriter::new(file);
        for (key, vector) in records {
            debug_assert_eq!(vector.len(), self.dim);
            let mut bytes = key.to_le_bytes().to_vec();
            bytes.extend(vector.iter().flat_map(|v| v.to_le_bytes()));
            out.write_all(&bytes)
                .map_err(|e| TrainError::io("write", &self.path, e))?;
            self.vectors.insert(key, vector);
        }
        out.flush()
            .map_err(|e| TrainError::io("write", &self.path, e))
    }
}

/// The key of an article: its title and text, apart.
fn article_key(article: &Article) -> u64 {
    let title = article.title.unwrap_or_default();
    fnv1a(&[title.as_bytes(), b"\x01", article.text.as_bytes()].concat())
}

/// 64-bit FNV-1a: a stable hash (the same on every run and build).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use norsk::Precision;

    fn embedder() -> Embedder {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tiny-cls");
        Embedder::load(&dir, Precision::F32).unwrap()
    }

    #[test]
    fn vectors_are_computed_once_and_survive_a_reopen_and_a_torn_record() {
        let dir = tempfile::tempdir().unwrap();
        let model = embedder();
        let texts = [
            "Oslo er hovedstaden.",
            "Rosenborg vant.",
            "Oslo er hovedstaden.",
        ];
        let articles: Vec<Article> = texts.iter().map(|t| Article::untitled(t)).collect();
        let options = EmbedOptions::default();
        let mut cache = EmbeddingCache::open(dir.path(), "tiny", model.dim()).unwrap();
        let mut embedded = 0;
        let first = cache
            .embed(&model, &articles, &options, |done, _| embedded = done)
            .unwrap();
        assert_eq!(embedded, 2, "the repeated text is embedded once");
        assert_eq!(first[0], first[2]);
        let alone = model.embed_articles(&articles[..1], &options).unwrap();
        let cosine: f32 = first[0].iter().zip(&alone[0]).map(|(a, b)| a * b).sum();
        assert!(
            cosine > 0.99999,
            "the cached vector is the text's: {cosine}"
        );
        // A torn last record (a crash while appending) is dropped on reopen.
        let path = cache.path.clone();
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(&[1, 2, 3]).unwrap();
        let mut reopened = EmbeddingCache::open(dir.path(), "tiny", model.dim()).unwrap();
        assert_eq!(reopened.len(), 2);
        assert_eq!(
            std::fs::metadata(&path).unwrap().len() as usize,
            2 * (8 + 4 * model.dim()),
            "the torn bytes are cut"
        );
        let mut calls = 0;
        let again = reopened
            .embed(&model, &articles, &options, |_, _| calls += 1)
            .unwrap();
        assert_eq!(calls, 0, "nothing is embedded twice");
        assert_eq!(again, first);

        // Another setting is another file.
        assert!(EmbeddingCache::open(dir.path(), "other", model.dim())
            .unwrap()
            .is_empty());
    }
}

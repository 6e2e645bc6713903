//! Measuring model throughput: the same model on fixed token ids, timed
//! batch by batch, with FLOP counts from the config.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::time::Instant;

use norsk_batch::{Batch, Logits, Model, Row};
use norsk_model::{
    load_encoder, BertConfig, MeanPooled, Precision, SequenceClassifier, TokenClassifier,
};
use norsk_tokens::TextTokenizer;

use crate::NorskError;

/// What part of a model is measured.
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Token classification: encoder and per-token head.
    Ner,
    /// Sequence classification: encoder, pooler and head.
    Classify,
    /// The bare encoder: last hidden state, mean-pooled.
    Encoder,
}

impl FromStr for Task {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ner" => Ok(Task::Ner),
            "classify" => Ok(Task::Classify),
            "encoder" => Ok(Task::Encoder),
            other => Err(format!("unknown task {other:?} (ner, classify or encoder)")),
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Task::Ner => "ner",
            Task::Classify => "classify",
            Task::Encoder => "encoder",
        })
    }
}

enum Forward {
    Ner(TokenClassifier),
    Classify(SequenceClassifier),
    Encoder(MeanPooled),
}

/// A model loaded for measuring.
pub struct BenchModel {
    forward: Forward,
    config: BertConfig,
    tokenizer: TextTokenizer,
}

/// Latencies of one configuration, in milliseconds per batch.
#[derive(Debug, Clone)]
pub struct Latencies(pub Vec<f64>);

impl Latencies {
    /// The `q`-quantile (0..=1), nearest rank.
    pub fn quantile(&self, q: f64) -> f64 {
        let mut sorted = self.0.clone();
        sorted.sort_by(f64::total_cmp);
        if sorted.is_empty() {
            return f64::NAN;
        }
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }

    /// The mean.
    pub fn mean(&self) -> f64 {
        self.0.iter().sum::<f64>() / self.0.len().max(1) as f64
    }
}

impl BenchModel {
    /// Loads the folder's model with the head `task` needs.
    pub fn load(dir: &Path, task: Task, precision: Precision) -> Result<Self, NorskError> {
        let tokenizer = TextTokenizer::from_dir(dir)?;
        let (forward, config) = match task {
            Task::Ner => {
                let m = TokenClassifier::load(dir, precision)?;
                let c = m.config().clone();
                (Forward::Ner(m), c)
            }
            Task::Classify => {
                let m = SequenceClassifier::load(dir, precision)?;
                let c = m.config().clone();
                (Forward::Classify(m), c)
            }
            Task::Encoder => {
                let (c, m) = load_encoder(dir, precision)?;
                (Forward::Encoder(MeanPooled(m)), c)
            }
        };
        Ok(Self {
            forward,
            config,
            tokenizer,
        })
    }

    /// The model's config.
    pub fn config(&self) -> &BertConfig {
        &self.config
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }

    /// `batch` rows of `seq_len` deterministic pseudo-random ids, opened and
    /// closed by the tokenizer's `[CLS]` and `[SEP]`.
    pub fn synthetic_rows(&self, batch: usize, seq_len: usize, seed: u64) -> Vec<Vec<u32>> {
        let cls = self.tokenizer.token_to_id("[CLS]").unwrap_or(2);
        let sep = self.tokenizer.token_to_id("[SEP]").unwrap_or(3);
        let vocab = self.config.vocab_size as u64;
        let low = 1000.min(vocab / 2);
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..batch)
            .map(|_| {
                (0..seq_len)
                    .map(|i| {
                        if i == 0 {
                            return cls;
                        }
                        if i + 1 == seq_len {
                            return sep;
                        }
                        state = state
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        (low + (state >> 33) % (vocab - low)) as u32
                    })
                    .collect()
            })
            .collect()
    }

    /// One forward pass over padded `rows`.
    pub fn forward(&self, rows: &[&[u32]]) -> Result<Logits, NorskError> {
        let types: Vec<Vec<u32>> = rows.iter().map(|r| vec![0; r.len()]).collect();
        let rows: Vec<Row> = rows
            .iter()
            .zip(&types)
            .map(|(i, t)| Row::new(i, t))
            .collect();
        let batch = Batch::new(&rows, self.tokenizer.pad_id())?;
        Ok(match &self.forward {
            Forward::Ner(m) => m.logits(&batch)?,
            Forward::Classify(m) => m.logits(&batch)?,
            Forward::Encoder(m) => m.logits(&batch)?,
        })
    }

    /// Times `iters` forward passes over `rows` after `warmup` untimed ones.
    pub fn measure(
        &self,
        rows: &[Vec<u32>],
        warmup: usize,
        iters: usize,
    ) -> Result<Latencies, NorskError> {
        let refs: Vec<&[u32]> = rows.iter().map(Vec::as_slice).collect();
        for _ in 0..warmup {
            self.forward(&refs)?;
        }
        let mut out = Vec::with_capacity(iters);
        for _ in 0..iters {
            let clock = Instant::now();
            self.forward(&refs)?;
            out.push(clock.elapsed().as_secs_f64() * 1e3);
        }
        Ok(Latencies(out))
    }

    /// Floating-point operations of one forward pass over `batch` rows of
    /// `seq_len` tokens (a multiply-add counts 2): the projections, the
    /// attention products and the feed-forward layers of every layer, plus
    /// the head; embeddings, norms and softmax are left out.
    pub fn flops(&self, batch: usize, seq_len: usize) -> f64 {
        self.op_flops(batch, seq_len).iter().map(|(_, f)| f).sum()
    }

    /// [`BenchModel::flops`] op by op, named as the model's profiling spans
    /// are (see [`crate::profile`]): `qkv`, `attention` (the two attention
    /// products), `attention-out`, `ffn-in`, `ffn-out` (all layers
    /// together) and `head`.
    pub fn op_flops(&self, batch: usize, seq_len: usize) -> [(&'static str, f64); 6] {
        let c = &self.config;
        let (h, f, t) = (
            c.hidden_size as f64,
            c.intermediate_size as f64,
            seq_len as f64,
        );
        let labels = c.id2label.as_ref().map_or(0, |m| m.len()) as f64;
        let head = match self.forward {
            Forward::Ner(_) => 2.0 * t * h * labels,
            Forward::Classify(_) => 2.0 * (h * h + h * labels),
            Forward::Encoder(_) => 0.0,
        };
        let layers = batch as f64 * c.num_hidden_layers as f64;
        [
            ("qkv", layers * 2.0 * t * h * 3.0 * h),
            ("attention", layers * 2.0 * 2.0 * t * t * h),
            ("attention-out", layers * 2.0 * t * h * h),
            ("ffn-in", layers * 2.0 * t * h * f),
            ("ffn-out", layers * 2.0 * t * f * h),
            ("head", batch as f64 * head),
        ]
    }
}

/// This CPU's peak fp32 rate for `threads` cores, in GFLOP/s, and how it was
/// worked out: cores × clock (the highest `cpu MHz` in `/proc/cpuinfo`) ×
/// FLOPs per cycle ([`fp32_flops_per_cycle`]).
pub fn fp32_peak_gflops(threads: usize) -> (f64, String) {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let mhz = info
        .lines()
        .filter(|l| l.starts_with("cpu MHz"))
        .filter_map(|l| l.split(':').nth(1)?.trim().parse::<f64>().ok())
        .fold(0.0, f64::max);
    let field = |name: &str| {
        info.lines()
            .find(|l| l.split(':').next().is_some_and(|k| k.trim() == name))
            .and_then(|l| l.split_once(':'))
            .map_or("", |(_, v)| v.trim())
    };
    let per_cycle = fp32_flops_per_cycle(
        field("vendor_id"),
        field("cpu family").parse().unwrap_or(0),
        field("flags"),
    );
    let peak = threads as f64 * mhz / 1e3 * per_cycle;
    (
        peak,
        format!(
            "{threads} cores × {:.2} GHz × {per_cycle} FLOP/cycle",
            mhz / 1e3
        ),
    )
}

/// fp32 FLOPs per cycle and core: 2 FMA units × 16 lanes × 2 with AVX-512,
/// 2 × 8 × 2 with AVX2 (and on AMD's Zen 3 and Zen 4, CPU family 25, whose
/// AVX-512 runs each 512-bit FMA as two 256-bit halves), else 8.
pub fn fp32_flops_per_cycle(vendor: &str, family: u32, flags: &str) -> f64 {
    let has = |flag: &str| flags.split_whitespace().any(|f| f == flag);
    let half_width_avx512 = vendor == "AuthenticAMD" && family < 26;
    if has("avx512f") && !half_width_avx512 {
        64.0
    } else if has("avx2") {
        32.0
    } else {
        8.0
    }
}

/// Peak resident memory of this process so far, in MB (`VmHWM`); `None`
/// where `/proc/self/status` does not say.
pub fn peak_rss_mb() -> Option<f64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flops_per_cycle_count_zen_4s_avx_512_at_half_width() {
        let avx512 = "fma avx2 avx512f avx512bw";
        assert_eq!(fp32_flops_per_cycle("AuthenticAMD", 25, avx512), 32.0);
        assert_eq!(fp32_flops_per_cycle("AuthenticAMD", 26, avx512), 64.0);
        assert_eq!(fp32_flops_per_cycle("GenuineIntel", 6, avx512), 64.0);
        assert_eq!(fp32_flops_per_cycle("AuthenticAMD", 25, "fma avx2"), 32.0);
        assert_eq!(
            fp32_flops_per_cycle("GenuineIntel", 6, "sse2 avx512fx"),
            8.0
        );
    }
}

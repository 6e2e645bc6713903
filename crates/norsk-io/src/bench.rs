//! The records of `norsk bench`: one per measured shape (or corpus), as its
//! JSON output and `scripts/bench_reference.py` read them, and the table
//! printed for people.

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

/// One measurement: an engine running one task at one precision, batch
/// shape and thread count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchRecord {
    /// `norsk` (the reference script also writes `torch` and `onnxruntime`).
    pub engine: String,
    /// `ner`, `classify` or `encoder`.
    pub task: String,
    /// `f32`, `bf16`, `int8`…
    pub precision: String,
    /// Sequences per call.
    pub batch_size: usize,
    /// Tokens per sequence; 0 for a corpus of real texts (no one length).
    pub seq_len: usize,
    /// Threads the engine ran on.
    pub threads: usize,
    /// Tokens (padding included for a fixed shape) per second.
    pub tokens_per_s: f64,
    /// Sequences per second.
    pub sequences_per_s: f64,
    /// Median latency of one call, in milliseconds.
    pub p50_ms: f64,
    /// 95th percentile latency.
    pub p95_ms: f64,
    /// 99th percentile latency.
    pub p99_ms: f64,
    /// The process's peak resident memory; `None` where the OS does not say.
    pub peak_rss_mb: Option<f64>,
    /// Timed calls.
    pub iters: usize,
    /// The product kernel (`onednn`, `mkl`, `avx2`…).
    pub kernel: String,
    /// The instruction set the kernels were chosen for.
    pub isa: String,
    /// Model FLOPs per second; `None` for a corpus (no one shape).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gflops: Option<f64>,
    /// `gflops` over the CPU's fp32 peak.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp32_peak_share: Option<f64>,
    /// How the fp32 peak was computed (cores × GHz × FLOP/cycle).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp32_peak: Option<String>,
    /// The whole pipeline over a corpus: where its time went.
    #[serde(default, flatten, skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<PipelineTimes>,
    /// The ops' times (`--profile`), slowest first, then `other`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ops: Vec<OpTime>,
}

/// Texts per second of a corpus run, and the seconds per round over the
/// corpus of each stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineTimes {
    /// Texts tagged per second.
    pub texts_per_s: f64,
    /// Sentence splitting and tokenizing.
    pub tokenize_s: f64,
    /// The model's forward passes.
    pub model_s: f64,
    /// Softmax, aggregation and window merging.
    pub decode_s: f64,
}

/// The time of one op per pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpTime {
    /// The op (`ffn-in`, `attention`, `layer-norm`…, `other`).
    pub op: String,
    /// Calls per pass.
    pub calls_per_pass: f64,
    /// Milliseconds per pass.
    pub ms_per_pass: f64,
    /// Share of the pass.
    pub share: f64,
    /// FLOPs per second, for ops whose FLOPs are known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gflops: Option<f64>,
}

/// Writes `records` as a table, one line per record, then its pipeline
/// stages and ops, then each distinct fp32 peak.
pub fn write_bench_table<W: Write>(out: &mut W, records: &[BenchRecord]) -> io::Result<()> {
    writeln!(
        out,
        "{:<9} {:<5} {:>5} {:>5} {:>3} {:>11} {:>9} {:>9} {:>9} {:>8} {:>7} {:>8}",
        "task",
        "prec",
        "batch",
        "seq",
        "thr",
        "tokens/s",
        "seqs/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "GFLOP/s",
        "RSS MB"
    )?;
    for r in records {
        let seq = match r.seq_len {
            0 => "real".to_string(),
            n => n.to_string(),
        };
        writeln!(
            out,
            "{:<9} {:<5} {:>5} {:>5} {:>3} {:>11.0} {:>9.1} {:>9.2} {:>9.2} {:>8.2} {:>7} {:>8.0}",
            r.task,
            r.precision,
            r.batch_size,
            seq,
            r.threads,
            r.tokens_per_s,
            r.sequences_per_s,
            r.p50_ms,
            r.p95_ms,
            r.p99_ms,
            r.gflops.map_or("-".to_string(), |g| format!("{g:.1}")),
            r.peak_rss_mb.unwrap_or(f64::NAN),
        )?;
        if let Some(p) = &r.pipeline {
            writeln!(
                out,
                "          {:.1} texts/s; per pass: tokenize {:.3} s, model {:.3} s, decode {:.3} s",
                p.texts_per_s, p.tokenize_s, p.model_s, p.decode_s
            )?;
        }
        for op in &r.ops {
            let gflops = op
                .gflops
                .map_or(String::new(), |g| format!("{g:>6.1} GFLOP/s"));
            writeln!(
                out,
                "          {:<14} {:>9.2} ms/pass {:>6.1} %  {:>4} calls {gflops}",
                op.op,
                op.ms_per_pass,
                op.share * 100.0,
                op.calls_per_pass
            )?;
        }
    }
    let mut peaks: Vec<&str> = records
        .iter()
        .filter_map(|r| r.fp32_peak.as_deref())
        .collect();
    peaks.dedup();
    for how in peaks {
        writeln!(out, "fp32 peak: {how}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> BenchRecord {
        BenchRecord {
            engine: "norsk".into(),
            task: "ner".into(),
            precision: "int8".into(),
            batch_size: 8,
            seq_len: 0,
            threads: 2,
            tokens_per_s: 1234.4,
            sequences_per_s: 9.6,
            p50_ms: 10.0,
            p95_ms: 12.0,
            p99_ms: 13.0,
            peak_rss_mb: None,
            iters: 3,
            kernel: "avx2".into(),
            isa: "avx2".into(),
            gflops: None,
            fp32_peak_share: None,
            fp32_peak: None,
            pipeline: Some(PipelineTimes {
                texts_per_s: 150.0,
                tokenize_s: 0.1,
                model_s: 2.0,
                decode_s: 0.05,
            }),
            ops: vec![OpTime {
                op: "ffn-in".into(),
                calls_per_pass: 12.0,
                ms_per_pass: 5.0,
                share: 0.3,
                gflops: Some(90.0),
            }],
        }
    }

    #[test]
    fn records_round_trip_through_json_with_flat_pipeline_fields() {
        let r = record();
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["texts_per_s"], 150.0);
        assert!(json.get("gflops").is_none() && json.get("pipeline").is_none());
        assert_eq!(json["peak_rss_mb"], serde_json::Value::Null);
        let back: BenchRecord = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn a_corpus_record_prints_real_lengths_and_no_gflops() {
        let mut out = Vec::new();
        write_bench_table(&mut out, &[record()]).unwrap();
        let table = String::from_utf8(out).unwrap();
        let line = table.lines().nth(1).unwrap();
        assert!(line.contains("real") && line.contains(" - "), "{line}");
        assert!(!table.contains("NaN GFLOP"), "{table}");
        assert!(table.contains("150.0 texts/s"), "{table}");
        assert!(table.contains("ffn-in"), "{table}");
    }
}

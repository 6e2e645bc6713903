//! `norsk bench`: throughput, latency and memory of a model on this CPU.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::Args;
use norsk::bench::{fp32_peak_gflops, peak_rss_mb, BenchModel, Latencies, Task};
use norsk::profile::OpProfile;
use norsk::{NerOptions, NerPipeline, Precision};
use norsk_io::{read_jsonl, read_text_file, write_bench_table, BenchRecord, OpTime, PipelineTimes};

use crate::choice::Choice;
use crate::eval::ReportFormat;
use crate::{model, Outcome};

/// Set in the child processes that measure one thread count each.
const WORKER_ENV: &str = "NORSK_BENCH_WORKER";

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Model folder or hub id; default: the shipped norsk-bert-ner.
    #[arg(short, long)]
    model: Option<String>,

    /// What to run: ner (token classification), classify (sequence
    /// classification) or encoder (last hidden state, mean-pooled).
    #[arg(long, value_parser = Choice::<Task>::new(), default_value = "ner")]
    task: Task,

    /// Batch sizes to sweep.
    #[arg(long, value_delimiter = ',', default_value = "1,8")]
    batch_sizes: Vec<usize>,

    /// Sequence lengths of the synthetic token ids (ignored with --corpus).
    #[arg(long, value_delimiter = ',', default_value = "128")]
    seq_lens: Vec<usize>,

    /// Thread counts to sweep (each measured in a fresh process); default: all cores.
    #[arg(long, value_delimiter = ',')]
    threads: Vec<usize>,

    /// Precisions to sweep.
    #[arg(
        long,
        value_parser = Choice::<Precision>::new(),
        value_delimiter = ',',
        default_value = "f32"
    )]
    precision: Vec<Precision>,

    /// Real texts (one per line, or JSONL with a "text" field) run through
    /// the whole NER pipeline at their real lengths, instead of synthetic ids,
    /// in the chunks `norsk ner` reads (8 batches of texts, batched by
    /// length).
    #[arg(long, value_name = "FILE")]
    corpus: Option<PathBuf>,

    /// Token-id rows (a JSON array of arrays) to use instead of synthetic
    /// ids, e.g. those `scripts/bench_reference.py --dump-ids` wrote.
    #[arg(long, value_name = "FILE", conflicts_with = "corpus")]
    ids: Option<PathBuf>,

    /// Untimed runs before measuring.
    #[arg(long, default_value_t = 2)]
    warmup: usize,

    /// Timed runs per configuration.
    #[arg(long, default_value_t = 10)]
    iters: usize,

    /// Also time each op of the model (embeddings, qkv, attention, …) and
    /// report milliseconds per pass and share of the pass, op by op.
    #[arg(long)]
    profile: bool,

    /// Output format: a table, or JSON (one record per configuration).
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    format: ReportFormat,
}

pub fn run(args: BenchArgs) -> anyhow::Result<Outcome> {
    let threads = if args.threads.is_empty() {
        vec![std::thread::available_parallelism().map_or(1, |n| n.get())]
    } else {
        args.threads.clone()
    };
    let records = if std::env::var_os(WORKER_ENV).is_some() {
        measure_all(&args, threads[0])?
    } else {
        let mut all = Vec::new();
        for &n in &threads {
            all.extend(spawn_worker(n)?);
        }
        all
    };
    match args.format {
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&records)?),
        ReportFormat::Human if std::env::var_os(WORKER_ENV).is_some() => {
            println!("{}", serde_json::to_string(&records)?)
        }
        ReportFormat::Human => {
            write_bench_table(&mut std::io::stdout().lock(), &records)?;
            print!("{}", norsk::kernels::selected());
        }
    }
    Ok(Outcome::Success)
}

/// Runs this same command for one thread count in a fresh process (candle's
/// thread pool is sized once per process), and reads its JSON records.
fn spawn_worker(threads: usize) -> anyhow::Result<Vec<BenchRecord>> {
    let mut argv = without_options(std::env::args().skip(1), &["--threads", "--format"]);
    argv.extend(["--threads".into(), threads.to_string()]);
    argv.extend(["--format".into(), "json".into()]);
    let exe = std::env::current_exe().context("cannot find the norsk executable")?;
    let output = Command::new(exe)
        .args(&argv)
        .env(WORKER_ENV, "1")
        .env("CANDLE_NUM_THREADS", threads.to_string())
        .env("RAYON_NUM_THREADS", threads.to_string())
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("cannot start a benchmark worker")?;
    if !output.status.success() {
        bail!("the benchmark worker for {threads} threads failed");
    }
    serde_json::from_slice(&output.stdout).context("benchmark worker output")
}

/// The arguments without the named options (`--name value` or `--name=value`).
fn without_options(args: impl Iterator<Item = String>, names: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut skip_value = false;
    for arg in args {
        if std::mem::take(&mut skip_value) {
            continue;
        }
        let name = arg.split('=').next().unwrap_or_default();
        if names.contains(&name) {
            skip_value = !arg.contains('=');
            continue;
        }
        out.push(arg);
    }
    out
}

fn measure_all(args: &BenchArgs, threads: usize) -> anyhow::Result<Vec<BenchRecord>> {
    let dir = model::resolve(args.model.as_deref(), "norsk-bert-ner")?;
    let profile = OpProfile::new();
    if args.profile {
        profile.install().context("cannot time ops")?;
    }
    let mut records = Vec::new();
    for &precision in &args.precision {
        crate::kernels::note_precision(precision);
        if let Some(corpus) = &args.corpus {
            records.extend(measure_corpus(
                args, &dir, corpus, precision, threads, &profile,
            )?);
            continue;
        }
        let model = BenchModel::load(&dir, args.task, precision)
            .with_context(|| format!("cannot load {} for {}", dir.display(), args.task))?;
        let given = args.ids.as_ref().map(|p| read_ids(p)).transpose()?;
        for &batch in &args.batch_sizes {
            for &seq in &args.seq_lens {
                let rows = match &given {
                    Some(all) => cut_rows(all, batch, seq)?,
                    None => model.synthetic_rows(batch, seq, 0),
                };
                progress(&format!(
                    "{} {precision} batch {batch} × {seq} tokens, {threads} threads",
                    args.task
                ));
                model.measure(&rows, args.warmup, 0)?;
                profile.take();
                let latencies = model.measure(&rows, 0, args.iters)?;
                let tokens: usize = rows.iter().map(Vec::len).sum();
                let flops = model.flops(batch, seq);
                let mut r = record(
                    args,
                    precision,
                    batch,
                    seq,
                    threads,
                    tokens,
                    &latencies,
                    Some(flops),
                );
                add_ops(&mut r, &profile, &latencies, &model.op_flops(batch, seq));
                records.push(r);
            }
        }
    }
    progress("");
    Ok(records)
}

/// The whole NER pipeline over real texts, `batch` texts per call.
fn measure_corpus(
    args: &BenchArgs,
    dir: &std::path::Path,
    corpus: &std::path::Path,
    precision: Precision,
    threads: usize,
    profile: &OpProfile,
) -> anyhow::Result<Vec<BenchRecord>> {
    if args.task != Task::Ner {
        bail!("--corpus measures the NER pipeline: use --task ner");
    }
    let texts = read_corpus(corpus)?;
    let pipeline = NerPipeline::load(dir, precision)?;
    let mut records = Vec::new();
    for &batch in &args.batch_sizes {
        let options = NerOptions {
            aggregation: pipeline.default_aggregation(),
            batch_size: batch,
            ..NerOptions::default()
        };
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        // As `norsk ner` does: chunks of texts, whose windows the pipeline
        // sorts by length into batches.
        let chunk_texts = crate::ner::CHUNK_BATCHES * batch.max(1);
        for chunk in refs.chunks(batch).take(args.warmup) {
            pipeline.tag_batch(chunk, &options)?;
        }
        profile.take();
        let mut latencies = Vec::new();
        let (mut tokenize, mut model_time, mut decode, mut tokens) = (0.0, 0.0, 0.0, 0usize);
        for round in 0..args.iters.max(1) {
            progress(&format!(
                "ner {precision} corpus of {} texts, batch {batch}, {threads} threads, round {}",
                texts.len(),
                round + 1
            ));
            for chunk in refs.chunks(chunk_texts) {
                let clock = Instant::now();
                let (_, times) = pipeline.tag_batch_timed(chunk, &options)?;
                // One latency per batch: the chunk's time shared out.
                let batches = chunk.len().div_ceil(batch.max(1));
                let per_batch = clock.elapsed().as_secs_f64() * 1e3 / batches as f64;
                latencies.extend(std::iter::repeat_n(per_batch, batches));
                tokenize += times.tokenize.as_secs_f64();
                model_time += times.model.as_secs_f64();
                decode += times.decode.as_secs_f64();
                tokens += times.tokens;
            }
        }
        let rounds = args.iters.max(1) as f64;
        let total: f64 = latencies.iter().sum::<f64>() / 1e3;
        let mut r = record(
            args,
            precision,
            batch,
            0,
            threads,
            tokens / args.iters.max(1),
            &Latencies(latencies),
            None,
        );
        r.tokens_per_s = tokens as f64 / total;
        r.pipeline = Some(PipelineTimes {
            texts_per_s: texts.len() as f64 * rounds / total,
            tokenize_s: tokenize / rounds,
            model_s: model_time / rounds,
            decode_s: decode / rounds,
        });
        // A pass here is one round over the corpus.
        let rounds_ms = Latencies(vec![total * 1e3 / rounds; args.iters.max(1)]);
        add_ops(&mut r, profile, &rounds_ms, &[]);
        records.push(r);
    }
    Ok(records)
}

#[allow(clippy::too_many_arguments)]
fn record(
    args: &BenchArgs,
    precision: Precision,
    batch: usize,
    seq: usize,
    threads: usize,
    tokens: usize,
    latencies: &Latencies,
    flops: Option<f64>,
) -> BenchRecord {
    let seconds = latencies.mean() / 1e3;
    let gflops = flops.map(|flops| flops / seconds / 1e9);
    let (peak, how) = fp32_peak_gflops(threads);
    BenchRecord {
        engine: "norsk".to_string(),
        task: args.task.to_string(),
        precision: precision.to_string(),
        batch_size: batch,
        seq_len: seq,
        threads,
        tokens_per_s: tokens as f64 / seconds,
        sequences_per_s: batch as f64 / seconds,
        p50_ms: latencies.quantile(0.50),
        p95_ms: latencies.quantile(0.95),
        p99_ms: latencies.quantile(0.99),
        peak_rss_mb: peak_rss_mb(),
        iters: latencies.0.len(),
        kernel: crate::kernels::product_kernel(precision),
        isa: norsk::kernels::selected().isa.to_string(),
        fp32_peak_share: gflops.map(|g| g / peak),
        fp32_peak: gflops.map(|_| how),
        gflops,
        pipeline: None,
        ops: Vec::new(),
    }
}

/// Adds the ops' times per pass (`latencies` has one entry per pass) to the
/// record, slowest first, with what no op accounts for as `other`, and the
/// GFLOP/s of the ops whose FLOPs per pass `flops` gives; nothing when no op
/// was timed.
fn add_ops(
    record: &mut BenchRecord,
    profile: &OpProfile,
    latencies: &Latencies,
    flops: &[(&str, f64)],
) {
    let times = profile.take();
    if times.is_empty() {
        return;
    }
    let passes = latencies.0.len().max(1) as f64;
    let pass_ms = latencies.mean();
    let mut ops: Vec<(&str, f64, f64)> = times
        .iter()
        .map(|(&op, t)| (op, t.calls as f64 / passes, t.seconds * 1e3 / passes))
        .collect();
    let timed: f64 = ops.iter().map(|&(_, _, ms)| ms).sum();
    ops.sort_by(|a, b| b.2.total_cmp(&a.2));
    ops.push(("other", 0.0, (pass_ms - timed).max(0.0)));
    record.ops = ops
        .into_iter()
        .map(|(op, calls, ms)| OpTime {
            op: op.to_string(),
            calls_per_pass: calls,
            ms_per_pass: ms,
            share: ms / pass_ms,
            gflops: flops
                .iter()
                .find(|(name, f)| *name == op && *f > 0.0)
                .map(|(_, f)| f / ms / 1e6),
        })
        .collect();
}

fn read_ids(path: &std::path::Path) -> anyhow::Result<Vec<Vec<u32>>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("{}: not a JSON array of id rows", path.display()))
}

/// The first `batch` rows, each cut to `seq` ids (its last id kept last).
fn cut_rows(all: &[Vec<u32>], batch: usize, seq: usize) -> anyhow::Result<Vec<Vec<u32>>> {
    if all.len() < batch {
        bail!(
            "the ids file has {} rows, batch size {batch} needs more",
            all.len()
        );
    }
    Ok(all[..batch]
        .iter()
        .map(|row| {
            let mut r: Vec<u32> = row.iter().copied().take(seq).collect();
            if row.len() > seq && seq > 0 {
                r[seq - 1] = *row.last().unwrap_or(&0);
            }
            r
        })
        .collect())
}

fn read_corpus(path: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let is_jsonl = path.to_string_lossy().contains(".jsonl");
    let text = read_text_file(path)?;
    let texts: Vec<String> = if is_jsonl {
        read_jsonl(text.as_bytes(), "text", "id")
            .filter_map(|r| r.ok()?.text.ok())
            .collect()
    } else {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect()
    };
    if texts.is_empty() {
        bail!("{}: no texts", path.display());
    }
    Ok(texts)
}

/// One progress line on stderr, rewritten in place on a terminal.
fn progress(message: &str) {
    let mut err = std::io::stderr();
    if err.is_terminal() {
        let _ = write!(err, "\r\x1b[2K{message}");
        let _ = err.flush();
    } else if !message.is_empty() {
        let _ = writeln!(err, "bench: {message}");
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::{Cli, Command};

    #[test]
    fn precisions_and_tasks_parse_as_lists_of_names() {
        let argv = [
            "norsk",
            "bench",
            "--task",
            "encoder",
            "--precision",
            "f32,BF16,int8",
            "--batch-sizes",
            "1,8",
        ];
        let Command::Bench(args) = Cli::try_parse_from(argv).unwrap().command else {
            panic!("not bench");
        };
        assert_eq!(args.task, Task::Encoder);
        assert_eq!(args.precision, Precision::ALL);
        assert_eq!(args.batch_sizes, [1, 8]);
        let bad = Cli::try_parse_from(["norsk", "bench", "--task", "pooler"]).unwrap_err();
        assert!(
            bad.to_string().contains("ner, classify or encoder"),
            "{bad}"
        );
    }
}

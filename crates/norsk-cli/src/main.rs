//! `norsk`: Norwegian BERT models on the CPU, from the command line.

mod alloc;
mod bench;
mod classify;
mod eval;
mod inputs;
mod kernels;
mod model;
mod ner;
mod train;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Norwegian BERT models on the CPU: named entities, topics, benchmarks.
#[derive(Debug, Parser)]
#[command(name = "norsk", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Tag named entities (persons, organisations, places, …) with exact offsets.
    Ner(ner::NerArgs),
    /// Classify articles by topic: one record per input record, in order.
    Classify(classify::ClassifyArgs),
    /// Score a model on labelled data.
    Eval(eval::EvalArgs),
    /// Train a model on the CPU.
    Train(train::TrainArgs),
    /// Measure throughput, latency and memory of a model on this CPU.
    Bench(bench::BenchArgs),
    /// Say which product kernels this CPU runs, and why.
    Info,
}

/// What a finished command tells the shell.
pub enum Outcome {
    /// Everything went through.
    Success,
    /// Some inputs gave error records; the rest went through.
    SomeFailed,
}

fn main() -> ExitCode {
    alloc::reuse_freed_buffers();
    let cli = Cli::parse();
    let result = kernels::configure().and_then(|chosen| match cli.command {
        Command::Ner(args) => ner::run(args),
        Command::Classify(args) => classify::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Train(args) => train::run(args),
        Command::Info => {
            println!("norsk {}", env!("CARGO_PKG_VERSION"));
            print!("{chosen}");
            Ok(Outcome::Success)
        }
    });
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::SomeFailed) => ExitCode::from(1),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("norsk: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// A reader that stopped reading (`norsk ner … | head`) is not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

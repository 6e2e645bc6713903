//! `norsk`: Norwegian BERT models on the CPU, from the command line.

mod batch;
mod bench;
mod choice;
mod classify;
mod embed;
mod eval;
mod inputs;
mod isolate;
mod kernels;
mod model;
mod ner;
mod output;
mod resume;
mod shard;
mod stop;
mod topics;
mod train;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// What the exit status says, at the end of every help.
const EXIT_CODES: &str = "Exit codes: 0 all went through, 1 some records failed (the rest are \
                          written), 2 nothing could be done (e.g. the model is missing), 130 and \
                          143 stopped by SIGINT (Ctrl-C) and SIGTERM (ner and classify first \
                          write the chunk of records in hand, so their output ends after a whole \
                          record).";

/// Norwegian BERT models on the CPU: named entities, topics, benchmarks.
#[derive(Debug, Parser)]
#[command(name = "norsk", version, about, max_term_width = 100, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Tag named entities (persons, organisations, places, …) with exact offsets.
    #[command(after_help = EXIT_CODES)]
    Ner(ner::NerArgs),
    /// Classify articles by topic: one record per input record, in order.
    #[command(after_help = EXIT_CODES)]
    Classify(classify::ClassifyArgs),
    /// Embed texts: one unit vector per input record, in order (JSONL or .npy).
    #[command(after_help = EXIT_CODES)]
    Embed(embed::EmbedArgs),
    /// Score a model on labelled data.
    #[command(after_help = EXIT_CODES)]
    Eval(eval::EvalArgs),
    /// Train a model on the CPU.
    #[command(after_help = EXIT_CODES)]
    Train(train::TrainArgs),
    /// Measure throughput, latency and memory of a model on this CPU.
    #[command(after_help = EXIT_CODES)]
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
    /// SIGTERM or SIGINT (the number) stopped it after a whole record.
    Stopped(i32),
}

fn main() -> ExitCode {
    norsk::alloc::reuse_freed_buffers();
    let cli = Cli::parse();
    let result = kernels::configure().and_then(|chosen| match cli.command {
        Command::Ner(args) => ner::run(args),
        Command::Classify(args) => classify::run(args),
        Command::Embed(args) => embed::run(args),
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
        Ok(Outcome::Stopped(signal)) => {
            eprintln!("{}", stop::note(signal));
            ExitCode::from(u8::try_from(128 + signal).unwrap_or(u8::MAX))
        }
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("norsk: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// A reader that stopped reading (`norsk ner … | head`) is not an error.
/// `serde_json` wraps the I/O errors of its writers without exposing them as
/// a source, so its errors are asked for their I/O kind.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        let kind = match cause.downcast_ref::<std::io::Error>() {
            Some(io) => Some(io.kind()),
            None => cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind),
        };
        kind == Some(std::io::ErrorKind::BrokenPipe)
    })
}

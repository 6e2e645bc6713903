//! The output flags of the commands that write one record per input
//! record and can go on after a crash (`ner`, `classify`), and where
//! their writers' notes go.

use std::path::PathBuf;

use clap::Args;
use norsk_io::Notes;

/// Where the records go, and whether an earlier run is continued.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Write here instead of stdout. Output is written a chunk of records
    /// at a time, in input order, so a crash (even SIGKILL) leaves whole
    /// records and at most a half-written last one.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// With --output (for ner, --format jsonl): go on where an earlier run
    /// stopped. Each record of the output stands for one input record, in
    /// order, so as many input records (of this --shard's block) are
    /// skipped as the output holds. The output is cut back to its last
    /// whole chunk first (a half-written record included), and that is
    /// done again as an uninterrupted run does it, so the finished output
    /// is the same byte for byte.
    #[arg(long, requires = "output")]
    pub resume: bool,
}

/// Where the writers of formats with no room for an error say it: stderr,
/// after the program's name.
pub fn notes() -> Notes {
    Box::new(|note| eprintln!("norsk: {note}"))
}

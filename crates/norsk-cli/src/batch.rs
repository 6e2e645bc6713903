//! The loop of a batch command (`ner`, `classify`): the records left to do,
//! chunk by chunk, each chunk's output written whole before the next is
//! read, stopping at a chunk's end on SIGTERM or SIGINT.

use std::ops::Range;

use norsk_io::Record;

use crate::inputs::InputArgs;
use crate::stop::Stop;
use crate::Outcome;

/// Runs `each` over the records of `input` at `positions`, in chunks of
/// `size`; `each` processes and writes a chunk and says whether some of
/// its records failed.
pub fn run(
    input: &InputArgs,
    size: usize,
    positions: Range<u64>,
    mut each: impl FnMut(&[Record]) -> anyhow::Result<bool>,
) -> anyhow::Result<Outcome> {
    let stop = Stop::install()?;
    let mut failed = false;
    for chunk in input.chunks(size, positions)? {
        let chunk = chunk?;
        let busy = stop.busy();
        failed |= each(&chunk)?;
        if let Some(signal) = stop.stopped(busy) {
            return Ok(Outcome::Stopped(signal));
        }
    }
    Ok(if failed {
        Outcome::SomeFailed
    } else {
        Outcome::Success
    })
}

//! `--shard K/N`: one of N contiguous blocks of the input, for schedulers
//! that start N copies of a command (Kubernetes Indexed Jobs, job arrays).

use std::ops::Range;
use std::str::FromStr;

use anyhow::{anyhow, bail};
use clap::Args;

use crate::inputs::InputArgs;

/// The variable Kubernetes Indexed Jobs set to each pod's 0-based index.
pub const INDEX_VARIABLE: &str = "JOB_COMPLETION_INDEX";

/// Which block of the input a run does.
#[derive(Debug, Args)]
pub struct ShardArgs {
    /// Do only block K of N (K 0-based: 0 <= K < N, as Kubernetes'
    /// JOB_COMPLETION_INDEX) of the input records. The blocks are
    /// contiguous, by position, and made of whole chunks (the records
    /// batched together: 16 × --batch-size for classify, 8 × for ner), so
    /// with the same options the N outputs concatenated in order 0..N are
    /// byte for byte one run without --shard (CSV: only block 0 writes the
    /// header); block sizes differ by up to a chunk. The records are
    /// counted first, by a streaming pass over the file (CSV and TSV are
    /// parsed for it), so --input must be a file or a folder, not stdin.
    /// Ids stay those of the whole input (by default the position in it);
    /// --resume goes on in this block's --output.
    #[arg(
        long,
        value_name = "K/N",
        conflicts_with = "shards",
        allow_hyphen_values = true
    )]
    shard: Option<Shard>,

    /// --shard K/N with K from the environment variable
    /// JOB_COMPLETION_INDEX, which Kubernetes sets in the pods of an
    /// Indexed Job (completionMode: Indexed, completions: N).
    #[arg(long, value_name = "N", value_parser = parse_count, allow_hyphen_values = true)]
    shards: Option<u64>,
}

/// Block `index` of `count`, `index` 0-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which block, `0 <= index < count`.
    pub index: u64,
    /// How many blocks.
    pub count: u64,
}

impl Shard {
    /// A shard, or why `index` and `count` make none.
    fn new(index: u64, count: u64) -> anyhow::Result<Self> {
        if count == 0 {
            bail!("the number of shards N must be at least 1");
        }
        if index >= count {
            bail!("shard {index} of {count} does not exist: K is 0-based, 0 <= K < N");
        }
        Ok(Self { index, count })
    }

    /// The positions of this shard's records among `total`: block `index`
    /// of `count` blocks, each beginning at a multiple of `chunk` (the
    /// records a command processes together), so that every chunk is the
    /// same as in one run over all records; the blocks differ in size by at
    /// most one chunk.
    pub fn positions(self, total: u64, chunk: u64) -> Range<u64> {
        let chunk = u128::from(chunk.max(1));
        let bound = |k: u64| {
            if k == self.count {
                return total;
            }
            let even = u128::from(k) * u128::from(total) / u128::from(self.count);
            let aligned = (even + chunk / 2) / chunk * chunk;
            aligned.min(u128::from(total)) as u64
        };
        bound(self.index)..bound(self.index + 1)
    }

    /// Whether this is the first block (the one that writes a header).
    pub fn is_first(self) -> bool {
        self.index == 0
    }
}

impl FromStr for Shard {
    type Err = anyhow::Error;

    /// `K/N`, e.g. `0/4`.
    fn from_str(s: &str) -> anyhow::Result<Self> {
        let (index, count) = s
            .split_once('/')
            .ok_or_else(|| anyhow!("expected K/N, e.g. 0/4 (K 0-based), got {s:?}"))?;
        Shard::new(number(index, "K")?, number(count, "N")?)
    }
}

fn number(s: &str, name: &str) -> anyhow::Result<u64> {
    s.trim()
        .parse()
        .map_err(|_| anyhow!("{name} must be a whole number >= 0, got {s:?}"))
}

fn parse_count(s: &str) -> anyhow::Result<u64> {
    let count = number(s, "N")?;
    Shard::new(0, count)?;
    Ok(count)
}

impl ShardArgs {
    /// The shard asked for, if any; `--shards N` takes K from
    /// `JOB_COMPLETION_INDEX`.
    pub fn shard(&self) -> anyhow::Result<Option<Shard>> {
        match (self.shard, self.shards) {
            (Some(shard), _) => Ok(Some(shard)),
            (None, Some(count)) => {
                from_environment(std::env::var(INDEX_VARIABLE).ok().as_deref(), count).map(Some)
            }
            (None, None) => Ok(None),
        }
    }
}

/// Shard `index` (the variable's value, if set) of `count`.
fn from_environment(index: Option<&str>, count: u64) -> anyhow::Result<Shard> {
    let Some(index) = index else {
        bail!(
            "--shards {count} takes K from ${INDEX_VARIABLE}, which is not set (Kubernetes sets it in Indexed Jobs); elsewhere pass --shard K/{count}"
        );
    };
    let index = number(index, &format!("${INDEX_VARIABLE}"))?;
    Shard::new(index, count)
}

/// The input positions a run covers: all of them, or its shard's block of
/// whole chunks (counting the records first; stdin cannot be counted ahead).
pub fn positions(
    input: &InputArgs,
    shard: Option<Shard>,
    chunk: usize,
) -> anyhow::Result<Range<u64>> {
    let Some(shard) = shard else {
        return Ok(0..u64::MAX);
    };
    if input.is_stdin() {
        bail!("--shard and --shards need --input FILE or a folder: stdin cannot be counted ahead to cut it into blocks");
    }
    Ok(shard.positions(input.count()?, chunk as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_of_whole_chunks_cover_every_position_once_in_order() {
        for chunk in [1, 16, 256] {
            for total in [0, 1, 2, 5, 50, 51, 1000, 100_000] {
                for count in 1..=7 {
                    let mut next = 0;
                    for index in 0..count {
                        let block = Shard { index, count }.positions(total, chunk);
                        let at = format!("{index}/{count} of {total} in chunks of {chunk}");
                        assert_eq!(block.start, next, "{at}");
                        assert_eq!(block.start % chunk, 0, "{at}");
                        assert!(block.end - block.start <= total / count + chunk, "{at}");
                        next = block.end;
                    }
                    assert_eq!(next, total, "{count} shards of {total}");
                }
            }
        }
        assert_eq!(Shard { index: 1, count: 3 }.positions(50, 1), 16..33);
        assert_eq!(Shard { index: 1, count: 3 }.positions(50, 16), 16..32);
        let huge = Shard { index: 2, count: 3 }.positions(u64::MAX, 256);
        assert_eq!(huge.end, u64::MAX, "no overflow");
    }

    #[test]
    fn bad_shards_are_errors_that_say_why() {
        assert_eq!(
            "1/3".parse::<Shard>().unwrap(),
            Shard { index: 1, count: 3 }
        );
        for (bad, says) in [
            ("3/3", "0-based"),
            ("0/0", "at least 1"),
            ("a/3", "K must be"),
            ("1/x", "N must be"),
            ("-1/3", "K must be"),
            ("13", "K/N"),
        ] {
            let err = bad.parse::<Shard>().unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
        assert!(parse_count("0").is_err());
        assert_eq!(from_environment(Some("2"), 3).unwrap().index, 2);
        let unset = from_environment(None, 3).unwrap_err().to_string();
        assert!(unset.contains("JOB_COMPLETION_INDEX"), "{unset}");
        assert!(from_environment(Some("3"), 3).is_err());
        assert!(from_environment(Some("x"), 3).is_err());
    }
}

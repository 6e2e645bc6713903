use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::SpanError;

/// How tokens are fused into entities (transformers' `AggregationStrategy`).
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Aggregation {
    /// One entity per token, labelled with the full label name (`B-PER`).
    None,
    /// Tokens labelled by their own argmax, then grouped into entities.
    Simple,
    /// A word takes the label and score of its first token.
    First,
    /// A word takes the argmax of its tokens' averaged scores.
    Average,
    /// A word takes the label and score of its token with the highest score.
    Max,
}

impl Aggregation {
    /// The lowercase name, as parsed by [`FromStr`] and used by serde.
    pub fn as_str(self) -> &'static str {
        match self {
            Aggregation::None => "none",
            Aggregation::Simple => "simple",
            Aggregation::First => "first",
            Aggregation::Average => "average",
            Aggregation::Max => "max",
        }
    }
}

impl fmt::Display for Aggregation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Aggregation {
    type Err = SpanError;

    /// Parses a strategy name, ignoring ASCII case (transformers upper-cases it).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Aggregation::None,
            Aggregation::Simple,
            Aggregation::First,
            Aggregation::Average,
            Aggregation::Max,
        ]
        .into_iter()
        .find(|a| a.as_str().eq_ignore_ascii_case(s))
        .ok_or_else(|| SpanError::UnknownAggregation(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in ["none", "simple", "first", "average", "max"] {
            let a: Aggregation = s.parse().unwrap();
            assert_eq!(a.to_string(), s);
        }
        assert_eq!("FIRST".parse::<Aggregation>(), Ok(Aggregation::First));
        assert_eq!(
            "mean".parse::<Aggregation>(),
            Err(SpanError::UnknownAggregation("mean".into()))
        );
    }
}

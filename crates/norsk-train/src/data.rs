use std::collections::HashMap;

use norsk_tokens::{TextTokenizer, WindowPlan};
use rayon::prelude::*;

use crate::TrainError;

/// One tokenised example.
#[derive(Debug, Clone)]
pub(crate) struct Encoded {
    pub ids: Vec<u32>,
    pub type_ids: Vec<u32>,
    /// The label's id, `None` for a label the model does not know (dev only).
    pub label: Option<u32>,
    /// Whether `max_len` cut the text.
    pub truncated: bool,
}

/// Tokenises texts (in parallel), keeping the first window of `max_len`
/// tokens. Long texts are cut to a prefix first (a token is never longer
/// than its bytes), and re-encoded whole when the prefix turns out short.
pub(crate) fn encode_all(
    tokenizer: &TextTokenizer,
    examples: &[(String, String)],
    label_ids: &HashMap<String, u32>,
    max_len: usize,
) -> Result<Vec<Encoded>, TrainError> {
    let plan = WindowPlan {
        max_len,
        stride: None,
    };
    // Encoding a long text whole is wasted work when only its first
    // `max_len` tokens are kept: encode a prefix first. The result is the
    // whole text's window when the window fills up before the last
    // whitespace of the prefix (the word cut by the prefix plays no part).
    let prefix_bytes = max_len * 16;
    examples
        .par_iter()
        .map(|(text, label)| {
            let encode = |t: &str| -> Result<_, TrainError> {
                let mut windows = tokenizer.windows(t, plan)?;
                Ok(windows.swap_remove(0))
            };
            let mut cut = text.len().min(prefix_bytes);
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            let mut window = encode(&text[..cut])?;
            let full = window.len() >= max_len;
            if cut < text.len() {
                let safe = text[..cut].rfind(char::is_whitespace).unwrap_or(0);
                let end = window.offsets.iter().map(|o| o.1).max().unwrap_or(0);
                if !(full && end <= safe) {
                    window = encode(text)?;
                }
            }
            let end = window.offsets.iter().map(|o| o.1).max().unwrap_or(0);
            let truncated = text[end..].chars().any(|c| !c.is_whitespace());
            Ok(Encoded {
                ids: window.ids,
                type_ids: window.type_ids,
                label: label_ids.get(label).copied(),
                truncated,
            })
        })
        .collect()
}

/// A small seeded generator (SplitMix64): shuffling and fresh weights.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Fisher–Yates.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// How many batches of `batch_size` share one length bucket.
const BATCHES_PER_BUCKET: usize = 50;

/// One epoch's batches: the examples shuffled, cut into buckets of
/// `50 × batch_size`, sorted by length inside each bucket (little padding),
/// cut into batches, and the batches shuffled.
pub(crate) fn plan_batches(lengths: &[usize], batch_size: usize, rng: &mut Rng) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    rng.shuffle(&mut order);
    for bucket in order.chunks_mut(batch_size * BATCHES_PER_BUCKET) {
        bucket.sort_by_key(|&i| lengths[i]);
    }
    let mut batches: Vec<Vec<usize>> = order.chunks(batch_size).map(<[usize]>::to_vec).collect();
    rng.shuffle(&mut batches);
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_cover_every_example_once_and_are_length_sorted() {
        let lengths: Vec<usize> = (0..1000).map(|i| (i * 7919) % 300).collect();
        let mut rng = Rng::new(1);
        let batches = plan_batches(&lengths, 16, &mut rng);
        let mut seen: Vec<usize> = batches.iter().flatten().copied().collect();
        seen.sort();
        assert_eq!(seen, (0..1000).collect::<Vec<_>>());
        for b in &batches {
            assert!(b.windows(2).all(|w| lengths[w[0]] <= lengths[w[1]]));
        }
        let again = plan_batches(&lengths, 16, &mut Rng::new(1));
        assert_eq!(batches, again);
    }

    #[test]
    fn normal_draws_have_the_right_moments() {
        let mut rng = Rng::new(7);
        let xs: Vec<f64> = (0..20000).map(|_| rng.normal()).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
    }
}

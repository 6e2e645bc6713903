//! The invariants of text → tokens → windows → entities → offsets, checked on
//! arbitrary bytes with random logits in place of a model: by the
//! `ner_decode` fuzz target (`crates/norsk/fuzz`) and by the regression
//! tests that replay its seeds (`tests/fuzz_seeds.rs`). Not part of the API.
//!
//! The text is tokenized for real (the WordPiece tokenizer of
//! `tests/fixtures/tiny-ner` or the shipped model's SentencePiece one), cut
//! into sentences and windows as [`crate::NerPipeline`] cuts it, and decoded
//! by the code the pipeline decodes with; only the logits are made up, so
//! no tensor is touched. [`check_ner_decode`] panics when an invariant
//! fails: every entity's `text[start..end]` is its word, which has no
//! whitespace at either end; entities are sorted and do not overlap; the
//! ignored label never shows; character offsets give back the same word.

use std::path::Path;
use std::sync::OnceLock;

use norsk_spans::{Aggregation, Entity, LabelDecoding, Labels};
use norsk_tokens::{CharIndex, TextTokenizer, WindowPlan};

use crate::ner_decode::{is_runnable, merge_pieces, piece_jobs, pieces, Cut, Decoder};

/// The tokenizers the target picks from: WordPiece (marks continuations)
/// and SentencePiece Unigram (does not).
fn tokenizers() -> &'static [TextTokenizer; 2] {
    static TOKENIZERS: OnceLock<[TextTokenizer; 2]> = OnceLock::new();
    TOKENIZERS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let load = |dir: &str| TextTokenizer::from_dir(&root.join(dir)).expect("tokenizer");
        [
            load("tests/fixtures/tiny-ner"),
            load("models/norsk-bert-ner"),
        ]
    })
}

/// Label sets in the schemes norsk reads: IOB2, BIOES, BILOU, plain types.
const LABEL_SETS: [&[&str]; 4] = [
    &["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"],
    &[
        "O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC",
    ],
    &["O", "B-ORG", "I-ORG", "L-ORG", "U-ORG"],
    &["O", "PER", "LOC"],
];

const AGGREGATIONS: [Aggregation; 5] = [
    Aggregation::None,
    Aggregation::Simple,
    Aggregation::First,
    Aggregation::Average,
    Aggregation::Max,
];

/// splitmix64: the made-up logits, reproducible from the input's seed bytes.
struct Logits(u64);

impl Logits {
    fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        match z % 128 {
            0 => f32::NAN,
            1 => f32::INFINITY,
            2 => f32::NEG_INFINITY,
            3 => 1e30,
            _ => (z >> 8) as f32 / (1u64 << 56) as f32 * 24.0 - 12.0,
        }
    }
}

/// Checks the invariants on `data`: byte 0 picks the tokenizer, the
/// aggregation, sentence splitting and truncation; byte 1 the window length
/// and stride; bytes 2–3 the label set and the logits' seed (the lowest bit
/// of byte 3 also packs split sentences into runs, the next one asks for
/// constrained label decoding); the rest
/// (lossy UTF-8) is the texts, separated by U+001E. Panics when one fails.
pub fn check_ner_decode(data: &[u8]) {
    let [options, window, seed_a, seed_b, text @ ..] = data else {
        return;
    };
    let all = String::from_utf8_lossy(text);
    let texts: Vec<&str> = all.split('\u{1e}').collect();
    let tokenizer = &tokenizers()[usize::from(options & 1)];
    let aggregation = AGGREGATIONS[usize::from((options >> 1) & 0x1F) % AGGREGATIONS.len()];
    let split_sentences = options & 0x40 != 0;
    let max_len = 8 + usize::from(window % 56);
    let stride = (options & 0x80 == 0).then_some(usize::from(window >> 6) * max_len / 6);
    let plan = WindowPlan {
        max_len,
        stride: stride.map(|s| s.min(max_len / 2)),
    };
    let names = LABEL_SETS[usize::from(*seed_a) % LABEL_SETS.len()];
    let labels = Labels::new(names.iter().map(|n| n.to_string()).collect()).expect("labels");
    let decoding = match seed_b & 2 {
        0 => LabelDecoding::Argmax,
        _ => LabelDecoding::Constrained,
    };
    let mut random = Logits((u64::from(*seed_a) << 8) | u64::from(*seed_b));

    let cut = match (split_sentences, seed_b & 1 == 1) {
        (false, _) => Cut::Whole,
        (true, false) => Cut::Sentences,
        (true, true) => Cut::SentenceRuns {
            tokenizer,
            room: max_len - tokenizer.special_tokens_per_text(),
        },
    };
    let pieces = pieces(&texts, cut).expect("tokenizing sentences");
    let mut jobs = Vec::new();
    for (index, piece) in pieces.iter().enumerate() {
        jobs.extend(
            piece_jobs(tokenizer, piece, index, plan).expect("windows of 8 tokens or more"),
        );
    }
    let logits = jobs
        .iter()
        .map(|job| match is_runnable(&job.window) {
            true => (0..job.window.len())
                .map(|_| (0..labels.len()).map(|_| random.next()).collect())
                .collect(),
            false => Vec::new(),
        })
        .collect();
    let ignore = ["O".to_string()];
    let decoder = Decoder {
        tokenizer,
        labels: &labels,
        aggregation,
        decoding,
        ignore_labels: &ignore,
    };
    let mut per_piece = vec![Vec::new(); pieces.len()];
    decoder
        .add_windows(&pieces, &jobs, logits, &mut per_piece)
        .expect("tokenizer offsets are char-aligned and in order");
    let per_text = merge_pieces(texts.len(), &pieces, per_piece);
    assert_eq!(per_text.len(), texts.len(), "one result per text");
    for (text, entities) in texts.iter().zip(&per_text) {
        check_entities(text, entities, aggregation);
    }
}

/// The invariants of one text's entities.
fn check_entities(text: &str, entities: &[Entity], aggregation: Aggregation) {
    let index = CharIndex::new(text);
    let mut previous_end = 0;
    for e in entities {
        assert_eq!(
            text.get(e.start..e.end),
            Some(e.word.as_str()),
            "text[start..end] is the word: {e:?}"
        );
        assert!(e.start < e.end, "an entity is not empty: {e:?}");
        assert_eq!(e.word.trim(), e.word, "no whitespace at either end: {e:?}");
        assert!(e.start >= previous_end, "sorted, no overlaps: {e:?}");
        previous_end = e.end;
        assert_ne!(e.label, "O", "ignored labels never show");
        assert_eq!(e.index.is_some(), aggregation == Aggregation::None);
        let (start, end) = (index.char_of_byte(e.start), index.char_of_byte(e.end));
        assert_eq!(index.byte_of_char(start), e.start);
        assert_eq!(index.byte_of_char(end), e.end);
        let by_chars: String = text.chars().skip(start).take(end - start).collect();
        assert_eq!(by_chars, e.word, "character offsets give the word");
    }
}

//! Inputs and outputs of norsk, with no tensors: reading texts (files,
//! stdin, JSONL, CSV/TSV, folders) with precise errors, and writing entities as JSON,
//! JSONL, CoNLL or highlighted text, labels as JSONL or CSV, vectors as JSONL or
//! `.npy` (one [`RecordWriter`] per format, one output record per input
//! record), and the records of evaluations and benchmarks.

mod bench;
mod conll;
mod count;
mod entities;
mod error;
mod eval;
mod folder;
#[doc(hidden)]
pub mod fuzzing;
mod input;
mod labelled;
mod npy;
mod render;
mod stream;
mod table;
mod writers;

pub use bench::{write_bench_table, BenchRecord, OpTime, PipelineTimes};
pub use conll::{parse_tagged, read_tagged, TaggedSentence};
pub use count::count_jsonl;
pub use entities::{EntityRecord, OffsetUnit};
pub use error::{error_message, InputError};
pub use eval::{ClassEvalRecord, NerEvalRecord};
pub use folder::{folder_texts, read_folder};
pub use input::{decode_text, read_jsonl, read_text_file, Record};
pub use labelled::{read_examples, read_labelled, Example};
pub use npy::NpyWriter;
pub use render::{render_conll, render_human, Palette};
pub use stream::open_stream;
pub use table::read_table;
pub use writers::{
    write_chunk, ConllWriter, CsvWriter, HumanWriter, JsonWriter, JsonlWriter, Notes,
    NpyRecordWriter, RecordOutput, RecordWriter, Tagged, LABELS_CSV_HEADER,
};

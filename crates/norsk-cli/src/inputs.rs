//! Where a command's texts come from: arguments, files, JSONL or stdin.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use norsk_io::{decode_text, read_jsonl, read_text_file, Record};
use serde_json::{Map, Value};

/// The input options shared by the commands that read texts.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Texts to process; an argument that names an existing file is read as
    /// that file (`norsk ner artikkel.txt`). With no texts, files or --input,
    /// one text is read from stdin.
    #[arg(value_name = "TEXT", conflicts_with_all = ["files", "input"])]
    pub texts: Vec<String>,

    /// Files to process, each one text (`.gz` is decompressed).
    #[arg(short = 'f', long = "file", value_name = "FILE", num_args = 1.., conflicts_with = "input")]
    pub files: Vec<PathBuf>,

    /// JSONL input, one object per line with a text field and an optional id
    /// field; other fields are carried through. `-` reads stdin.
    #[arg(long, value_name = "FILE.jsonl")]
    pub input: Option<PathBuf>,

    /// The JSONL field holding the text.
    #[arg(long, default_value = "text")]
    pub text_field: String,

    /// The JSONL field holding the id (default: the record's 0-based position).
    #[arg(long, default_value = "id")]
    pub id_field: String,
}

/// A stream of input records, each a text or the reason it has none.
pub type Records = Box<dyn Iterator<Item = anyhow::Result<Record>>>;

impl InputArgs {
    /// The records, in input order.
    pub fn records(&self) -> anyhow::Result<Records> {
        if let Some(path) = &self.input {
            let reader: Box<dyn Read> = if path.as_os_str() == "-" {
                Box::new(std::io::stdin())
            } else {
                Box::new(
                    File::open(path).with_context(|| format!("cannot open {}", path.display()))?,
                )
            };
            let records = read_jsonl(BufReader::new(reader), &self.text_field, &self.id_field);
            return Ok(Box::new(records.map(|r| r.map_err(anyhow::Error::from))));
        }
        if !self.files.is_empty() {
            let files = self.files.clone().into_iter().enumerate();
            return Ok(Box::new(files.map(|(i, path)| Ok(file_record(i, &path)))));
        }
        if !self.texts.is_empty() {
            let texts = self.texts.clone().into_iter().enumerate();
            return Ok(Box::new(texts.map(|(i, text)| {
                let path = Path::new(&text);
                Ok(if path.is_file() {
                    file_record(i, path)
                } else {
                    plain(i, Ok(text))
                })
            })));
        }
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read stdin")?;
        let text = decode_text(bytes, "stdin");
        Ok(Box::new(std::iter::once(Ok(plain(0, text)))))
    }

    /// Whether the input is a single text (so output needs no per-text framing).
    pub fn is_single(&self) -> bool {
        self.input.is_none() && self.files.len() + self.texts.len() <= 1
    }
}

/// A file read as one text; the record carries its path as `file`.
fn file_record(i: usize, path: &Path) -> Record {
    let mut extra = Map::new();
    extra.insert("file".into(), Value::from(path.display().to_string()));
    Record {
        id: Value::from(i),
        text: read_text_file(path),
        extra,
    }
}

fn plain(i: usize, text: Result<String, norsk_io::InputError>) -> Record {
    Record {
        id: Value::from(i),
        text,
        extra: Map::new(),
    }
}

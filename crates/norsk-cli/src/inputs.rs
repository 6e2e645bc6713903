//! Where a command's texts come from: arguments, files, JSONL or stdin.

use std::io::{BufRead, BufReader, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Args;
use norsk_io::{
    count_jsonl, decode_text, folder_texts, open_stream, read_folder, read_jsonl, read_table,
    read_text_file, InputError, Record,
};
use serde_json::{Map, Value};

/// The input options shared by the commands that read texts.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Texts to process; an argument that names an existing file is read as
    /// that file (`artikkel.txt`). An argument that looks like a path (no
    /// whitespace, and a `/` or an ending such as `.txt`, `.jsonl`, `.csv`,
    /// `.gz`) but names no file is an error; --text reads it as text. With
    /// no texts, files or --input, one text is read from stdin.
    #[arg(value_name = "TEXT", conflicts_with_all = ["files", "input"])]
    pub texts: Vec<String>,

    /// Read every TEXT argument as text, even one that names a file.
    #[arg(long = "text", requires = "texts")]
    pub literal: bool,

    /// Files to process, each one text (`.gz` is decompressed).
    #[arg(short = 'f', long = "file", value_name = "FILE", num_args = 1.., conflicts_with = "input")]
    pub files: Vec<PathBuf>,

    /// Many records: JSONL (one object per line with a text field and an
    /// optional id field), CSV or TSV with a header, or a folder of `.txt`
    /// files (id: the file name). Other fields are carried through. `-` reads
    /// stdin. `.gz`/`.xz` files are decompressed.
    #[arg(long, value_name = "FILE|DIR")]
    pub input: Option<PathBuf>,

    /// Format of --input; `auto` goes by the extension (a folder, `.csv`,
    /// `.tsv`, else JSONL).
    #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
    pub input_format: InputFormat,

    /// The field (JSONL) or column (CSV/TSV) holding the text.
    #[arg(long, default_value = "text")]
    pub text_field: String,

    /// The field or column holding the id (default: the record's 0-based position).
    #[arg(long, default_value = "id")]
    pub id_field: String,
}

/// How `--input` is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    Auto,
    Jsonl,
    Csv,
    Tsv,
    Folder,
}

/// A stream of input records, each a text or the reason it has none.
pub type Records = Box<dyn Iterator<Item = anyhow::Result<Record>>>;

impl InputArgs {
    /// The records at `positions` (0-based, in input order), in chunks of
    /// `size` that begin at multiples of `size` (the first and last may be
    /// shorter): enough to batch by length, few enough to stream. Any run
    /// over the same records chunks them alike, however far it skips.
    pub fn chunks(
        &self,
        size: usize,
        positions: Range<u64>,
    ) -> anyhow::Result<impl Iterator<Item = anyhow::Result<Vec<Record>>>> {
        let size = size.max(1);
        let skip = usize::try_from(positions.start).unwrap_or(usize::MAX);
        let take =
            usize::try_from(positions.end.saturating_sub(positions.start)).unwrap_or(usize::MAX);
        let mut records = self.records()?.skip(skip).take(take);
        let mut next = size - skip % size;
        Ok(std::iter::from_fn(move || {
            let chunk: anyhow::Result<Vec<Record>> = records.by_ref().take(next).collect();
            next = size;
            match chunk {
                Ok(chunk) if chunk.is_empty() => None,
                other => Some(other),
            }
        }))
    }

    /// The records, in input order.
    pub fn records(&self) -> anyhow::Result<Records> {
        if let Some(path) = &self.input {
            return self.many(path);
        }
        if !self.files.is_empty() {
            let files = self.files.clone().into_iter().enumerate();
            return Ok(Box::new(files.map(|(i, path)| Ok(file_record(i, &path)))));
        }
        if !self.texts.is_empty() {
            let literal = self.literal;
            let texts = self.texts.clone().into_iter().enumerate();
            return Ok(Box::new(
                texts.map(move |(i, text)| Ok(text_argument(i, text, literal))),
            ));
        }
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read stdin")?;
        let text = decode_text(bytes, "stdin");
        Ok(Box::new(std::iter::once(Ok(plain(0, text)))))
    }

    /// How `--input` is read: as told, else by the extension.
    fn format(&self, path: &Path) -> InputFormat {
        let name = path.to_string_lossy().to_lowercase();
        let name = name.trim_end_matches(".gz").trim_end_matches(".xz");
        match self.input_format {
            InputFormat::Auto if path.is_dir() => InputFormat::Folder,
            InputFormat::Auto if name.ends_with(".csv") => InputFormat::Csv,
            InputFormat::Auto if name.ends_with(".tsv") => InputFormat::Tsv,
            InputFormat::Auto => InputFormat::Jsonl,
            other => other,
        }
    }

    /// The records of `--input`.
    fn many(&self, path: &Path) -> anyhow::Result<Records> {
        let format = self.format(path);
        if format == InputFormat::Folder {
            let records = read_folder(path)?;
            return Ok(Box::new(records.into_iter().map(Ok)));
        }
        if path.is_dir() {
            bail!(
                "{} is a folder: --input-format folder (or auto) reads its .txt files",
                path.display()
            );
        }
        // Files stream (`.gz`/`.xz` decompressed as read): memory holds a
        // chunk of records, whatever the file's size.
        let mut reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
            Box::new(BufReader::new(std::io::stdin()))
        } else {
            open_stream(path)?
        };
        refuse_binary(&mut reader, path)?;
        let (text, id) = (&self.text_field, &self.id_field);
        Ok(match format {
            InputFormat::Csv | InputFormat::Tsv => {
                let delimiter = if format == InputFormat::Csv {
                    b','
                } else {
                    b'\t'
                };
                let records = read_table(reader, delimiter, text, id)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                Box::new(records.map(Ok))
            }
            _ => Box::new(read_jsonl(reader, text, id).map(|r| r.map_err(anyhow::Error::from))),
        })
    }

    /// How many records there are, counted without holding them: texts
    /// and files given, the `.txt` files of a folder, the lines of a JSONL
    /// file that are not blank (streamed, decompressed as read); CSV and
    /// TSV are read as a run reads them. Stdin cannot be counted ahead.
    pub fn count(&self) -> anyhow::Result<u64> {
        if self.is_stdin() {
            bail!("stdin cannot be counted ahead");
        }
        let Some(path) = &self.input else {
            return Ok((self.files.len() + self.texts.len()) as u64);
        };
        Ok(match self.format(path) {
            InputFormat::Folder => folder_texts(path)?.len() as u64,
            InputFormat::Csv | InputFormat::Tsv => self.many(path)?.count() as u64,
            _ => count_jsonl(path)?,
        })
    }

    /// Whether the records come from stdin (no texts or files, or `--input -`).
    pub fn is_stdin(&self) -> bool {
        match &self.input {
            Some(path) => path.as_os_str() == "-",
            None => self.files.is_empty() && self.texts.is_empty(),
        }
    }

    /// Whether the input is a single text (so output needs no per-text framing).
    pub fn is_single(&self) -> bool {
        self.input.is_none() && self.files.len() + self.texts.len() <= 1
    }
}

/// A record's title: its `field`, when one is named and the record has it
/// as a string. A record without one is read as text alone.
pub fn title<'a>(fields: &'a Map<String, Value>, field: Option<&str>) -> Option<&'a str> {
    fields.get(field?)?.as_str()
}

/// Refuses input whose first block holds a NUL byte: a binary file (an
/// executable, an archive) is one error, not an error record per line.
fn refuse_binary(reader: &mut impl BufRead, path: &Path) -> anyhow::Result<()> {
    let head = reader
        .fill_buf()
        .with_context(|| format!("cannot read {}", path.display()))?;
    match head.iter().position(|&b| b == 0) {
        Some(position) => Err(InputError::Binary {
            source_name: match path.to_str() {
                Some("-") => "stdin".to_string(),
                _ => path.display().to_string(),
            },
            position,
        }
        .into()),
        None => Ok(()),
    }
}

/// Endings of the files a text argument may name.
const FILE_ENDINGS: [&str; 14] = [
    "txt", "text", "md", "json", "jsonl", "ndjson", "csv", "tsv", "gz", "xz", "conll", "conllu",
    "html", "xml",
];

/// Whether a text argument is more likely a (mistyped) path than a text:
/// no whitespace, and a path separator or a file ending.
fn looks_like_path(text: &str) -> bool {
    let ending = text
        .rsplit_once('.')
        .is_some_and(|(_, e)| FILE_ENDINGS.contains(&e.to_ascii_lowercase().as_str()));
    !text.is_empty()
        && !text.chars().any(char::is_whitespace)
        && (ending || text.contains('/') || text.contains(std::path::MAIN_SEPARATOR))
}

/// A TEXT argument: the file it names, an error when it looks like a path
/// that names none, else the text itself (always, when `literal`).
fn text_argument(i: usize, text: String, literal: bool) -> Record {
    let path = Path::new(&text);
    if literal || !(path.is_file() || looks_like_path(&text)) {
        return plain(i, Ok(text));
    }
    let mut record = file_record(i, path);
    if !path.exists() {
        let missing = std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such file (--text reads the arguments as texts)",
        );
        record.text = Err(InputError::io(path, missing));
    }
    record
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

fn plain(i: usize, text: Result<String, InputError>) -> Record {
    Record {
        id: Value::from(i),
        text,
        extra: Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mistyped_path_is_not_read_as_text() {
        for path in [
            "nosuch.txt",
            "data/artikler",
            "notat.TXT.gz",
            "a.jsonl",
            "x.csv",
        ] {
            assert!(looks_like_path(path), "{path}");
        }
        for text in [
            "Oslo.",
            "U.S.A",
            "og/eller er to ord",
            "kl. 21.55",
            "",
            "3.5",
        ] {
            assert!(!looks_like_path(text), "{text}");
        }
        let record = text_argument(0, "nosuch.txt".into(), false);
        let err = norsk_io::error_message(&record.text.unwrap_err());
        assert!(
            err.contains("nosuch.txt") && err.contains("no such file"),
            "{err}"
        );
        let record = text_argument(0, "nosuch.txt".into(), true);
        assert_eq!(record.text.as_deref(), Ok("nosuch.txt"), "--text");
        let record = text_argument(0, "Oslo".into(), false);
        assert_eq!(record.text.as_deref(), Ok("Oslo"));
    }
}

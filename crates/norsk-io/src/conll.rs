//! Tagged corpora for NER evaluation: `TOKEN<TAB>TAG` files and NorNE's
//! CoNLL-U files.

use std::path::Path;

use crate::{read_text_file, InputError};

/// One sentence of a tagged corpus: its tokens and one tag per token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaggedSentence {
    /// The tokens, in order.
    pub tokens: Vec<String>,
    /// The tag of each token (`O`, `B-PER`, …); as long as `tokens`.
    pub tags: Vec<String>,
}

/// The layouts [`parse_tagged`] understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// `TOKEN<TAB>TAG` per line.
    Tsv,
    /// CoNLL-U, the tag in the MISC column as `name=TAG` (NorNE).
    Conllu,
}

/// Number of columns of a CoNLL-U token line.
const CONLLU_COLUMNS: usize = 10;
/// The MISC item that carries the NorNE tag.
const NAME_KEY: &str = "name=";

/// Reads a tagged corpus from a file (`.gz` files are decompressed); see
/// [`parse_tagged`] for the formats.
pub fn read_tagged(path: &Path) -> Result<Vec<TaggedSentence>, InputError> {
    let text = read_text_file(path)?;
    parse_tagged(&text, path)
}

/// Parses a tagged corpus; `path` only names the source in errors.
///
/// Two formats, told apart by the first line that is neither blank nor a
/// comment:
///
/// * **`TOKEN<TAB>TAG`** (2 columns), as NorNE's `bio/*.tsv`. A line that
///   starts with `#` and has no tab is a comment (`# sent_id = …`); `#<TAB>O`
///   is the token `#`.
/// * **CoNLL-U** (10 columns), the tag in the MISC column as `name=B-PER`
///   (NorNE). Lines starting with `#` are comments; multiword-token ranges
///   (`1-2`) and empty nodes (`1.1`) are skipped.
///
/// Sentences are separated by blank lines; empty sentences are dropped.
/// Tags are trimmed of surrounding whitespace; tokens are kept as they are.
/// A trailing `\r` (CRLF files) is ignored. Any other irregularity, such as
/// a wrong number of columns, an empty token or tag, or a CoNLL-U line
/// without `name=`, is an [`InputError::MalformedLine`] naming the line.
pub fn parse_tagged(text: &str, path: &Path) -> Result<Vec<TaggedSentence>, InputError> {
    let lines = || {
        text.split('\n')
            .map(|line| line.strip_suffix('\r').unwrap_or(line))
            .enumerate()
            .map(|(n, line)| (n + 1, line))
    };
    let malformed = |line: usize, reason: String| InputError::MalformedLine {
        path: path.to_path_buf(),
        line,
        reason,
    };

    let first = lines().find(|(_, line)| !is_blank(line) && !line.starts_with('#'));
    let format = match first {
        None => Format::Tsv,
        Some((n, line)) => match line.split('\t').count() {
            2 => Format::Tsv,
            CONLLU_COLUMNS => Format::Conllu,
            found => {
                return Err(malformed(
                    n,
                    format!(
                        "expected TOKEN<TAB>TAG (2 tab-separated columns) or CoNLL-U ({CONLLU_COLUMNS} columns), found {}",
                        columns(found)
                    ),
                ))
            }
        },
    };

    let mut sentences = Vec::new();
    let mut current = TaggedSentence::default();
    for (n, line) in lines() {
        if is_blank(line) {
            if !current.tokens.is_empty() {
                sentences.push(std::mem::take(&mut current));
            }
            continue;
        }
        let parsed = match format {
            Format::Tsv => tsv_line(line),
            Format::Conllu => conllu_line(line),
        };
        match parsed.map_err(|reason| malformed(n, reason))? {
            Some((token, tag)) => {
                current.tokens.push(token.to_string());
                current.tags.push(tag.to_string());
            }
            None => continue,
        }
    }
    if !current.tokens.is_empty() {
        sentences.push(current);
    }
    Ok(sentences)
}

fn columns(n: usize) -> String {
    if n == 1 {
        "1 column".to_string()
    } else {
        format!("{n} columns")
    }
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// A `TOKEN<TAB>TAG` line: its token and tag, or `None` for a comment.
fn tsv_line(line: &str) -> Result<Option<(&str, &str)>, String> {
    if line.starts_with('#') && !line.contains('\t') {
        return Ok(None);
    }
    let fields: Vec<&str> = line.split('\t').collect();
    let [token, tag] = fields[..] else {
        return Err(format!(
            "expected TOKEN<TAB>TAG (2 tab-separated columns), found {}",
            columns(fields.len())
        ));
    };
    token_and_tag(token, tag.trim())
}

/// A CoNLL-U line: the FORM and the `name=` tag of a word, or `None` for a
/// comment, a multiword-token range or an empty node.
fn conllu_line(line: &str) -> Result<Option<(&str, &str)>, String> {
    if line.starts_with('#') {
        return Ok(None);
    }
    let fields: Vec<&str> = line.split('\t').collect();
    if fields.len() != CONLLU_COLUMNS {
        return Err(format!(
            "expected {CONLLU_COLUMNS} tab-separated CoNLL-U columns, found {}",
            columns(fields.len())
        ));
    }
    let id = fields[0];
    if id.contains('-') || id.contains('.') {
        return Ok(None);
    }
    if id.parse::<u64>().is_err() {
        return Err(format!("invalid CoNLL-U word ID {id:?}"));
    }
    let misc = fields[CONLLU_COLUMNS - 1];
    let Some(tag) = misc.split('|').find_map(|item| item.strip_prefix(NAME_KEY)) else {
        return Err(format!(
            "no {NAME_KEY}TAG item in the MISC column {misc:?} (NorNE puts the entity tag there)"
        ));
    };
    token_and_tag(fields[1], tag.trim())
}

fn token_and_tag<'a>(token: &'a str, tag: &'a str) -> Result<Option<(&'a str, &'a str)>, String> {
    if token.is_empty() {
        return Err("empty token".to_string());
    }
    if tag.is_empty() {
        return Err("empty tag".to_string());
    }
    Ok(Some((token, tag)))
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::PathBuf;

    use super::*;

    fn parse(text: &str) -> Result<Vec<TaggedSentence>, InputError> {
        parse_tagged(text, Path::new("corpus.txt"))
    }

    fn sentence(pairs: &[(&str, &str)]) -> TaggedSentence {
        TaggedSentence {
            tokens: pairs.iter().map(|p| p.0.to_string()).collect(),
            tags: pairs.iter().map(|p| p.1.to_string()).collect(),
        }
    }

    fn error_line(err: InputError) -> (usize, String) {
        match err {
            InputError::MalformedLine { path, line, reason } => {
                assert_eq!(path, PathBuf::from("corpus.txt"));
                (line, reason)
            }
            other => panic!("unexpected error {other:?}"),
        }
    }

    #[test]
    fn reads_token_tag_lines() {
        let text = "# sent_id = 1\nFinn\tB-PER\nEilertsen\tI-PER \n#\tO\n\n\n# sent_id = 2\r\nOslo\tB-GPE_LOC\r\n.\tO";
        let out = parse(text).unwrap();
        assert_eq!(
            out,
            vec![
                sentence(&[("Finn", "B-PER"), ("Eilertsen", "I-PER"), ("#", "O")]),
                sentence(&[("Oslo", "B-GPE_LOC"), (".", "O")]),
            ]
        );
        assert!(parse("").unwrap().is_empty());
        assert!(parse("# only a comment\n\n").unwrap().is_empty());
    }

    const CONLLU: &str = "\
# sent_id = 015697
# text = Dommer Finn Eilertsen avstår.
1\tDommer\tdommer\tNOUN\t_\t_\t2\tnmod\t_\tname=O
2\tFinn\tFinn\tPROPN\t_\tGender=Masc\t4\tnsubj\t_\tname=B-PER
3\tEilertsen\tEilertsen\tPROPN\t_\t_\t2\tflat:name\t_\tname=I-PER
4-5\tavstår\t_\t_\t_\t_\t_\t_\t_\t_
4\tavstår\tavstå\tVERB\t_\t_\t0\troot\t_\tSpaceAfter=No|name=O
4.1\tfoo\t_\t_\t_\t_\t_\t_\t2:x\t_
5\t.\t$.\tPUNCT\t_\t_\t4\tpunct\t_\tname=O|Other=1

# sent_id = 2
1\tNAV\tNAV\tPROPN\t_\t_\t0\troot\t_\tname=B-ORG
";

    #[test]
    fn reads_norne_conllu() {
        let out = parse(CONLLU).unwrap();
        assert_eq!(
            out,
            vec![
                sentence(&[
                    ("Dommer", "O"),
                    ("Finn", "B-PER"),
                    ("Eilertsen", "I-PER"),
                    ("avstår", "O"),
                    (".", "O"),
                ]),
                sentence(&[("NAV", "B-ORG")]),
            ]
        );
    }

    #[test]
    fn reads_gzipped_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dev.conllu.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(CONLLU.as_bytes()).unwrap();
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        let out = read_tagged(&path).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].tags, ["B-ORG"]);

        let plain = dir.path().join("dev.tsv");
        std::fs::write(&plain, "Oslo\tB-GPE_LOC\n").unwrap();
        assert_eq!(read_tagged(&plain).unwrap()[0].tokens, ["Oslo"]);

        let missing = dir.path().join("missing.tsv");
        assert!(matches!(read_tagged(&missing), Err(InputError::Io { .. })));
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let (line, reason) = error_line(parse("# c\nOslo\tB-LOC\tX\n").unwrap_err());
        assert_eq!(line, 2);
        assert!(reason.contains("found 3 columns"), "{reason}");

        let (line, reason) = error_line(parse("Oslo\tB-LOC\n\nBergen B-LOC\n").unwrap_err());
        assert_eq!(line, 3);
        assert!(reason.ends_with("found 1 column"), "{reason}");

        let (line, reason) = error_line(parse("Oslo\t \n").unwrap_err());
        assert_eq!((line, reason.as_str()), (1, "empty tag"));
        let (line, reason) = error_line(parse("\tO\n").unwrap_err());
        assert_eq!((line, reason.as_str()), (1, "empty token"));

        let no_name = CONLLU.replace("name=I-PER", "_");
        let (line, reason) = error_line(parse(&no_name).unwrap_err());
        assert_eq!(line, 5);
        assert!(reason.contains("name=TAG"), "{reason}");

        let short = CONLLU.replace("\tPUNCT\t_", "\tPUNCT");
        let (line, reason) = error_line(parse(&short).unwrap_err());
        assert_eq!(line, 9);
        assert!(reason.contains("found 9"), "{reason}");

        let bad_id = CONLLU.replace("3\tEilertsen", "x\tEilertsen");
        let (line, reason) = error_line(parse(&bad_id).unwrap_err());
        assert_eq!(line, 5);
        assert!(reason.contains("\"x\""), "{reason}");

        let err = parse("a b c\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "corpus.txt:1: expected TOKEN<TAB>TAG (2 tab-separated columns) or CoNLL-U (10 columns), found 1 column"
        );
    }

    /// Reads NorNE Bokmål dev in both formats, where the shared data is
    /// available (`../shared/data/norne` beside the workspace): same tokens
    /// and tags, 2,410 sentences, 36,369 tokens.
    #[test]
    fn norne_dev_agrees_across_formats() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/norne");
        if !root.is_dir() {
            eprintln!("skipped: {} not found", root.display());
            return;
        }
        let tsv = read_tagged(&root.join("bio/nob_dev.tsv.gz")).unwrap();
        let conllu = read_tagged(&root.join("no_bokmaal-ud-dev.conllu.gz")).unwrap();
        assert_eq!(tsv.len(), 2410);
        assert_eq!(tsv.iter().map(|s| s.tokens.len()).sum::<usize>(), 36369);
        assert_eq!(tsv, conllu);
        for (file, sentences) in [
            ("bio/nob_train.tsv.gz", 15696),
            ("no_bokmaal-ndt-train.conllu.gz", 15696),
            ("bio/nno_dev.tsv.gz", 1890),
            ("no_nynorsk-ud-dev.conllu.gz", 1890),
        ] {
            assert_eq!(
                read_tagged(&root.join(file)).unwrap().len(),
                sentences,
                "{file}"
            );
        }
    }
}

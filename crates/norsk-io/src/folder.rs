use std::path::Path;

use serde_json::{Map, Value};

use crate::{read_text_file, InputError, Record};

/// The names of the `.txt` (and `.txt.gz`) files of a folder, sorted: the
/// records [`read_folder`] gives, without reading them.
pub fn folder_texts(dir: &Path) -> Result<Vec<String>, InputError> {
    let io = |e: std::io::Error| InputError::io(dir, e);
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".txt") || name.ends_with(".txt.gz"))
        .collect();
    names.sort();
    Ok(names)
}

/// The `.txt` (and `.txt.gz`) files of a folder, sorted by name, one record
/// each: the id is the file name, the text its content (or why it is not a
/// text). Other files are left out.
pub fn read_folder(dir: &Path) -> Result<Vec<Record>, InputError> {
    Ok(folder_texts(dir)?
        .into_iter()
        .map(|name| Record {
            id: Value::from(name.clone()),
            text: read_text_file(&dir.join(&name)).map_err(|e| InputError::Folder {
                name,
                source: Box::new(e),
            }),
            extra: Map::new(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txt_files_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.txt"), "Bergen").unwrap();
        std::fs::write(dir.path().join("a.txt"), "Oslo").unwrap();
        std::fs::write(dir.path().join("c.txt"), b"\xff").unwrap();
        std::fs::write(dir.path().join("notes.md"), "x").unwrap();
        let records = read_folder(dir.path()).unwrap();
        let ids: Vec<&Value> = records.iter().map(|r| &r.id).collect();
        assert_eq!(ids, ["a.txt", "b.txt", "c.txt"]);
        assert_eq!(records[0].text.as_deref(), Ok("Oslo"));
        assert!(records[2].text.is_err());
    }
}

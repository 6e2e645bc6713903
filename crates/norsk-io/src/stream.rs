//! Files read as streams: `.gz` and `.xz` decompressed as they are read, so
//! that memory stays the same whatever the file's size.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use flate2::read::MultiGzDecoder;

use crate::InputError;

/// Decompressed bytes handed from the `.xz` thread at a time.
const XZ_BLOCK: usize = 1 << 16;

/// Opens `path` for reading from the start, decompressing `.gz` and `.xz`
/// files on the way (by their extension). Only a buffer is held: a file of
/// any size streams through.
pub fn open_stream(path: &Path) -> Result<Box<dyn BufRead + Send>, InputError> {
    let file = File::open(path).map_err(|e| InputError::io(path, e))?;
    let file = BufReader::new(file);
    Ok(match path.extension().and_then(|e| e.to_str()) {
        Some("gz") => Box::new(BufReader::new(MultiGzDecoder::new(file))),
        Some("xz") => Box::new(BufReader::new(XzStream::spawn(file))),
        _ => Box::new(file),
    })
}

/// An `.xz` stream as a [`Read`]: `lzma-rs` decompresses into a writer, so
/// a thread does that into a channel of a few blocks and reads take from it.
struct XzStream {
    blocks: Receiver<io::Result<Vec<u8>>>,
    block: Vec<u8>,
    at: usize,
}

impl XzStream {
    fn spawn(mut file: impl BufRead + Send + 'static) -> Self {
        let (sender, blocks) = sync_channel(4);
        std::thread::spawn(move || {
            let mut sink = BlockSink {
                sender: sender.clone(),
                block: Vec::with_capacity(XZ_BLOCK),
            };
            let result = lzma_rs::xz_decompress(&mut file, &mut sink)
                .map_err(|e| {
                    io::Error::new(io::ErrorKind::InvalidData, format!("invalid xz data: {e}"))
                })
                .and_then(|()| sink.flush());
            if let Err(e) = result {
                // The reader may have gone; then nobody needs the error.
                let _ = sender.send(Err(e));
            }
        });
        Self {
            blocks,
            block: Vec::new(),
            at: 0,
        }
    }
}

impl Read for XzStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.block.len() {
            match self.blocks.recv() {
                Ok(block) => {
                    self.block = block?;
                    self.at = 0;
                }
                // The thread finished and every block was read.
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.block.len() - self.at);
        buf[..n].copy_from_slice(&self.block[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// The `.xz` thread's writer: full blocks go into the channel.
struct BlockSink {
    sender: SyncSender<io::Result<Vec<u8>>>,
    block: Vec<u8>,
}

impl Write for BlockSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.block.extend_from_slice(buf);
        if self.block.len() >= XZ_BLOCK {
            self.flush()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.block.is_empty() {
            return Ok(());
        }
        let block = std::mem::replace(&mut self.block, Vec::with_capacity(XZ_BLOCK));
        self.sender
            .send(Ok(block))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the reader stopped"))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn compressed_files_stream_as_they_were_written() {
        let text = "{\"text\":\"Lov om barnehager\"}\nÆ Ø Å\n".repeat(20_000);
        let dir = tempfile::tempdir().unwrap();
        let mut packed = Vec::new();
        lzma_rs::xz_compress(&mut text.as_bytes(), &mut packed).unwrap();
        let xz = dir.path().join("a.jsonl.xz");
        std::fs::write(&xz, &packed).unwrap();
        let gz = dir.path().join("a.jsonl.gz");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), Default::default());
        encoder.write_all(text.as_bytes()).unwrap();
        std::fs::write(&gz, encoder.finish().unwrap()).unwrap();
        let plain = dir.path().join("a.jsonl");
        std::fs::write(&plain, &text).unwrap();
        for path in [&xz, &gz, &plain] {
            let mut out = String::new();
            open_stream(path).unwrap().read_to_string(&mut out).unwrap();
            assert!(out == text, "{}", path.display());
        }

        let cut = dir.path().join("cut.jsonl.xz");
        std::fs::write(&cut, &packed[..packed.len() / 2]).unwrap();
        let mut out = Vec::new();
        let err = open_stream(&cut)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap_err();
        assert!(err.to_string().contains("invalid xz data"), "{err}");
        assert!(matches!(
            open_stream(&dir.path().join("none.gz")),
            Err(InputError::Io { .. })
        ));
    }
}

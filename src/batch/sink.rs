//! A file written on a thread of its own: the caller fills blocks, the thread writes
//! them, so that rendering rows and the `write` system calls (copying into the page
//! cache) overlap. A write error is reported at the next block handed over, or at
//! [`ThreadedFile::finish`].

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Bytes gathered before a block is handed to the writing thread.
const BLOCK: usize = 1 << 20;

pub struct ThreadedFile {
    block: Vec<u8>,
    /// To the writing thread; `None` once finished.
    blocks: Option<SyncSender<Vec<u8>>>,
    writer: Option<JoinHandle<io::Result<()>>>,
}

impl ThreadedFile {
    pub fn create(path: &Path) -> io::Result<ThreadedFile> {
        let mut file = File::create(path)?;
        // Two blocks in flight at most: memory stays at a few MiB per table.
        let (blocks, incoming) = sync_channel::<Vec<u8>>(1);
        let writer = std::thread::spawn(move || {
            for block in incoming {
                file.write_all(&block)?;
            }
            Ok(())
        });
        Ok(ThreadedFile {
            block: Vec::with_capacity(BLOCK),
            blocks: Some(blocks),
            writer: Some(writer),
        })
    }

    fn hand_over(&mut self) -> io::Result<()> {
        if self.block.is_empty() {
            return Ok(());
        }
        let block = std::mem::replace(&mut self.block, Vec::with_capacity(BLOCK));
        let sent = self.blocks.as_ref().is_some_and(|b| b.send(block).is_ok());
        if sent {
            Ok(())
        } else {
            // The writing thread stopped on an error: that error is the answer.
            self.join()
                .and(Err(io::Error::other("the writing thread stopped")))
        }
    }

    fn join(&mut self) -> io::Result<()> {
        self.blocks = None;
        match self.writer.take() {
            Some(w) => w
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            None => Ok(()),
        }
    }

    /// Writes what is left and waits until every byte is written.
    pub fn finish(mut self) -> io::Result<()> {
        self.hand_over()?;
        self.join()
    }
}

impl Write for ThreadedFile {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.block.extend_from_slice(bytes);
        if self.block.len() >= BLOCK {
            self.hand_over()?;
        }
        Ok(bytes.len())
    }

    /// Hands the bytes gathered to the writing thread; [`ThreadedFile::finish`] waits
    /// for them.
    fn flush(&mut self) -> io::Result<()> {
        self.hand_over()
    }
}

impl Drop for ThreadedFile {
    /// Dropped unfinished (a failed run): still waits for the writing thread, so that no
    /// thread writes into an output folder being removed.
    fn drop(&mut self) {
        self.blocks = None;
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_arrive_whole_and_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let mut f = ThreadedFile::create(&path).unwrap();
        let mut want: Vec<u8> = Vec::new();
        for i in 0..300_000 {
            let line = format!("{i},企业{i}\n");
            f.write_all(line.as_bytes()).unwrap();
            want.extend_from_slice(line.as_bytes());
        }
        f.finish().unwrap();
        assert!(want.len() > 3 * BLOCK);
        assert_eq!(std::fs::read(&path).unwrap(), want);
    }

    #[test]
    fn a_write_error_reaches_the_caller() {
        // Every write to /dev/full fails with "no space left on device".
        let mut f = ThreadedFile::create(Path::new("/dev/full")).unwrap();
        let line = [b'x'; 1000];
        let mut failed = false;
        for _ in 0..5000 {
            if f.write_all(&line).is_err() {
                failed = true;
                break;
            }
        }
        let finished = f.finish();
        assert!(failed || finished.is_err(), "the error was lost");
    }
}

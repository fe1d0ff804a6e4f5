//! Output written on threads of their own: the caller renders rows while a thread
//! writes (the `write` system calls copying into the page cache, or Parquet encoding).
//! A write error is reported at the next block handed over, or when finishing.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Items consumed by a thread of its own, one waiting at most: the CSV blocks of a
/// [`ThreadedFile`], the row groups of a Parquet table (`tabular::RowGroups`). The
/// thread's error comes back at the next item handed over, or at [`WriterThread::finish`].
pub struct WriterThread<T, E> {
    /// To the thread; `None` once finished.
    items: Option<SyncSender<T>>,
    thread: Option<JoinHandle<Result<(), E>>>,
}

impl<T: Send + 'static, E: Send + 'static> WriterThread<T, E> {
    /// Starts `consume` on the items to come; it ends when they do.
    pub fn spawn(consume: impl FnOnce(Receiver<T>) -> Result<(), E> + Send + 'static) -> Self {
        let (items, incoming) = sync_channel(1);
        WriterThread {
            items: Some(items),
            thread: Some(std::thread::spawn(move || consume(incoming))),
        }
    }

    /// Hands over one item. If the thread has stopped, its error; `stopped` if it ended
    /// without one.
    pub fn send(&mut self, item: T, stopped: impl FnOnce() -> E) -> Result<(), E> {
        if self.items.as_ref().is_some_and(|i| i.send(item).is_ok()) {
            return Ok(());
        }
        self.finish().and(Err(stopped()))
    }

    /// Waits until the thread has consumed every item handed over.
    pub fn finish(&mut self) -> Result<(), E> {
        self.items = None;
        match self.thread.take() {
            Some(t) => t
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            None => Ok(()),
        }
    }
}

impl<T, E> Drop for WriterThread<T, E> {
    /// Dropped unfinished (a failed run): still waits for the thread, so that nothing
    /// writes into an output folder being removed.
    fn drop(&mut self) {
        self.items = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Bytes gathered before a block is handed to the writing thread.
const BLOCK: usize = 1 << 20;

/// A file written by a [`WriterThread`] in blocks.
pub struct ThreadedFile {
    block: Vec<u8>,
    writer: WriterThread<Vec<u8>, io::Error>,
}

impl ThreadedFile {
    pub fn create(path: &Path) -> io::Result<ThreadedFile> {
        let mut file = File::create(path)?;
        Ok(ThreadedFile {
            block: Vec::with_capacity(BLOCK),
            writer: WriterThread::spawn(move |blocks: Receiver<Vec<u8>>| {
                for block in blocks {
                    file.write_all(&block)?;
                }
                Ok(())
            }),
        })
    }

    fn hand_over(&mut self) -> io::Result<()> {
        if self.block.is_empty() {
            return Ok(());
        }
        let block = std::mem::replace(&mut self.block, Vec::with_capacity(BLOCK));
        self.writer
            .send(block, || io::Error::other("the writing thread stopped"))
    }

    /// Writes what is left and waits until every byte is written.
    pub fn finish(mut self) -> io::Result<()> {
        self.hand_over()?;
        self.writer.finish()
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

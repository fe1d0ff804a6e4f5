//! The merged results written on as many threads as there are groups of tables.
//!
//! Building the rows of the tables is most of the merge: done on the merging thread
//! alone, it left the second core idle for half of a run. The merge stays on one thread
//! (it is cheap: records are compact), and hands batches of records, encoded as in the
//! spool, to a thread per group of tables ([`Writers::split`]); each decodes them and
//! writes its own tables, in the same order, so every table is what one thread would
//! have written.

use std::io;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::*;

/// Encoded records handed to the writing threads at a time, about this many bytes.
const BATCH_BYTES: usize = 1 << 20;

/// Batches waiting for a writing thread, at most.
const BATCHES_AHEAD: usize = 4;

/// What writing the merged records came to: the first failure to read or write, and a
/// failure to read the previous run, kept apart.
pub(super) type Written = (io::Result<()>, Option<MatchError>);

/// Writes every record of `spool`, merged in enterprise order, through each group of
/// `groups`: one group on this thread, more on a thread each.
pub(super) fn write_merged(
    spool: Spool,
    catalog: &Catalog,
    texts: &[MeasureText],
    groups: &mut [Writers<'_>],
) -> Written {
    if let [only] = groups {
        let mut previous_failure = None;
        let merged = spool.merge(&mut |r| only.write(catalog, texts, r, &mut previous_failure));
        return (merged, previous_failure);
    }
    std::thread::scope(|scope| {
        let mut senders: Vec<SyncSender<Arc<Vec<u8>>>> = Vec::new();
        let mut threads = Vec::new();
        for w in groups.iter_mut() {
            let (tx, rx) = sync_channel(BATCHES_AHEAD);
            senders.push(tx);
            threads.push(scope.spawn(move || write_batches(rx, w, catalog, texts)));
        }
        let send = |batch: Vec<u8>| -> io::Result<()> {
            let batch = Arc::new(batch);
            for tx in &senders {
                tx.send(Arc::clone(&batch))
                    .map_err(|_| io::Error::other("a table's writing thread stopped"))?;
            }
            Ok(())
        };
        let mut batch = Vec::with_capacity(BATCH_BYTES * 2);
        let merged = spool
            .merge(&mut |r| {
                r.encode(&mut batch);
                if batch.len() >= BATCH_BYTES {
                    send(std::mem::replace(
                        &mut batch,
                        Vec::with_capacity(BATCH_BYTES * 2),
                    ))?;
                }
                Ok(())
            })
            .and_then(|()| send(batch));
        drop(senders);
        let mut failure = None;
        let mut previous_failure = None;
        for t in threads {
            let (written, previous) = t
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            // A thread's own failure is why a batch could not be sent to it: it comes
            // first.
            if let Err(e) = written {
                failure.get_or_insert(e);
            }
            previous_failure = previous_failure.or(previous);
        }
        (failure.map_or(merged, Err), previous_failure)
    })
}

/// One writing thread: decodes the batches and writes the rows of its group's tables.
fn write_batches(
    batches: Receiver<Arc<Vec<u8>>>,
    w: &mut Writers<'_>,
    catalog: &Catalog,
    texts: &[MeasureText],
) -> Written {
    let mut r = Results::default();
    let mut record = Vec::new();
    let mut previous_failure = None;
    for batch in batches {
        let mut bytes = &batch[..];
        loop {
            match r.decode_into(&mut bytes, &mut record) {
                Ok(true) => {
                    if let Err(e) = w.write(catalog, texts, &r, &mut previous_failure) {
                        return (Err(e), previous_failure);
                    }
                }
                Ok(false) => break,
                Err(e) => return (Err(e), previous_failure),
            }
        }
    }
    (Ok(()), previous_failure)
}

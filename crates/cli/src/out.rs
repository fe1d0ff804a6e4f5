//! Where the commands write: stdout through [`Out`], notes on stderr through [`note`].
//!
//! `println!` panics when the reader of a pipe is gone (`policy-match list | head -3`);
//! [`Out`] hands the error back instead, and `exit::report` ends the command quietly with
//! exit 0 on a broken pipe.

use std::fmt;
use std::io::{self, BufWriter, StdoutLock, Write as _};

use serde::Serialize;

/// Stdout, locked and buffered, for the whole command.
pub struct Out {
    w: BufWriter<StdoutLock<'static>>,
}

impl Out {
    pub fn stdout() -> Out {
        Out {
            w: BufWriter::new(io::stdout().lock()),
        }
    }

    /// One line: `args` and a newline.
    pub fn line(&mut self, args: fmt::Arguments<'_>) -> io::Result<()> {
        self.w.write_fmt(args)?;
        self.w.write_all(b"\n")
    }

    /// `text` as it is, with no newline added.
    pub fn text(&mut self, text: &str) -> io::Result<()> {
        self.w.write_all(text.as_bytes())
    }

    /// `v` as pretty JSON, and a newline.
    pub fn json(&mut self, v: &impl Serialize) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut self.w, v)?;
        self.w.write_all(b"\n")
    }

    /// Writes out what is buffered; the command's last step.
    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

/// One line on stderr (a summary, a note); a closed stderr is ignored.
pub fn note(args: fmt::Arguments<'_>) {
    let mut err = io::stderr().lock();
    let _ = err.write_fmt(args).and_then(|()| err.write_all(b"\n"));
}

//! `policy-match`: the command line over the core library and the batch crate.

mod cli;
mod clock;

// The library leaves the allocator to whoever embeds it; the command line picks one.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::run()
}

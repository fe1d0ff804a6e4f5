// The library leaves the allocator to whoever embeds it; the command line picks one.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    policy_match::cli::run()
}

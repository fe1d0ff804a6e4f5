fn main() -> std::process::ExitCode {
    policy_match::cli::run()
}

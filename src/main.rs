fn main() -> std::process::ExitCode {
    execdash::cli::run()
}

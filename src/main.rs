fn main() -> std::process::ExitCode {
    execdash::run()
}

fn main() -> std::process::ExitCode {
    coder_gen::cli::run()
}

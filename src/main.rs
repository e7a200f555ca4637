//! The `peerline` binary: everything is in the library's `cli` module.

fn main() -> std::process::ExitCode {
    peerline::cli::main()
}

//! The `skset` binary: the command line face of the library. Argument parsing and
//! output live in `cli`; the work itself lives in the library.
#![forbid(unsafe_code)]
#![deny(clippy::print_stdout)]

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}

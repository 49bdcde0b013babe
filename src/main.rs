//! The `cacheplan` binary: parse arguments, call the library, map errors to exit codes.
#![deny(unsafe_code)]

use clap::Parser;

/// Large model tables on transparent huge pages (opt-in: `--features hugepages`; see
/// `engine::machine`).
#[cfg(feature = "hugepages")]
#[global_allocator]
static ALLOC: cacheplan::engine::HugePageAlloc = cacheplan::engine::HugePageAlloc;

fn main() {
    let args = match cacheplan::cli::Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    if let Err(e) = cacheplan::cli::run(args) {
        if !e.message.is_empty() {
            eprintln!("error: {}", e.message);
        }
        std::process::exit(e.code);
    }
}

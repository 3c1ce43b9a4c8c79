//! `vmafx`: parses arguments and hands them to [`vmafx_cli::main_with_args`].

fn main() {
    std::process::exit(vmafx_cli::main_with_args(std::env::args_os()));
}

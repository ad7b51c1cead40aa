fn main() {
    std::process::exit(mechcal::cli::main());
}

// jemalloc, built (.cargo/config.toml) with a background thread that gives
// freed pages back to the system after jemalloc's usual decay: a one-shot
// command (`check`, `remind`, `render`) then reuses them, and loads 10,000
// deadlines in about half the time it takes when every free goes back to
// the system at once (benches/load.rs).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    std::process::exit(mechcal::cli::main(mechcal::os::allocator::for_serving).code());
}

// mimalloc gives freed memory back to the system within moments, where
// glibc's malloc keeps the multi-megabyte buffers of whole-feed renderings
// (made and dropped as the byte-bounded cache evicts them) in its arenas:
// with glibc, serve's memory only ever grew to the high-water mark of the
// renderings in flight. benches/memory.sh measures both.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    std::process::exit(mechcal::cli::main().code());
}

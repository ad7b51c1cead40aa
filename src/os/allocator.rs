//! The binary's allocator (jemalloc, src/main.rs), tuned for what runs.
//! Harmless where jemalloc is not the allocator (the tests): it then tunes
//! jemalloc's own unused state.

/// For `serve`: freed pages go back to the system at once (the build's
/// default keeps them for jemalloc's decay, 10 s, which makes one-shot
/// commands faster). glibc's malloc, or jemalloc's decay, kept the
/// multi-megabyte buffers of whole-feed renderings (made and dropped as the
/// byte-bounded cache evicts them), and serve's memory only ever grew to
/// the high-water mark of the renderings in flight.
/// benches/memory.sh measures it (peak 0.87 of its bound with this, 1.15
/// with a 1 s decay).
pub fn for_serving() {
    use tikv_jemalloc_ctl::{Access, AsName};
    // The default of arenas made from now on (one per thread, more or less:
    // serve's threads are not started yet)...
    for name in [b"arenas.dirty_decay_ms\0", b"arenas.muzzy_decay_ms\0"] {
        if let Err(e) = name.name().write(0isize) {
            let name = String::from_utf8_lossy(&name[..name.len() - 1]);
            eprintln!("mechcal: warning: cannot set the allocator's {name}: {e}");
        }
    }
    // ...and the arenas in use (numbered; those not made yet refuse, which
    // is fine: they will take the default above).
    let arenas: u32 = b"arenas.narenas\0".name().read().unwrap_or(0);
    for i in 0..arenas {
        for kind in ["dirty", "muzzy"] {
            let name = format!("arena.{i}.{kind}_decay_ms\0").into_bytes();
            let _ = name.name().write(0isize);
        }
    }
}

/// After a load: gives back what this thread's cache of freed blocks
/// holds (turning the cache off flushes it).
pub fn settle() {
    use tikv_jemalloc_ctl::{Access, AsName};
    let _ = b"thread.tcache.enabled\0".name().write(false);
    let _ = b"thread.tcache.enabled\0".name().write(true);
}

//! What every QEMU example needs and a real bootloader already has:
//! `_start` (stack, FPU, .bss), a single-core critical section, semihosting
//! output and exit codes, and a RAM-backed `NorFlash` ([`RamFlash`]) for
//! `trusted_core::store::BlobStore`. [`boot_twice`] runs the library's boot
//! flow (`trusted_core::flow`) on it twice, across a "reboot". Also a pool
//! of DMA buffers handed out once each ([`dma_buffer`]) and an approximate
//! busy-wait delay ([`SpinDelay`]). [`boot_twice`] also measures the
//! stack of each boot and of each seal and unseal ([`stack`]), and checks
//! that the flow's stack scrub leaves no copy of the key behind
//! ([`stack::copies_below`]). Output goes
//! through [`out`], which links no `core::fmt`.
#![no_std]

mod start;

pub mod delay;
pub mod dma;
pub mod flash;
pub mod out;
pub mod stack;

use rand_core::TryCryptoRng;
use trusted_core::flow::{FlowError, FlowOptions, Path, provision_or_unseal};
use trusted_core::store::{BlobStore, StoreLayout};
use trusted_core::{DriverError, Error, TrustSource};

pub use delay::{NoDelay, SpinDelay};
pub use dma::dma_buffer;
pub use flash::RamFlash;
pub use semihosting;

/// Exits QEMU with `code` through semihosting (0 only on success).
pub fn exit(code: i32) -> ! {
    semihosting::process::exit(code)
}

/// Prints a step line, the examples' only output channel: the pieces
/// (string slices, numbers, flags, [`out::Hex`], anything [`out::Piece`])
/// one after another, then a newline. No format string: `core::fmt` stays
/// out of the image.
#[macro_export]
macro_rules! step {
    ($($piece:expr),+ $(,)?) => {{
        $($crate::out::Piece::put(&$piece);)+
        $crate::out::write(b"\n");
    }};
}

/// A panic prints a fixed line and exits 101 (as `semihosting`'s handler
/// did); formatting the `PanicInfo` would link `core::fmt`.
#[cfg(not(test))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    out::write(b"board-rt: panic\n");
    exit(101)
}

/// Two boots of the one-call flow, `trusted_core::flow::provision_or_unseal`,
/// on a [`BlobStore`] over a fresh [`RamFlash`]: the first provisions
/// (empty store: new key, seal, store, read back, prove), then a "reboot"
/// drops every driver and the store and makes them again (`boot` builds the
/// trust source from the same device state, as a reset does; the flash
/// keeps its contents; the source is `init`ed on each boot), and the
/// second boot unseals. Checks both boots
/// gave the same key; returns the stored blob's length.
///
/// Each boot's flow runs on a painted stack ([`stack::paint`]), and so does
/// each seal and unseal of the source ([`stack::Measured`]); the deepest
/// uses are printed on one line for `cargo xtask size`:
/// `stack: <source> seal=<bytes> unseal=<bytes> boot1=<bytes> boot2=<bytes>`
/// (boot 1 provisions: seal, store, read back, unseal to prove; boot 2
/// unseals). A third unseal runs with the flow's stack scrub, and the dead
/// stack is searched for the key after boot 2 and after it
/// (`residue: <source> unscrubbed=<copies> scrubbed=<copies>`; a copy left
/// after the scrub fails the run).
pub fn boot_twice<S, R>(
    mut boot: impl FnMut() -> Result<S, Error>,
    key_rng: &mut R,
    options: &FlowOptions<'_>,
) -> Result<usize, FlowError>
where
    S: TrustSource,
    R: TryCryptoRng + ?Sized,
{
    let layout = StoreLayout::compact::<RamFlash>(0);
    let mut store = BlobStore::new(RamFlash::default(), layout)?;
    let mut source = boot().and_then(init).map_err(FlowError::Source)?;
    let mut measured = stack::Measured::new(&mut source);
    let mark = stack::paint();
    let (key, path) = provision_or_unseal(&mut measured, &mut store, key_rng, options)?;
    let boot1 = mark.used();
    let first = measured.usage();
    step!("boot 1: ", source.name(), ": ", path.as_str());
    drop(source);

    step!("reboot: drivers and store dropped and made again, flash kept");
    let mut store = BlobStore::new(store.into_inner(), layout)?;
    let mut source = boot().and_then(init).map_err(FlowError::Source)?;
    let mut measured = stack::Measured::new(&mut source);
    let mark = stack::paint();
    let (again, path) = provision_or_unseal(&mut measured, &mut store, key_rng, options)?;
    let unscrubbed = stack::copies_below(again.as_bytes());
    let boot2 = mark.used();
    let second = measured.usage();
    step!("boot 2: ", source.name(), ": ", path.as_str());
    step!(
        "stack: ",
        source.name(),
        " seal=",
        first.seal.max(second.seal),
        " unseal=",
        first.unseal.max(second.unseal),
        " boot1=",
        boot1,
        " boot2=",
        boot2,
    );
    let stored = store.read(source.name())?.ok_or(FlowError::NothingStored)?;
    if again != key || path != Path::Unsealed {
        step!("boot 2: MISMATCH");
        return Err(FlowError::ProofFailed);
    }
    step!("boot 2: key matches");
    check_residue(&mut source, &mut store, key_rng, options, unscrubbed)?;
    Ok(stored.blob.len())
}

/// Stack the residue check's flow scrubs ([`FlowOptions::scrub_stack`]):
/// more than the deepest boot of any example (`docs/size.md`).
const SCRUB_STACK: usize = 16 * 1024;

/// One more unseal, this time with the flow's stack scrub, then the dead
/// stack searched for the key: `residue: <source> unscrubbed=<copies>
/// scrubbed=<copies>`, where `unscrubbed` counts what boot 2 (no scrub)
/// left. A copy left after the scrub ends the run with exit 1.
fn check_residue<S, R>(
    source: &mut S,
    store: &mut BlobStore<RamFlash>,
    key_rng: &mut R,
    options: &FlowOptions<'_>,
    unscrubbed: usize,
) -> Result<(), FlowError>
where
    S: TrustSource,
    R: TryCryptoRng + ?Sized,
{
    let scrub = options.scrub_stack(SCRUB_STACK);
    let (key, _) = provision_or_unseal(source, store, key_rng, &scrub)?;
    let scrubbed = stack::copies_below(key.as_bytes());
    step!(
        "residue: ",
        source.name(),
        " unscrubbed=",
        unscrubbed,
        " scrubbed=",
        scrubbed
    );
    if scrubbed != 0 {
        step!("residue: key bytes left on the stack after the scrub");
        exit(1);
    }
    Ok(())
}

/// [`TrustSource::init`], as Linux does once per boot before the first use.
fn init<S: TrustSource>(mut source: S) -> Result<S, Error> {
    source.init()?;
    Ok(source)
}

/// Prints the verdict line the xtask looks for, and exits. A failure is
/// named by its kind ([`DriverError::kind`]), which prints without
/// `core::fmt`.
pub fn finish(name: &str, result: Result<usize, impl DriverError>) -> ! {
    match result {
        Ok(len) => {
            step!(name, ": PASS (blob ", len, " bytes)");
            exit(0)
        }
        Err(e) => {
            step!(name, ": FAIL: ", e.kind());
            exit(1)
        }
    }
}

//! What every QEMU example needs and a real bootloader already has:
//! `_start` (stack, FPU, .bss), a single-core critical section, semihosting
//! output and exit codes, and a RAM-backed `NorFlash` ([`RamFlash`]) for
//! `trusted_core::store::BlobStore`. [`boot_twice`] runs the library's boot
//! flow (`trusted_core::flow`) on it twice, across a "reboot". Also a pool
//! of DMA buffers handed out once each ([`dma_buffer`]) and an approximate
//! busy-wait delay ([`SpinDelay`]). With the feature `meter` (default;
//! the QEMU runs) [`boot_twice`] also measures the stack of each boot and
//! of each seal and unseal, and checks that the flow's stack scrub leaves
//! no copy of the key behind (`stack`); the `hw` builds leave these
//! instruments out and scrub every boot. Output goes through [`out`],
//! which links no `core::fmt`.
#![no_std]

mod start;

pub mod delay;
pub mod dma;
pub mod flash;
pub mod out;
#[cfg(feature = "meter")]
pub mod stack;

use rand_core::TryCryptoRng;
use trusted_core::flow::{FlowError, FlowOptions};
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

/// The library's boot flow, `trusted_core::flow::provision_or_unseal`, on
/// a [`BlobStore`] over a fresh [`RamFlash`], as the build runs it; returns
/// the stored blob's length. `boot` builds the trust source from the
/// device state, as a reset does; the source is `init`ed on each boot.
///
/// The QEMU builds (feature `meter`) boot twice: the first provisions
/// (empty store: new key, seal, store, read back, unseal to prove), then a
/// "reboot" drops every driver and the store and makes them again (the
/// flash keeps its contents), and the second unseals; both must give the
/// same key. Each boot's flow runs on a painted stack, and so does each
/// seal and unseal of the source (`stack::Measured`); the deepest uses
/// are printed on one line for `cargo xtask size`:
/// `stack: <source> seal=<bytes> unseal=<bytes> boot1=<bytes> boot2=<bytes>`.
/// A third unseal runs with the flow's stack scrub, and the dead stack is
/// searched for the key after boot 2 and after it
/// (`residue: <source> unscrubbed=<copies> scrubbed=<copies>`; a copy left
/// after the scrub fails the run).
///
/// The `hw` builds boot once, as a bootloader does on each power-on, and
/// scrub [`SCRUB_STACK`] bytes of stack after the flow.
pub fn boot_flow<S, R>(
    mut boot: impl FnMut() -> Result<S, Error>,
    key_rng: &mut R,
    options: &FlowOptions<'_>,
) -> Result<usize, FlowError>
where
    S: TrustSource,
    R: TryCryptoRng + ?Sized,
{
    let mut source = boot().and_then(init).map_err(FlowError::Source)?;

    #[cfg(not(feature = "meter"))]
    {
        // Through `dyn`: every source of an example shares one flow.
        boot_once(&mut source, key_rng, options)
    }

    #[cfg(feature = "meter")]
    {
        let layout = StoreLayout::compact::<RamFlash>(0);
        let mut store = BlobStore::new(RamFlash::default(), layout)?;
        let (key, path, first) = stack::measured_boot(&mut source, &mut store, key_rng, options)?;
        step!("boot 1: ", source.name(), ": ", path.as_str());
        drop(source);

        step!("reboot: drivers and store dropped and made again, flash kept");
        let mut store = BlobStore::new(store.into_inner(), layout)?;
        let mut source = boot().and_then(init).map_err(FlowError::Source)?;
        let (again, path, second) =
            stack::measured_boot(&mut source, &mut store, key_rng, options)?;
        step!("boot 2: ", source.name(), ": ", path.as_str());
        stack::report(source.name(), &first, &second);
        let stored = store.read(source.name())?.ok_or(FlowError::NothingStored)?;
        if again != key || path != trusted_core::flow::Path::Unsealed {
            step!("boot 2: MISMATCH");
            return Err(FlowError::ProofFailed);
        }
        step!("boot 2: key matches");
        stack::check_residue(&mut source, &mut store, key_rng, options, &second)?;
        Ok(stored.blob.len())
    }
}

/// One boot of the `hw` builds, the same code for every source: the flow
/// on a fresh store, then the stored blob's length.
#[cfg(not(feature = "meter"))]
fn boot_once<R: TryCryptoRng + ?Sized>(
    source: &mut dyn TrustSource,
    key_rng: &mut R,
    options: &FlowOptions<'_>,
) -> Result<usize, FlowError> {
    let layout = StoreLayout::compact::<RamFlash>(0);
    let mut store = BlobStore::new(RamFlash::default(), layout)?;
    let scrub = options.scrub_stack(SCRUB_STACK);
    let (_key, path) =
        trusted_core::flow::provision_or_unseal(source, &mut store, key_rng, &scrub)?;
    step!("boot: ", source.name(), ": ", path.as_str());
    let stored = store.read(source.name())?.ok_or(FlowError::NothingStored)?;
    Ok(stored.blob.len())
}

/// Stack the flow scrubs ([`FlowOptions::scrub_stack`]) where it does:
/// more than the deepest boot of any example (`docs/size.md`).
const SCRUB_STACK: usize = 16 * 1024;

/// [`TrustSource::init`], as Linux does once per boot before the first use.
fn init<S: TrustSource>(mut source: S) -> Result<S, Error> {
    source.init()?;
    Ok(source)
}

/// Prints the verdict line the xtask looks for, and exits. A failure is
/// named by its kind ([`DriverError::kind`]), which prints without
/// `core::fmt`.
pub fn finish(name: &str, result: Result<usize, impl DriverError>) -> ! {
    verdict(name, result.map_err(|e| e.kind()))
}

/// [`finish`]'s body, once for every error type.
fn verdict(name: &str, result: Result<usize, Error>) -> ! {
    match result {
        Ok(len) => {
            step!(name, ": PASS (blob ", len, " bytes)");
            exit(0)
        }
        Err(e) => {
            step!(name, ": FAIL: ", e);
            exit(1)
        }
    }
}

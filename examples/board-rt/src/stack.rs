//! Stack high-water marks: paint the free stack with a pattern, run, and
//! find the deepest word that no longer holds it.
//!
//! [`paint`] fills everything between the stack's bottom (`__stack_bottom`
//! in `link.x`) and the caller's stack pointer, and returns a [`Mark`];
//! [`Mark::used`] scans up from the bottom for the first overwritten word
//! and returns how far below the painted-from stack pointer the code in
//! between reached. Marks nest (the boot flow's around each seal and
//! unseal, see [`Measured`]): a paint first notes how deep the stack went
//! so far, and an inner mark hands what it saw on to the outer one, so a
//! repaint never hides an outer mark's deepest use. [`Model`] keeps a device
//! model's own frames out of the marks; [`copies_below`] searches the dead
//! stack for a secret (the residue check of `boot_flow`).
//!
//! Exact for what ran (QEMU executes the same code as the board), as long
//! as nothing but the measured code runs on this stack in between (the
//! examples take no interrupts). A frame that reserves stack without ever
//! writing it would go unseen; Rust code writes what it reserves in
//! practice, and the figures are a floor in that sense.

use core::cell::Cell;
use core::sync::atomic::{AtomicBool, Ordering};

use critical_section::Mutex;
use rand_core::TryCryptoRng;
use trusted_core::flow::{FlowError, FlowOptions, Path, provision_or_unseal};
use trusted_core::store::BlobStore;
use trusted_core::{Error, Key, Mmio, SealedBlob, TrustSource};

use crate::{RamFlash, SCRUB_STACK, exit, step};

/// The paint: a word unlikely to be left on the stack by running code.
const PAINT: u32 = 0xC5AC_CE55;

/// Bytes left unpainted just below the stack pointer of [`paint`], for
/// what the painting itself may spill.
const MARGIN: usize = 64;

unsafe extern "C" {
    /// Lowest address of the stack (`link.x`).
    static __stack_bottom: u32;
    /// One past the highest address of the stack (`link.x`).
    static __stack_top: u32;
}

/// Lowest overwritten address noted since the innermost live mark's paint.
static LOWEST: Mutex<Cell<usize>> = Mutex::new(Cell::new(usize::MAX));

fn bounds() -> (usize, usize) {
    (
        core::ptr::addr_of!(__stack_bottom) as usize,
        core::ptr::addr_of!(__stack_top) as usize,
    )
}

#[inline(always)]
fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: copies the stack pointer into a register; no memory is touched.
    unsafe {
        core::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags));
    }
    sp
}

/// The lowest word of the stack that does not hold the paint (the top of
/// the stack when every word does).
fn lowest_overwritten() -> usize {
    let (bottom, top) = bounds();
    let mut at = bottom;
    while at < top {
        // SAFETY: `at` is a 4-byte aligned address inside the stack region
        // of `link.x`, which is RAM owned by this program.
        if unsafe { core::ptr::read_volatile(at as *const u32) } != PAINT {
            break;
        }
        at += 4;
    }
    at
}

/// Folds the current scan into [`LOWEST`].
fn note() -> usize {
    let seen = lowest_overwritten();
    critical_section::with(|cs| {
        let lowest = LOWEST.borrow(cs);
        lowest.set(lowest.get().min(seen));
        lowest.get()
    })
}

/// A painted stack, waiting for [`Mark::used`].
#[must_use = "a mark measures nothing until `used` is called"]
pub struct Mark {
    sp: usize,
    /// The enclosing mark's lowest address so far, restored (and lowered
    /// by this mark's) in `used`.
    outer: usize,
}

/// Paints the free stack below the caller and returns the mark to measure
/// against.
#[inline(never)]
pub fn paint() -> Mark {
    let outer = note();
    critical_section::with(|cs| LOWEST.borrow(cs).set(usize::MAX));
    let sp = stack_pointer();
    let (bottom, _) = bounds();
    paint_from(bottom, sp);
    Mark { sp, outer }
}

/// Paints the words from `from` (4-byte aligned, at or above the stack's
/// bottom) up to [`MARGIN`] below `sp`, the calling function's stack
/// pointer: stack memory no live frame uses (the examples run no
/// interrupts).
#[inline(always)]
fn paint_from(from: usize, sp: usize) {
    let end = sp.saturating_sub(MARGIN) & !3;
    let mut at = from;
    while at < end {
        // SAFETY: `at` is 4-byte aligned, at or above the stack's bottom and
        // more than MARGIN bytes below the caller's stack pointer: see above.
        unsafe { core::ptr::write_volatile(at as *mut u32, PAINT) };
        at += 4;
    }
}

impl Mark {
    /// Bytes of stack used below the painted-from stack pointer since
    /// [`paint`].
    pub fn used(self) -> usize {
        let lowest = note();
        critical_section::with(|cs| LOWEST.borrow(cs).set(lowest.min(self.outer)));
        self.sp.saturating_sub(lowest)
    }
}

/// How many times the first [`PROBE`] bytes of `secret` (all of it when
/// shorter) appear in the dead stack below the caller: copies that frames
/// which have returned left behind. The caller's own frame and the
/// [`MARGIN`] below it are not scanned, so a secret the caller still
/// holds does not count.
#[inline(never)]
pub fn copies_below(secret: &[u8]) -> usize {
    let probe = secret.get(..PROBE).unwrap_or(secret);
    let (bottom, _) = bounds();
    let end = stack_pointer().saturating_sub(MARGIN);
    if probe.is_empty() || end < bottom + probe.len() {
        return 0;
    }
    let mut copies = 0;
    for at in bottom..=end - probe.len() {
        // SAFETY: `at..at + probe.len()` lies between the stack's bottom
        // and MARGIN below this function's stack pointer: stack memory of
        // this program that no live frame uses; read as bytes, any
        // alignment is fine.
        let here = |i: usize| unsafe { core::ptr::read_volatile((at + i) as *const u8) };
        if probe.iter().enumerate().all(|(i, &b)| here(i) == b) {
            copies += 1;
        }
    }
    copies
}

/// Bytes of a secret [`copies_below`] looks for: enough that a match is
/// never chance (2^-128 per position).
const PROBE: usize = 16;

/// A device model as the driver's `Mmio`, its own stack use kept out of
/// the figures: a model runs a whole job inside the driver's register
/// access, on the same stack, with frames the device never costs on a
/// board. Each access notes the stack the driver used so far, runs the
/// model, then paints over the model's dead frames, so the marks see the
/// driver's use alone (and the wrapper's few dozen bytes).
pub struct Model<M>(pub M);

impl<M: Mmio> Mmio for Model<M> {
    fn read32(&mut self, offset: usize) -> u32 {
        unseen(|| self.0.read32(offset))
    }

    fn write32(&mut self, offset: usize, value: u32) {
        unseen(|| self.0.write32(offset, value))
    }
}

/// Whether [`Model`] repaints behind the model: off while the residue
/// check runs, whose search must see the stack exactly as the code left it.
static REPAINT: AtomicBool = AtomicBool::new(true);

/// Runs a model's `access` and repaints the stack it used (see [`Model`]).
#[inline(never)]
fn unseen<T>(access: impl FnOnce() -> T) -> T {
    if !REPAINT.load(Ordering::Relaxed) {
        return access();
    }
    note();
    let value = access();
    // The model's frames, dead since `access` returned.
    paint_from(lowest_overwritten(), stack_pointer());
    value
}

/// Deepest stack use of each `seal` and `unseal` of a source.
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    /// Deepest `seal`, in bytes.
    pub seal: usize,
    /// Deepest `unseal`, in bytes.
    pub unseal: usize,
}

/// A [`TrustSource`] that measures the stack of every `seal` and `unseal`
/// of the source it wraps ([`Measured::usage`]); everything else is passed
/// through.
pub struct Measured<S> {
    source: S,
    usage: Usage,
}

impl<S: TrustSource> Measured<S> {
    /// Wraps `source`.
    pub fn new(source: S) -> Self {
        Self {
            source,
            usage: Usage::default(),
        }
    }

    /// The deepest seal and unseal so far.
    pub fn usage(&self) -> Usage {
        self.usage
    }
}

impl<S: TrustSource> TrustSource for Measured<S> {
    fn name(&self) -> &'static str {
        self.source.name()
    }

    fn migratable(&self) -> bool {
        self.source.migratable()
    }

    fn has_rng(&self) -> bool {
        self.source.has_rng()
    }

    fn init(&mut self) -> Result<(), Error> {
        self.source.init()
    }

    fn random(&mut self, out: &mut [u8]) -> Result<(), Error> {
        self.source.random(out)
    }

    fn seal(&mut self, key: &Key, options: &str) -> Result<SealedBlob, Error> {
        let mark = paint();
        let blob = self.source.seal(key, options);
        self.usage.seal = self.usage.seal.max(mark.used());
        blob
    }

    fn unseal(&mut self, blob: &[u8], options: &str) -> Result<Key, Error> {
        let mark = paint();
        let key = self.source.unseal(blob, options);
        self.usage.unseal = self.usage.unseal.max(mark.used());
        key
    }
}

/// What one boot's flow used and left ([`measured_boot`]).
pub struct Used {
    /// Deepest stack use of the whole flow, in bytes.
    depth: usize,
    /// Deepest seal and unseal inside it.
    usage: Usage,
    /// Copies of the key on the dead stack right after it.
    copies: usize,
}

/// One boot's flow on a painted stack, with the source's seal and unseal
/// measured; afterwards the dead stack is searched for the key. Through
/// `&mut dyn TrustSource`, so that every source of an example shares one
/// instance of the flow, and the source's frames lie wholly below the
/// marks.
pub fn measured_boot<R: TryCryptoRng + ?Sized>(
    source: &mut dyn TrustSource,
    store: &mut BlobStore<RamFlash>,
    key_rng: &mut R,
    options: &FlowOptions<'_>,
) -> Result<(Key, Path, Used), FlowError> {
    let mut measured = Measured::new(source);
    let mark = paint();
    let (key, path) = provision_or_unseal(&mut measured, store, key_rng, options)?;
    let copies = copies_below(key.as_bytes());
    let depth = mark.used();
    let used = Used {
        depth,
        usage: measured.usage(),
        copies,
    };
    Ok((key, path, used))
}

/// Prints `stack: <source> seal=<bytes> unseal=<bytes> boot1=<bytes>
/// boot2=<bytes>` for `cargo xtask size`.
pub fn report(name: &str, first: &Used, second: &Used) {
    step!(
        "stack: ",
        name,
        " seal=",
        first.usage.seal.max(second.usage.seal),
        " unseal=",
        first.usage.unseal.max(second.usage.unseal),
        " boot1=",
        first.depth,
        " boot2=",
        second.depth,
    );
}

/// One more boot, this time with the flow's stack scrub, and the dead
/// stack searched for the key: `residue: <source> unscrubbed=<copies>
/// scrubbed=<copies>`, `unscrubbed` being what `unscrubbed_boot` left. A
/// copy left after the scrub ends the run with exit 1.
pub fn check_residue<R: TryCryptoRng + ?Sized>(
    source: &mut dyn TrustSource,
    store: &mut BlobStore<RamFlash>,
    key_rng: &mut R,
    options: &FlowOptions<'_>,
    unscrubbed_boot: &Used,
) -> Result<(), FlowError> {
    let scrub = options.scrub_stack(SCRUB_STACK);
    REPAINT.store(false, Ordering::Relaxed);
    let boot = measured_boot(source, store, key_rng, &scrub);
    REPAINT.store(true, Ordering::Relaxed);
    let (_, _, scrubbed) = boot?;
    step!(
        "residue: ",
        source.name(),
        " unscrubbed=",
        unscrubbed_boot.copies,
        " scrubbed=",
        scrubbed.copies
    );
    if scrubbed.copies != 0 {
        step!("residue: key bytes left on the stack after the scrub");
        exit(1);
    }
    Ok(())
}

//! Stack residue: what a secret operation leaves in dead frames
//! (`crate::scrub` wipes it).

extern crate std;

/// debug builds), which would otherwise overwrite what it looks for.
pub const STACK_MARGIN: usize = 16 * 1024;
/// Stack scanned below [`STACK_MARGIN`].
pub const STACK_SPAN: usize = 32 * 1024;

/// Runs `op` below [`STACK_MARGIN`] bytes of padding, and calls nothing
/// after it (in a debug build such a call's frame would overwrite
/// `op`'s dead frames before the scan).
#[inline(never)]
pub fn deep<R>(op: impl FnOnce() -> R) -> R {
    let pad = [0u8; STACK_MARGIN];
    core::hint::black_box(&pad);
    op()
}

/// Whether `needle` is in the [`STACK_SPAN`] bytes of stack that lie
/// [`STACK_MARGIN`] below `top` (the address of a local of the caller):
/// where [`deep`] ran its operation, as a debugger would read it.
#[inline(never)]
pub fn stack_below_holds(top: usize, needle: &[u8]) -> bool {
    let end = top - STACK_MARGIN / 2;
    let mut window = [0u8; 64];
    let mut at = top - STACK_MARGIN - STACK_SPAN;
    while at < end {
        for (i, b) in window.iter_mut().enumerate() {
            // SAFETY: addresses of this thread's own stack, below the
            // caller's live frame and well above its guard page (test
            // threads' stacks are MiBs; this reads 48 KiB); plain
            // bytes, read without a reference.
            *b = unsafe { core::ptr::read_volatile((at + i) as *const u8) };
        }
        if window.windows(needle.len()).any(|w| w == needle) {
            return true;
        }
        at += window.len() - needle.len();
    }
    false
}

//! Stack scrubbing: wipe what a secret operation left below its caller.
//!
//! Zeroizing types wipe what they own, but the cryptography underneath
//! keeps copies in stack temporaries that nothing wipes: `hmac` builds
//! `key ⊕ ipad` and `key ⊕ opad` in local blocks, the software AES keeps
//! round keys and bitsliced state in locals, and any `Copy` of a key
//! array leaves its bytes where the frame was. After the call returns,
//! those frames are dead but their bytes stay until something else
//! overwrites them, and a later bug, a debugger on a board or a crash dump
//! can read them.
//!
//! [`after`] runs the operation in a frame of its own (never inlined, so
//! its callees' frames all lie below the caller's stack pointer) and then
//! overwrites that much stack with zeros through volatile writes, in
//! 256-byte frames of a recursive helper. The caller names how deep to
//! wipe: at least the operation's measured stack high-water mark
//! (`docs/size.md`, `cargo xtask size`); wiping costs that much stack
//! again for a moment and one pass of writes.
//!
//! ```
//! use trusted_core::scrub;
//!
//! // Seal or unseal inside; 4 KiB below this frame zeroed afterwards.
//! let sum: u32 = scrub::after(4096, || (0..10u32).sum());
//! assert_eq!(sum, 45);
//! ```

use zeroize::Zeroize;

/// Bytes one frame of [`stack`] zeroes.
const CHUNK: usize = 256;

/// Runs `op` in a frame of its own, then zeroes at least `depth` bytes
/// of stack below the caller's frame, where `op`'s frames were; a `depth`
/// of 0 wipes nothing (for a depth chosen at run time, one copy of `op`
/// serves both).
#[inline(always)]
pub fn after<R>(depth: usize, op: impl FnOnce() -> R) -> R {
    let result = below(op);
    if depth != 0 {
        stack(depth);
    }
    result
}

/// Calls `op` from a frame that is never inlined into the caller, so
/// nothing `op` does lands in the caller's own frame.
#[inline(never)]
fn below<R>(op: impl FnOnce() -> R) -> R {
    op()
}

/// Zeroes at least `depth` bytes of stack below the caller's frame:
/// frames of 256 zeroed bytes each, one below the other, until
/// `depth` is covered. The gaps between chunks hold only this function's
/// own return addresses and saved registers.
#[inline(never)]
pub fn stack(depth: usize) {
    let mut chunk = [0xffu8; CHUNK];
    chunk.zeroize();
    core::hint::black_box(&chunk);
    if depth > CHUNK {
        stack(depth - CHUNK);
    }
    // After the call: keeps this from being a tail call, which would
    // reuse this frame instead of going below it.
    core::hint::black_box(&chunk);
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;
    use hmac::{KeyInit, Mac};
    use trusted_core::test_util::{STACK_MARGIN, STACK_SPAN, deep, stack_below_holds};

    type HmacSha256 = hmac::Hmac<sha2::Sha256>;

    /// The HMAC key of the test; `hmac` turns its block into `key ⊕ ipad`
    /// and then, in place, `key ⊕ opad`: `0xf9` × 32 left on the stack.
    const KEY: [u8; 32] = [0xa5; 32];
    const KEY_XOR_OPAD: [u8; 32] = [0xa5 ^ 0x5c; 32];

    /// HMAC-SHA256 keyed with [`KEY`], as the HUK derivation keys it.
    #[inline(never)]
    fn keyed() -> HmacSha256 {
        <HmacSha256 as KeyInit>::new_from_slice(&KEY).unwrap()
    }

    /// Without a scrub the `key ⊕ opad` block of `hmac` is still on the
    /// stack after the keying returned (so the check can fail); after
    /// [`after`] neither it nor the key is, and the MAC is unchanged.
    #[test]
    #[cfg_attr(miri, ignore)]
    fn hmac_key_pad_is_gone_after_a_scrub() {
        let here = 0u8;
        let top = core::hint::black_box(core::ptr::addr_of!(here)) as usize;
        let mac = deep(keyed);
        assert!(
            stack_below_holds(top, &KEY_XOR_OPAD),
            "the unscrubbed stack should still hold key ^ opad"
        );
        stack(STACK_MARGIN + STACK_SPAN);
        assert!(!stack_below_holds(top, &KEY_XOR_OPAD));

        let scrubbed = deep(|| after(STACK_SPAN, keyed));
        assert!(!stack_below_holds(top, &KEY_XOR_OPAD));
        assert!(!stack_below_holds(top, &KEY));
        let tag = |mut m: HmacSha256| {
            m.update(b"trusted keys");
            m.finalize().into_bytes()
        };
        assert_eq!(tag(scrubbed), tag(mac));
    }
}

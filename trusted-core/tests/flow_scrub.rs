//! `FlowOptions::scrub_stack`: the boot flow leaves no secret of its own
//! in dead stack frames. Without the scrub, a first boot and an unseal boot
//! of the TEE sealer leave the TA key (the AES-256 key derived from the HUK
//! that opens every TEE blob of the device) below the caller, so the check
//! can fail; with it they do not, and the keys and paths are the same.
//! (The key the flow returns is the caller's: copies that moving it makes
//! in the caller's own frames are the caller's to wipe.)

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a failure fails the test"
)]

use trusted_core::flow::{FlowOptions, NoCallerRng, Path, provision_or_unseal};
use trusted_core::huk::{HukSubkeyUsage, SubkeyDerive, TRUSTED_KEYS_TA_UUID};
use trusted_core::scrub;
use trusted_core::store::{BlobStore, StoreLayout};
use trusted_core::tee::TeeSealer;
use trusted_core::test_util::{
    RamNor, STACK_MARGIN, STACK_SPAN, ScriptRng, deep, stack_below_holds,
};
use trusted_core::{Key, RngChoice, StaticHuk};

const HUK: [u8; 16] = *b"scrub-flow-huk!!";

type Flash = RamNor<1, 4, 256>;

/// What one boot returned, and which secrets its dead frames still hold.
struct Boot {
    key: Key,
    path: Path,
    ta_key_left: bool,
}

/// Two boots (provision, then unseal) on one store, each run below the
/// scan's margin.
#[inline(never)]
fn two_boots(options: &FlowOptions<'_>, ta_key: &[u8; 32]) -> [Boot; 2] {
    let here = 0u8;
    let top = core::hint::black_box(core::ptr::addr_of!(here)) as usize;
    let capacity = 2 * StoreLayout::min_slot_size::<Flash>();
    let layout = StoreLayout::compact::<Flash>(0);
    let mut store = BlobStore::new(Flash::new(capacity), layout).unwrap();
    let mut sealer = TeeSealer::new(StaticHuk::new(HUK), ScriptRng::counting(7));
    core::array::from_fn(|_| {
        scrub::stack(STACK_MARGIN + STACK_SPAN);
        let (key, path) =
            deep(|| provision_or_unseal(&mut sealer, &mut store, &mut NoCallerRng, options))
                .unwrap();
        let ta_key_left = ta_key.chunks(16).any(|half| stack_below_holds(top, half));
        Boot {
            key,
            path,
            ta_key_left,
        }
    })
}

#[test]
#[cfg_attr(miri, ignore)]
fn boot_flow_leaves_no_secret_on_the_stack_when_scrubbed() {
    let mut ta_key = [0u8; 32];
    StaticHuk::new(HUK)
        .derive_subkey(HukSubkeyUsage::UniqueTa, &TRUSTED_KEYS_TA_UUID, &mut ta_key)
        .unwrap();

    let plain = FlowOptions::new(RngChoice::Source);
    let unscrubbed = two_boots(&plain, &ta_key);
    for boot in &unscrubbed {
        assert!(
            boot.ta_key_left,
            "without a scrub the flow should leave the TA key ({:?})",
            boot.path
        );
    }

    let scrubbed = two_boots(&plain.scrub_stack(STACK_SPAN), &ta_key);
    let paths = scrubbed.each_ref().map(|b| b.path);
    assert_eq!(paths, [Path::Provisioned, Path::Unsealed]);
    for (after, before) in scrubbed.iter().zip(&unscrubbed) {
        assert!(
            !after.ta_key_left,
            "{:?}: TA key left on the stack",
            after.path
        );
        assert_eq!(after.path, before.path);
        assert_eq!(after.key, before.key, "same RNG, same key");
    }
}

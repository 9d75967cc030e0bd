//! Power cut at every single flash operation of the boot flow.
//!
//! Each scenario (first boot; key rotation with one and with two stored
//! blobs; re-seal of the same key; retiring the older of two blobs) runs
//! once without a cut to log its program and erase operations. Then, for every operation and every state
//! an interrupted operation leaves on NOR (`Interrupted::all_for`:
//! unchanged, completed, torn at each word, partly erased, partly or wholly
//! pre-programmed, random partial programming), it runs again from the same
//! start with the power cut there, "reboots" and boots the flow on what the
//! flash holds. The next boot must end with the old key or the new key:
//! never an error ("no key") once a first boot has completed, never any
//! other key. A first boot cut short may instead provision afresh, since
//! its key was never handed out. Every outcome is then booted once more
//! (the same key again) and re-sealed (the store still takes writes).
//!
//! Run with `--nocapture` to see the count of cut points per flash geometry.

use embedded_storage::nor_flash::NorFlash;
use trusted_core::flow::{
    FlowError, FlowOptions, NoCallerRng, Path, Reseal, provision_or_unseal, reseal,
};
use trusted_core::store::{BlobStore, StoreLayout};
use trusted_core::tee::TeeSealer;
use trusted_core::test_util::{Interrupted, PowerCut, RamNor, ScriptRng};
use trusted_core::{Key, RngChoice, StaticHuk};

const HUK: [u8; 16] = *b"power-cut-huk!!!";
const SOURCE_RNG: FlowOptions<'static> = FlowOptions::new(RngChoice::Source);
/// Random variants per random kind of interrupted state.
const SEEDS: u64 = 3;

/// A sealer whose RNG (keys and IVs) counts up from `seed`: runs with the
/// same seed make the same key, boots after a cut use seeds of their own.
fn tee(seed: u8) -> TeeSealer<StaticHuk, ScriptRng> {
    TeeSealer::new(StaticHuk::new(HUK), ScriptRng::counting(seed))
}

#[allow(clippy::unwrap_used, reason = "a failed set-up fails the test")]
fn open<F: NorFlash>(flash: F) -> BlobStore<F> {
    BlobStore::new(flash, StoreLayout::compact::<F>(0)).unwrap()
}

/// Boots once on `flash` (no cut) and returns the key and the flash.
fn boot<const R: usize, const W: usize, const E: usize>(
    flash: RamNor<R, W, E>,
    seed: u8,
) -> Result<(Key, Path, RamNor<R, W, E>), FlowError> {
    let mut store = open(flash);
    let (key, path) =
        provision_or_unseal(&mut tee(seed), &mut store, &mut NoCallerRng, &SOURCE_RNG)?;
    Ok((key, path, store.into_inner()))
}

#[derive(Default, Debug)]
struct Tally {
    cuts: usize,
    old_key: usize,
    new_key: usize,
    reprovisioned: usize,
}

type Flow<'a, const R: usize, const W: usize, const E: usize> =
    &'a dyn Fn(&mut BlobStore<PowerCut<R, W, E>>) -> Result<(Key, Path), FlowError>;

/// Cuts `flow`, run from `start`, at every operation in every interrupted
/// state. `old` is the key the store held before (none on a first boot).
#[allow(clippy::panic, reason = "a wrong key after a cut fails the test")]
fn cut_everywhere<const R: usize, const W: usize, const E: usize>(
    name: &str,
    start: &RamNor<R, W, E>,
    old: Option<&Key>,
    flow: Flow<'_, R, W, E>,
    tally: &mut Tally,
) {
    let mut dry = open(PowerCut::new(start.clone()));
    let (new, _) = flow(&mut dry).unwrap_or_else(|e| panic!("{name}: uncut run failed: {e}"));
    let ops = dry.into_inner().ops().to_vec();
    assert!(!ops.is_empty(), "{name}: no flash operation to cut");
    for (n, op) in ops.iter().enumerate() {
        for state in Interrupted::all_for(op, W, SEEDS) {
            let at = format!(
                "{name}: cut at op {n} of {} ({op:?}) left {state:?}",
                ops.len()
            );
            let mut store = open(PowerCut::cut_at(start.clone(), n, state));
            let result = flow(&mut store);
            let cut = store.into_inner();
            assert!(cut.power_lost(), "{at}: the cut did not happen");
            assert!(
                result.is_err(),
                "{at}: the flow returned a key without power"
            );
            tally.cuts += 1;

            let (key, path, flash) = boot(cut.reboot(), 100)
                .unwrap_or_else(|e| panic!("{at}: next boot has no key: {e}"));
            if key == new {
                assert!(
                    matches!(path, Path::Unsealed | Path::UnsealedFallback),
                    "{at}: {path:?}"
                );
                tally.new_key += 1;
            } else if old.is_some_and(|old| *old == key) {
                assert!(
                    matches!(path, Path::Unsealed | Path::UnsealedFallback),
                    "{at}: {path:?}"
                );
                tally.old_key += 1;
            } else if old.is_none() && path == Path::Provisioned {
                tally.reprovisioned += 1;
            } else {
                panic!("{at}: next boot ended with a wrong key ({path:?})");
            }

            // Stable: the boot after gives the same key without writing.
            let (again, path, flash) =
                boot(flash, 150).unwrap_or_else(|e| panic!("{at}: second boot: {e}"));
            assert_eq!(again, key, "{at}: second boot changed the key");
            assert!(
                matches!(path, Path::Unsealed | Path::UnsealedFallback),
                "{at}"
            );

            // Repairable: a re-seal completes and the next boot agrees.
            let mut store = open(flash);
            let (resealed, _) = reseal(
                &mut tee(200),
                &mut store,
                &mut NoCallerRng,
                &SOURCE_RNG,
                "",
                Reseal::SameKey,
            )
            .unwrap_or_else(|e| panic!("{at}: re-seal after the cut: {e}"));
            assert_eq!(resealed, key, "{at}");
            let (last, path, _) = boot(store.into_inner(), 250)
                .unwrap_or_else(|e| panic!("{at}: boot after re-seal: {e}"));
            assert_eq!((last, path), (key, Path::Unsealed), "{at}: after re-seal");
        }
    }
}

fn rotate<const R: usize, const W: usize, const E: usize>(
    store: &mut BlobStore<PowerCut<R, W, E>>,
    seed: u8,
    what: Reseal,
) -> Result<(Key, Path), FlowError> {
    reseal(
        &mut tee(seed),
        store,
        &mut NoCallerRng,
        &SOURCE_RNG,
        "",
        what,
    )
}

/// Every scenario on one flash geometry.
#[allow(clippy::unwrap_used, reason = "a failed set-up fails the test")]
fn all_scenarios<const R: usize, const W: usize, const E: usize>() {
    let capacity = 2 * StoreLayout::min_slot_size::<RamNor<R, W, E>>();
    let blank = RamNor::<R, W, E>::new(capacity);
    let mut tally = Tally::default();

    cut_everywhere(
        "first boot",
        &blank,
        None,
        &|s| provision_or_unseal(&mut tee(1), s, &mut NoCallerRng, &SOURCE_RNG),
        &mut tally,
    );

    // One blob stored (slot A): the rotation writes the erased slot B.
    let (k1, _, one) = boot(blank, 1).unwrap();
    cut_everywhere(
        "rotation, one blob stored",
        &one,
        Some(&k1),
        &|s| rotate(s, 2, Reseal::NewKey),
        &mut tally,
    );

    // Two blobs stored: the rotation erases the older, committed slot A.
    let mut store = open(one);
    let (k2, _) = reseal(
        &mut tee(2),
        &mut store,
        &mut NoCallerRng,
        &SOURCE_RNG,
        "",
        Reseal::NewKey,
    )
    .unwrap();
    let two = store.into_inner();
    cut_everywhere(
        "rotation, two blobs stored",
        &two,
        Some(&k2),
        &|s| rotate(s, 3, Reseal::NewKey),
        &mut tally,
    );
    cut_everywhere(
        "re-seal of the same key, two blobs stored",
        &two,
        Some(&k2),
        &|s| rotate(s, 4, Reseal::SameKey),
        &mut tally,
    );
    cut_everywhere(
        "retiring the older blob, two blobs stored",
        &two,
        Some(&k2),
        &|s| {
            s.retire_older("tee").map_err(FlowError::Store)?;
            provision_or_unseal(&mut tee(5), s, &mut NoCallerRng, &SOURCE_RNG)
        },
        &mut tally,
    );

    eprintln!(
        "power cut (READ_SIZE {R}, WRITE_SIZE {W}, ERASE_SIZE {E}): {} cut points; next boot: \
         old key {}, new key {}, first boot provisioned afresh {}; no key or wrong key 0",
        tally.cuts, tally.old_key, tally.new_key, tally.reprovisioned
    );
    assert_eq!(
        tally.cuts,
        tally.old_key + tally.new_key + tally.reprovisioned
    );
    // Cuts must reach every outcome, or the test proves nothing.
    assert!(tally.old_key > 0 && tally.new_key > 0 && tally.reprovisioned > 0);
}

#[test]
fn byte_writes_4k_sectors() {
    all_scenarios::<1, 1, 4096>();
}

#[test]
fn word_writes_1k_sectors() {
    all_scenarios::<1, 4, 1024>();
}

#[test]
fn wide_writes_and_reads_2k_sectors() {
    // STM32H7-like 32-byte flash words, 16-byte reads.
    all_scenarios::<16, 32, 2048>();
}

#[test]
fn slots_of_three_256_byte_sectors() {
    // Each slot spans three sectors: the erase is three operations.
    all_scenarios::<1, 8, 256>();
}

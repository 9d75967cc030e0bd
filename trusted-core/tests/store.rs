//! The A/B key store and the boot flow on a RAM NOR flash: the slot format
//! against independent Python vectors, every bad input (corrupt slots, a
//! blob of another source, a future format, failing flash, bad layouts) and
//! the flow's paths.

use embedded_storage::nor_flash::{NorFlash, NorFlashErrorKind};
use trusted_core::flow::{
    FlowError, FlowOptions, NoCallerRng, Path, Reseal, provision_or_unseal, reseal,
};
use trusted_core::store::{
    BlobStore, FORMAT_VERSION, HEADER_LEN, Slot, SlotState, StoreError, StoreLayout,
};
use trusted_core::tee::TeeSealer;
use trusted_core::test_util::{BrokenRng, NorFault, RamNor, ScriptRng, hex, section, vectors};
use trusted_core::{DriverError, Error, Key, RngChoice, SealedBlob, StaticHuk, TrustSource};

const VECTORS: &str = include_str!("vectors/store_vectors.txt");

/// 1-byte reads, 4-byte words, 1 KiB sectors: one sector per slot.
type Nor = RamNor<1, 4, 1024>;
const SLOT: usize = 1024;
const HUK: [u8; 16] = *b"store-test-huk!!";

fn nor() -> Nor {
    Nor::new(4 * SLOT)
}

#[allow(clippy::unwrap_used, reason = "a failed set-up fails the test")]
fn open<F: NorFlash>(flash: F) -> BlobStore<F> {
    BlobStore::new(flash, StoreLayout::compact::<F>(0)).unwrap()
}

fn tee(seed: u8) -> TeeSealer<StaticHuk, ScriptRng> {
    TeeSealer::new(StaticHuk::new(HUK), ScriptRng::counting(seed))
}

const SOURCE_RNG: FlowOptions<'static> = FlowOptions::new(RngChoice::Source);

/// One boot of the flow, keys from the source's RNG.
fn boot<S: TrustSource>(
    source: &mut S,
    store: &mut BlobStore<Nor>,
) -> Result<(Key, Path), FlowError> {
    provision_or_unseal(source, store, &mut NoCallerRng, &SOURCE_RNG)
}

/// A re-seal, keys from the source's RNG, no seal options.
fn reseal_by<S: TrustSource>(
    source: &mut S,
    store: &mut BlobStore<Nor>,
    what: Reseal,
) -> Result<(Key, Path), FlowError> {
    reseal(source, store, &mut NoCallerRng, &SOURCE_RNG, "", what)
}

// ---- slot format ------------------------------------------------------------

#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a malformed vector or a short image fails the test"
)]
fn check_vector<const W: usize>(name: &str) {
    let sections = vectors(VECTORS);
    let v = section(&sections, name);
    assert_eq!(usize::from(v.array::<1>("write_size")[0]), W);
    let source = String::from_utf8(v.bytes("source")).unwrap();
    let blob = v.bytes("blob");
    let image = v.bytes("image");
    let mut store = open(RamNor::<1, W, 1024>::new(4 * SLOT));
    assert_eq!(store.write(&source, &blob).unwrap(), 1);
    let flash = store.into_inner();
    assert_eq!(hex(&flash.bytes()[..image.len()]), hex(&image), "[{name}]");
    // Past the image the slot is still erased.
    assert!(flash.bytes()[image.len()..SLOT].iter().all(|b| *b == 0xff));
}

#[test]
fn first_write_matches_the_python_slot_images() {
    check_vector::<1>("slot-w1");
    check_vector::<8>("slot-w8");
    check_vector::<32>("slot-w32");
}

#[test]
fn reads_a_python_slot_and_writes_the_next_sequence_number_into_the_other_slot() {
    let sections = vectors(VECTORS);
    let (seq, next) = (section(&sections, "seq-w8"), section(&sections, "next-w8"));
    let mut flash = RamNor::<1, 8, 1024>::new(4 * SLOT);
    let image = seq.bytes("image");
    flash.bytes_mut()[..image.len()].copy_from_slice(&image);
    let mut store = open(flash);
    let stored = store.read("dcp").unwrap().unwrap();
    assert_eq!(stored.slot, Slot::A);
    assert_eq!(stored.seq, 0x0102_0304);
    assert_eq!(stored.blob.as_bytes(), &seq.bytes("blob")[..]);
    assert!(!stored.fell_back);
    assert_eq!(
        store.write("dcp", &next.bytes("blob")).unwrap(),
        0x0102_0305
    );
    let flash = store.into_inner();
    let image = next.bytes("image");
    assert_eq!(hex(&flash.bytes()[SLOT..SLOT + image.len()]), hex(&image));
}

#[test]
fn header_is_32_bytes_and_a_1k_sector_fits_a_512_byte_blob() {
    assert_eq!(HEADER_LEN, 32);
    assert_eq!(FORMAT_VERSION, 1);
    assert_eq!(StoreLayout::min_slot_size::<Nor>(), 1024);
    assert_eq!(StoreLayout::min_slot_size::<RamNor<1, 1, 256>>(), 768);
    assert_eq!(StoreLayout::min_slot_size::<RamNor<1, 256, 4096>>(), 4096);
    assert_eq!(StoreLayout::compact::<Nor>(2048).flash_bytes(), 2048);
}

// ---- reading and writing ------------------------------------------------------

#[test]
fn empty_store_reads_none_and_writes_alternate_slots_with_rising_sequence() {
    let mut store = open(nor());
    assert_eq!(store.read("tee").unwrap(), None);
    assert_eq!(
        store.status().unwrap(),
        [SlotState::Erased, SlotState::Erased]
    );
    for (i, expected) in [Slot::A, Slot::B, Slot::A, Slot::B].into_iter().enumerate() {
        let blob = vec![i as u8 + 1; 40 + i];
        let seq = store.write("tee", &blob).unwrap();
        assert_eq!(seq, i as u32 + 1);
        let stored = store.read("tee").unwrap().unwrap();
        assert_eq!((stored.slot, stored.seq), (expected, seq));
        assert_eq!(stored.blob.as_bytes(), &blob[..]);
    }
    // Both slots hold a valid blob: the previous one stays as the fallback.
    let [a, b] = store.status().unwrap();
    assert!(matches!(a, SlotState::Valid(info) if info.seq == 3));
    assert!(matches!(b, SlotState::Valid(info) if info.seq == 4));
}

#[test]
fn staged_blob_is_not_current_until_committed() {
    let mut store = open(nor());
    store.write("tee", &[1; 48]).unwrap();
    let pending = store.stage("tee", &[2; 48]).unwrap();
    assert_eq!((pending.slot(), pending.seq()), (Slot::B, 2));
    assert_eq!(store.read_pending(&pending).unwrap().as_bytes(), &[2; 48]);
    assert_eq!(store.status().unwrap()[1], SlotState::Uncommitted);
    assert_eq!(
        store.read("tee").unwrap().unwrap().blob.as_bytes(),
        &[1; 48]
    );
    assert_eq!(store.commit(pending).unwrap(), 2);
    assert_eq!(
        store.read("tee").unwrap().unwrap().blob.as_bytes(),
        &[2; 48]
    );
}

#[test]
fn retire_older_erases_only_the_slot_that_is_not_current() {
    let mut store = open(nor());
    store.retire_older("tee").unwrap(); // empty: nothing to do
    assert_eq!(store.flash_mut().erases(), 0);
    store.write("tee", &[1; 48]).unwrap();
    store.write("tee", &[2; 48]).unwrap();
    store.retire_older("tee").unwrap();
    assert_eq!(store.status().unwrap()[0], SlotState::Erased);
    let stored = store.read("tee").unwrap().unwrap();
    assert_eq!(
        (stored.slot, stored.seq, stored.fell_back),
        (Slot::B, 2, false)
    );
    // Not for another source's blob.
    assert!(matches!(
        store.retire_older("caam"),
        Err(StoreError::WrongSource { .. })
    ));
}

#[test]
fn commit_refuses_a_staged_slot_that_changed_since() {
    let mut store = open(nor());
    let pending = store.stage("tee", &[3; 48]).unwrap();
    // A bit of the staged blob drops (flash can only clear bits).
    store.flash_mut().bytes_mut()[8 + HEADER_LEN + 5] &= 0xfe;
    assert_eq!(store.read_pending(&pending), Err(StoreError::NotStaged));
    assert_eq!(store.commit(pending), Err(StoreError::NotStaged));
    assert_eq!(store.read("tee").unwrap(), None);
}

// ---- bad input ----------------------------------------------------------------

/// A store with one committed blob in each slot, `tee` sequence 1 and 2.
#[allow(clippy::unwrap_used, reason = "a failed set-up fails the test")]
fn two_blobs() -> BlobStore<Nor> {
    let mut store = open(nor());
    store.write("tee", &[0xa1; 65]).unwrap();
    store.write("tee", &[0xb2; 65]).unwrap();
    store
}

/// Flips a blob byte of `slot` (a committed slot that no longer verifies).
#[allow(clippy::indexing_slicing, reason = "the offset lies inside a slot")]
fn rot(store: &mut BlobStore<Nor>, slot: Slot) {
    let at = match slot {
        Slot::A => 0,
        Slot::B => SLOT,
    } + 8
        + HEADER_LEN
        + 10;
    store.flash_mut().bytes_mut()[at] ^= 0x40;
}

#[test]
fn both_slots_corrupt_is_an_error_and_nothing_is_erased() {
    let mut store = two_blobs();
    rot(&mut store, Slot::A);
    rot(&mut store, Slot::B);
    let before = store.flash_mut().bytes().to_vec();
    assert_eq!(store.read("tee").unwrap_err(), StoreError::BothCorrupt);
    assert_eq!(
        store.stage("tee", &[1; 65]).unwrap_err(),
        StoreError::BothCorrupt
    );
    assert_eq!(
        store.write("tee", &[1; 65]).unwrap_err(),
        StoreError::BothCorrupt
    );
    assert!(matches!(
        store.status().unwrap(),
        [
            SlotState::Corrupt("CRC mismatch"),
            SlotState::Corrupt("CRC mismatch")
        ]
    ));
    assert_eq!(store.flash_mut().bytes(), &before[..]);
    assert_eq!(store.flash_mut().erases(), 2);
    assert_eq!(
        StoreError::BothCorrupt.kind(),
        Error::BlobFormat("key store: both slots corrupt")
    );
}

#[test]
fn the_only_copy_corrupt_is_never_erased_and_the_flow_does_not_provision_over_it() {
    let mut store = open(nor());
    store.write("tee", &[0xa1; 65]).unwrap();
    rot(&mut store, Slot::A);
    let before = store.flash_mut().bytes().to_vec();
    let erases = store.flash_mut().erases();
    assert_eq!(store.read("tee").unwrap_err(), StoreError::OnlyCopyCorrupt);
    assert_eq!(
        store.write("tee", &[1; 65]).unwrap_err(),
        StoreError::OnlyCopyCorrupt
    );
    let err = boot(&mut tee(1), &mut store).unwrap_err();
    assert_eq!(err, FlowError::Store(StoreError::OnlyCopyCorrupt));
    assert_eq!(store.flash_mut().bytes(), &before[..]);
    assert_eq!(store.flash_mut().erases(), erases);
    // The explicit way out.
    store.wipe().unwrap();
    assert_eq!(store.read("tee").unwrap(), None);
}

#[test]
fn a_corrupt_slot_beside_a_valid_one_falls_back_and_is_the_next_write_target() {
    let mut store = two_blobs();
    rot(&mut store, Slot::B);
    let stored = store.read("tee").unwrap().unwrap();
    assert_eq!(
        (stored.slot, stored.seq, stored.fell_back),
        (Slot::A, 1, true)
    );
    assert_eq!(stored.blob.as_bytes(), &[0xa1; 65]);
    let pending = store.stage("tee", &[0xc3; 65]).unwrap();
    assert_eq!((pending.slot(), pending.seq()), (Slot::B, 2));
}

#[test]
fn corrupt_header_fields_are_reported_per_slot() {
    let mut store = two_blobs();
    store.flash_mut().bytes_mut()[8] = b'X'; // slot A magic
    store.flash_mut().bytes_mut()[SLOT + 8 + 6] = 0x10; // slot B header length 16
    assert_eq!(
        store.status().unwrap(),
        [
            SlotState::Corrupt("bad magic"),
            SlotState::Corrupt("header fields out of range")
        ]
    );
}

#[test]
fn a_blob_of_another_source_is_refused_by_name() {
    let mut store = open(nor());
    store.write("caam", &[0xa1; 80]).unwrap();
    let err = store.read("tee").unwrap_err();
    let StoreError::WrongSource { stored } = err else {
        panic!("{err:?}");
    };
    assert_eq!(stored.as_str(), "caam");
    assert_eq!(
        err.to_string(),
        "key store: blob sealed by trust source caam"
    );
    let err = boot(&mut tee(1), &mut store).unwrap_err();
    assert_eq!(err, FlowError::Store(StoreError::WrongSource { stored }));
    assert_eq!(
        Error::from(err),
        Error::BlobFormat("key store: blob of another trust source")
    );
}

#[test]
fn a_header_from_a_future_format_version_is_refused_not_overwritten() {
    let sections = vectors(VECTORS);
    let future = section(&sections, "future-v2");
    let image = future.bytes("image");
    // The future blob (sequence 9) is the newest; slot A holds an older v1.
    let mut store = open(nor());
    store.write("tee", &[0xa1; 65]).unwrap();
    store.flash_mut().bytes_mut()[SLOT..SLOT + image.len()].copy_from_slice(&image);
    assert_eq!(
        store.status().unwrap()[1],
        SlotState::Future { version: 2, seq: 9 }
    );
    let before = store.flash_mut().bytes().to_vec();
    assert_eq!(store.read("tee").unwrap_err(), StoreError::FutureVersion(2));
    assert_eq!(
        store.stage("tee", &[1; 65]).unwrap_err(),
        StoreError::FutureVersion(2)
    );
    assert_eq!(store.flash_mut().bytes(), &before[..]);
    assert_eq!(
        StoreError::FutureVersion(2).kind(),
        Error::Unsupported("key store slot format newer than this firmware")
    );
    // A future header whose CRC fails is corruption, not a newer format.
    store.flash_mut().bytes_mut()[SLOT + image.len() - 1] ^= 1;
    assert_eq!(
        store.status().unwrap()[1],
        SlotState::Corrupt("CRC mismatch")
    );
    assert_eq!(store.read("tee").unwrap().unwrap().seq, 1);
}

#[test]
fn an_older_future_format_slot_is_passed_over_for_a_newer_v1_slot() {
    let sections = vectors(VECTORS);
    let v1 = section(&sections, "seq-w8").bytes("image"); // sequence 0x01020304
    let future = section(&sections, "future-v2").bytes("image"); // sequence 9
    let mut flash = nor();
    flash.bytes_mut()[..v1.len()].copy_from_slice(&v1);
    flash.bytes_mut()[SLOT..SLOT + future.len()].copy_from_slice(&future);
    let mut store = open(flash);
    assert_eq!(store.read("dcp").unwrap().unwrap().seq, 0x0102_0304);
    // The next write replaces the older, future-format slot.
    let pending = store.stage("dcp", &[0xa1; 65]).unwrap();
    assert_eq!((pending.slot(), pending.seq()), (Slot::B, 0x0102_0305));
}

#[test]
fn flash_write_and_erase_errors_keep_the_current_blob() {
    for fault in [NorFault::WriteFails, NorFault::EraseFails] {
        let mut store = two_blobs();
        store.flash_mut().inject(fault);
        let err = store.write("tee", &[0xc3; 65]).unwrap_err();
        assert_eq!(
            err,
            StoreError::Flash(NorFlashErrorKind::Other),
            "{fault:?}"
        );
        assert_eq!(err.kind(), Error::Transport);
        assert_eq!(
            err.to_string(),
            "key store flash error: An implementation specific error occurred"
        );
        store.flash_mut().clear_faults();
        let stored = store.read("tee").unwrap().unwrap();
        assert_eq!((stored.seq, stored.blob.as_bytes()), (2, &[0xb2; 65][..]));
    }
}

#[test]
fn a_flash_that_ignores_programs_fails_verification_and_commits_nothing() {
    let mut store = two_blobs();
    store.flash_mut().inject(NorFault::WritesIgnored);
    assert_eq!(
        store.write("tee", &[0xc3; 65]),
        Err(StoreError::VerifyFailed)
    );
    store.flash_mut().clear_faults();
    assert_eq!(store.read("tee").unwrap().unwrap().seq, 2);
    assert_eq!(
        StoreError::VerifyFailed.kind(),
        Error::Malformed("flash read back differs from what was programmed")
    );
}

#[test]
fn read_errors_are_flash_errors() {
    let mut store = two_blobs();
    store.flash_mut().inject(NorFault::ReadFails);
    assert_eq!(
        store.read("tee").unwrap_err(),
        StoreError::Flash(NorFlashErrorKind::Other)
    );
}

#[test]
fn misaligned_or_too_small_layouts_are_refused() {
    let layout = |offset, slot_size| BlobStore::new(nor(), StoreLayout::new(offset, slot_size));
    let cases = [
        (
            512,
            1024,
            "offset and slot size must be multiples of ERASE_SIZE",
        ),
        (
            0,
            1536,
            "offset and slot size must be multiples of ERASE_SIZE",
        ),
        (
            0,
            0,
            "slot too small for commit unit, header and a 512-byte blob",
        ),
        (3072, 1024, "slots extend past the end of the flash"),
        (0, 4096, "slots extend past the end of the flash"),
        (
            u32::MAX - 1023,
            1024,
            "slots extend past the end of the flash",
        ),
    ];
    for (offset, slot_size, why) in cases {
        assert_eq!(
            layout(offset, slot_size).err(),
            Some(StoreError::Layout(why)),
            "offset {offset} slot {slot_size}"
        );
    }
    assert!(layout(2048, 1024).is_ok());
    assert_eq!(StoreError::Layout("x").kind(), Error::InvalidArgument("x"));
    // Granularities the 256-byte staging buffer cannot take, or that do
    // not divide the sector.
    let big_read = BlobStore::new(RamNor::<512, 4, 1024>::new(4096), StoreLayout::new(0, 1024));
    assert_eq!(
        big_read.err(),
        Some(StoreError::Layout(
            "READ_SIZE or WRITE_SIZE above the 256-byte staging buffer"
        ))
    );
    let odd = BlobStore::new(RamNor::<3, 4, 1024>::new(4096), StoreLayout::new(0, 1024));
    assert_eq!(
        odd.err(),
        Some(StoreError::Layout(
            "ERASE_SIZE is not a multiple of READ_SIZE and WRITE_SIZE"
        ))
    );
}

#[test]
fn bad_blobs_and_source_names_are_refused_before_touching_flash() {
    let mut store = open(nor());
    assert_eq!(store.write("tee", &[]), Err(StoreError::BlobLength(0)));
    assert_eq!(
        store.write("tee", &[0; 513]),
        Err(StoreError::BlobLength(513))
    );
    for name in ["", "ninechars", "t\0e"] {
        assert_eq!(
            store.write(name, &[1; 32]),
            Err(StoreError::SourceName),
            "{name:?}"
        );
    }
    assert_eq!(store.flash_mut().erases() + store.flash_mut().programs(), 0);
    assert_eq!(store.write("tee", &[7; 512]).unwrap(), 1);
    assert_eq!(StoreError::BlobLength(0).kind(), Error::BlobLength);
}

#[test]
fn reads_through_read_size_windows_at_odd_offsets() {
    // 16-byte reads, 8-byte words: the header starts at offset 8 of the slot.
    let mut store = open(RamNor::<16, 8, 2048>::new(8192));
    let blob: Vec<u8> = (0..=255).chain(0..=255).collect();
    store.write("tpm", &blob).unwrap();
    store.write("tpm", &blob[..77]).unwrap();
    let stored = store.read("tpm").unwrap().unwrap();
    assert_eq!(
        (stored.slot, stored.blob.as_bytes()),
        (Slot::B, &blob[..77])
    );
}

// ---- the flow -----------------------------------------------------------------

#[test]
fn first_boot_provisions_and_the_next_boot_unseals_the_same_key() {
    let mut store = open(nor());
    let (key, path) = boot(&mut tee(1), &mut store).unwrap();
    assert_eq!(path, Path::Provisioned);
    assert_eq!(key.len(), 32);
    // Reboot: a new store over the same flash, a new sealer.
    let mut store = open(store.into_inner());
    let (again, path) = boot(&mut tee(200), &mut store).unwrap();
    assert_eq!((path, again), (Path::Unsealed, key));
    assert_eq!(store.read("tee").unwrap().unwrap().seq, 1);
}

#[test]
fn caller_rng_makes_the_key_when_asked() {
    let mut store = open(nor());
    let options = FlowOptions::new(RngChoice::Caller).key_len(64);
    let script: Vec<u8> = (100..164).collect();
    let mut rng = ScriptRng::new(&script);
    let (key, path) = provision_or_unseal(&mut tee(1), &mut store, &mut rng, &options).unwrap();
    assert_eq!(path, Path::Provisioned);
    assert_eq!(key, Key::from_slice(&script).unwrap());
    assert_eq!(rng.remaining(), 0);
}

#[test]
fn a_failing_rng_or_bad_key_length_writes_nothing() {
    let mut store = open(nor());
    let caller = FlowOptions::new(RngChoice::Caller);
    assert_eq!(
        provision_or_unseal(&mut tee(1), &mut store, &mut BrokenRng, &caller).unwrap_err(),
        FlowError::Rng
    );
    assert_eq!(
        provision_or_unseal(&mut tee(1), &mut store, &mut NoCallerRng, &caller).unwrap_err(),
        FlowError::Rng
    );
    let short = FlowOptions::new(RngChoice::Source).key_len(16);
    let err = provision_or_unseal(&mut tee(1), &mut store, &mut NoCallerRng, &short).unwrap_err();
    assert_eq!(
        (err, err.kind()),
        (FlowError::KeyLength(16), Error::KeyLength)
    );
    assert_eq!(store.flash_mut().erases() + store.flash_mut().programs(), 0);
}

#[test]
fn a_blob_that_does_not_unseal_is_an_error_never_a_reprovision() {
    let mut store = open(nor());
    boot(&mut tee(1), &mut store).unwrap();
    let before = store.flash_mut().bytes().to_vec();
    // Another device: another HUK.
    let mut other = TeeSealer::new(StaticHuk::new([9; 16]), ScriptRng::counting(1));
    let err = boot(&mut other, &mut store).unwrap_err();
    assert_eq!(err, FlowError::Source(Error::AuthFailed));
    assert_eq!(store.flash_mut().bytes(), &before[..]);
}

/// A source that seals (by copying the key) but unseals to a different key,
/// or fails to seal: the proof must catch it.
struct Liar {
    fail_seal: bool,
}

impl TrustSource for Liar {
    fn name(&self) -> &'static str {
        "tee"
    }
    fn has_rng(&self) -> bool {
        true
    }
    fn random(&mut self, out: &mut [u8]) -> Result<(), Error> {
        out.fill(0x42);
        Ok(())
    }
    fn seal(&mut self, key: &Key, _: &str) -> Result<SealedBlob, Error> {
        if self.fail_seal {
            return Err(Error::Hardware(7));
        }
        SealedBlob::from_slice(key.as_bytes())
    }
    #[allow(
        clippy::indexing_slicing,
        reason = "Key::from_slice refuses an empty key"
    )]
    fn unseal(&mut self, blob: &[u8], _: &str) -> Result<Key, Error> {
        let mut key = Key::from_slice(blob)?;
        key.as_mut_bytes()[0] ^= 1;
        Ok(key)
    }
}

#[test]
fn a_blob_that_unseals_to_another_key_is_never_committed() {
    let mut store = open(nor());
    let err = boot(&mut Liar { fail_seal: false }, &mut store).unwrap_err();
    assert_eq!(err, FlowError::ProofFailed);
    assert_eq!(store.read("tee").unwrap(), None);
    assert_eq!(store.status().unwrap()[0], SlotState::Uncommitted);
    let err = boot(&mut Liar { fail_seal: true }, &mut store).unwrap_err();
    assert_eq!(err, FlowError::Source(Error::Hardware(7)));
}

#[test]
fn reseal_same_key_and_rotation_keep_the_old_blob_until_the_new_one_is_proven() {
    let mut store = open(nor());
    let (key, _) = boot(&mut tee(1), &mut store).unwrap();

    let (same, path) = reseal_by(&mut tee(50), &mut store, Reseal::SameKey).unwrap();
    assert_eq!((path, &same), (Path::Resealed, &key));
    assert_eq!(store.read("tee").unwrap().unwrap().seq, 2);

    let (new, path) = reseal_by(&mut tee(90), &mut store, Reseal::NewKey).unwrap();
    assert_eq!(path, Path::Rotated);
    assert_ne!(new, key);
    let (booted, path) = boot(&mut tee(7), &mut store).unwrap();
    assert_eq!((path, &booted), (Path::Unsealed, &new));

    // A rotation whose proof fails leaves the current blob current.
    let err = reseal_by(&mut Liar { fail_seal: false }, &mut store, Reseal::NewKey).unwrap_err();
    assert_eq!(err, FlowError::ProofFailed);
    assert_eq!(store.status().unwrap()[1], SlotState::Uncommitted);
    let (booted, path) = boot(&mut tee(8), &mut store).unwrap();
    assert_eq!((path, booted), (Path::Unsealed, new));
    assert_eq!(store.read("tee").unwrap().unwrap().seq, 3);
}

#[test]
fn reseal_on_an_empty_store_says_so() {
    let mut store = open(nor());
    let err = reseal_by(&mut tee(1), &mut store, Reseal::SameKey).unwrap_err();
    assert_eq!(err, FlowError::NothingStored);
    assert_eq!(err.to_string(), "reseal: the key store holds no blob");
}

#[test]
fn a_flash_fault_during_reseal_keeps_the_old_key() {
    let mut store = open(nor());
    let (key, _) = boot(&mut tee(1), &mut store).unwrap();
    store.flash_mut().inject(NorFault::WriteFails);
    let err = reseal_by(&mut tee(2), &mut store, Reseal::NewKey).unwrap_err();
    assert_eq!(
        err,
        FlowError::Store(StoreError::Flash(NorFlashErrorKind::Other))
    );
    store.flash_mut().clear_faults();
    let (again, path) = boot(&mut tee(3), &mut store).unwrap();
    assert_eq!((path, again), (Path::Unsealed, key));
}

#[test]
fn for_source_follows_trusted_rng_default() {
    assert_eq!(FlowOptions::for_source(&tee(1)).rng, RngChoice::Source);
    assert_eq!(
        FlowOptions::for_source(&Liar { fail_seal: false })
            .options("x")
            .options,
        "x"
    );
}

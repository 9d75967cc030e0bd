//! The key store's slot parsing (`trusted_core::store`): the fuzz input is
//! the flash contents (both slots: commit marks, headers, blobs, CRCs),
//! for three flash geometries. `status` and `read` must never panic; what
//! `read` returns must be a blob of a valid length from a slot that
//! `status` calls valid; a write over any contents that succeeds must read
//! back, and the other slot's committed blob must survive it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trusted_core::MAX_BLOB_SIZE;
use trusted_core::embedded_storage::nor_flash::NorFlash;
use trusted_core::store::{BlobStore, SlotState, StoreLayout};
use trusted_core::test_util::RamNor;

fn run<F: NorFlash>(
    mut flash: F,
    image: &[u8],
    source: &str,
    write: &[u8],
    bytes: impl Fn(&mut F) -> &mut [u8],
) {
    let dst = bytes(&mut flash);
    let n = image.len().min(dst.len());
    dst[..n].copy_from_slice(&image[..n]);
    let layout = StoreLayout::compact::<F>(0);
    let mut store = BlobStore::new(flash, layout).expect("a valid layout");
    let states = store.status();
    let read = store.read(source);
    if let Ok(Some(stored)) = &read {
        assert!((1..=MAX_BLOB_SIZE).contains(&stored.blob.len()));
        let states = states.expect("read worked, so status did");
        let slot = stored.slot as usize;
        assert!(
            matches!(states[slot], SlotState::Valid(info) if info.seq == stored.seq),
            "read a blob from a slot status does not call valid"
        );
    }
    if write.is_empty() {
        return;
    }
    if let Ok(seq) = store.write(source, write) {
        let back = store
            .read(source)
            .expect("a committed write reads")
            .expect("present");
        assert_eq!(back.blob.as_bytes(), write);
        assert_eq!(back.seq, seq);
        if let Ok(Some(old)) = read {
            // The slot that was current is the one the write did not touch.
            assert_ne!(old.slot, back.slot);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [flags, write_len, rest @ ..] = data else {
        return;
    };
    let (write, image) = rest.split_at(usize::from(*write_len).min(rest.len()));
    let source = ["tee", "tpm", "caam", "dcp"][usize::from((flags >> 2) & 3)];
    match flags & 3 {
        0 => run(RamNor::<1, 1, 1024>::new(2048), image, source, write, |f| {
            f.bytes_mut()
        }),
        1 => run(RamNor::<1, 8, 1024>::new(2048), image, source, write, |f| {
            f.bytes_mut()
        }),
        _ => run(
            RamNor::<4, 32, 1024>::new(2048),
            image,
            source,
            write,
            |f| f.bytes_mut(),
        ),
    }
});

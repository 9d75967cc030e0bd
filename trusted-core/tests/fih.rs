//! The fault-injection-hardened decisions: the encoding survives bit flips,
//! comparisons decide twice, and an AEAD open whose own tag check is
//! skipped (a glitch) is still refused by the re-check.

use aes_gcm::aead::array::typenum::U16;
use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::aead::{AeadCore, AeadInOut, KeyInit, Nonce, Tag, TagPosition};
use aes_gcm::{AesGcm, aes::Aes256};
use subtle::Choice;
use trusted_core::Error;
use trusted_core::fih::{self, ReadFlip, ReadGlitch, Verdict, check_twice};

#[test]
fn no_flip_of_one_or_two_bits_turns_a_refusal_into_success() {
    let mut tried = 0;
    for a in 0..64 {
        let once = Verdict::FAILURE.with_bit_flipped(a);
        assert!(!once.is_success(), "bit {a}");
        assert!(!bool::from(once.choice()), "bit {a}");
        tried += 1;
        for b in a + 1..64 {
            assert!(!once.with_bit_flipped(b).is_success(), "bits {a}, {b}");
            tried += 1;
        }
    }
    assert_eq!(tried, 64 + 64 * 63 / 2);
    // A corrupted success is a refusal too, never a different success.
    for bit in 0..64 {
        assert!(!Verdict::SUCCESS.with_bit_flipped(bit).is_success());
    }
}

#[test]
fn verdicts_combine_as_their_names_say() {
    let (s, f) = (Verdict::SUCCESS, Verdict::FAILURE);
    assert!(s.is_success() && !f.is_success());
    assert!(!Verdict::default().is_success());
    assert!(s.and(s).is_success());
    assert!(!s.and(f).is_success() && !f.and(s).is_success() && !f.and(f).is_success());
    assert!(s.or(f).is_success() && f.or(s).is_success() && !f.or(f).is_success());
    assert!(Verdict::from_choice(Choice::from(1)).is_success());
    assert!(!Verdict::from_choice(Choice::from(0)).is_success());
    assert_eq!(s.ok_or("no"), Ok(()));
    assert_eq!(f.ok_or("no"), Err("no"));
    // A flipped operand of `and` is a refusal.
    assert!(!s.and(s.with_bit_flipped(40)).is_success());
    assert_eq!(format!("{s:?} {f:?}"), "Verdict(success) Verdict(refused)");
}

#[test]
fn comparisons_decide_equality_and_difference() {
    assert!(fih::ct_eq(b"abc", b"abc").is_success());
    assert!(!fih::ct_eq(b"abc", b"abd").is_success());
    assert!(!fih::ct_eq(b"abc", b"ab").is_success());
    assert!(fih::ct_ne(b"abc", b"abd").is_success());
    assert!(fih::ct_ne(b"abc", b"ab").is_success());
    assert!(!fih::ct_ne(b"abc", b"abc").is_success());
    assert!(fih::ct_eq(b"", b"").is_success());
    // Every single-bit difference is seen.
    let base = [0x5au8; 16];
    for bit in 0..128 {
        let mut other = base;
        other[bit / 8] ^= 1 << (bit % 8);
        assert!(fih::ct_ne(&base, &other).is_success(), "bit {bit}");
        assert!(!fih::ct_eq(&base, &other).is_success(), "bit {bit}");
    }
}

#[test]
fn check_twice_needs_both_runs_to_succeed() {
    for (first, second, ok) in [
        (true, true, true),
        (true, false, false),
        (false, true, false),
    ] {
        let mut runs = [first, second].into_iter();
        let mut calls = 0;
        let v = check_twice(|| {
            calls += 1;
            Verdict::from_choice(Choice::from(u8::from(runs.next().unwrap_or(false))))
        });
        assert_eq!((v.is_success(), calls), (ok, 2));
    }
}

#[test]
fn read_flip_fires_once_on_the_chosen_read() {
    let mut flip = ReadFlip::default();
    flip.arm(ReadGlitch {
        offset: None,
        nth: 2,
        bit: 31,
    });
    assert!(flip.is_armed());
    let seen: Vec<u32> = (0..4).map(|i| flip.apply(i * 4, 1)).collect();
    assert_eq!(seen, [1, 1, 0x8000_0001, 1]);
    assert!(!flip.is_armed());
    flip.arm(ReadGlitch {
        offset: Some(8),
        nth: 0,
        bit: 40,
    }); // no such bit: the read passes unchanged
    assert_eq!(flip.apply(8, 7), 7);
    flip.arm(ReadGlitch {
        offset: None,
        nth: 0,
        bit: 0,
    });
    flip.disarm();
    assert_eq!(flip.apply(0, 6), 6);
    assert_eq!(flip.reads(), 6);
}

type Gcm = AesGcm<Aes256, U16>;

/// AES-256-GCM whose decryption skips the tag comparison: what a glitch on
/// the AEAD's own check does.
struct SkippedTagCheck(Gcm);

impl AeadCore for SkippedTagCheck {
    type NonceSize = U16;
    type TagSize = U16;
    const TAG_POSITION: TagPosition = TagPosition::Postfix;
}

impl AeadInOut for SkippedTagCheck {
    fn encrypt_inout_detached(
        &self,
        nonce: &Nonce<Self>,
        aad: &[u8],
        buffer: InOutBuf<'_, '_, u8>,
    ) -> aes_gcm::aead::Result<Tag<Self>> {
        self.0.encrypt_inout_detached(nonce, aad, buffer)
    }

    fn decrypt_inout_detached(
        &self,
        nonce: &Nonce<Self>,
        aad: &[u8],
        buffer: InOutBuf<'_, '_, u8>,
        _tag: &Tag<Self>,
    ) -> aes_gcm::aead::Result<()> {
        // GCM's keystream is the same both ways: "decrypt" without a check.
        self.0
            .encrypt_inout_detached(nonce, aad, buffer)
            .map(|_| ())
    }
}

#[test]
fn a_skipped_tag_check_is_caught_by_the_recheck() {
    let gcm = Gcm::new_from_slice(&[7; 32]).unwrap();
    let nonce = Nonce::<Gcm>::from([3; 16]);
    let key = [0x42u8; 32];
    let mut ct = key;
    let tag = gcm
        .encrypt_inout_detached(&nonce, &[], (&mut ct[..]).into())
        .unwrap();
    let mut out = [0u8; 32];
    fih::aead_open_checked(&gcm, &nonce, &ct, &tag, &mut out).unwrap();
    assert_eq!(out, key);

    let glitched = SkippedTagCheck(gcm);
    let mut refused = 0;
    for bit in 0..(16 + 32) * 8 {
        let (mut ct2, mut tag2) = (ct, tag);
        if bit < 128 {
            tag2[bit / 8] ^= 1 << (bit % 8);
        } else {
            ct2[(bit - 128) / 8] ^= 1 << (bit % 8);
        }
        let mut out = [0xEEu8; 32];
        let n2 = Nonce::<SkippedTagCheck>::from([3; 16]);
        let t2 = Tag::<SkippedTagCheck>::from(<[u8; 16]>::from(tag2));
        let r = fih::aead_open_checked(&glitched, &n2, &ct2, &t2, &mut out);
        assert_eq!(r, Err(Error::AuthFailed), "bit {bit}");
        assert_eq!(out, [0; 32], "bit {bit}: plaintext left behind");
        refused += 1;
    }
    assert_eq!(refused, 384);
    // Lengths that do not fit are refused before anything is decrypted.
    let mut short = [0u8; 31];
    assert_eq!(
        fih::aead_open_checked(
            &glitched,
            &Nonce::<SkippedTagCheck>::from([3; 16]),
            &ct,
            &Tag::<SkippedTagCheck>::from(<[u8; 16]>::from(tag)),
            &mut short
        ),
        Err(Error::BufferTooSmall)
    );
}

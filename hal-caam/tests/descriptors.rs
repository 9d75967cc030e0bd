//! The descriptors the driver builds, word for word against the ones Linux,
//! U-Boot and OP-TEE build (research linux-formats.md §3.3, §6.4, §7;
//! hw-registers.md §1.6, §1.7), both from the builder and as the sim
//! fetched them from DMA during a real job.

mod common;

use common::*;
use hal_caam::desc::{self, BlobDirection, KeyModifier, LengthForm, PointerSize, StateHandle};
use hal_caam::{KeyMod, LINUX_KEYMOD, jr::layout};
use trusted_core::TrustSource;

/// Memory-order bytes of the key modifier as little-endian descriptor words.
fn le_words(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks(4)
        .map(|c| {
            let mut w = [0u8; 4];
            w.iter_mut().zip(c).for_each(|(w, b)| *w = *b);
            u32::from_le_bytes(w)
        })
        .collect()
}

/// Linux `caam_process_blob` with `trusted_caam`'s key modifier, 32-bit DMA:
/// init_job_desc, append_key_as_imm(KEYMOD, 10, 10, CLASS_2 | KEY_DEST_CLASS_REG),
/// append_seq_in_ptr_intlen, append_seq_out_ptr_intlen, append_operation.
fn linux_blob_words(encap: bool, input: u32, in_len: u32, output: u32, out_len: u32) -> Vec<u32> {
    let mut w = vec![0xB080_000A, 0x0480_000A];
    w.extend(le_words(b"SECURE_KEY"));
    w.extend([
        0xF000_0000 | in_len,
        input,
        0xF800_0000 | out_len,
        output,
        if encap { 0x870D_0000 } else { 0x860D_0000 },
    ]);
    w
}

#[test]
fn linux_encap_descriptor_is_word_for_word_linux() {
    let d = desc::blob(
        BlobDirection::Encapsulate,
        KeyModifier::Immediate(LINUX_KEYMOD),
        0x1234_5600,
        32,
        0x1234_7800,
        80,
        LengthForm::Internal,
        PointerSize::Bits32,
    )
    .unwrap();
    assert_eq!(
        d.words(),
        linux_blob_words(true, 0x1234_5600, 32, 0x1234_7800, 80).as_slice()
    );
    // The key modifier bytes sit in memory as Linux's memcpy leaves them,
    // zero-padded to 12 bytes (the descriptor is zero-allocated).
    let mut bytes = [0u8; 256];
    let n = d.write_le(&mut bytes).unwrap();
    assert_eq!(n, 40);
    assert_eq!(&bytes[8..20], b"SECURE_KEY\0\0");
}

#[test]
fn linux_decap_descriptor_is_word_for_word_linux() {
    let d = desc::blob(
        BlobDirection::Decapsulate,
        KeyModifier::Immediate(LINUX_KEYMOD),
        0x4000,
        176,
        0x5000,
        128,
        LengthForm::Internal,
        PointerSize::Bits32,
    )
    .unwrap();
    assert_eq!(
        d.words(),
        linux_blob_words(false, 0x4000, 176, 0x5000, 128).as_slice()
    );
}

#[test]
fn driver_seal_and_unseal_emit_the_linux_descriptor() {
    let (mut source, _bus) = secure_source();
    let key = key(32, 1);
    let blob = source.seal(&key, "").unwrap();
    let input = (BUS + layout::INPUT as u64) as u32;
    let output = (BUS + layout::OUTPUT as u64) as u32;
    assert_eq!(
        source.driver_mut().regs().last_descriptor(),
        linux_blob_words(true, input, 32, output, 80).as_slice()
    );
    source.unseal(blob.as_bytes(), "").unwrap();
    assert_eq!(
        source.driver_mut().regs().last_descriptor(),
        linux_blob_words(false, input, 80, output, 32).as_slice()
    );
}

/// U-Boot `inline_cnstr_jobdesc_blob_encap` for a 64-byte payload, as in the
/// 2017 list post: `b080000a 04000010 <km> f0400000 <src> 00000040
/// f8400000 <dst> 00000070 870d0000`.
fn uboot_words(encap: bool, km: u32, src: u32, src_len: u32, dst: u32, dst_len: u32) -> Vec<u32> {
    vec![
        0xB080_000A,
        0x0400_0010,
        km,
        0xF040_0000,
        src,
        src_len,
        0xF840_0000,
        dst,
        dst_len,
        if encap { 0x870D_0000 } else { 0x860D_0000 },
    ]
}

#[test]
fn uboot_by_reference_descriptor_matches_uboot() {
    let d = desc::blob(
        BlobDirection::Encapsulate,
        KeyModifier::Pointer {
            address: 0x9000,
            len: 16,
        },
        0xA000,
        0x40,
        0xB000,
        0x70,
        LengthForm::Extended,
        PointerSize::Bits32,
    )
    .unwrap();
    assert_eq!(
        d.words(),
        uboot_words(true, 0x9000, 0xA000, 0x40, 0xB000, 0x70).as_slice()
    );
}

#[test]
fn driver_uboot_style_emits_the_uboot_descriptor_and_round_trips() {
    let (mut caam, bus) = secure_caam();
    caam.init().unwrap();
    caam.rng_instantiate().unwrap();
    let km = *b"0123456789abcdef";
    let data = [0x5au8; 64];
    let mut blob = [0u8; 112];
    assert_eq!(
        caam.encapsulate(KeyMod::ByReference(&km), &data, &mut blob)
            .unwrap(),
        112
    );
    let at = |off: usize| (BUS + off as u64) as u32;
    assert_eq!(
        caam.regs().last_descriptor(),
        uboot_words(
            true,
            at(layout::KEYMOD),
            at(layout::INPUT),
            64,
            at(layout::OUTPUT),
            112
        )
        .as_slice()
    );
    let mut back = [0u8; 64];
    assert_eq!(
        caam.decapsulate(KeyMod::ByReference(&km), &blob, &mut back)
            .unwrap(),
        64
    );
    assert_eq!(back, data);
    assert_eq!(
        caam.regs().last_descriptor(),
        uboot_words(
            false,
            at(layout::KEYMOD),
            at(layout::INPUT),
            112,
            at(layout::OUTPUT),
            64
        )
        .as_slice()
    );
    assert_dma_zeroed(&bus);
}

#[test]
fn sixty_four_bit_pointers_put_the_low_word_first() {
    let d = desc::blob(
        BlobDirection::Encapsulate,
        KeyModifier::Immediate(LINUX_KEYMOD),
        0x1_2345_6780,
        32,
        0x2_0000_0040,
        80,
        LengthForm::Internal,
        PointerSize::Bits64,
    )
    .unwrap();
    let mut expected = vec![0xB080_000C, 0x0480_000A];
    expected.extend(le_words(b"SECURE_KEY"));
    expected.extend([
        0xF000_0020,
        0x2345_6780,
        0x1,
        0xF800_0050,
        0x0000_0040,
        0x2,
        0x870D_0000,
    ]);
    assert_eq!(d.words(), expected.as_slice());
}

#[test]
fn thirty_two_bit_mode_rejects_high_addresses() {
    let r = desc::master_key_verification_blob(0x1_0000_0000, PointerSize::Bits32);
    assert_eq!(r, Err(desc::DescError::AddressRange));
}

#[test]
fn oversized_key_modifier_is_rejected() {
    let r = desc::blob(
        BlobDirection::Encapsulate,
        KeyModifier::Immediate(&[0; 17]),
        0,
        32,
        0,
        80,
        LengthForm::Internal,
        PointerSize::Bits32,
    );
    assert_eq!(r, Err(desc::DescError::LengthRange));
}

#[test]
fn mkvb_descriptor_matches_optee() {
    let d = desc::master_key_verification_blob(0x8000_0100, PointerSize::Bits32).unwrap();
    assert_eq!(
        d.words(),
        &[0xB080_0004, 0xF800_0020, 0x8000_0100, 0x870D_0002]
    );
}

#[test]
fn rng_instantiation_descriptor_matches_optee() {
    let d = desc::rng_instantiate(&StateHandle::ALL, true, PointerSize::Bits32).unwrap();
    assert_eq!(
        d.words(),
        &[
            0xB080_000A,
            0x8250_0006,
            0xA200_0001,
            0x1088_0004,
            0x0000_0001,
            0x8250_0016,
            0xA200_0001,
            0x1088_0004,
            0x0000_0001,
            0x8250_1000,
        ]
    );
}

#[test]
fn rng_generate_descriptor_matches_optee() {
    let d = desc::rng_generate(0x8000_0200, 32, false, PointerSize::Bits32).unwrap();
    assert_eq!(
        d.words(),
        &[0xB080_0004, 0x8250_0000, 0x6034_0020, 0x8000_0200]
    );
}

/// The figures the closing note asks for (`cargo test -- --nocapture`).
#[test]
fn descriptor_words_per_operation() {
    let p32 = PointerSize::Bits32;
    let p64 = PointerSize::Bits64;
    let linux = |p| {
        desc::blob(
            BlobDirection::Encapsulate,
            KeyModifier::Immediate(LINUX_KEYMOD),
            0,
            32,
            0,
            80,
            LengthForm::Internal,
            p,
        )
        .unwrap()
        .len()
    };
    let uboot = |p| {
        desc::blob(
            BlobDirection::Encapsulate,
            KeyModifier::Pointer {
                address: 0,
                len: 16,
            },
            0,
            32,
            0,
            80,
            LengthForm::Extended,
            p,
        )
        .unwrap()
        .len()
    };
    let mkvb = |p| desc::master_key_verification_blob(0, p).unwrap().len();
    let inst = |p| {
        desc::rng_instantiate(&StateHandle::ALL, true, p)
            .unwrap()
            .len()
    };
    let rng = |p| desc::rng_generate(0, 32, false, p).unwrap().len();
    assert_eq!((linux(p32), linux(p64)), (10, 12));
    assert_eq!((uboot(p32), uboot(p64)), (10, 13));
    assert_eq!((mkvb(p32), mkvb(p64)), (4, 5));
    assert_eq!((inst(p32), inst(p64)), (10, 10));
    assert_eq!((rng(p32), rng(p64)), (4, 5));
    println!("words (32-bit / 64-bit pointers):");
    println!(
        "  blob encap/decap, Linux  : {} / {}",
        linux(p32),
        linux(p64)
    );
    println!(
        "  blob encap/decap, U-Boot : {} / {}",
        uboot(p32),
        uboot(p64)
    );
    println!("  MKVB                     : {} / {}", mkvb(p32), mkvb(p64));
    println!(
        "  RNG instantiate SH0+SH1+SK: {} / {}",
        inst(p32),
        inst(p64)
    );
    println!("  RNG generate             : {} / {}", rng(p32), rng(p64));
}

/// One public append that fails keeps what it appended before the error
/// (and the header says so), and its error does not stick: the next
/// append works. The driver's jobs check once per descriptor, but the
/// public builder still checks every command.
#[test]
fn a_failed_append_does_not_poison_the_next() {
    use hal_caam::desc::{Class, Descriptor, Operation};
    let mut d = Descriptor::job(PointerSize::Bits32);
    let r = d.seq_in_ptr(0x1_0000_0000, 32, LengthForm::Internal);
    assert_eq!(r.err(), Some(desc::DescError::AddressRange));
    assert_eq!(d.words(), &[0xB080_0002, 0xF000_0020]);
    let r = d.seq_out_ptr(0x10, 0x1_0000, LengthForm::Internal);
    assert_eq!(r.err(), Some(desc::DescError::LengthRange));
    assert_eq!(d.len(), 2, "a length error appends nothing");
    d.operation(Operation::Blob {
        direction: BlobDirection::Encapsulate,
        format: desc::BlobFormat::Normal,
    })
    .unwrap();
    assert_eq!(d.words(), &[0xB080_0003, 0xF000_0020, 0x870D_0000]);

    // Past 64 words: the words that fit stay, every later append fails.
    let mut d = Descriptor::job(PointerSize::Bits32);
    let r = d.key_immediate(Class::Class2, &[0xA5; 300]);
    assert_eq!(r.err(), Some(desc::DescError::TooLong));
    assert_eq!(d.len(), 64);
    assert_eq!(d.words()[0] & 0x7F, 64);
    assert_eq!(
        d.jump_wait_done(Class::Class1).err(),
        Some(desc::DescError::TooLong)
    );
    assert_eq!(d.len(), 64);
}

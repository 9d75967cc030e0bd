//! trustctl glue for the STM32MP1 family: the STM32MP15 OTP HUK on the
//! simulated BSEC (`--source stm32mp1-sim`, `--huk-from stm32mp1-sim`), the
//! offline provisioning image (`trustctl stm32mp1 provision-image --huk
//! HEX`), and the STM32MP13/MP2x SAES DHUK KDF on the simulated SAES
//! (`--huk-from stm32mp13-sim|stm32mp25-sim|stm32mp21-sim --dhuk HEX`).

use std::fmt::Write;

use hal_stm32mp1_otp::sim::{BsecSim, SaesSim};
use hal_stm32mp1_otp::{
    Bsec, HukConfig, HukMode, SaesKdf, SaesTee, SizeT, Stm32Saes, Stm32mp15Huk, Stm32mp15Tee,
    huk_words_image, regs,
};
use trusted_core::tee::TeeSealer;
/// The sim needs no real time: BUSY clears after a few status reads.
use trusted_core::test_util::NoDelay;
use trusted_core::zeroize::Zeroize;
use trusted_core::{Huk, HukBytes, Key, SealedBlob, TrustSource};

use crate::host::{HostRng, SecretArg, SecretText, parse_huk, parse_secret_hex};

/// Which OP-TEE STM32MP15 HUK derivation to reproduce.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HukModeArg {
    /// `CFG_STM32MP15_HUK_BSEC_KEY`: the four OTP words as the key.
    #[default]
    Key,
    /// `CFG_STM32MP15_HUK_BSEC_DERIVE_UID`: AES-128-GCM of the UID under them.
    DeriveUid,
}

/// Flags of the simulated STM32MP15 OTP.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct Stm32mp1Args {
    /// Fuse words of the simulated device, WORD=HEX[,WORD=HEX...]
    /// (word in decimal or 0x-hex; the HUK is in words 60..63, the UID in 13..15).
    #[arg(long = "otp", value_delimiter = ',', value_name = "WORD=HEX")]
    pub otp: Vec<SecretArg>,
    /// HUK derivation.
    #[arg(long = "huk-mode", value_enum, default_value_t = HukModeArg::Key)]
    pub huk_mode: HukModeArg,
}

/// A word number (decimal, or `0x` hex) or a word value (hex, `0x`
/// optional), exactly: digits of the radix only, no sign, no whitespace,
/// at most 32 bits. The text is never echoed (a value may be a HUK word).
fn parse_u32(text: &str, radix_hint_hex: bool, what: &str) -> Result<u32, String> {
    let (digits, radix) = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(h) => (h, 16),
        None if radix_hint_hex => (text, 16),
        None => (text, 10),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(format!(
            "--otp {what} is not a {} number",
            if radix == 16 { "hex" } else { "decimal" }
        ));
    }
    u32::from_str_radix(digits, radix).map_err(|_| format!("--otp {what} does not fit 32 bits"))
}

/// Fuse words as (word, value) pairs, wiped on drop (the values are fuse
/// words, the HUK among them).
#[derive(Default)]
pub struct OtpWords(Vec<(u8, u32)>);

impl Drop for OtpWords {
    fn drop(&mut self) {
        self.0.iter_mut().for_each(Zeroize::zeroize);
    }
}

impl std::ops::Deref for OtpWords {
    type Target = [(u8, u32)];
    fn deref(&self) -> &[(u8, u32)] {
        &self.0
    }
}

/// Parses `--otp` entries into (word, value) pairs, in a buffer wiped on
/// drop. Every entry must be exactly `WORD=HEX`; an empty entry is an
/// error, not skipped.
pub fn parse_otp(entries: &[SecretArg]) -> Result<OtpWords, String> {
    // Sized once: pushing never reallocates (which would leave a copy).
    let mut out = OtpWords(Vec::with_capacity(entries.len()));
    for entry in entries {
        let (w, v) = entry
            .as_str()
            .split_once('=')
            .ok_or("--otp entries must be WORD=HEX")?;
        let word = parse_u32(w, false, "word")?;
        let word = u8::try_from(word)
            .ok()
            .filter(|&w| usize::from(w) < regs::OTP_WORDS)
            .ok_or_else(|| format!("OTP word {word} does not exist (0..=95)"))?;
        out.0.push((word, parse_u32(v, true, "value")?));
    }
    Ok(out)
}

fn sim(args: &Stm32mp1Args) -> Result<BsecSim, String> {
    Ok(BsecSim::with_fuses(&parse_otp(&args.otp)?))
}

fn config(args: &Stm32mp1Args) -> HukConfig {
    HukConfig {
        mode: match args.huk_mode {
            HukModeArg::Key => HukMode::BsecKey,
            HukModeArg::DeriveUid => HukMode::DeriveUid,
        },
        ..HukConfig::default()
    }
}

/// The TEE sealer over the HUK of a freshly reset simulated device.
pub fn tee_source(
    args: &Stm32mp1Args,
) -> Result<Stm32mp15Tee<Bsec<BsecSim, NoDelay>, HostRng>, String> {
    let huk = Stm32mp15Huk::new(Bsec::new(sim(args)?, NoDelay), config(args))
        .map_err(|e| e.to_string())?;
    Ok(TeeSealer::new(huk, HostRng))
}

fn with_sealer<T>(
    args: &Stm32mp1Args,
    f: impl FnOnce(&mut Stm32mp15Tee<Bsec<BsecSim, NoDelay>, HostRng>) -> Result<T, String>,
) -> Result<T, String> {
    f(&mut tee_source(args)?)
}

/// `trustctl huk --source stm32mp1-sim --otp ... [--huk-mode ...]`.
pub fn huk(args: &Stm32mp1Args) -> Result<HukBytes, String> {
    let mut sim = sim(args)?;
    let mut huk =
        Stm32mp15Huk::new(Bsec::new(&mut sim, NoDelay), config(args)).map_err(|e| e.to_string())?;
    huk.hardware_unique_key().map_err(|e| e.to_string())
}

/// `trustctl seal --source tee --huk-from stm32mp1-sim --otp ...`.
pub fn seal(args: &Stm32mp1Args, key: &Key) -> Result<SealedBlob, String> {
    with_sealer(args, |tee| tee.seal(key, "").map_err(|e| e.to_string()))
}

/// `trustctl unseal --source tee --huk-from stm32mp1-sim --otp ...`.
pub fn unseal(args: &Stm32mp1Args, blob: &[u8]) -> Result<Key, String> {
    with_sealer(args, |tee| tee.unseal(blob, "").map_err(|e| e.to_string()))
}

/// Which SAES part a simulated device is: its register block and the word
/// size of its OP-TEE core (the KDF input differs with `size_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaesPart {
    /// STM32MP13: MP13 block, arm32 OP-TEE (4-byte `size_t`).
    Mp13,
    /// STM32MP23/MP25: MP13 block, arm64 OP-TEE (8-byte `size_t`).
    Mp25,
    /// STM32MP21: MP21 block, arm64 OP-TEE (8-byte `size_t`).
    Mp21,
}

/// Flags of the simulated SAES.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct SaesArgs {
    /// DHUK of the simulated STM32MP13/MP2x SAES, 32 hex digits (on a real
    /// part it never leaves the SAES).
    #[arg(long, value_name = "HEX")]
    pub dhuk: Option<SecretArg>,
}

/// The driver and KDF of a freshly reset simulated SAES.
fn saes_kdf(args: &SaesArgs, part: SaesPart) -> Result<SaesKdf<SaesSim, NoDelay>, String> {
    let dhuk = args
        .dhuk
        .as_ref()
        .ok_or("the simulated SAES needs --dhuk HEX (its DHUK, 32 hex digits)")?;
    let dhuk = parse_secret_hex::<16>(dhuk.as_str(), "--dhuk")?;
    let (layout, size_t) = match part {
        SaesPart::Mp13 => (regs::saes::MP13, SizeT::Bytes4),
        SaesPart::Mp25 => (regs::saes::MP25, SizeT::Bytes8),
        SaesPart::Mp21 => (regs::saes::MP21, SizeT::Bytes8),
    };
    #[allow(
        clippy::needless_borrows_for_generic_args,
        reason = "by reference, so no copy of the DHUK is left behind"
    )]
    let sim = SaesSim::new(&*dhuk).with_layout(layout);
    Ok(SaesKdf::new(Stm32Saes::new(sim, NoDelay, layout), size_t))
}

/// The TEE sealer over the SAES DHUK KDF of a simulated device.
pub fn saes_tee(
    args: &SaesArgs,
    part: SaesPart,
) -> Result<SaesTee<SaesSim, NoDelay, HostRng>, String> {
    Ok(TeeSealer::new(saes_kdf(args, part)?, HostRng))
}

/// `trustctl seal --source tee --huk-from stm32mp13-sim --dhuk HEX`.
pub fn saes_seal(args: &SaesArgs, part: SaesPart, key: &Key) -> Result<SealedBlob, String> {
    saes_tee(args, part)?
        .seal(key, "")
        .map_err(|e| format!("seal failed: {e}"))
}

/// `trustctl unseal --source tee --huk-from stm32mp13-sim --dhuk HEX`.
pub fn saes_unseal(args: &SaesArgs, part: SaesPart, blob: &[u8]) -> Result<Key, String> {
    saes_tee(args, part)?
        .unseal(blob, "")
        .map_err(|e| format!("unseal failed: {e}"))
}

/// `trustctl huk --source stm32mp13-sim`: there is no HUK to print.
pub fn saes_huk() -> Result<HukBytes, String> {
    Err(
        "the STM32MP13/MP2x have no exportable HUK: OP-TEE derives its subkeys inside the \
         SAES from the DHUK, which never leaves it; use seal/unseal with --huk-from"
            .into(),
    )
}

/// `trustctl stm32mp1 provision-image --huk HEX`: the word/value list an
/// integrator burns (OP-TEE BSEC_KEY layout, words 60..63), as text wiped
/// on drop (it is the HUK).
pub fn provision_image(huk_hex: &str) -> Result<SecretText, String> {
    let huk = parse_huk(huk_hex)?;
    if *huk == [0u8; 16] {
        return Err("an all-zero HUK is not a key".into());
    }
    let image = huk_words_image(&huk, regs::HUK_OTP_DEFAULT);
    // Sized once: appending never reallocates (which would leave a copy).
    let mut out = SecretText::with_capacity(1024);
    out.push_str(
        "# STM32MP15 HUK for OP-TEE (CFG_STM32MP15_HUK=y, BSEC_KEY layout, DT huk-otp@f0)\n",
    );
    out.push_str("# Upper OTP words: ECC protected, each programmed ONCE with its full value.\n");
    out.push_str("# Burning and permanent locking are irreversible.\n");
    for (word, value) in image.iter() {
        let _ = writeln!(out, "word {word} = 0x{value:08x}");
    }
    let _ = write!(
        out,
        "# U-Boot (secure context): fuse prog -y 0 {}",
        image.first().map(|(w, _)| *w).unwrap_or(60),
    );
    for (_, value) in image.iter() {
        let _ = write!(out, " 0x{value:08x}");
    }
    out.push_str("\n");
    out.push_str(
        "# then permanently lock words 60..63 (hal-stm32mp1-otp provision_huk does both, with read-back)\n",
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(otp: &str, mode: HukModeArg) -> Stm32mp1Args {
        Stm32mp1Args {
            otp: otp.split(',').map(SecretArg::new).collect(),
            huk_mode: mode,
        }
    }

    #[test]
    fn huk_from_otp_words_in_both_modes() {
        // tests/vectors/huk_vectors.txt [board] in hal-stm32mp1-otp
        let otp =
            "60=8e3a51c2,61=1f0bd77a,62=c03366e1,63=5a5a9d04,13=0036003d,14=3338510f,15=34373537";
        assert_eq!(
            *huk(&args(otp, HukModeArg::Key)).unwrap(),
            *b"\xc2\x51\x3a\x8e\x7a\xd7\x0b\x1f\xe1\x66\x33\xc0\x04\x9d\x5a\x5a"
        );
        assert_eq!(
            *huk(&args(otp, HukModeArg::DeriveUid)).unwrap(),
            *b"\x9d\x89\xd8\xa9\x0b\x96\xf5\x0e\x16\xf5\xcd\x79\x36\xa7\xff\x71"
        );
    }

    #[test]
    fn seal_unseal_and_static_huk_interop() {
        let a = args("60=1,61=2,62=3,0x3f=0x4", HukModeArg::Key);
        let key = Key::from_slice(&[7u8; 32]).unwrap();
        let blob = seal(&a, &key).unwrap();
        assert_eq!(unseal(&a, blob.as_bytes()).unwrap(), key);
        let mut plain = TeeSealer::new(
            trusted_core::StaticHuk::copy_from(&huk(&a).unwrap()),
            HostRng,
        );
        assert_eq!(plain.unseal(blob.as_bytes(), "").unwrap(), key);
    }

    #[test]
    fn bad_otp_and_blank_huk_are_errors() {
        assert!(huk(&args("96=1", HukModeArg::Key)).is_err());
        assert!(huk(&args("60", HukModeArg::Key)).is_err());
        // Exact: no whitespace, sign or empty entry is skipped or trimmed.
        for bad in [
            " 60=1",
            "60= 1",
            "60=+1",
            "60=",
            "=1",
            "",
            "60=1,",
            "0x=1",
            "60=1ffffffff",
        ] {
            assert!(huk(&args(bad, HukModeArg::Key)).is_err(), "{bad:?}");
        }
        assert!(huk(&Stm32mp1Args::default()).unwrap_err().contains("blank"));
    }

    const PYTHON_DHUK: &str = "2b7e151628aed2a6abf7158809cf4f3c";

    /// hal-stm32mp1-otp tests/vectors/saes_kdf.txt, [tee-32] and [tee-64]:
    /// the Python TA keys of that DHUK.
    const TA_KEY_32: &str = "987d2a315ce704139e604567a434937a415c6b3fbfaf637d3643968a1395e493";
    const TA_KEY_64: &str = "bb99ce204a730fec2c2b103adee79ee1d616c55f619351075f819a091371a643";

    fn saes_args(dhuk: &str) -> SaesArgs {
        SaesArgs {
            dhuk: Some(SecretArg::new(dhuk)),
        }
    }

    #[test]
    fn saes_blobs_open_with_the_python_ta_key_on_every_part() {
        let key = Key::from_slice(&[0x31; 48]).unwrap();
        for (part, ta_key) in [
            (SaesPart::Mp13, TA_KEY_32),
            (SaesPart::Mp25, TA_KEY_64),
            (SaesPart::Mp21, TA_KEY_64),
        ] {
            let args = saes_args(PYTHON_DHUK);
            let blob = saes_seal(&args, part, &key).unwrap();
            assert_eq!(saes_unseal(&args, part, blob.as_bytes()).unwrap(), key);
            let ta_key: [u8; 32] = crate::host::parse_hex_array(ta_key, "ta").unwrap();
            let mut plain =
                TeeSealer::new(trusted_core::StaticSubkey::trusted_keys_ta(ta_key), HostRng);
            assert_eq!(plain.unseal(blob.as_bytes(), "").unwrap(), key, "{part:?}");
        }
    }

    #[test]
    fn saes_flags_are_checked_and_there_is_no_huk_to_print() {
        let key = Key::from_slice(&[1; 32]).unwrap();
        let none = SaesArgs::default();
        assert!(
            saes_seal(&none, SaesPart::Mp13, &key)
                .unwrap_err()
                .contains("--dhuk")
        );
        let short = saes_args("00");
        assert!(
            saes_seal(&short, SaesPart::Mp13, &key)
                .unwrap_err()
                .contains("32 hex")
        );
        let blob = saes_seal(&saes_args(PYTHON_DHUK), SaesPart::Mp13, &key).unwrap();
        let other = saes_args("8f3ad1c05e7729b4c6e10d5aa3927f61");
        assert!(saes_unseal(&other, SaesPart::Mp13, blob.as_bytes()).is_err());
        assert!(saes_unseal(&saes_args(PYTHON_DHUK), SaesPart::Mp25, blob.as_bytes()).is_err());
        assert!(saes_huk().unwrap_err().contains("DHUK"));
    }

    #[test]
    fn provision_image_lists_le_words() {
        let text = provision_image("c2513a8e7ad70b1fe16633c0049d5a5a").unwrap();
        assert!(text.contains("word 60 = 0x8e3a51c2\n"));
        assert!(text.contains("word 63 = 0x5a5a9d04\n"));
        assert!(provision_image("00").is_err());
        assert!(provision_image(" c2513a8e7ad70b1fe16633c0049d5a5a").is_err());
    }
}

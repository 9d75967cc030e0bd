//! trustctl glue for the STM32MP15 OTP HUK: the simulated BSEC
//! (`--source stm32mp1-sim`, `--huk-from stm32mp1-sim`) and the offline
//! provisioning image (`trustctl stm32mp1 provision-image --huk HEX`).

use hal_stm32mp1_otp::sim::BsecSim;
use hal_stm32mp1_otp::{
    Bsec, HukConfig, HukMode, Stm32mp15Huk, Stm32mp15Tee, huk_words_image, regs,
};
/// The sim needs no real time: BUSY clears after a few status reads.
use trusted_core::test_util::NoDelay;
use trusted_core::tee::TeeSealer;
use trusted_core::{Huk, Key, SealedBlob, TrustSource};

use crate::host::{HostRng, parse_huk};

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
    pub otp: Vec<String>,
    /// HUK derivation.
    #[arg(long = "huk-mode", value_enum, default_value_t = HukModeArg::Key)]
    pub huk_mode: HukModeArg,
}


fn parse_u32(text: &str, radix_hint_hex: bool) -> Result<u32, String> {
    let t = text.trim();
    let (digits, radix) = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => (h, 16),
        None if radix_hint_hex => (t, 16),
        None => (t, 10),
    };
    u32::from_str_radix(digits, radix).map_err(|e| format!("bad number {t:?}: {e}"))
}

/// Parses `--otp` entries into (word, value) pairs.
pub fn parse_otp(entries: &[String]) -> Result<Vec<(u8, u32)>, String> {
    entries
        .iter()
        .filter(|e| !e.trim().is_empty())
        .map(|entry| {
            let (w, v) = entry
                .split_once('=')
                .ok_or_else(|| format!("--otp entry {entry:?} is not WORD=HEX"))?;
            let word = parse_u32(w, false)?;
            let word = u8::try_from(word)
                .ok()
                .filter(|&w| usize::from(w) < regs::OTP_WORDS)
                .ok_or_else(|| format!("OTP word {word} does not exist (0..=95)"))?;
            Ok((word, parse_u32(v, true)?))
        })
        .collect()
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
pub fn huk(args: &Stm32mp1Args) -> Result<[u8; 16], String> {
    let mut sim = sim(args)?;
    let mut huk =
        Stm32mp15Huk::new(Bsec::new(&mut sim, NoDelay), config(args)).map_err(|e| e.to_string())?;
    huk.hardware_unique_key()
        .map(|k| *k)
        .map_err(|e| e.to_string())
}

/// `trustctl seal --source tee --huk-from stm32mp1-sim --otp ...`.
pub fn seal(args: &Stm32mp1Args, key: &Key) -> Result<SealedBlob, String> {
    with_sealer(args, |tee| tee.seal(key, "").map_err(|e| e.to_string()))
}

/// `trustctl unseal --source tee --huk-from stm32mp1-sim --otp ...`.
pub fn unseal(args: &Stm32mp1Args, blob: &[u8]) -> Result<Key, String> {
    with_sealer(args, |tee| tee.unseal(blob, "").map_err(|e| e.to_string()))
}

/// `trustctl stm32mp1 provision-image --huk HEX`: the word/value list an
/// integrator burns (OP-TEE BSEC_KEY layout, words 60..63), as text.
pub fn provision_image(huk_hex: &str) -> Result<String, String> {
    let huk = parse_huk(huk_hex.trim())?;
    if huk == [0u8; 16] {
        return Err("an all-zero HUK is not a key".into());
    }
    let image = huk_words_image(&huk, regs::HUK_OTP_DEFAULT);
    let mut out = String::new();
    out.push_str(
        "# STM32MP15 HUK for OP-TEE (CFG_STM32MP15_HUK=y, BSEC_KEY layout, DT huk-otp@f0)\n",
    );
    out.push_str("# Upper OTP words: ECC protected, each programmed ONCE with its full value.\n");
    out.push_str("# Burning and permanent locking are irreversible.\n");
    for (word, value) in image {
        out.push_str(&format!("word {word} = 0x{value:08x}\n"));
    }
    let values: Vec<String> = image.iter().map(|(_, v)| format!("0x{v:08x}")).collect();
    out.push_str(&format!(
        "# U-Boot (secure context): fuse prog -y 0 {} {}\n",
        image.first().map(|(w, _)| *w).unwrap_or(60),
        values.join(" ")
    ));
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
            otp: otp.split(',').map(String::from).collect(),
            huk_mode: mode,
        }
    }

    #[test]
    fn huk_from_otp_words_in_both_modes() {
        // tests/vectors/huk_vectors.txt [board] in hal-stm32mp1-otp
        let otp =
            "60=8e3a51c2,61=1f0bd77a,62=c03366e1,63=5a5a9d04,13=0036003d,14=3338510f,15=34373537";
        assert_eq!(
            huk(&args(otp, HukModeArg::Key)).unwrap(),
            *b"\xc2\x51\x3a\x8e\x7a\xd7\x0b\x1f\xe1\x66\x33\xc0\x04\x9d\x5a\x5a"
        );
        assert_eq!(
            huk(&args(otp, HukModeArg::DeriveUid)).unwrap(),
            *b"\x9d\x89\xd8\xa9\x0b\x96\xf5\x0e\x16\xf5\xcd\x79\x36\xa7\xff\x71"
        );
    }

    #[test]
    fn seal_unseal_and_static_huk_interop() {
        let a = args("60=1,61=2,62=3,0x3f=0x4", HukModeArg::Key);
        let key = Key::from_slice(&[7u8; 32]).unwrap();
        let blob = seal(&a, &key).unwrap();
        assert_eq!(unseal(&a, blob.as_bytes()).unwrap(), key);
        let mut plain = TeeSealer::new(trusted_core::StaticHuk::new(huk(&a).unwrap()), HostRng);
        assert_eq!(plain.unseal(blob.as_bytes(), "").unwrap(), key);
    }

    #[test]
    fn bad_otp_and_blank_huk_are_errors() {
        assert!(huk(&args("96=1", HukModeArg::Key)).is_err());
        assert!(huk(&args("60", HukModeArg::Key)).is_err());
        assert!(huk(&Stm32mp1Args::default()).unwrap_err().contains("blank"));
    }

    #[test]
    fn provision_image_lists_le_words() {
        let text = provision_image("c2513a8e7ad70b1fe16633c0049d5a5a").unwrap();
        assert!(text.contains("word 60 = 0x8e3a51c2\n"));
        assert!(text.contains("word 63 = 0x5a5a9d04\n"));
        assert!(provision_image("00").is_err());
    }
}

//! trustctl glue for the NXP DCP: Linux `trusted_dcp` blobs on the simulated
//! DCP (`--source dcp-sim`), OP-TEE's DCP HUK (`huk --source dcp-sim`) and TEE
//! blobs from it (`--source tee --huk-from dcp-sim`).

use hal_dcp::sim::DcpSim;
use hal_dcp::{Dcp, DcpHuk, DcpSource, SealingKey};
use trusted_core::tee::TeeSealer;
use trusted_core::test_util::{NoDelay, leaked_dma};
use trusted_core::zeroize::Zeroizing;
use trusted_core::{Huk, HukBytes, Key, SealedBlob, StaticDma, TrustSource};

use crate::host::{HostRng, SecretArg, parse_secret_hex};

/// Flags of the simulated DCP.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct DcpArgs {
    /// UNIQUE key (key select 0xFE) of the simulated DCP, 32 hex digits;
    /// default all zero, like an unfused part.
    #[arg(long = "unique-key", value_name = "HEX")]
    pub unique_key: Option<SecretArg>,
    /// OTP key (key select 0xFF) of the simulated DCP, 32 hex digits;
    /// default all zero.
    #[arg(long = "otp-key", value_name = "HEX")]
    pub otp_key: Option<SecretArg>,
    /// Wrap the blob key with the OTP key instead of the UNIQUE key
    /// (Linux `trusted.dcp_use_otp_key=1`).
    #[arg(long = "use-otp-key")]
    pub use_otp_key: bool,
    /// Skip the zero-key self test (Linux `trusted.dcp_skip_zk_test=1`):
    /// allows sealing with, and deriving a HUK from, an all-zero hardware
    /// key. Development only.
    #[arg(long = "skip-zero-key-test")]
    pub skip_zero_key_test: bool,
}

/// The driver type over the simulated DCP.
pub type SimDcp = Dcp<DcpSim, StaticDma, NoDelay>;

/// Bus address the sim sees the DMA region at (any 32-bit value works).
const DMA_BUS: u64 = 0x8800_0000;
const DMA_LEN: usize = 1024;

fn key_arg(value: &Option<SecretArg>, flag: &str) -> Result<Zeroizing<[u8; 16]>, String> {
    match value {
        Some(hex) => parse_secret_hex(hex.as_str(), flag),
        None => Ok(Zeroizing::new([0; 16])),
    }
}

/// A fresh simulated DCP with the keys from `args`, behind the driver.
pub fn sim_dcp(args: &DcpArgs) -> Result<SimDcp, String> {
    let unique = key_arg(&args.unique_key, "--unique-key")?;
    let otp = key_arg(&args.otp_key, "--otp-key")?;
    // One short-lived region per CLI invocation.
    let dma = leaked_dma(DMA_LEN, DMA_BUS);
    #[allow(
        clippy::needless_borrows_for_generic_args,
        reason = "by reference, so no copy of the key is left behind"
    )]
    let sim = DcpSim::new(dma.bus())
        .with_unique_key(&*unique)
        .with_otp_key(&*otp);
    Dcp::new(sim, dma, NoDelay).map_err(|e| format!("dcp-sim: {e}"))
}

/// The simulated DCP for a HUK, after the zero-key self test on its UNIQUE
/// key (the key the HUK derives from), as `seal` runs it: an all-zero key
/// is refused unless `--skip-zero-key-test`.
fn huk_dcp(args: &DcpArgs) -> Result<SimDcp, String> {
    let dcp = sim_dcp(args)?;
    if args.skip_zero_key_test {
        return Ok(dcp);
    }
    let mut probe = DcpSource::new(dcp, HostRng).with_sealing_key(SealingKey::Unique);
    probe
        .init()
        .map_err(|e| format!("dcp-sim: {e}; no HUK derived (--skip-zero-key-test allows it)"))?;
    Ok(probe.into_inner().0)
}

/// The Linux trusted_dcp source on a freshly reset simulated DCP, initialised.
pub fn source(args: &DcpArgs) -> Result<DcpSource<DcpSim, StaticDma, NoDelay, HostRng>, String> {
    let key = if args.use_otp_key {
        SealingKey::Otp
    } else {
        SealingKey::Unique
    };
    let mut src = DcpSource::new(sim_dcp(args)?, HostRng).with_sealing_key(key);
    if args.skip_zero_key_test {
        src = src.allow_insecure();
    }
    src.init().map_err(|e| format!("dcp-sim: {e}"))?;
    Ok(src)
}

/// `trustctl seal --source dcp-sim [--unique-key HEX] [--otp-key HEX] [--use-otp-key]`.
pub fn seal(args: &DcpArgs, key: &Key) -> Result<SealedBlob, String> {
    source(args)?
        .seal(key, "")
        .map_err(|e| format!("dcp-sim: {e}"))
}

/// `trustctl unseal --source dcp-sim ...`.
pub fn unseal(args: &DcpArgs, blob: &[u8]) -> Result<Key, String> {
    source(args)?
        .unseal(blob, "")
        .map_err(|e| format!("dcp-sim: {e}"))
}

/// `trustctl huk --source dcp-sim --unique-key HEX`: OP-TEE's i.MX6ULL HUK.
pub fn huk(args: &DcpArgs) -> Result<HukBytes, String> {
    DcpHuk::new(huk_dcp(args)?)
        .hardware_unique_key()
        .map_err(|e| format!("dcp-sim: {e}"))
}

/// The TEE sealer over the DCP HUK of a freshly reset simulated DCP (whose
/// UNIQUE key passed the zero-key self test, unless skipped).
pub fn tee(
    args: &DcpArgs,
) -> Result<TeeSealer<DcpHuk<DcpSim, StaticDma, NoDelay>, HostRng>, String> {
    Ok(TeeSealer::new(DcpHuk::new(huk_dcp(args)?), HostRng))
}

/// `trustctl seal --source tee --huk-from dcp-sim --unique-key HEX`.
pub fn tee_seal(args: &DcpArgs, key: &Key) -> Result<SealedBlob, String> {
    tee(args)?
        .seal(key, "")
        .map_err(|e| format!("tee (dcp-sim HUK): {e}"))
}

/// `trustctl unseal --source tee --huk-from dcp-sim --unique-key HEX`.
pub fn tee_unseal(args: &DcpArgs, blob: &[u8]) -> Result<Key, String> {
    tee(args)?
        .unseal(blob, "")
        .map_err(|e| format!("tee (dcp-sim HUK): {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(unique: &str) -> DcpArgs {
        DcpArgs {
            unique_key: Some(SecretArg::new(unique)),
            ..DcpArgs::default()
        }
    }

    #[test]
    fn seal_unseal_and_huk_on_the_sim() {
        let a = args("000102030405060708090a0b0c0d0e0f");
        let key = Key::from_slice(&[5; 32]).unwrap();
        let blob = seal(&a, &key).unwrap();
        assert_eq!(blob.len(), 85);
        assert_eq!(unseal(&a, blob.as_bytes()).unwrap(), key);
        let other = args("ff0102030405060708090a0b0c0d0e0f");
        assert!(unseal(&other, blob.as_bytes()).is_err());
        assert_eq!(
            crate::host::hex(huk(&a).unwrap().as_ref()),
            "75a3c29d529c65c0e07d42b0184da7ea"
        );
        let tee_blob = tee_seal(&a, &key).unwrap();
        assert_eq!(tee_unseal(&a, tee_blob.as_bytes()).unwrap(), key);
    }

    #[test]
    fn zero_key_and_bad_hex_give_one_clear_line() {
        let key = Key::from_slice(&[5; 32]).unwrap();
        let e = seal(&DcpArgs::default(), &key).unwrap_err();
        assert!(e.contains("all-zero test key"), "{e}");
        assert!(!e.contains('\n'));
        let e = seal(&args("0011"), &key).unwrap_err();
        assert!(e.contains("--unique-key"), "{e}");
        let skip = DcpArgs {
            skip_zero_key_test: true,
            ..DcpArgs::default()
        };
        assert!(seal(&skip, &key).is_ok());
        // The HUK of the all-zero key is refused the same way, unless told.
        let e = huk(&DcpArgs::default()).unwrap_err();
        assert!(e.contains("all-zero test key") && !e.contains('\n'), "{e}");
        assert!(tee_seal(&DcpArgs::default(), &key).is_err());
        assert_eq!(
            crate::host::hex(huk(&skip).unwrap().as_ref()),
            "11474a5a5c78ef24224da96237ebbd3d"
        );
        // Exact hex: no silent trimming.
        assert!(seal(&args(" 000102030405060708090a0b0c0d0e0f"), &key).is_err());
    }
}

//! trustctl glue for the NXP CAAM: Linux `trusted_caam` blobs on the
//! simulated CAAM (`--source caam-sim`), OP-TEE's MKVB HUK
//! (`huk --source caam-sim`) and TEE blobs from it
//! (`--source tee --huk-from caam-sim`).
//!
//! The simulated CAAM is in secure state (HAB closed) with the given master
//! key as its OTPMK. Sim blobs use the sim's stated blob-key derivation
//! (hal-caam README), so they are not interchangeable with silicon.

use hal_caam::sim::{CaamSim, SimConfig};
use hal_caam::{Caam, CaamHuk, CaamSource, Config, HukOptions};
use trusted_core::tee::TeeSealer;
use trusted_core::test_util::{NoDelay, leaked_dma};
use trusted_core::{Huk, HukBytes, Key, SealedBlob, StaticDma, TrustSource};

use crate::host::{HostRng, SecretArg, parse_secret_hex};

/// Flags of the simulated CAAM.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct CaamArgs {
    /// Master key (OTPMK) of the simulated CAAM, 64 hex digits (32 bytes).
    #[arg(long = "master-key", value_name = "HEX")]
    pub master_key: Option<SecretArg>,
    /// Blob key modifier, at most 16 bytes of text; default `SECURE_KEY`
    /// (Linux trusted_caam).
    #[arg(long = "keymod", value_name = "TEXT")]
    pub keymod: Option<String>,
}

/// The driver type over the simulated CAAM.
pub type SimCaam = Caam<CaamSim, StaticDma, NoDelay>;

/// Bus address the sim sees the DMA region at.
const DMA_BUS: u64 = 0x9000_0000;
const DMA_LEN: usize = 4096;

/// A fresh simulated CAAM in secure state with the master key from `args`,
/// behind an initialised driver.
pub fn sim_caam(args: &CaamArgs) -> Result<SimCaam, String> {
    let hex = args
        .master_key
        .as_ref()
        .ok_or("caam-sim needs --master-key HEX (64 hex digits)")?;
    let otpmk = parse_secret_hex::<32>(hex.as_str(), "--master-key")?;
    // Copied straight into the configuration, which wipes it on drop.
    let mut cfg = SimConfig::secure([0; 32]);
    cfg.otpmk.copy_from_slice(otpmk.as_ref());
    let Ok(()) = rand_core::TryRng::try_fill_bytes(&mut HostRng, &mut cfg.entropy_seed);
    // One short-lived region per CLI invocation.
    let dma = leaked_dma(DMA_LEN, DMA_BUS);
    let sim = CaamSim::new(dma.bus(), cfg);
    let mut caam =
        Caam::new(sim, dma, NoDelay, Config::new(0)).map_err(|e| format!("caam-sim: {e}"))?;
    caam.init().map_err(|e| format!("caam-sim: {e}"))?;
    Ok(caam)
}

/// The Linux trusted_caam source on a freshly reset simulated CAAM, initialised.
pub fn source(args: &CaamArgs) -> Result<CaamSource<CaamSim, StaticDma, NoDelay>, String> {
    let mut src = CaamSource::new(sim_caam(args)?);
    if let Some(text) = &args.keymod {
        src = src
            .with_key_modifier(text.as_bytes())
            .map_err(|e| format!("--keymod: {e}"))?;
    }
    src.init().map_err(|e| format!("caam-sim: {e}"))?;
    Ok(src)
}

/// `trustctl seal --source caam-sim --master-key HEX [--keymod TEXT]`.
pub fn seal(args: &CaamArgs, key: &Key) -> Result<SealedBlob, String> {
    source(args)?
        .seal(key, "")
        .map_err(|e| format!("caam-sim: {e}"))
}

/// `trustctl unseal --source caam-sim --master-key HEX [--keymod TEXT]`.
pub fn unseal(args: &CaamArgs, blob: &[u8]) -> Result<Key, String> {
    source(args)?
        .unseal(blob, "")
        .map_err(|e| format!("caam-sim: {e}"))
}

fn caam_huk(args: &CaamArgs) -> Result<CaamHuk, String> {
    let mut caam = sim_caam(args)?;
    CaamHuk::new(&mut caam, HukOptions::default()).map_err(|e| format!("caam-sim: {e}"))
}

/// `trustctl huk --source caam-sim --master-key HEX`: OP-TEE's CAAM HUK
/// (first 16 bytes of the master key verification blob).
pub fn huk(args: &CaamArgs) -> Result<HukBytes, String> {
    caam_huk(args)?
        .hardware_unique_key()
        .map_err(|e| format!("caam-sim: {e}"))
}

/// The TEE sealer over the MKVB HUK of a freshly reset simulated CAAM.
pub fn tee(args: &CaamArgs) -> Result<TeeSealer<CaamHuk, HostRng>, String> {
    Ok(TeeSealer::new(caam_huk(args)?, HostRng))
}

/// `trustctl seal --source tee --huk-from caam-sim --master-key HEX`.
pub fn tee_seal(args: &CaamArgs, key: &Key) -> Result<SealedBlob, String> {
    tee(args)?
        .seal(key, "")
        .map_err(|e| format!("tee (caam-sim HUK): {e}"))
}

/// `trustctl unseal --source tee --huk-from caam-sim --master-key HEX`.
pub fn tee_unseal(args: &CaamArgs, blob: &[u8]) -> Result<Key, String> {
    tee(args)?
        .unseal(blob, "")
        .map_err(|e| format!("tee (caam-sim HUK): {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(master: &str, keymod: Option<&str>) -> CaamArgs {
        CaamArgs {
            master_key: Some(SecretArg::new(master)),
            keymod: keymod.map(Into::into),
        }
    }

    const MK: &str = "1111111111111111111111111111111111111111111111111111111111111111";
    const MK2: &str = "2211111111111111111111111111111111111111111111111111111111111111";

    #[test]
    fn seal_unseal_huk_and_tee_on_the_sim() {
        let a = args(MK, None);
        let key = Key::from_slice(&[5; 32]).unwrap();
        let blob = seal(&a, &key).unwrap();
        assert_eq!(blob.len(), 80);
        assert_eq!(unseal(&a, blob.as_bytes()).unwrap(), key);
        assert!(unseal(&args(MK2, None), blob.as_bytes()).is_err());
        assert!(unseal(&args(MK, Some("other")), blob.as_bytes()).is_err());
        // Same value as hal-caam's KAT (tests/vectors/sim_blob_kat.txt, mkvb).
        assert_eq!(
            crate::host::hex(huk(&a).unwrap().as_ref()),
            "1ff4827a81e24ffe9be9bd0fc1e859ad"
        );
        let tee_blob = tee_seal(&a, &key).unwrap();
        assert_eq!(tee_unseal(&a, tee_blob.as_bytes()).unwrap(), key);
    }

    #[test]
    fn bad_flags_give_one_clear_line() {
        let key = Key::from_slice(&[5; 32]).unwrap();
        let e = seal(&CaamArgs::default(), &key).unwrap_err();
        assert!(e.contains("--master-key"), "{e}");
        let e = seal(&args("0011", None), &key).unwrap_err();
        assert!(e.contains("--master-key"), "{e}");
        let e = seal(&args(MK, Some("seventeen bytes!!")), &key).unwrap_err();
        assert!(e.contains("--keymod") && !e.contains('\n'), "{e}");
        // Exact hex: no silent trimming.
        let e = seal(&args(&format!(" {MK}"), None), &key).unwrap_err();
        assert!(e.contains("--master-key"), "{e}");
    }
}

//! `trustctl tpm ...` glue: the TPM 2.0 source over the TIS-over-SPI sim
//! with swtpm behind it, so the CLI runs the same SPI framing, FIFO
//! protocol and TPM2 code as firmware.

use std::cell::RefCell;

use hal_tpm_spi::sim::swtpm::SwtpmBackend;
use hal_tpm_spi::sim::{SimCs, SimSpi, TisSpiDevice};
use hal_tpm_spi::{PcrSelection, SpiTis, Tis, TpmSource};
use trusted_core::{Key, SealedBlob, TrustSource};

/// Flags of the TPM source.
#[derive(clap::Args, Debug, Clone)]
pub struct TpmArgs {
    /// swtpm command channel, HOST:PORT (`swtpm socket --tpm2 --server type=tcp,port=PORT`).
    #[arg(long, value_name = "HOST:PORT")]
    pub swtpm: String,
    /// Parent (storage key) handle, hex.
    #[arg(long, default_value = "0x81000001")]
    pub keyhandle: String,
    /// Seal to / unseal with the current values of these SHA-256 PCRs, e.g. `0,7`.
    #[arg(long, value_delimiter = ',')]
    pub pcrs: Vec<u8>,
    /// More Linux TPM options (`blobauth=... migratable=0 ...`).
    #[arg(long, default_value = "")]
    pub options: String,
}

struct StdDelay;
impl trusted_core::embedded_hal::delay::DelayNs for StdDelay {
    fn delay_ns(&mut self, ns: u32) {
        std::thread::sleep(std::time::Duration::from_nanos(u64::from(ns)));
    }
}

type Dev = RefCell<TisSpiDevice<SwtpmBackend>>;
type Source<'a> = TpmSource<Tis<SpiTis<SimSpi<'a, SwtpmBackend>, SimCs<'a, SwtpmBackend>>, StdDelay>>;

fn device(addr: &str) -> Result<Dev, String> {
    let backend = SwtpmBackend::connect(addr).map_err(|e| format!("cannot reach swtpm at {addr}: {e}"))?;
    Ok(RefCell::new(TisSpiDevice::new(backend)))
}

fn source(dev: &Dev) -> Result<Source<'_>, String> {
    let tis = Tis::new(SpiTis::new(SimSpi(dev), SimCs(dev)), StdDelay);
    let mut src = TpmSource::new(tis);
    src.init().map_err(|e| format!("TPM init: {e}"))?;
    Ok(src)
}

fn options(args: &TpmArgs) -> String {
    format!("keyhandle={} {}", args.keyhandle, args.options)
}

fn pcrs(args: &TpmArgs) -> Result<Option<PcrSelection>, String> {
    if args.pcrs.is_empty() {
        return Ok(None);
    }
    PcrSelection::sha256(&args.pcrs)
        .map(Some)
        .map_err(|e| format!("--pcrs: {e}"))
}

/// `trustctl tpm provision --swtpm HOST:PORT`: creates the ECC P-256
/// storage key and persists it at 0x81000001 (no-op if one is there).
/// Returns whether it created one.
pub fn provision(swtpm_addr: &str) -> Result<bool, String> {
    let dev = device(swtpm_addr)?;
    let mut src = source(&dev)?;
    src.provision_srk(hal_tpm_spi::tpm2::SRK_HANDLE)
        .map_err(|e| format!("provision: {e}"))
}

/// A new key of `len` bytes from TPM2_GetRandom (`--new N`).
pub fn new_key(args: &TpmArgs, len: usize) -> Result<Key, String> {
    let dev = device(&args.swtpm)?;
    let mut src = source(&dev)?;
    let mut key = Key::zeroed(len).map_err(|e| e.to_string())?;
    src.random(key.as_mut_bytes()).map_err(|e| format!("GetRandom: {e}"))?;
    Ok(key)
}

/// Seals `key`; the blob is Linux's TPMKey (print it as hex).
pub fn seal(args: &TpmArgs, key: &Key) -> Result<SealedBlob, String> {
    let dev = device(&args.swtpm)?;
    let mut src = source(&dev)?;
    let opts = options(args);
    match pcrs(args)? {
        Some(sel) => src.seal_with_pcrs(key, &opts, &sel),
        None => src.seal(key, &opts),
    }
    .map_err(|e| format!("seal: {e}"))
}

/// Unseals a Linux TPMKey (or pre-5.13 raw) blob.
pub fn unseal(args: &TpmArgs, blob: &[u8]) -> Result<Key, String> {
    let dev = device(&args.swtpm)?;
    let mut src = source(&dev)?;
    let opts = options(args);
    match pcrs(args)? {
        Some(sel) => src.unseal_with_pcrs(blob, &opts, &sel),
        None => src.unseal(blob, &opts),
    }
    .map_err(|e| format!("unseal: {e}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn provision_seal_unseal_through_swtpm() {
        let p = hal_tpm_spi::sim::swtpm::SwtpmProcess::start()
            .unwrap_or_else(|e| panic!("{e}: apt-get install swtpm swtpm-tools tpm2-tools"));
        assert!(provision(&p.addr()).unwrap());
        let args = TpmArgs {
            swtpm: p.addr(),
            keyhandle: "0x81000001".into(),
            pcrs: vec![0, 7],
            options: String::new(),
        };
        let key = new_key(&args, 32).unwrap();
        let blob = seal(&args, &key).unwrap();
        assert_eq!(unseal(&args, blob.as_bytes()).unwrap(), key);
    }
}

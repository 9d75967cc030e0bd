//! `trustctl tpm ...` glue: the TPM 2.0 source over the TIS-over-SPI sim
//! with swtpm behind it, so the CLI runs the same SPI framing, FIFO
//! protocol and TPM2 code as firmware, with its salted, encrypted,
//! HMAC-checked sessions (nonces and ephemeral keys from the OS RNG) and
//! the storage key pinned by `--srk-name`.

use std::cell::RefCell;

use hal_tpm_spi::session::NAME_SIZE;
use hal_tpm_spi::sim::swtpm::SwtpmBackend;
use hal_tpm_spi::sim::{SimCs, SimSpi, TpmSim};
use hal_tpm_spi::spec::SRK_HANDLE;
use hal_tpm_spi::{PcrSelection, SpiTis, SpiTpm, Tis, TpmSource};
use trusted_core::{Key, SealedBlob, TrustSource};

use crate::demo::Boot;
use crate::host::{HostRng, hex, parse_hex_array};

/// Flags of the TPM source.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct TpmArgs {
    /// swtpm command channel, HOST:PORT (`swtpm socket --tpm2 --server type=tcp,port=PORT`).
    #[arg(long, value_name = "HOST:PORT")]
    pub swtpm: Option<String>,
    /// Parent (storage key) handle, hex.
    #[arg(long, default_value = "0x81000001")]
    pub keyhandle: String,
    /// Seal to / unseal with the current values of these SHA-256 PCRs, e.g. `0,7`.
    #[arg(long, value_delimiter = ',')]
    pub pcrs: Vec<u8>,
    /// More Linux TPM options (`blobauth=... migratable=0 ...`).
    #[arg(long, default_value = "")]
    pub options: String,
    /// The storage key's Name as `trustctl tpm provision` printed it (68 hex
    /// digits): a TPM that answers with another key is refused before
    /// anything is sent to it. Without it the key is trusted on first use.
    #[arg(long, value_name = "HEX")]
    pub srk_name: Option<String>,
}

fn swtpm_addr(args: &TpmArgs) -> Result<&str, String> {
    args.swtpm
        .as_deref()
        .ok_or_else(|| "--source tpm needs --swtpm HOST:PORT".to_string())
}

struct StdDelay;
impl trusted_core::embedded_hal::delay::DelayNs for StdDelay {
    fn delay_ns(&mut self, ns: u32) {
        std::thread::sleep(std::time::Duration::from_nanos(u64::from(ns)));
    }
}

type Dev = RefCell<TpmSim<SwtpmBackend>>;
type Source<'a> =
    TpmSource<SpiTpm<SimSpi<'a, SwtpmBackend>, SimCs<'a, SwtpmBackend>, StdDelay>, HostRng>;

fn device(addr: &str) -> Result<Dev, String> {
    let backend =
        SwtpmBackend::connect(addr).map_err(|e| format!("cannot reach swtpm at {addr}: {e}"))?;
    Ok(RefCell::new(TpmSim::new(backend)))
}

/// The driver stack on `dev`, pinned to `srk_name` if given, not yet
/// initialised.
fn stack(dev: &Dev, srk_name: Option<[u8; NAME_SIZE]>) -> Source<'_> {
    let tis = Tis::new(SpiTis::new(SimSpi(dev), SimCs(dev)), StdDelay);
    let src = TpmSource::new(tis, HostRng);
    match srk_name {
        Some(name) => src.with_srk_name(name),
        None => src,
    }
}

/// An initialised source on `dev`, pinned to `srk_name` if given.
fn source(dev: &Dev, srk_name: Option<[u8; NAME_SIZE]>) -> Result<Source<'_>, String> {
    let mut src = stack(dev, srk_name);
    src.init().map_err(|e| format!("TPM init: {e}"))?;
    Ok(src)
}

/// The source for `args`: `--srk-name` pins the storage key; without it a
/// warning says the key is trusted on first use.
fn pinned_source<'a>(dev: &'a Dev, args: &TpmArgs) -> Result<Source<'a>, String> {
    let name = match &args.srk_name {
        Some(hex) => Some(parse_hex_array::<NAME_SIZE>(hex, "--srk-name")?),
        None => {
            eprintln!(
                "trustctl: warning: no --srk-name: trusting the TPM's storage key on first use"
            );
            None
        }
    };
    source(dev, name)
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
/// Returns whether it created one, and the key's Name as hex (what
/// `--srk-name` takes on every later seal and unseal).
pub fn provision(swtpm_addr: &str) -> Result<(bool, String), String> {
    let dev = device(swtpm_addr)?;
    let mut src = source(&dev, None)?;
    let created = src
        .provision_srk(SRK_HANDLE)
        .map_err(|e| format!("provision: {e}"))?;
    let name = src
        .srk_name(SRK_HANDLE)
        .map_err(|e| format!("provision: reading the storage key: {e}"))?;
    Ok((created, hex(&name)))
}

/// A new key of `len` bytes from TPM2_GetRandom (`--new N`).
pub fn new_key(args: &TpmArgs, len: usize) -> Result<Key, String> {
    let dev = device(swtpm_addr(args)?)?;
    let mut src = pinned_source(&dev, args)?;
    let mut key = Key::zeroed(len).map_err(|e| e.to_string())?;
    src.random(key.as_mut_bytes())
        .map_err(|e| format!("GetRandom: {e}"))?;
    Ok(key)
}

/// Seals `key`; the blob is Linux's TPMKey (print it as hex).
pub fn seal(args: &TpmArgs, key: &Key) -> Result<SealedBlob, String> {
    let dev = device(swtpm_addr(args)?)?;
    let mut src = pinned_source(&dev, args)?;
    let opts = options(args);
    match pcrs(args)? {
        Some(sel) => src.seal_with_pcrs(key, &opts, &sel),
        None => src.seal(key, &opts),
    }
    .map_err(|e| format!("seal: {e}"))
}

/// Unseals a Linux TPMKey (or pre-5.13 raw) blob.
pub fn unseal(args: &TpmArgs, blob: &[u8]) -> Result<Key, String> {
    let dev = device(swtpm_addr(args)?)?;
    let mut src = pinned_source(&dev, args)?;
    let opts = options(args);
    match pcrs(args)? {
        Some(sel) => src.unseal_with_pcrs(blob, &opts, &sel),
        None => src.unseal(blob, &opts),
    }
    .map_err(|e| format!("unseal: {e}"))
}

/// The demo's TPM row on a swtpm it starts itself: provisions the storage
/// key and pins its Name, and refuses a build without sessions. Returns
/// the row's keyctl options and its [`Boot`]: each boot makes the SPI bus,
/// TIS and TPM2 drivers again on a new connection, and every command the
/// flow sends runs in salted sessions. `Ok(None)` when swtpm is not
/// installed.
pub fn demo_boot() -> Result<Option<(String, Boot)>, String> {
    let Ok(swtpm) = hal_tpm_spi::sim::swtpm::SwtpmProcess::start() else {
        return Ok(None);
    };
    let (created, name) = provision(&swtpm.addr())?;
    println!(
        "   boot 1: swtpm at {}; storage key {}",
        swtpm.addr(),
        if created {
            "created at 0x81000001"
        } else {
            "already at 0x81000001"
        }
    );
    println!("   boot 1: SRK name {name} (pinned from now on)");
    let pinned = parse_hex_array::<NAME_SIZE>(&name, "SRK name")?;
    let sessions = stack(&device(&swtpm.addr())?, Some(pinned)).sessions_enabled();
    if !sessions {
        return Err("hal-tpm-spi was built without its sessions feature".into());
    }
    println!(
        "   sessions: salted to the pinned SRK (ECDH P-256), AES-128-CFB parameter \
         encryption, HMAC-checked responses: key and passwords never on the bus"
    );
    let args = TpmArgs {
        keyhandle: "0x81000001".into(),
        ..TpmArgs::default()
    };
    // The boot owns the swtpm process: it stops when the row is done.
    let boot: Boot = Box::new(move |run| {
        let dev = device(&swtpm.addr())?;
        run(&mut stack(&dev, Some(pinned)))
    });
    Ok(Some((options(&args), boot)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provision_seal_unseal_through_swtpm() {
        let p = hal_tpm_spi::sim::swtpm::SwtpmProcess::start()
            .unwrap_or_else(|e| panic!("{e}: apt-get install swtpm swtpm-tools tpm2-tools"));
        let (created, name) = provision(&p.addr()).unwrap();
        assert!(created);
        assert_eq!(name.len(), 68);
        assert!(name.starts_with("000b"));
        assert_eq!(provision(&p.addr()).unwrap(), (false, name.clone()));
        let mut args = TpmArgs {
            swtpm: Some(p.addr()),
            keyhandle: "0x81000001".into(),
            pcrs: vec![0, 7],
            options: String::new(),
            srk_name: Some(name.clone()),
        };
        let key = new_key(&args, 32).unwrap();
        let blob = seal(&args, &key).unwrap();
        assert_eq!(unseal(&args, blob.as_bytes()).unwrap(), key);
        // Another name: refused before any session is salted.
        let other = format!(
            "{}{}",
            &name[..67],
            if name.ends_with('0') { "1" } else { "0" }
        );
        args.srk_name = Some(other);
        let err = unseal(&args, blob.as_bytes()).unwrap_err();
        assert!(err.contains("pinned"), "{err}");
        args.srk_name = Some("00".into());
        assert!(
            unseal(&args, blob.as_bytes())
                .unwrap_err()
                .contains("--srk-name")
        );
    }
}

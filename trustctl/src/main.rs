//! trustctl: the host side of trusted-keys-rs. Seals and unseals keys on
//! every trust source (the sims, a TEE HUK, or a TPM behind swtpm), prints
//! HUKs, checks keyctl payloads, and runs the end-to-end demo.
//!
//! Every failure prints one line on stderr and exits non-zero.

mod caam;
mod dcp;
mod demo;
mod host;
mod inspect;
mod stm32mp1;
mod tpm;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use trusted_core::keyctl::{Command as KeyCommand, Payload, TpmOptions};
use trusted_core::tee::TeeSealer;
use trusted_core::{Key, SealedBlob, StaticHuk, TrustSource};

use host::{HostRng, SecretArg, parse_huk};

#[derive(Parser)]
#[command(
    name = "trustctl",
    version,
    about = "Seal and unseal Linux-compatible trusted keys on firmware trust sources"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Seal a key and print the blob as lowercase hex (what `keyctl pipe` prints).
    Seal {
        #[command(flatten)]
        source: SourceArgs,
        /// The key to seal, as hex (32..=128 bytes); `-` reads it from stdin,
        /// `@PATH` from a file (keeps it out of argv).
        #[arg(long, conflicts_with = "new", required_unless_present = "new")]
        key: Option<SecretArg>,
        /// Make a new random key of N bytes instead (printed on stderr).
        #[arg(long, value_name = "N")]
        new: Option<usize>,
    },
    /// Unseal a blob and print the key as lowercase hex.
    Unseal {
        #[command(flatten)]
        source: SourceArgs,
        /// The blob, as hex (`keyctl pipe` output).
        #[arg(long)]
        blob: String,
    },
    /// Print the OP-TEE hardware unique key a simulated device derives
    /// (the all-zero DCP key is refused, as seal does, unless
    /// --skip-zero-key-test).
    Huk {
        /// Device model to derive the HUK on.
        #[arg(long, value_enum)]
        source: HukFrom,
        #[command(flatten)]
        devices: DeviceArgs,
    },
    /// TPM set-up.
    #[command(subcommand)]
    Tpm(TpmCmd),
    /// STM32MP15 offline provisioning.
    #[command(subcommand)]
    Stm32mp1(Stm32mp1Cmd),
    /// Parse a keyctl payload as Linux does and print it, or the reason it is rejected.
    Keyctl {
        /// e.g. 'new 32 keyhandle=0x81000001'
        payload: SecretArg,
    },
    /// First boot, seal, store, reboot, unseal, on every source; prints a table.
    Demo,
    /// Name a blob's format (TPMKey DER, pre-5.13 TPM, DCP, CAAM, OP-TEE TA) and print its
    /// fields, or why it is none of them. Reads layouts only: needs no key or device.
    Inspect(inspect::InspectArgs),
}

#[derive(Subcommand)]
enum TpmCmd {
    /// Create the ECC P-256 storage key and persist it at 0x81000001 (kept if present); print its Name.
    Provision {
        /// swtpm command channel.
        #[arg(long, value_name = "HOST:PORT")]
        swtpm: String,
    },
}

#[derive(Subcommand)]
enum Stm32mp1Cmd {
    /// Print the OTP word/value list to burn for a 128-bit HUK (irreversible on a device).
    ProvisionImage {
        /// The HUK, 32 hex digits (`-`: stdin, `@PATH`: a file).
        #[arg(long, value_name = "HEX")]
        huk: SecretArg,
    },
}

#[derive(Args)]
struct SourceArgs {
    /// Trust source.
    #[arg(long, value_enum)]
    source: SourceKind,
    /// HUK for `--source tee`, 32 hex digits (16 bytes); `-` reads it from
    /// stdin, `@PATH` from a file.
    #[arg(long, value_name = "HEX", conflicts_with = "huk_from")]
    huk: Option<SecretArg>,
    /// For `--source tee`: take the HUK from a simulated device instead.
    #[arg(long, value_enum)]
    huk_from: Option<HukFrom>,
    #[command(flatten)]
    devices: DeviceArgs,
    #[command(flatten)]
    tpm: tpm::TpmArgs,
}

/// The simulated devices' flags (keys, fuses), shared by `seal`, `unseal`
/// and `huk`. Each belongs to one device; see [`DeviceArgs::only_for`].
#[derive(Args)]
struct DeviceArgs {
    #[command(flatten)]
    caam: caam::CaamArgs,
    #[command(flatten)]
    dcp: dcp::DcpArgs,
    #[command(flatten)]
    stm32mp1: stm32mp1::Stm32mp1Args,
    #[command(flatten)]
    saes: stm32mp1::SaesArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SourceKind {
    /// OP-TEE trusted_keys TA blobs (Linux trusted.source=tee).
    Tee,
    /// Linux trusted_dcp blobs on the simulated NXP DCP.
    DcpSim,
    /// Linux trusted_caam blobs on the simulated NXP CAAM.
    CaamSim,
    /// Linux TPM 2.0 TPMKey blobs on a TPM (swtpm) through the TIS-over-SPI model.
    Tpm,
}

/// Simulated devices that give an OP-TEE HUK. The names are the CLI values.
#[allow(clippy::enum_variant_names)]
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum HukFrom {
    /// NXP DCP (i.MX6ULL): AES-CMAC under the UNIQUE key.
    DcpSim,
    /// NXP CAAM (i.MX6/7/8): first 16 bytes of the master key verification blob.
    CaamSim,
    /// STM32MP15 BSEC OTP words.
    Stm32mp1Sim,
    /// STM32MP13 SAES: OP-TEE's DHUK KDF (arm32, 4-byte size_t); needs --dhuk.
    Stm32mp13Sim,
    /// STM32MP23/MP25 SAES: the DHUK KDF of an arm64 OP-TEE (8-byte size_t); needs --dhuk.
    Stm32mp25Sim,
    /// STM32MP21 SAES (its own register block), arm64 OP-TEE; needs --dhuk.
    Stm32mp21Sim,
}

impl HukFrom {
    /// The SAES part behind a DHUK source, if this is one.
    fn saes_part(self) -> Option<stm32mp1::SaesPart> {
        match self {
            HukFrom::Stm32mp13Sim => Some(stm32mp1::SaesPart::Mp13),
            HukFrom::Stm32mp25Sim => Some(stm32mp1::SaesPart::Mp25),
            HukFrom::Stm32mp21Sim => Some(stm32mp1::SaesPart::Mp21),
            _ => None,
        }
    }
}

fn tee_with_huk(args: &SourceArgs) -> Result<TeeSealer<StaticHuk, HostRng>, String> {
    let huk = args
        .huk
        .as_ref()
        .ok_or("--source tee needs --huk HEX or --huk-from DEVICE")?;
    Ok(TeeSealer::new(
        StaticHuk::copy_from(&*parse_huk(huk.as_str())?),
        HostRng,
    ))
}

/// The simulated device (or HUK) an invocation uses: the flags of every
/// other device are refused rather than silently ignored, so each input
/// has one meaning.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Device {
    /// `--huk HEX` for `--source tee`.
    GivenHuk,
    Dcp,
    Caam,
    Stm32mp1,
    Saes,
    Tpm,
}

impl Device {
    fn of(source: SourceKind, huk_from: Option<HukFrom>) -> Self {
        match (source, huk_from) {
            (SourceKind::DcpSim, _) => Device::Dcp,
            (SourceKind::CaamSim, _) => Device::Caam,
            (SourceKind::Tpm, _) => Device::Tpm,
            (SourceKind::Tee, None) => Device::GivenHuk,
            (SourceKind::Tee, Some(from)) => Device::from_huk(from),
        }
    }

    fn from_huk(from: HukFrom) -> Self {
        match from {
            HukFrom::DcpSim => Device::Dcp,
            HukFrom::CaamSim => Device::Caam,
            HukFrom::Stm32mp1Sim => Device::Stm32mp1,
            HukFrom::Stm32mp13Sim | HukFrom::Stm32mp25Sim | HukFrom::Stm32mp21Sim => Device::Saes,
        }
    }
}

impl DeviceArgs {
    /// Refuses a flag of a device other than `used`, `--huk` (given as
    /// `huk`) included (the TPM's own flags are checked by its module).
    fn only_for(&self, used: Device, huk: bool) -> Result<(), String> {
        let Self {
            caam,
            dcp,
            stm32mp1,
            saes,
        } = self;
        let given = [
            (Device::GivenHuk, "--huk", huk),
            (Device::Caam, "--master-key", caam.master_key.is_some()),
            (Device::Caam, "--keymod", caam.keymod.is_some()),
            (Device::Dcp, "--unique-key", dcp.unique_key.is_some()),
            (Device::Dcp, "--otp-key", dcp.otp_key.is_some()),
            (Device::Dcp, "--use-otp-key", dcp.use_otp_key),
            (Device::Dcp, "--skip-zero-key-test", dcp.skip_zero_key_test),
            (Device::Stm32mp1, "--otp", !stm32mp1.otp.is_empty()),
            (Device::Saes, "--dhuk", saes.dhuk.is_some()),
        ];
        match given
            .iter()
            .find(|(device, _, set)| *set && *device != used)
        {
            Some((_, flag, _)) => Err(format!(
                "{flag} does not apply to the chosen source or HUK device"
            )),
            None => Ok(()),
        }
    }
}

/// What `seal` and `unseal` run on, from `--source` and `--huk-from`.
#[derive(Clone, Copy)]
enum Backend {
    /// `--source tee --huk HEX`.
    Tee,
    /// `--source tee --huk-from dcp-sim`.
    TeeOverDcp,
    /// `--source tee --huk-from caam-sim`.
    TeeOverCaam,
    /// `--source tee --huk-from stm32mp1-sim`.
    TeeOverStm32mp1,
    /// `--source tee --huk-from stm32mp13-sim` (and the MP2x parts).
    TeeOverSaes(stm32mp1::SaesPart),
    /// `--source dcp-sim`.
    Dcp,
    /// `--source caam-sim`.
    Caam,
    /// `--source tpm`.
    Tpm,
}

impl Backend {
    /// The backend `args` choose, once the flags of every other device are
    /// refused.
    fn of(args: &SourceArgs) -> Result<Self, String> {
        let device = Device::of(args.source, args.huk_from);
        args.devices.only_for(device, args.huk.is_some())?;
        Ok(match (args.source, args.huk_from) {
            (SourceKind::Tee, None) => Backend::Tee,
            (SourceKind::Tee, Some(HukFrom::DcpSim)) => Backend::TeeOverDcp,
            (SourceKind::Tee, Some(HukFrom::CaamSim)) => Backend::TeeOverCaam,
            (SourceKind::Tee, Some(HukFrom::Stm32mp1Sim)) => Backend::TeeOverStm32mp1,
            (SourceKind::Tee, Some(from)) => {
                Backend::TeeOverSaes(from.saes_part().ok_or("not an SAES part")?)
            }
            (SourceKind::CaamSim, None) => Backend::Caam,
            (SourceKind::Tpm, None) => Backend::Tpm,
            (SourceKind::DcpSim, None) => Backend::Dcp,
            (_, Some(_)) => return Err("--huk-from only goes with --source tee".into()),
        })
    }
}

fn seal(args: &SourceArgs, key: &Key) -> Result<SealedBlob, String> {
    match Backend::of(args)? {
        Backend::Tee => tee_with_huk(args)?
            .seal(key, "")
            .map_err(|e| format!("seal failed: {e}")),
        Backend::TeeOverDcp => dcp::tee_seal(&args.devices.dcp, key),
        Backend::TeeOverCaam => caam::tee_seal(&args.devices.caam, key),
        Backend::TeeOverStm32mp1 => stm32mp1::seal(&args.devices.stm32mp1, key),
        Backend::TeeOverSaes(part) => stm32mp1::saes_seal(&args.devices.saes, part, key),
        Backend::Dcp => dcp::seal(&args.devices.dcp, key),
        Backend::Caam => caam::seal(&args.devices.caam, key),
        Backend::Tpm => tpm::seal(&args.tpm, key),
    }
}

fn unseal(args: &SourceArgs, blob: &[u8]) -> Result<Key, String> {
    match Backend::of(args)? {
        Backend::Tee => tee_with_huk(args)?
            .unseal(blob, "")
            .map_err(|e| format!("unseal failed: {e}")),
        Backend::TeeOverDcp => dcp::tee_unseal(&args.devices.dcp, blob),
        Backend::TeeOverCaam => caam::tee_unseal(&args.devices.caam, blob),
        Backend::TeeOverStm32mp1 => stm32mp1::unseal(&args.devices.stm32mp1, blob),
        Backend::TeeOverSaes(part) => stm32mp1::saes_unseal(&args.devices.saes, part, blob),
        Backend::Dcp => dcp::unseal(&args.devices.dcp, blob),
        Backend::Caam => caam::unseal(&args.devices.caam, blob),
        Backend::Tpm => tpm::unseal(&args.tpm, blob),
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Cmd::Seal { source, key, new } => {
            let (key, made) = match (key, new) {
                (Some(hex), _) => (
                    Key::from_hex(hex.as_str()).map_err(|e| format!("--key: {e}"))?,
                    false,
                ),
                (None, Some(n)) => {
                    // The TPM has its own RNG (Linux trusted.rng=default).
                    let key = match source.source {
                        SourceKind::Tpm => tpm::new_key(&source.tpm, n)?,
                        _ => host::random_key(n)?,
                    };
                    (key, true)
                }
                (None, None) => return Err("give --key HEX or --new N".into()),
            };
            let blob = seal(&source, &key)?;
            // Only once sealed, so a failure is still one line on stderr.
            if made {
                eprintln!("new key: {}", host::secret_hex(key.as_bytes()));
            }
            println!("{blob}");
        }
        Cmd::Unseal { source, blob } => {
            let blob = host::parse_blob(&blob)?;
            let key = unseal(&source, blob.as_bytes())?;
            println!("{}", host::secret_hex(key.as_bytes()));
        }
        Cmd::Huk { source, devices } => {
            devices.only_for(Device::from_huk(source), false)?;
            let huk = match source {
                HukFrom::DcpSim => dcp::huk(&devices.dcp)?,
                HukFrom::CaamSim => caam::huk(&devices.caam)?,
                HukFrom::Stm32mp1Sim => stm32mp1::huk(&devices.stm32mp1)?,
                HukFrom::Stm32mp13Sim | HukFrom::Stm32mp25Sim | HukFrom::Stm32mp21Sim => {
                    stm32mp1::saes_huk()?
                }
            };
            println!("{}", host::secret_hex(huk.as_ref()));
        }
        Cmd::Tpm(TpmCmd::Provision { swtpm }) => {
            let (created, srk_name) = tpm::provision(&swtpm)?;
            println!(
                "storage key at 0x81000001: {}",
                if created {
                    "created"
                } else {
                    "already present"
                }
            );
            println!("srk name: {srk_name} (pass it as --srk-name to seal and unseal)");
        }
        Cmd::Stm32mp1(Stm32mp1Cmd::ProvisionImage { huk }) => {
            print!("{}", stm32mp1::provision_image(huk.as_str())?);
        }
        Cmd::Keyctl { payload } => keyctl(payload.as_str())?,
        Cmd::Demo => demo::run()?,
        Cmd::Inspect(args) => inspect::run(&args)?,
    }
    Ok(())
}

/// Parses `text` as Linux does and prints the parse and the canonical
/// payload, but only after checking that the canonical text parses back to
/// the same command and options: what is printed is what Linux reads.
fn keyctl(text: &str) -> Result<(), String> {
    let payload = Payload::parse(text).map_err(|e| e.to_string())?;
    let tpm = TpmOptions::parse(payload.options)
        .map_err(|e| format!("tpm source would reject the options: {e}"))?;
    let command = match &payload.command {
        KeyCommand::New { key_len } => format!("new {key_len}"),
        KeyCommand::Load { blob } => format!("load {blob}"),
        KeyCommand::Update => "update".into(),
    };
    let tpm_text = SecretArg::new(tpm.to_string().as_str());
    let canonical = SecretArg::new(
        if tpm_text.as_str().is_empty() {
            command
        } else {
            format!("{command} {}", tpm_text.as_str())
        }
        .as_str(),
    );
    let again = Payload::parse(canonical.as_str())
        .map_err(|e| format!("canonical form does not parse back ({e}); nothing printed"))?;
    let tpm_again = TpmOptions::parse(again.options)
        .map_err(|e| format!("canonical options do not parse back ({e}); nothing printed"))?;
    if again.command != payload.command || tpm_again != tpm {
        return Err("canonical form parses to another payload; nothing printed".into());
    }
    match &payload.command {
        KeyCommand::New { key_len } => println!("command: new\nkey length: {key_len}"),
        KeyCommand::Load { blob } => println!("command: load\nblob: {} bytes", blob.len()),
        KeyCommand::Update => println!("command: update"),
    }
    println!("tpm options: {}", tpm_text.as_str());
    println!("canonical: {}", canonical.as_str());
    Ok(())
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // clap's message, up to its usage hint, as one line (its first
            // line alone can end in "were not provided:").
            let text = e.to_string();
            let mut line = String::new();
            for part in text.lines().map(str::trim) {
                if part.is_empty() || part.starts_with("Usage:") || part.starts_with("For more") {
                    break;
                }
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(part.trim_start_matches("error: "));
            }
            if line.is_empty() {
                line.push_str("invalid arguments");
            }
            eprintln!("trustctl: {line}");
            return ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("trustctl: {msg}");
            ExitCode::FAILURE
        }
    }
}

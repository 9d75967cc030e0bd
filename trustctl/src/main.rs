//! trustctl: the host side of trusted-keys-rs. Seals and unseals keys on
//! every trust source (the sims, a TEE HUK, or a TPM behind swtpm), prints
//! HUKs, checks keyctl payloads, and runs the end-to-end demo.
//!
//! Every failure prints one line on stderr and exits non-zero.

mod demo;
mod host;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use trusted_core::keyctl::{Command as KeyCommand, Payload, TpmOptions};
use trusted_core::tee::TeeSealer;
use trusted_core::{Key, SealedBlob, StaticHuk, TrustSource};

use host::{HostRng, parse_huk};

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
        /// The key to seal, as hex (32..=128 bytes).
        #[arg(long, conflicts_with = "new", required_unless_present = "new")]
        key: Option<String>,
        /// Make a new random key of N bytes instead (printed on stderr).
        #[arg(long, value_name = "N")]
        new: Option<usize>,
        /// keyctl options text handed to the source (only the TPM reads it).
        #[arg(long, default_value = "")]
        options: String,
    },
    /// Unseal a blob and print the key as lowercase hex.
    Unseal {
        #[command(flatten)]
        source: SourceArgs,
        /// The blob, as hex (`keyctl pipe` output).
        #[arg(long)]
        blob: String,
        /// keyctl options text handed to the source (only the TPM reads it).
        #[arg(long, default_value = "")]
        options: String,
    },
    /// Parse a keyctl payload as Linux does and print it, or the reason it is rejected.
    Keyctl {
        /// e.g. 'new 32 keyhandle=0x81000001'
        payload: String,
    },
    /// First boot, seal, store, reboot, unseal, on every source; prints a table.
    Demo,
}

#[derive(Args)]
struct SourceArgs {
    /// Trust source.
    #[arg(long, value_enum)]
    source: SourceKind,
    /// HUK for `--source tee`, 32 hex digits (16 bytes).
    #[arg(long, value_name = "HEX")]
    huk: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum SourceKind {
    /// OP-TEE trusted_keys TA blobs (Linux trusted.source=tee).
    Tee,
}

/// A seal/unseal session on the chosen source.
fn with_source<T>(
    args: &SourceArgs,
    f: impl FnOnce(&mut dyn Sealer) -> Result<T, String>,
) -> Result<T, String> {
    match args.source {
        SourceKind::Tee => {
            let huk = args.huk.as_deref().ok_or("--source tee needs --huk HEX")?;
            let mut tee = TeeSealer::new(StaticHuk::new(parse_huk(huk)?), HostRng);
            f(&mut tee)
        }
    }
}

/// Object-safe view of a source for the CLI's dispatch.
trait Sealer {
    fn seal(&mut self, key: &Key, options: &str) -> Result<SealedBlob, String>;
    fn unseal(&mut self, blob: &[u8], options: &str) -> Result<Key, String>;
}

impl<S: TrustSource> Sealer for S {
    fn seal(&mut self, key: &Key, options: &str) -> Result<SealedBlob, String> {
        TrustSource::seal(self, key, options).map_err(|e| format!("seal failed: {e}"))
    }
    fn unseal(&mut self, blob: &[u8], options: &str) -> Result<Key, String> {
        TrustSource::unseal(self, blob, options).map_err(|e| format!("unseal failed: {e}"))
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Cmd::Seal {
            source,
            key,
            new,
            options,
        } => {
            let key = match (key, new) {
                (Some(hex), _) => Key::from_hex(&hex).map_err(|e| format!("--key: {e}"))?,
                (None, Some(n)) => {
                    let key = host::random_key(n)?;
                    eprintln!("new key: {}", host::hex(key.as_bytes()));
                    key
                }
                (None, None) => return Err("give --key HEX or --new N".into()),
            };
            let blob = with_source(&source, |s| s.seal(&key, &options))?;
            println!("{blob}");
        }
        Cmd::Unseal {
            source,
            blob,
            options,
        } => {
            let blob = host::parse_blob(&blob)?;
            let key = with_source(&source, |s| s.unseal(blob.as_bytes(), &options))?;
            println!("{}", host::hex(key.as_bytes()));
        }
        Cmd::Keyctl { payload } => keyctl(&payload)?,
        Cmd::Demo => demo::run()?,
    }
    Ok(())
}

fn keyctl(text: &str) -> Result<(), String> {
    let payload = Payload::parse(text).map_err(|e| e.to_string())?;
    match &payload.command {
        KeyCommand::New { key_len } => println!("command: new\nkey length: {key_len}"),
        KeyCommand::Load { blob } => println!("command: load\nblob: {} bytes", blob.len()),
        KeyCommand::Update => println!("command: update"),
    }
    println!("options: {:?}", payload.options);
    match TpmOptions::parse(payload.options) {
        Ok(tpm) => println!("tpm options: {tpm}\ncanonical: {payload}"),
        Err(e) => return Err(format!("tpm source would reject the options: {e}")),
    }
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
            let text = e.to_string();
            let line = text.lines().next().unwrap_or("invalid arguments");
            eprintln!("trustctl: {}", line.trim_start_matches("error: "));
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

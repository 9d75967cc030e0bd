//! The `TrustSource` trait (Linux `struct trusted_key_ops`) and static
//! source selection with Linux's `trusted.source=` / `trusted.rng=`
//! semantics (security/keys/trusted-keys/trusted_core.c `init_trusted`).

use crate::error::{Error, Result};
use crate::key::{Key, SealedBlob};

/// A root of trust that seals and unseals keys.
///
/// `options` is the text after the first argument of a keyctl payload
/// (`new 32 keyhandle=0x81000001` gives `keyhandle=0x81000001`), handed over
/// unparsed as Linux does: the TPM source parses it with
/// [`crate::keyctl::TpmOptions`], every other source ignores it.
pub trait TrustSource {
    /// The `trusted.source=` name (`tpm`, `tee`, `caam`, `dcp`).
    fn name(&self) -> &'static str;

    /// Whether keys of this source may be resealed with `update`.
    fn migratable(&self) -> bool {
        false
    }

    /// Whether [`TrustSource::random`] is the source's own RNG (Linux: the
    /// ops have `get_random`). Sources without one use the caller's RNG.
    fn has_rng(&self) -> bool {
        false
    }

    /// Probes and prepares the device. [`Error::NoDevice`] means "not here":
    /// selection moves on to the next source; any other error stops it.
    fn init(&mut self) -> Result<()> {
        Ok(())
    }

    /// Fills `out` from the source's own RNG.
    fn random(&mut self, _out: &mut [u8]) -> Result<()> {
        Err(Error::Unsupported(
            "this trust source has no RNG of its own",
        ))
    }

    /// Seals `key` into a blob bound to this device.
    fn seal(&mut self, key: &Key, options: &str) -> Result<SealedBlob>;

    /// Unseals a blob made by [`TrustSource::seal`] on this device.
    fn unseal(&mut self, blob: &[u8], options: &str) -> Result<Key>;

    /// Selection step for one source: skip it when `forced` (the
    /// `trusted.source=` value) does not start with its name, resolve
    /// `trusted.rng=` for it, then [`TrustSource::init`] it.
    ///
    /// Not in `dyn TrustSource`'s vtable (`Self: Sized`): a firmware that
    /// runs its sources through `&mut dyn TrustSource` and never selects
    /// would link an unused copy per source type (up to 400 B each on
    /// AArch64). A `&mut` to a source, and a wrapper that does not
    /// forward it, select as one source: call it on a [`Sources`] itself.
    fn select(&mut self, forced: Option<&str>, rng: &str) -> Result<RngChoice>
    where
        Self: Sized,
    {
        if forced.is_some_and(|f| !f.starts_with(self.name())) {
            return Err(Error::NoDevice);
        }
        let choice = RngChoice::resolve(rng, self.name(), self.has_rng())?;
        self.init()?;
        Ok(choice)
    }
}

impl<T: TrustSource + ?Sized> TrustSource for &mut T {
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn migratable(&self) -> bool {
        (**self).migratable()
    }
    fn has_rng(&self) -> bool {
        (**self).has_rng()
    }
    fn init(&mut self) -> Result<()> {
        (**self).init()
    }
    fn random(&mut self, out: &mut [u8]) -> Result<()> {
        (**self).random(out)
    }
    fn seal(&mut self, key: &Key, options: &str) -> Result<SealedBlob> {
        (**self).seal(key, options)
    }
    fn unseal(&mut self, blob: &[u8], options: &str) -> Result<Key> {
        (**self).unseal(blob, options)
    }
}

/// Where new key bytes come from, resolved from `trusted.rng=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RngChoice {
    /// The trust source's own RNG.
    Source,
    /// The caller's `rand_core::TryCryptoRng` (Linux: the kernel RNG).
    Caller,
}

impl RngChoice {
    /// Linux's rule: `default` uses the source's RNG if it has one, else the
    /// kernel's; `kernel` always the kernel's (here: the caller's); the
    /// source's own name only if it has an RNG; anything else is `-EINVAL`.
    pub fn resolve(rng: &str, source: &str, source_has_rng: bool) -> Result<Self> {
        match rng {
            "default" if source_has_rng => Ok(Self::Source),
            "default" | "kernel" => Ok(Self::Caller),
            name if name == source && source_has_rng => Ok(Self::Source),
            _ => Err(Error::InvalidArgument(
                "trusted.rng must be default, kernel, or the name of a source with its own RNG",
            )),
        }
    }
}

/// Two sources in probe order; nest it for more:
/// `Sources<Tpm, Sources<Tee, Sources<Caam, Dcp>>>` is Linux's table.
///
/// Until [`TrustSource::select`] succeeds it reports the name `none` and
/// refuses to seal.
///
/// ```
/// # use trusted_core::{Error, Key, SealedBlob, Sources, TrustSource, RngChoice};
/// struct Absent;
/// impl TrustSource for Absent {
///     fn name(&self) -> &'static str { "tpm" }
///     fn init(&mut self) -> Result<(), Error> { Err(Error::NoDevice) }
///     fn seal(&mut self, _: &Key, _: &str) -> Result<SealedBlob, Error> { Err(Error::NoDevice) }
///     fn unseal(&mut self, _: &[u8], _: &str) -> Result<Key, Error> { Err(Error::NoDevice) }
/// }
/// # struct Present;
/// # impl TrustSource for Present {
/// #     fn name(&self) -> &'static str { "caam" }
/// #     fn seal(&mut self, _: &Key, _: &str) -> Result<SealedBlob, Error> { Err(Error::NoDevice) }
/// #     fn unseal(&mut self, _: &[u8], _: &str) -> Result<Key, Error> { Err(Error::NoDevice) }
/// # }
/// let mut set = Sources::new(Absent, Present);
/// assert_eq!(set.select(None, "default"), Ok(RngChoice::Caller));
/// assert_eq!(set.name(), "caam");
/// ```
pub struct Sources<A, B> {
    first: A,
    rest: B,
    active: Active,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Active {
    None,
    First,
    Rest,
}

impl<A: TrustSource, B: TrustSource> Sources<A, B> {
    /// `first` is probed before `rest`.
    pub fn new(first: A, rest: B) -> Self {
        Self {
            first,
            rest,
            active: Active::None,
        }
    }

    /// The probe-order list back, e.g. to recover drivers.
    pub fn into_inner(self) -> (A, B) {
        (self.first, self.rest)
    }
}

macro_rules! dispatch {
    ($self:ident, $s:ident => $call:expr, $none:expr) => {
        match $self.active {
            Active::First => {
                let $s = &mut $self.first;
                $call
            }
            Active::Rest => {
                let $s = &mut $self.rest;
                $call
            }
            Active::None => $none,
        }
    };
}

const NOT_SELECTED: Error = Error::NoDevice;

impl<A: TrustSource, B: TrustSource> TrustSource for Sources<A, B> {
    fn name(&self) -> &'static str {
        match self.active {
            Active::First => self.first.name(),
            Active::Rest => self.rest.name(),
            Active::None => "none",
        }
    }

    fn migratable(&self) -> bool {
        match self.active {
            Active::First => self.first.migratable(),
            Active::Rest => self.rest.migratable(),
            Active::None => false,
        }
    }

    fn has_rng(&self) -> bool {
        match self.active {
            Active::First => self.first.has_rng(),
            Active::Rest => self.rest.has_rng(),
            Active::None => false,
        }
    }

    fn init(&mut self) -> Result<()> {
        self.select(None, "default").map(|_| ())
    }

    fn random(&mut self, out: &mut [u8]) -> Result<()> {
        dispatch!(self, s => s.random(out), Err(NOT_SELECTED))
    }

    fn seal(&mut self, key: &Key, options: &str) -> Result<SealedBlob> {
        dispatch!(self, s => s.seal(key, options), Err(NOT_SELECTED))
    }

    fn unseal(&mut self, blob: &[u8], options: &str) -> Result<Key> {
        dispatch!(self, s => s.unseal(blob, options), Err(NOT_SELECTED))
    }

    /// Walks the sources in order; stops on success or on any error but
    /// [`Error::NoDevice`], as Linux's `init_trusted` does since v6.x.
    fn select(&mut self, forced: Option<&str>, rng: &str) -> Result<RngChoice> {
        self.active = Active::None;
        match self.first.select(forced, rng) {
            Ok(choice) => {
                self.active = Active::First;
                Ok(choice)
            }
            Err(Error::NoDevice) => {
                let choice = self.rest.select(forced, rng)?;
                self.active = Active::Rest;
                Ok(choice)
            }
            Err(e) => Err(e),
        }
    }
}

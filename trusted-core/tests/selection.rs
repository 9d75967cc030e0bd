//! Source selection with Linux's semantics: probe order, forced prefix,
//! fall-through only on "no device", and the `trusted.rng=` choice.

use trusted_core::test_util::{BrokenRng, ScriptRng};
use trusted_core::trusted::{instantiate, update};
use trusted_core::{Error, Key, RngChoice, SealedBlob, Sources, TrustSource};

/// A source whose init answer is chosen by the test; it "seals" by
/// prefixing its name so tests can see who sealed.
struct Fake {
    name: &'static str,
    init: Result<(), Error>,
    rng: bool,
    migratable: bool,
    inits: u32,
}

fn fake(name: &'static str, init: Result<(), Error>) -> Fake {
    Fake {
        name,
        init,
        rng: false,
        migratable: false,
        inits: 0,
    }
}

impl TrustSource for Fake {
    fn name(&self) -> &'static str {
        self.name
    }
    fn migratable(&self) -> bool {
        self.migratable
    }
    fn has_rng(&self) -> bool {
        self.rng
    }
    fn init(&mut self) -> Result<(), Error> {
        self.inits += 1;
        self.init
    }
    fn random(&mut self, out: &mut [u8]) -> Result<(), Error> {
        out.fill(0x5a);
        Ok(())
    }
    fn seal(&mut self, key: &Key, options: &str) -> Result<SealedBlob, Error> {
        let mut blob = self.name.as_bytes().to_vec();
        blob.extend_from_slice(options.as_bytes());
        blob.push(b':');
        blob.extend_from_slice(key.as_bytes());
        SealedBlob::from_slice(&blob)
    }
    fn unseal(&mut self, blob: &[u8], _options: &str) -> Result<Key, Error> {
        let at = blob
            .iter()
            .position(|&b| b == b':')
            .ok_or(Error::AuthFailed)?;
        Key::from_slice(blob.get(at + 1..).ok_or(Error::AuthFailed)?)
    }
}

fn linux_table(
    tpm: Result<(), Error>,
    tee: Result<(), Error>,
    caam: Result<(), Error>,
    dcp: Result<(), Error>,
) -> Sources<Fake, Sources<Fake, Sources<Fake, Fake>>> {
    Sources::new(
        fake("tpm", tpm),
        Sources::new(
            fake("tee", tee),
            Sources::new(fake("caam", caam), fake("dcp", dcp)),
        ),
    )
}

#[test]
fn first_present_source_in_probe_order_wins() {
    let mut set = linux_table(Ok(()), Ok(()), Ok(()), Ok(()));
    set.select(None, "default").unwrap();
    assert_eq!(set.name(), "tpm");
    let mut set = linux_table(Err(Error::NoDevice), Err(Error::NoDevice), Ok(()), Ok(()));
    set.select(None, "default").unwrap();
    assert_eq!(set.name(), "caam");
}

#[test]
fn only_no_device_moves_on_any_other_error_stops() {
    let mut set = linux_table(Err(Error::NoDevice), Err(Error::Timeout), Ok(()), Ok(()));
    assert_eq!(set.select(None, "default"), Err(Error::Timeout));
    assert_eq!(set.name(), "none");
    let (_, rest) = set.into_inner();
    let (tee, rest) = rest.into_inner();
    let (caam, _) = rest.into_inner();
    assert_eq!((tee.inits, caam.inits), (1, 0));
}

#[test]
fn nothing_present_is_no_device_and_refuses_to_seal() {
    let mut set = linux_table(
        Err(Error::NoDevice),
        Err(Error::NoDevice),
        Err(Error::NoDevice),
        Err(Error::NoDevice),
    );
    assert_eq!(set.select(None, "default"), Err(Error::NoDevice));
    let key = Key::from_slice(&[1; 32]).unwrap();
    assert_eq!(set.seal(&key, ""), Err(Error::NoDevice));
}

#[test]
fn forced_source_matches_by_prefix_and_skips_the_rest() {
    let mut set = linux_table(Ok(()), Ok(()), Ok(()), Ok(()));
    set.select(Some("dcp"), "default").unwrap();
    assert_eq!(set.name(), "dcp");
    // Linux compares strlen(name) bytes: "caamX" still selects caam.
    set.select(Some("caamX"), "default").unwrap();
    assert_eq!(set.name(), "caam");
    assert_eq!(set.select(Some("ca"), "default"), Err(Error::NoDevice));
    let (tpm, _) = set.into_inner();
    assert_eq!(tpm.inits, 0, "skipped sources are not probed");
}

#[test]
fn forced_source_that_is_absent_does_not_fall_through() {
    let mut set = linux_table(Ok(()), Ok(()), Err(Error::NoDevice), Ok(()));
    assert_eq!(set.select(Some("caam"), "default"), Err(Error::NoDevice));
}

#[test]
fn rng_choice_follows_trusted_rng() {
    // (trusted.rng=, source, whether it has an RNG): the choice.
    let chosen = [
        (("default", "tpm", true), RngChoice::Source),
        (("default", "caam", false), RngChoice::Caller),
        (("kernel", "tpm", true), RngChoice::Caller),
        (("tpm", "tpm", true), RngChoice::Source),
    ];
    for ((rng, source, has_rng), want) in chosen {
        let got = RngChoice::resolve(rng, source, has_rng);
        assert_eq!(got, Ok(want), "{rng:?} for {source}");
    }
    assert!(RngChoice::resolve("caam", "caam", false).is_err());
    assert!(RngChoice::resolve("tee", "tpm", true).is_err());
    assert!(RngChoice::resolve("", "tpm", true).is_err());
}

#[test]
fn invalid_rng_aborts_selection_at_the_first_candidate() {
    let mut set = linux_table(Err(Error::NoDevice), Ok(()), Ok(()), Ok(()));
    assert!(matches!(
        set.select(None, "bogus"),
        Err(Error::InvalidArgument(_))
    ));
    let (tpm, _) = set.into_inner();
    assert_eq!(tpm.inits, 0, "rng is resolved before init, as in Linux");
}

#[test]
fn new_uses_the_chosen_rng_and_load_round_trips() {
    let mut src = fake("tee", Ok(()));
    src.rng = true;
    let made = instantiate(&mut src, RngChoice::Source, &mut BrokenRng, "new 32").unwrap();
    assert_eq!(made.key.as_bytes(), &[0x5a; 32]);
    let made = instantiate(
        &mut src,
        RngChoice::Caller,
        &mut ScriptRng::new(&[7; 32]),
        "new 32 opts",
    )
    .unwrap();
    assert_eq!(made.key.as_bytes(), &[7; 32]);
    assert!(made.blob.as_bytes().starts_with(b"teeopts:"));
    assert_eq!(
        instantiate(&mut src, RngChoice::Caller, &mut BrokenRng, "new 32").unwrap_err(),
        Error::Rng
    );
    let loaded = instantiate(
        &mut src,
        RngChoice::Caller,
        &mut BrokenRng,
        &format!("load {}", made.blob),
    )
    .unwrap();
    assert_eq!(loaded.key, made.key);
}

#[test]
fn update_only_for_migratable_keys() {
    let mut src = fake("tpm", Ok(()));
    let run = |src: &mut Fake, command| {
        instantiate(src, RngChoice::Caller, &mut ScriptRng::new(&[]), command)
    };
    let made = run(&mut src, "new 32").unwrap();
    assert_eq!(
        update(&mut src, &made, "update").unwrap_err(),
        Error::Locked
    );
    src.migratable = true;
    let made = run(&mut src, "new 32").unwrap();
    let resealed = update(&mut src, &made, "update pcrlock=1").unwrap();
    assert_eq!(resealed.key, made.key);
    assert!(resealed.blob.as_bytes().starts_with(b"tpmpcrlock=1:"));
    assert!(update(&mut src, &made, "new 32").is_err());
    assert!(run(&mut src, "update").is_err());
}

//! Figures for `cargo xtask bench` (docs/bench.md), not assertions: SPI
//! bytes per seal and per unseal with and without sessions beside the
//! floor for the same commands, TPM commands per unseal, and the wall time
//! of an unseal here against `tpm2_load` + `tpm2_unseal` on the same swtpm
//! with the same session kind. Ignored by default (it measures time); run
//! with `--ignored --nocapture`. Prints `BENCH <key> <value>` lines.

mod common;

use std::cell::RefCell;
use std::time::{Duration, Instant};

use common::{Counting, swtpm, temp_dir, tpm2_tool};
use hal_tpm_spi::TpmSource;
use hal_tpm_spi::sim::TpmSim;
use hal_tpm_spi::sim::swtpm::SwtpmProcess;
use trusted_core::test_util::ScriptRng;
use trusted_core::{Key, TrustSource};

const OPTS: &str = "keyhandle=0x81000001";
const RUNS: usize = 15;

fn bench(key: &str, value: impl std::fmt::Display) {
    println!("BENCH {key} {value}");
}

/// Bus bytes, floor, command count of one operation.
struct Bus {
    bytes: usize,
    floor: usize,
    commands: usize,
}

type Src<'a> = TpmSource<Counting<common::SpiStack<'a>>, ScriptRng>;

/// What `f` sent: bus bytes, floor, commands.
fn measure(dev: &common::Dev, src: &mut Src<'_>, f: impl FnOnce(&mut Src<'_>)) -> Bus {
    src.driver_mut().transport_mut().clear();
    dev.borrow_mut().reset_stats();
    f(src);
    let t = src.driver_mut().transport_mut();
    Bus {
        bytes: dev.borrow().stats().bytes as usize,
        floor: t.floor(),
        commands: t.commands(),
    }
}

/// Seal and unseal on `p` with the sim's burstCount capped at `burst`,
/// with sessions (`insecure` false) or password sessions: the first seal
/// of a source, a seal, an unseal.
#[allow(clippy::unwrap_used, reason = "a failed set-up fails the bench")]
fn bus_figures(p: &SwtpmProcess, burst: u16, insecure: bool) -> [Bus; 3] {
    let dev: common::Dev = RefCell::new(TpmSim::new(p.connect().unwrap()).with_burst_max(burst));
    let mut src = TpmSource::new(Counting::new(common::spi(&dev)), ScriptRng::counting(0));
    if insecure {
        src = src.allow_insecure();
    }
    src.init().unwrap();
    src.provision_srk(0x8100_0001).unwrap();
    let key = Key::from_slice(&[0x77; 32]).unwrap();
    // The first seal of a source reads the storage key (once per source).
    let first_seal = measure(&dev, &mut src, |s| {
        s.seal(&key, OPTS).unwrap();
    });
    let mut blob = None;
    let seal = measure(&dev, &mut src, |s| blob = Some(s.seal(&key, OPTS).unwrap()));
    let blob = blob.unwrap();
    let unseal = measure(&dev, &mut src, |s| {
        assert_eq!(s.unseal(blob.as_bytes(), "").unwrap(), key);
    });
    [first_seal, seal, unseal]
}

/// A fresh source on a new connection to `p`, initialised.
#[allow(clippy::unwrap_used, reason = "a failed set-up fails the bench")]
fn boot(dev: &common::Dev, seed: u8) -> TpmSource<common::SpiStack<'_>, ScriptRng> {
    let mut src = TpmSource::new(common::spi(dev), ScriptRng::counting(seed));
    src.init().unwrap();
    src
}

#[allow(clippy::indexing_slicing, reason = "never called with no runs")]
fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[test]
#[ignore = "measures; run by cargo xtask bench"]
fn bench_figures() {
    let p = swtpm().unwrap();
    for (burst, tag) in [(64u16, "burst64"), (4096, "burst4096")] {
        for (insecure, mode) in [(false, "sessions"), (true, "password")] {
            let [first, seal, unseal] = bus_figures(&p, burst, insecure);
            for (op, b) in [("first_seal", first), ("seal", seal), ("unseal", unseal)] {
                bench(&format!("{tag}.{mode}.{op}.bytes"), b.bytes);
                bench(&format!("{tag}.{mode}.{op}.floor"), b.floor);
                bench(&format!("{tag}.{mode}.{op}.commands"), b.commands);
            }
        }
    }

    // Wall time: a whole unseal as a boot does it (connect, TIS init,
    // Startup, ReadPublic of the SRK, StartAuthSession, Load, Unseal,
    // FlushContext) against tpm2-tools with a salted HMAC session on the
    // same swtpm.
    let key = Key::from_slice(&[0x5a; 32]).unwrap();
    let blob = {
        let dev: common::Dev = common::device(&p).unwrap();
        boot(&dev, 0).seal(&key, OPTS).unwrap()
    };
    let mut ours = Vec::new();
    for i in 0..RUNS {
        let start = Instant::now();
        let dev: common::Dev = common::device(&p).unwrap();
        let got = boot(&dev, i as u8).unseal(blob.as_bytes(), "").unwrap();
        ours.push(start.elapsed());
        assert_eq!(got, key);
    }
    let dir = temp_dir("bench").unwrap();
    let tcti = p.tcti();
    let tool = |args: &[&str]| tpm2_tool(&tcti, &dir, args).unwrap();
    let mut tools = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        let out = common::tools_unseal_in_hmac_session(&tcti, &dir, blob.as_bytes(), "k").unwrap();
        tools.push(start.elapsed());
        assert_eq!(out, key.as_bytes());
        tool(&["tpm2_flushcontext", "s.ctx"]);
        tool(&["tpm2_flushcontext", "-t"]);
    }
    std::fs::remove_dir_all(dir).unwrap();
    bench("wall.runs", RUNS);
    bench("wall.ours_us", median(ours).as_micros());
    bench("wall.tools_us", median(tools).as_micros());
}

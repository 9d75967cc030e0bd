fn main() {
    // i.MX6ULL DDR, where QEMU's mcimx6ul-evk has its RAM.
    println!("cargo:rustc-link-arg-bins=--defsym=RAM_ORIGIN=0x80000000");
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    if std::env::var_os("CARGO_FEATURE_SIM").is_some()
        == std::env::var_os("CARGO_FEATURE_HW").is_some()
    {
        println!(
            "cargo:warning=imx6ull-dcp: enable exactly one of the features `sim` and `hw` (use --no-default-features --features hw for hardware)"
        );
    }
}

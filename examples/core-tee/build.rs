fn main() {
    // RAM where QEMU has it: i.MX6UL DDR for armv7a (mcimx6ul-evk), the
    // virt machine's RAM (as i.MX8M DDR) for aarch64.
    // M-profile (thumbv7em on mps2-an386): the vector table and the whole
    // image in the 4 MiB SSRAM at 0x0, where the core fetches its reset
    // vector.
    let mclass = std::env::var("CARGO_CFG_TARGET_FEATURE")
        .is_ok_and(|f| f.split(',').any(|f| f == "mclass"));
    let origin = match std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() {
        Ok("aarch64") => "0x40080000",
        _ if mclass => "0x00000000",
        _ => "0x80000000",
    };
    println!("cargo:rustc-link-arg-bins=--defsym=RAM_ORIGIN={origin}");
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
}

fn main() {
    // RAM where QEMU has it: i.MX6UL DDR for armv7a (mcimx6ul-evk), the
    // virt machine's RAM (as i.MX8M DDR) for aarch64.
    let origin = match std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() {
        Ok("aarch64") => "0x40080000",
        _ => "0x80000000",
    };
    println!("cargo:rustc-link-arg-bins=--defsym=RAM_ORIGIN={origin}");
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
}

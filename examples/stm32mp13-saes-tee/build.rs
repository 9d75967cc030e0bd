fn main() {
    // STM32MP13 DDR starts at 0xC000_0000; QEMU's stand-in machine
    // (mcimx7d-sabre with -m 2G: DDR 0x8000_0000..0xFFFF_FFFF) has RAM there.
    println!("cargo:rustc-link-arg-bins=--defsym=RAM_ORIGIN=0xC0000000");
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
}

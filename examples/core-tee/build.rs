fn main() {
    // i.MX6UL DDR base, where QEMU's mcimx6ul-evk has its RAM.
    println!("cargo:rustc-link-arg-bins=--defsym=RAM_ORIGIN=0x80000000");
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
}

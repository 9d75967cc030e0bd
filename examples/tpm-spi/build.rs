fn main() {
    // QEMU virt's RAM, above the DTB QEMU places at its start.
    println!("cargo:rustc-link-arg-bins=--defsym=RAM_ORIGIN=0x40080000");
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
}

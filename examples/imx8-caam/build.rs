fn main() {
    // QEMU virt's RAM (standing in for i.MX8M DDR at 0x4000_0000), above
    // the DTB QEMU places at its start.
    println!("cargo:rustc-link-arg-bins=--defsym=RAM_ORIGIN=0x40080000");
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
}

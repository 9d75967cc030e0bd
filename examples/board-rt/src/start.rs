//! Reset entry for QEMU's `-kernel` loader on ARMv7-A and AArch64: park the
//! other cores, set the stack, enable the FPU (the hard-float targets use it),
//! clear .bss, call the example's `main`. On M-profile (thumbv7em, QEMU's
//! `mps2-an386`) the same steps start from a vector table at the image's
//! base (link it at 0x0); a fault exits QEMU with code 134. Plus a
//! single-core critical section that masks IRQs.
//!
//! The ARMv7-A entry is A32 code (`.arm`) also in the Thumb-2 build
//! (thumbv7a), since QEMU and boot ROMs enter in ARM state; the linker
//! turns its `bl main` into the interworking `blx`.
//!
//! On real hardware a bootloader has done this already; also enable the MMU
//! there before general Rust code (unaligned accesses fault with it off).

#[cfg(all(target_arch = "arm", not(target_feature = "mclass")))]
core::arch::global_asm!(
    r#"
    .section .text._start, "ax"
    .arm
    .global _start
    .type _start, %function
_start:
    mrc   p15, 0, r0, c0, c0, 5
    ands  r0, r0, #3
    bne   2f
    ldr   sp, =__stack_top
    mrc   p15, 0, r0, c1, c0, 2
    orr   r0, r0, #(0xf << 20)
    mcr   p15, 0, r0, c1, c0, 2
    isb
    mov   r0, #0x40000000
    vmsr  fpexc, r0
    ldr   r0, =__bss_start
    ldr   r1, =__bss_end
    mov   r2, #0
1:  cmp   r0, r1
    strlo r2, [r0], #4
    blo   1b
    bl    main
2:  wfe
    b     2b
"#
);

// ARMv7E-M: the initial stack pointer and the reset vector are read from
// the vector table at VTOR = 0 (the image base), so `_start` is the table.
// Reset enables the FPU (CPACR CP10/CP11, Armv7-M ARM B3.2.20), clears
// .bss and calls `main`; every exception goes to `__board_rt_fault`.
#[cfg(target_feature = "mclass")]
core::arch::global_asm!(
    r#"
    .section .text._start, "ax"
    .global _start
    .p2align 2
_start:
    .word __stack_top
    .word __board_rt_reset
    .word __board_rt_fault
    .word __board_rt_fault
    .word __board_rt_fault
    .word __board_rt_fault
    .word __board_rt_fault
    .word 0, 0, 0, 0
    .word __board_rt_fault
    .word __board_rt_fault
    .word 0
    .word __board_rt_fault
    .word __board_rt_fault

    .thumb_func
    .type __board_rt_reset, %function
__board_rt_reset:
    ldr   r0, =0xE000ED88
    ldr   r1, [r0]
    orr   r1, r1, #(0xf << 20)
    str   r1, [r0]
    dsb
    isb
    ldr   r0, =__bss_start
    ldr   r1, =__bss_end
    movs  r2, #0
1:  cmp   r0, r1
    bhs   2f
    str   r2, [r0], #4
    b     1b
2:  bl    main
3:  b     3b
"#
);

/// Any exception on M-profile (HardFault and the rest): nothing here
/// expects one, so report it and end the run with a non-zero exit.
#[cfg(target_feature = "mclass")]
#[unsafe(no_mangle)]
extern "C" fn __board_rt_fault() -> ! {
    crate::out::write(b"board-rt: unexpected exception\n");
    crate::exit(134)
}

#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    r#"
    .section .text._start, "ax"
    .global _start
_start:
    mrs   x0, mpidr_el1
    and   x0, x0, #3
    cbnz  x0, 2f
    ldr   x0, =__stack_top
    mov   sp, x0
    mov   x0, #(3 << 20)
    msr   cpacr_el1, x0
    isb
    ldr   x0, =__bss_start
    ldr   x1, =__bss_end
1:  cmp   x0, x1
    b.hs  3f
    str   xzr, [x0], #8
    b     1b
3:  bl    main
2:  wfe
    b     2b
"#
);

struct IrqMask;
critical_section::set_impl!(IrqMask);

// SAFETY: single core; masking IRQs excludes every other context, and the
// saved state is restored exactly as it was.
unsafe impl critical_section::Impl for IrqMask {
    unsafe fn acquire() -> u32 {
        let state: u32;
        #[cfg(target_feature = "mclass")]
        // SAFETY: reads PRIMASK and sets it; no memory is touched.
        unsafe {
            core::arch::asm!("mrs {0}, PRIMASK", "cpsid i", out(reg) state, options(nomem, nostack, preserves_flags));
        }
        #[cfg(all(target_arch = "arm", not(target_feature = "mclass")))]
        // SAFETY: reads CPSR and sets the I bit; no memory is touched.
        unsafe {
            core::arch::asm!("mrs {0}, cpsr", "cpsid i", out(reg) state, options(nomem, nostack, preserves_flags));
        }
        #[cfg(target_arch = "aarch64")]
        // SAFETY: reads DAIF and masks IRQs; no memory is touched.
        unsafe {
            let daif: u64;
            core::arch::asm!("mrs {0}, daif", "msr daifset, #2", out(reg) daif, options(nomem, nostack, preserves_flags));
            state = daif as u32;
        }
        state
    }

    unsafe fn release(state: u32) {
        #[cfg(target_feature = "mclass")]
        // SAFETY: restores PRIMASK.PM saved by `acquire`.
        unsafe {
            if state & 1 == 0 {
                core::arch::asm!("cpsie i", options(nomem, nostack, preserves_flags));
            }
        }
        #[cfg(all(target_arch = "arm", not(target_feature = "mclass")))]
        // SAFETY: restores the I bit saved by `acquire`.
        unsafe {
            if state & 0x80 == 0 {
                core::arch::asm!("cpsie i", options(nomem, nostack, preserves_flags));
            }
        }
        #[cfg(target_arch = "aarch64")]
        // SAFETY: restores the DAIF value saved by `acquire`.
        unsafe {
            core::arch::asm!("msr daif, {0}", in(reg) u64::from(state), options(nomem, nostack, preserves_flags));
        }
    }
}

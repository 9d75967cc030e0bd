/* Reset entry for QEMU's -kernel loader on the i.MX6UL(L) Cortex-A7: park
 * other cores, set the stack, enable the FPU (the library is built for the
 * hard-float armv7a-none-eabihf target and may use VFP registers), clear
 * .bss, run main, exit through semihosting with its return value.
 *
 * On a board U-Boot (or the boot ROM and SPL) has done all of this: this
 * file is only what QEMU needs. */
    .syntax unified
    .arm
    .section .text.start, "ax"
    .global _start
_start:
    mrc     p15, 0, r0, c0, c0, 5       /* MPIDR: core number */
    ands    r0, r0, #3
    bne     park
    ldr     sp, =__stack_top
    mrc     p15, 0, r0, c1, c0, 2       /* CPACR: cp10, cp11 full access */
    orr     r0, r0, #(0xf << 20)
    mcr     p15, 0, r0, c1, c0, 2
    isb
    mov     r0, #0x40000000             /* FPEXC.EN */
    vmsr    fpexc, r0
    ldr     r0, =__bss_start
    ldr     r1, =__bss_end
    mov     r2, #0
1:  cmp     r0, r1
    strlo   r2, [r0], #4
    blo     1b
    bl      main
    bl      semihost_exit               /* never returns */
park:
    wfe
    b       park

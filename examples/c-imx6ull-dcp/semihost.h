/* Semihosting output and exit: the example's only I/O under QEMU
 * (-semihosting-config enable=on). A board prints through its console
 * (U-Boot: printf) instead. */
#ifndef SEMIHOST_H
#define SEMIHOST_H

#include <stdint.h>

void semihost_puts(const char *s);
void semihost_put_int(long v);
void semihost_put_hex(const uint8_t *bytes, unsigned len);
void semihost_exit(int code) __attribute__((noreturn));

#endif

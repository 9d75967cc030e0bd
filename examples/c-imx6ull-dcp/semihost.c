#include "semihost.h"

#define SYS_OPEN 0x01
#define SYS_WRITE 0x05
#define SYS_EXIT 0x18
#define SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026
#define ADP_STOPPED_RUN_TIME_ERROR 0x20023

/* ARM state: SVC 0x123456 (the ARM semihosting specification). */
static int semihost_call(int op, const void *arg)
{
	register int r0 __asm__("r0") = op;
	register const void *r1 __asm__("r1") = arg;
	__asm__ volatile("svc 0x123456" : "+r"(r0) : "r"(r1) : "memory");
	return r0;
}

/* The host's stdout: ":tt" opened for writing ("w", mode 4), as the Rust
 * semihosting crate does; SYS_WRITE0 would go to QEMU's console instead
 * (stderr), where cargo xtask does not look for the PASS line. */
static int semihost_stdout(void)
{
	static int handle = -1;
	static const char tt[] = ":tt";
	uint32_t block[3] = { (uint32_t)(uintptr_t)tt, 4, sizeof(tt) - 1 };

	if (handle < 0)
		handle = semihost_call(SYS_OPEN, block);
	return handle;
}

void semihost_puts(const char *s)
{
	uint32_t block[3];
	const char *end = s;

	while (*end)
		end++;
	block[0] = (uint32_t)semihost_stdout();
	block[1] = (uint32_t)(uintptr_t)s;
	block[2] = (uint32_t)(end - s);
	semihost_call(SYS_WRITE, block);
}

void semihost_put_int(long v)
{
	char buf[24];
	char *p = buf + sizeof(buf) - 1;
	unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;

	*p = '\0';
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	semihost_puts(p);
}

void semihost_put_hex(const uint8_t *bytes, unsigned len)
{
	static const char digits[] = "0123456789abcdef";
	char buf[2 * 16 + 1];

	while (len) {
		unsigned n = len < 16 ? len : 16, i;

		for (i = 0; i < n; i++) {
			buf[2 * i] = digits[bytes[i] >> 4];
			buf[2 * i + 1] = digits[bytes[i] & 15];
		}
		buf[2 * n] = '\0';
		semihost_puts(buf);
		bytes += n;
		len -= n;
	}
}

void semihost_exit(int code)
{
	/* SYS_EXIT_EXTENDED carries the exit code (QEMU 7.2 has it on
	 * AArch32); plain SYS_EXIT only tells success from failure. */
	uint32_t block[2] = { ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code };

	semihost_call(SYS_EXIT_EXTENDED, block);
	semihost_call(SYS_EXIT, (const void *)(uintptr_t)(code == 0 ?
		ADP_STOPPED_APPLICATION_EXIT : ADP_STOPPED_RUN_TIME_ERROR));
	for (;;)
		;
}

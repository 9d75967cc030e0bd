#include "board.h"

uint8_t board_dcp_dma[1024] __attribute__((aligned(64)));

void board_udelay(void *user, uint32_t us)
{
	/* The DCP model completes at once. On hardware: udelay(us), or a
	 * GPT-based wait; never shorter than asked. */
	(void)user;
	(void)us;
}

/* NOT random: a deterministic xorshift so QEMU runs repeat. A real
 * bootloader reads its TRNG here (i.MX6ULL RNGB, or the CAAM RNG where
 * the SoC has one) and returns non-zero if it fails. */
int32_t board_random(void *user, uint8_t *buf, size_t len)
{
	static uint64_t state = 0x6011c0ffee;
	size_t i;

	(void)user;
	for (i = 0; i < len; i++) {
		state ^= state >> 12;
		state ^= state << 25;
		state ^= state >> 27;
		buf[i] = (uint8_t)((state * 0x2545f4914f6cdd1dull) >> 56);
	}
	return 0;
}

/* Caches are off under QEMU (MMU off at reset), so nothing to do. With
 * caches on (U-Boot enables the D-cache on i.MX6): flush_dcache_range(
 * addr, addr + len) and invalidate_dcache_range(addr, addr + len), on
 * cache-line aligned bounds (the DMA region is 64-byte aligned). */
void board_cache_clean(void *user, size_t addr, size_t len)
{
	(void)user;
	(void)addr;
	(void)len;
}

void board_cache_invalidate(void *user, size_t addr, size_t len)
{
	(void)user;
	(void)addr;
	(void)len;
}

tk_dcp_config board_dcp_config(void)
{
	tk_dcp_config cfg = {
		.size = sizeof(tk_dcp_config),
		.version = TK_CONFIG_VERSION,
		.regs = BOARD_DCP_BASE,
		.dma = {
			.cpu = board_dcp_dma,
			.len = sizeof(board_dcp_dma),
			/* MMU off (or an identity map): bus address = CPU address. */
			.bus = (uintptr_t)board_dcp_dma,
			.clean = board_cache_clean,
			.invalidate = board_cache_invalidate,
		},
		.platform = {
			.user = NULL,
			.delay_us = board_udelay,
			.random = board_random,
		},
		.sealing_key = TK_DCP_KEY_UNIQUE,
	};
	return cfg;
}

/* 4 KiB of RAM standing in for NOR flash: LE16 length, then the blob;
 * an erased length (0xFFFF) means empty. It survives the "reboot" (the
 * contexts are deinitialised and initialised again), as flash does. */
static uint8_t flash[4096];

void blob_store_erase(void)
{
	size_t i;

	for (i = 0; i < sizeof(flash); i++)
		flash[i] = 0xff;
}

int blob_store_read(uint8_t *blob, size_t *len)
{
	size_t n = (size_t)flash[0] | (size_t)flash[1] << 8, i;

	if (n == 0xffff)
		return 0;
	if (n > *len || n > sizeof(flash) - 2)
		return -1;
	for (i = 0; i < n; i++)
		blob[i] = flash[2 + i];
	*len = n;
	return 1;
}

void blob_store_write(const uint8_t *blob, size_t len)
{
	size_t i;

	blob_store_erase();
	flash[0] = (uint8_t)len;
	flash[1] = (uint8_t)(len >> 8);
	for (i = 0; i < len && i < sizeof(flash) - 2; i++)
		flash[2 + i] = blob[i];
}

#include "board.h"

uint8_t board_dcp_dma[1024] __attribute__((aligned(64)));

void board_udelay(void *user, uint32_t us)
{
	/* The DCP model completes at once. On hardware: udelay(us), or a
	 * GPT-based wait; never shorter than asked. */
	(void)user;
	(void)us;
}

/* The i.MX6ULL RNGB through the library (tk_rngb_*): the SoC's TRNG,
 * self-tested and seeded by board_rng_init() before the first key. In
 * the sim build (QEMU has no RNGB) the library's RNGB model stands in:
 * its stream is a function of a fixed seed, a model and not entropy; on
 * hardware the same calls read the RNGB at TK_RNGB_BASE_IMX6ULL. In
 * U-Boot, dm_rng_read() on the RNGB driver does the same job. */
static tk_rngb_ctx rngb;

int board_rng_init(void)
{
	tk_rngb_config cfg = {
		.size = sizeof(tk_rngb_config),
		.version = TK_CONFIG_VERSION,
		.regs = (void *)TK_RNGB_BASE_IMX6ULL,
		.platform = { .user = NULL, .delay_us = board_udelay },
	};

	return tk_rngb_init(&rngb, &cfg);
}

/* Non-zero when the RNGB fails: the library then fails the seal rather
 * than use bytes that are not random. */
int32_t board_random(void *user, uint8_t *buf, size_t len)
{
	(void)user;
	return tk_rngb_random(&rngb, buf, len) == TK_OK ? 0 : -1;
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

/* What the library needs from the board, and the blob store. Under QEMU
 * these are stand-ins; in U-Boot they map to udelay(), the RNG uclass
 * (dm_rng_read on the i.MX6ULL RNGB or CAAM), flush_dcache_range /
 * invalidate_dcache_range, and env, MMC or SPI flash for the blob. */
#ifndef BOARD_H
#define BOARD_H

#include <stddef.h>
#include <stdint.h>

#include "trusted_keys.h"

/* DCP register base on i.MX6ULL (0x020F_C000 on i.MX6SL/SLL). */
#define BOARD_DCP_BASE ((void *)0x02280000)

/* Self-tests and seeds the RNGB board_random() reads; TK_OK or the
 * library's error code. Once per boot, before the first key. */
int board_rng_init(void);

/* The callbacks, with the signatures trusted_keys.h declares. */
void board_udelay(void *user, uint32_t us);
int32_t board_random(void *user, uint8_t *buf, size_t len);
void board_cache_clean(void *user, size_t addr, size_t len);
void board_cache_invalidate(void *user, size_t addr, size_t len);

/* The DCP's DMA region: 1 KiB, 64-byte aligned (a cache line). */
extern uint8_t board_dcp_dma[1024];

/* A config for the DCP on this board; the example edits copies of it
 * for its bad-input checks. */
tk_dcp_config board_dcp_config(void);

/* The blob store: one blob at the start of a (RAM-backed) flash. */
int blob_store_read(uint8_t *blob, size_t *len); /* 1: found, 0: empty */
void blob_store_write(const uint8_t *blob, size_t len);
void blob_store_erase(void);

#endif

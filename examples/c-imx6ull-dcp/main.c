/* i.MX6ULL firmware in plain C on the trusted-keys static library: the
 * bootloader flow twice on the DCP, as the Rust imx6ull-dcp example does,
 * then every bad input of the C ABI checked for its error code.
 *
 * 1. Linux trusted.source=dcp blob (tk_dcp_*, UNIQUE key); the DCP has no
 *    RNG, so the key, blob key and nonce come from board_random(): the
 *    SoC's RNGB through tk_rngb_*.
 * 2. Linux trusted.source=tee blob over OP-TEE's DCP HUK (tk_dcp_huk, then
 *    tk_tee_*).
 *
 * Built against the staticlib with feature dcp-sim (QEMU has no DCP: the
 * library's DCP model stands in, with a demo UNIQUE key). Exits 0 only
 * when both keys match and every check gave the expected code. */
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "semihost.h"
#include "trusted_keys.h"

#define NAME "c-imx6ull-dcp"
#define KEY_LEN 32

/* Contexts are caller storage: static, so zero before the first init. */
static tk_dcp_ctx dcp;
static tk_dcp_ctx dcp_other;
static tk_tee_ctx tee;

static void say(const char *a, const char *b)
{
	semihost_puts(a);
	semihost_puts(b);
	semihost_puts("\n");
}

/* Non-zero rc: print the call and the library's text for the code. */
static int failed(const char *call, int rc)
{
	if (rc == TK_OK)
		return 0;
	semihost_puts(call);
	semihost_puts(" failed: ");
	semihost_put_int(rc);
	say(" ", tk_strerror(rc));
	return 1;
}

/* Compares without an early exit, so timing tells nothing of the key. */
static int keys_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t diff = 0;
	size_t i;

	for (i = 0; i < n; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

/* ---- 1. trusted_dcp blob ------------------------------------------ */

static int dcp_first_boot(uint8_t key[KEY_LEN])
{
	tk_dcp_config cfg = board_dcp_config();
	uint8_t blob[TK_MAX_BLOB_SIZE];
	size_t blob_len = sizeof(blob);
	int rc;

	if (failed("tk_dcp_init", tk_dcp_init(&dcp, &cfg)))
		return 1;
	/* The DCP has no RNG: the new key comes from the board's. */
	if (board_random(NULL, key, KEY_LEN) != 0)
		return 1;
	say("boot 1: new 32-byte key", "");
	rc = tk_dcp_seal(&dcp, key, KEY_LEN, blob, &blob_len);
	if (failed("tk_dcp_seal", rc))
		return 1;
	semihost_puts("boot 1: sealed with dcp: ");
	semihost_put_int((long)blob_len);
	say(" bytes: ", "");
	semihost_put_hex(blob, (unsigned)blob_len);
	say("", "");
	blob_store_write(blob, blob_len);
	say("boot 1: blob written to flash", "");
	return failed("tk_dcp_deinit", tk_dcp_deinit(&dcp));
}

static int dcp_second_boot(const uint8_t key[KEY_LEN])
{
	tk_dcp_config cfg = board_dcp_config();
	uint8_t blob[TK_MAX_BLOB_SIZE], out[TK_MAX_KEY_SIZE];
	size_t blob_len = sizeof(blob), out_len = sizeof(out);
	int match;

	if (failed("tk_dcp_init", tk_dcp_init(&dcp, &cfg)))
		return 1;
	if (blob_store_read(blob, &blob_len) != 1)
		return 1;
	semihost_puts("boot 2: blob read from flash: ");
	semihost_put_int((long)blob_len);
	say(" bytes", "");
	if (failed("tk_dcp_unseal", tk_dcp_unseal(&dcp, blob, blob_len, out, &out_len)))
		return 1;
	match = out_len == KEY_LEN && keys_equal(out, key, KEY_LEN);
	tk_key_wipe(out, sizeof(out));
	say(match ? "boot 2: key matches" : "boot 2: MISMATCH", "");
	return failed("tk_dcp_deinit", tk_dcp_deinit(&dcp)) || !match;
}

/* ---- 2. TEE blob over the DCP HUK ---------------------------------- */

/* What a boot does before it seals or unseals TEE blobs: the DCP HUK
 * (derived once per power cycle), then a TEE context keyed with it. */
static int tee_boot(void)
{
	tk_dcp_config cfg = board_dcp_config();
	tk_tee_config tee_cfg = {
		.size = sizeof(tk_tee_config),
		.version = TK_CONFIG_VERSION,
		.platform = { .user = NULL, .random = board_random },
	};
	size_t huk_len = sizeof(tee_cfg.huk);
	int rc;

	if (failed("tk_dcp_init", tk_dcp_init(&dcp, &cfg)))
		return 1;
	if (failed("tk_dcp_huk", tk_dcp_huk(&dcp, tee_cfg.huk, &huk_len)))
		return 1;
	rc = tk_tee_init(&tee, &tee_cfg);
	/* The context keeps its own copy. */
	tk_key_wipe(tee_cfg.huk, sizeof(tee_cfg.huk));
	return failed("tk_tee_init", rc);
}

static int tee_shutdown(void)
{
	return failed("tk_tee_deinit", tk_tee_deinit(&tee)) ||
	       failed("tk_dcp_deinit", tk_dcp_deinit(&dcp));
}

static int tee_flow(void)
{
	uint8_t key[KEY_LEN], blob[TK_MAX_BLOB_SIZE], out[TK_MAX_KEY_SIZE];
	size_t blob_len = sizeof(blob), out_len = sizeof(out);
	int match;

	blob_store_erase();
	if (tee_boot())
		return 1;
	say("boot 1: DCP HUK derived, TEE context keyed with it", "");
	if (board_random(NULL, key, KEY_LEN) != 0)
		return 1;
	if (failed("tk_tee_seal", tk_tee_seal(&tee, key, KEY_LEN, blob, &blob_len)))
		return 1;
	semihost_puts("boot 1: sealed with tee: ");
	semihost_put_int((long)blob_len);
	say(" bytes", "");
	blob_store_write(blob, blob_len);
	if (tee_shutdown())
		return 1;

	say("reboot: contexts deinitialised and initialised again", "");
	blob_len = sizeof(blob);
	if (tee_boot() || blob_store_read(blob, &blob_len) != 1)
		return 1;
	if (failed("tk_tee_unseal", tk_tee_unseal(&tee, blob, blob_len, out, &out_len)))
		return 1;
	match = out_len == KEY_LEN && keys_equal(out, key, KEY_LEN);
	tk_key_wipe(out, sizeof(out));
	tk_key_wipe(key, sizeof(key));
	say(match ? "boot 2: key matches" : "boot 2: MISMATCH", "");
	return tee_shutdown() || !match;
}

/* ---- 3. bad input: each a distinct code, never undefined behaviour -- */

static int bad;

static void expect(const char *what, int got, int want)
{
	semihost_puts("check ");
	semihost_puts(what);
	semihost_puts(": ");
	semihost_put_int(got);
	if (got == want) {
		say(" ok", "");
		return;
	}
	semihost_puts(" WRONG, want ");
	semihost_put_int(want);
	say("", "");
	bad++;
}

static void bad_input(void)
{
	tk_dcp_config good = board_dcp_config(), cfg;
	uint8_t key[KEY_LEN] = { 1 }, blob[TK_MAX_BLOB_SIZE], out[TK_MAX_KEY_SIZE];
	size_t blob_len, out_len, i;
	int zeroed = 1;

	expect("abi version", (int)tk_abi_version(), TK_ABI_VERSION);
	expect("init NULL ctx", tk_dcp_init(NULL, &good), TK_E_NULL);
	expect("init NULL config", tk_dcp_init(&dcp, NULL), TK_E_NULL);
	cfg = good;
	cfg.version = TK_CONFIG_VERSION + 1;
	expect("config from a future version", tk_dcp_init(&dcp, &cfg), TK_E_CONFIG_VERSION);
	cfg = good;
	cfg.size = sizeof(cfg) - 4;
	expect("config size", tk_dcp_init(&dcp, &cfg), TK_E_CONFIG_SIZE);
	cfg = good;
	cfg.regs = NULL;
	expect("NULL register base", tk_dcp_init(&dcp, &cfg), TK_E_NULL);
	cfg = good;
	cfg.platform.random = NULL;
	expect("no random callback", tk_dcp_init(&dcp, &cfg), TK_E_NULL);
	cfg = good;
	cfg.dma.cpu = board_dcp_dma + 2;
	cfg.dma.bus += 2;
	cfg.dma.len -= 2;
	expect("misaligned DMA region", tk_dcp_init(&dcp, &cfg), TK_E_ALIGN);
	cfg = good;
	cfg.dma.len = TK_DCP_MIN_DMA_LEN - 4;
	expect("DMA region too small", tk_dcp_init(&dcp, &cfg), TK_E_DMA_SIZE);

	blob_len = sizeof(blob);
	expect("seal before init", tk_dcp_seal(&dcp, key, KEY_LEN, blob, &blob_len), TK_E_NOT_INIT);
	expect("init", tk_dcp_init(&dcp, &good), TK_OK);
	expect("second init, same context", tk_dcp_init(&dcp, &good), TK_E_BUSY);
	expect("second init, DCP held", tk_dcp_init(&dcp_other, &good), TK_E_BUSY);

	blob_len = 10;
	expect("blob buffer too short", tk_dcp_seal(&dcp, key, KEY_LEN, blob, &blob_len),
	       TK_E_BUFFER_TOO_SMALL);
	expect("needed length written back", (int)blob_len, KEY_LEN + TK_DCP_BLOB_OVERHEAD);
	expect("NULL key", tk_dcp_seal(&dcp, NULL, KEY_LEN, blob, &blob_len), TK_E_NULL);
	expect("NULL length", tk_dcp_seal(&dcp, key, KEY_LEN, blob, NULL), TK_E_NULL);
	expect("key too short", tk_dcp_seal(&dcp, key, 16, blob, &blob_len), TK_E_KEY_LENGTH);

	blob_len = sizeof(blob);
	expect("seal", tk_dcp_seal(&dcp, key, KEY_LEN, blob, &blob_len), TK_OK);
	out_len = KEY_LEN - 1;
	expect("key buffer too short", tk_dcp_unseal(&dcp, blob, blob_len, out, &out_len),
	       TK_E_BUFFER_TOO_SMALL);
	blob[blob_len - 1] ^= 1;
	for (i = 0; i < sizeof(out); i++)
		out[i] = 0xa5;
	out_len = sizeof(out);
	expect("tampered blob", tk_dcp_unseal(&dcp, blob, blob_len, out, &out_len), TK_E_AUTH);
	for (i = 0; i < sizeof(out); i++)
		zeroed &= out[i] == 0;
	expect("key buffer zeroed after a failure", zeroed && out_len == 0, 1);
	expect("blob too long", tk_dcp_unseal(&dcp, blob, TK_MAX_BLOB_SIZE + 1, out, &out_len),
	       TK_E_BLOB_LENGTH);

	expect("deinit", tk_dcp_deinit(&dcp), TK_OK);
	expect("deinit again", tk_dcp_deinit(&dcp), TK_E_NOT_INIT);
	expect("wipe NULL", tk_key_wipe(NULL, 4), TK_E_NULL);
	expect("strerror of an unknown code is text", tk_strerror(-1000)[0] != '\0', 1);
}

int main(void)
{
	uint8_t key[KEY_LEN];
	int dcp_rc, tee_rc;

	say(NAME ": i.MX6ULL DCP from C, DCP and RNGB models (sim)", "");
	if (failed("tk_rngb_init", board_rng_init()))
		return 1;
	say("rngb: self test passed, seeded", "");

	say("== Linux trusted_dcp blob (tk_dcp_*, UNIQUE key) ==", "");
	blob_store_erase();
	say("boot 1: reading blob store", "");
	{
		uint8_t probe[TK_MAX_BLOB_SIZE];
		size_t n = sizeof(probe);

		if (blob_store_read(probe, &n) != 0)
			return 1;
	}
	say("boot 1: store empty: first boot", "");
	dcp_rc = dcp_first_boot(key);
	if (!dcp_rc) {
		say("reboot: contexts deinitialised and initialised again", "");
		dcp_rc = dcp_second_boot(key);
	}
	tk_key_wipe(key, sizeof(key));
	say(dcp_rc ? "dcp blob: FAIL" : "dcp blob: PASS", "");

	say("== TEE blob over OP-TEE's DCP HUK (tk_dcp_huk + tk_tee_*) ==", "");
	tee_rc = tee_flow();
	say(tee_rc ? "tee blob (DCP HUK): FAIL" : "tee blob (DCP HUK): PASS", "");

	say("== bad input ==", "");
	bad_input();

	if (dcp_rc || tee_rc || bad) {
		say(NAME ": FAIL", "");
		return 1;
	}
	say(NAME ": PASS", "");
	return 0;
}

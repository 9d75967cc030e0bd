/* Size probe: the C image with one backend's calls (or none, or all), so
 * the library's share of .text per backend is the difference to
 * probe-none. The config comes from a volatile pointer so nothing is
 * folded away; the image is linked, never run. */
#include <stddef.h>
#include <stdint.h>

#include "semihost.h"
#include "trusted_keys.h"

#if defined(PROBE_ALL)
#define PROBE_DCP
#define PROBE_CAAM
#define PROBE_TPM
#define PROBE_STM32MP1
#define PROBE_TEE
#endif

#define UNUSED __attribute__((unused)) /* in probe-none */
static uint8_t key[32], blob[TK_MAX_BLOB_SIZE] UNUSED, huk[TK_HUK_LEN] UNUSED;
static size_t len UNUSED;
static void *volatile config UNUSED;

#define USE(prefix, ctx_type, cfg_type)                                         \
	do {                                                                    \
		static ctx_type ctx;                                            \
		rc |= prefix##_init(&ctx, (const cfg_type *)config);            \
		len = sizeof(blob);                                             \
		rc |= prefix##_seal(&ctx, key, sizeof(key), blob, &len);        \
		len = sizeof(key);                                              \
		rc |= prefix##_unseal(&ctx, blob, sizeof(blob), key, &len);     \
		rc |= prefix##_deinit(&ctx);                                    \
	} while (0)

int main(void)
{
	int rc = 0;

#ifdef PROBE_DCP
	USE(tk_dcp, tk_dcp_ctx, tk_dcp_config);
	{
		static tk_dcp_ctx ctx;
		len = sizeof(huk);
		rc |= tk_dcp_huk(&ctx, huk, &len);
	}
#endif
#ifdef PROBE_CAAM
	USE(tk_caam, tk_caam_ctx, tk_caam_config);
	{
		static tk_caam_ctx ctx;
		len = sizeof(huk);
		rc |= tk_caam_huk(&ctx, huk, &len);
		rc |= tk_caam_random(&ctx, key, sizeof(key));
	}
#endif
#ifdef PROBE_TPM
	{
		static tk_tpm_ctx ctx;
		rc |= tk_tpm_init(&ctx, (const tk_tpm_config *)config);
		len = sizeof(blob);
		rc |= tk_tpm_seal(&ctx, key, sizeof(key), "keyhandle=0x81000001", blob, &len);
		len = sizeof(key);
		rc |= tk_tpm_unseal(&ctx, blob, sizeof(blob), NULL, key, &len);
		rc |= tk_tpm_random(&ctx, key, sizeof(key));
		rc |= tk_tpm_deinit(&ctx);
	}
#endif
#ifdef PROBE_STM32MP1
	USE(tk_stm32mp1, tk_stm32mp1_ctx, tk_stm32mp1_config);
	{
		static tk_stm32mp1_ctx ctx;
		len = sizeof(huk);
		rc |= tk_stm32mp1_huk(&ctx, huk, &len);
	}
#endif
#ifdef PROBE_TEE
	USE(tk_tee, tk_tee_ctx, tk_tee_config);
#endif
	rc |= tk_key_wipe(key, sizeof(key));
	semihost_puts(rc ? tk_strerror(rc) : "ok");
	return rc;
}

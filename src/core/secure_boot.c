/* Secure Boot V2's first boot on the ESP32: the bootloader's key digest burnt into eFuse. */
#include "ota/ota_boot.h"
#include "ota/ota_sig.h"

#include <string.h>

#define TAG "secure_boot_v2"

/* The bootloader's own blocks: their key digests in d[0..*n), and block 0's signature checked
 * against the bootloader's digest with the key it carries. */
static int bootloader_digests(const ota_boot_env_t *env, const ota_boot_cfg_t *cfg,
                              uint32_t bl_offset, uint32_t region, uint8_t d[3][32], int *n)
{
    int err = ota_sig_image_key_digests(env->flash, env->crypto, bl_offset, cfg->secure_boot_v2,
                                        env->log, d, n);
    if (err != OTA_OK || *n == 0) {
        return err == OTA_ERR_NOT_FOUND || err == OTA_ERR_CORRUPT ? OTA_ERR_CORRUPT : err;
    }
    ota_sig_trust_t trust = {.scheme = cfg->secure_boot_v2, .trusted_digest = d[0]};
    ota_img_verify_opts_t opts = {
        .chip = env->chip,
        .chip_rev = env->chip_rev,
        .efuse_blk_rev = env->efuse_blk_rev,
        .bootloader = true,
        .hash = OTA_IMG_HASH_CHECK,
        .silent = true,
        .secure_boot_v2 = true,
        .sig_scheme = cfg->secure_boot_v2,
        .sig_check = true,
        .sig_trust = &trust,
    };
    ota_img_meta_t m;
    err = ota_img_verify(env->flash, env->crypto, bl_offset, region, &opts, &m, NULL);
    if (err != OTA_OK) {
        ota_logf(env->log, 'E', TAG, "Secure boot key (%d) verification failed.", 0);
        return err == OTA_ERR_POWER_LOSS ? err : OTA_ERR_CORRUPT;
    }
    return OTA_OK;
}

int ota_boot_secure_boot_v2(const ota_boot_env_t *env, const ota_boot_cfg_t *cfg,
                            uint32_t bl_offset, uint32_t region)
{
    ota_efuse_secure_boot_t sb;
    if (env == NULL || cfg == NULL || env->flash == NULL || env->crypto == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    if (env->efuse == NULL || env->efuse->read_secure_boot == NULL ||
        env->efuse->burn_secure_boot == NULL) {
        return OTA_ERR_UNSUPPORTED;
    }
    ota_logf(env->log, 'I', TAG, "enabling secure boot v2...");
    int err = env->efuse->read_secure_boot(env->efuse->ctx, &sb);
    if (err != OTA_OK || sb.enabled) {
        if (err == OTA_OK) {
            ota_logf(env->log, 'I', TAG, "secure boot v2 is already enabled, continuing..");
        }
        return err;
    }
    uint8_t d[3][32];
    int n = 0;
    ota_logf(env->log, 'I', TAG, "Secure boot digests %s",
             sb.digest_burnt ? "already present" : "absent, generating..");
    err = bootloader_digests(env, cfg, bl_offset, region, d, &n);
    if (err != OTA_OK) {
        ota_logf(env->log, 'E', TAG,
                 n == 0 ? "No valid bootloader signature blocks found."
                        : "Bootloader signature block is invalid");
        return err;
    }
    ota_logf(env->log, 'I', TAG,
             "Digests successfully calculated, %d valid signatures "
             "(image offset 0x%x)",
             n, (unsigned)bl_offset);
    ota_logf(env->log, 'I', TAG, "%d signature block(s) found appended to the bootloader.", n);
    ota_logf(env->log, 'I', TAG, "Burning public key hash to eFuse");
    err = env->efuse->burn_secure_boot(env->efuse->ctx, d[0], 0);
    if (err == OTA_OK) {
        ota_logf(env->log, 'I', TAG, "blowing secure boot efuse...");
        err = env->efuse->burn_secure_boot(env->efuse->ctx, NULL, OTA_EFUSE_ABS_DONE_1);
    }
    if (err != OTA_OK) {
        ota_logf(env->log, 'E', TAG, "Error programming security eFuses (err=%d).", err);
        return err;
    }
    ota_logf(env->log, 'I', TAG, "Secure boot permanently enabled");
    return OTA_OK;
}

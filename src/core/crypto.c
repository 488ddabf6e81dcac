/* Helpers over the crypto hook set. */
#include "ota/ota_crypto.h"
#include "ota/ota_err.h"

size_t ota_hash_len(ota_hash_alg_t alg)
{
    return alg == OTA_HASH_MD5 ? OTA_MD5_LEN : OTA_SHA256_LEN;
}

int ota_hash(const ota_crypto_t *c, ota_hash_alg_t alg, const void *data, size_t len, uint8_t *out)
{
    if (c == NULL || out == NULL || (data == NULL && len > 0)) {
        return OTA_ERR_INVALID_ARG;
    }
    void *st = c->hash_start(c->ctx, alg);
    if (st == NULL) {
        return OTA_ERR_NO_MEM;
    }
    if (len > 0) {
        c->hash_update(st, data, len);
    }
    c->hash_finish(st, out);
    return OTA_OK;
}

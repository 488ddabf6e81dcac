/*
 * `otakit flash write` (esptool write_flash, with --encrypt / --encrypt-files as on a chip whose
 * flash encryption is on) and `otakit flash enable-encryption` (the eFuses of a chip prepared
 * for flash encryption in development mode).
 */
#include "cli.h"
#include "cli_flash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ota/ota_efuse_store.h"
#include "ota/ota_err.h"
#include "ota/ota_flash_enc.h"
#include "ota/ota_posix.h"

#define MAX_FILES 32

static const char write_help[] =
    "usage: otakit flash write FLASH [--encrypt] ADDR FILE [ADDR FILE ...]\n"
    "                          [--encrypt-files ADDR FILE ...]\n"
    "\n"
    "Writes each FILE at flash address ADDR as esptool write_flash does: the sectors it covers\n"
    "are erased, then FILE is programmed. With --encrypt every file, with --encrypt-files the\n"
    "files after it, are written encrypted with the key in the flash's eFuses (FLASH.efuse), as\n"
    "the chip's flash encryption writes them; encrypted files are padded with 0xFF to 16 bytes.\n"
    "Everything is checked before the first erase.\n";

static const char enable_help[] =
    "usage: otakit flash enable-encryption FLASH [--keyfile FILE] [--save-key FILE]\n"
    "                                      [--flash-crypt-conf N]\n"
    "\n"
    "Burns flash encryption on in the flash's eFuses (FLASH.efuse), in development mode, as on a\n"
    "chip prepared with espefuse: the 32-byte key of --keyfile (espsecure's key file) or a random\n"
    "one (written to --save-key), FLASH_CRYPT_CONFIG (default 0xF) and one bit of\n"
    "FLASH_CRYPT_CNT. Nothing in the flash changes; write it encrypted with `otakit flash write\n"
    "--encrypt`. Enabling it again with the same key, or without --keyfile, does nothing;\n"
    "another key is refused.\n";

typedef struct item {
    uint32_t addr;
    const char *path;
    bool encrypt;
    uint8_t *data;
    size_t len;
} item_t;

static int efuse_of(const char *cmd, const char *flash, ota_efuse_store_t *s)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s.efuse", flash) >= (int)sizeof(path) ||
        ota_efuse_store_file(s, path, 32) != OTA_OK) {
        return cli_error("%s: %s: path too long", cmd, flash);
    }
    return CLI_OK;
}

static int parse_write(int argc, char **argv, const char **flash, item_t *items, int *n)
{
    static const char *const o_all[] = {"--encrypt", NULL};
    static const char *const o_rest[] = {"--encrypt-files", NULL};
    const char *cmd = "flash write";
    bool all = false, rest = false;
    for (int i = 1; i < argc; i++) {
        if (cli_flash_flag(argv[i], o_all)) {
            all = true;
        } else if (cli_flash_flag(argv[i], o_rest)) {
            rest = true;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error(cmd, "unknown option '%s'", argv[i]);
        } else if (*flash == NULL) {
            *flash = argv[i];
        } else {
            if (i + 1 >= argc) {
                return cli_usage_error(cmd, "ADDR %s has no FILE", argv[i]);
            }
            if (*n == MAX_FILES) {
                return cli_usage_error(cmd, "at most %d files", MAX_FILES);
            }
            if (!cli_parse_u32(argv[i], &items[*n].addr)) {
                return cli_usage_error(cmd, "'%s' is not an address", argv[i]);
            }
            items[*n].path = argv[++i];
            items[*n].encrypt = rest;
            (*n)++;
        }
    }
    for (int k = 0; k < *n; k++) {
        items[k].encrypt = items[k].encrypt || all;
    }
    if (*flash == NULL || *n == 0) {
        return cli_usage_error(cmd, "FLASH and at least one ADDR FILE expected");
    }
    return CLI_OK;
}

/* Reads the files and checks them against the flash; encrypted ones are padded to 16 bytes. */
static int load_items(const char *flash, uint32_t size, item_t *items, int n)
{
    for (int k = 0; k < n; k++) {
        item_t *it = &items[k];
        if (cli_read_file(it->path, &it->data, &it->len) != CLI_OK) {
            return CLI_FAIL;
        }
        if (it->encrypt) {
            size_t padded = (it->len + 15) & ~(size_t)15;
            uint8_t *p = realloc(it->data, padded ? padded : 1);
            if (p == NULL) {
                return cli_error("flash write: out of memory");
            }
            memset(p + it->len, 0xFF, padded - it->len);
            it->data = p;
            it->len = padded;
        }
        if (it->addr % OTA_FLASH_SECTOR_SIZE != 0 || it->addr > size || it->len > size - it->addr) {
            return cli_error("flash write: %s: %s at 0x%x %s", flash, it->path, (unsigned)it->addr,
                             it->addr % OTA_FLASH_SECTOR_SIZE != 0
                                 ? "is not on a 4 KiB sector boundary"
                                 : "does not fit the flash");
        }
    }
    return CLI_OK;
}

static int write_items(const char *flash, const ota_flash_t *f, const ota_efuse_flash_crypt_t *fc,
                       const item_t *items, int n)
{
    ota_flash_enc_t enc;
    if (ota_flash_enc_init(&enc, f, ota_crypto_openssl(), fc->key, fc->config, 0, 0) != OTA_OK) {
        return cli_error("flash write: %s: cannot set up flash encryption", flash);
    }
    enc.n_ranges = 0; /* ota_flash_enc_write encrypts wherever it is told */
    for (int k = 0; k < n; k++) {
        const item_t *it = &items[k];
        uint32_t span = (uint32_t)((it->len + OTA_FLASH_SECTOR_SIZE - 1) &
                                   ~(size_t)(OTA_FLASH_SECTOR_SIZE - 1));
        int err = ota_flash_erase_range(f, it->addr, span);
        if (err == OTA_OK) {
            err = it->encrypt ? ota_flash_enc_write(&enc, it->addr, it->data, (uint32_t)it->len)
                              : ota_flash_program(f, it->addr, it->data, (uint32_t)it->len);
        }
        if (err != OTA_OK) {
            return cli_error("flash write: %s: %s at 0x%x: %s", flash, it->path, (unsigned)it->addr,
                             ota_strerror(err));
        }
        printf("Wrote %zu bytes%s at 0x%08x (%s)\n", it->len, it->encrypt ? " (encrypted)" : "",
               (unsigned)it->addr, it->path);
    }
    return CLI_OK;
}

int cli_flash_write_cmd(int argc, char **argv)
{
    if (cli_help(argc, argv, write_help)) {
        return CLI_OK;
    }
    const char *flash = NULL;
    item_t items[MAX_FILES];
    memset(items, 0, sizeof(items));
    int n = 0;
    int rc = parse_write(argc, argv, &flash, items, &n);
    bool any_enc = false;
    for (int k = 0; k < n; k++) {
        any_enc = any_enc || items[k].encrypt;
    }
    ota_efuse_store_t store;
    ota_efuse_flash_crypt_t fc;
    memset(&fc, 0, sizeof(fc));
    if (rc == CLI_OK && any_enc) {
        rc = efuse_of("flash write", flash, &store);
        if (rc == CLI_OK &&
            (store.ops.read_flash_crypt(&store, &fc) != OTA_OK || !ota_efuse_flash_crypt_on(&fc))) {
            rc = cli_error("flash write: %s: --encrypt needs flash encryption on in its eFuses "
                           "(otakit flash enable-encryption)",
                           flash);
        }
    }
    ota_nor_t *nor = NULL;
    if (rc == CLI_OK) {
        rc = cli_flash_open_nor("flash write", flash, true, 0, &nor);
    }
    if (rc == CLI_OK) {
        rc = load_items(flash, ota_nor_size(nor), items, n);
    }
    if (rc == CLI_OK) {
        rc = write_items(flash, ota_nor_flash(nor), &fc, items, n);
    }
    ota_nor_close(nor);
    for (int k = 0; k < n; k++) {
        free(items[k].data);
    }
    return rc;
}

/* The key of keyfile (32 bytes), or a random one without it. */
static int get_key(const char *cmd, const char *keyfile, uint8_t key[OTA_FLASH_ENC_KEY_LEN])
{
    if (keyfile == NULL) {
        return getrandom(key, OTA_FLASH_ENC_KEY_LEN, 0) == OTA_FLASH_ENC_KEY_LEN
                   ? CLI_OK
                   : cli_error("%s: no random key: getrandom failed", cmd);
    }
    uint8_t *data = NULL;
    size_t len = 0;
    if (cli_read_file(keyfile, &data, &len) != CLI_OK) {
        return CLI_FAIL;
    }
    bool ok = len == OTA_FLASH_ENC_KEY_LEN;
    if (ok) {
        memcpy(key, data, OTA_FLASH_ENC_KEY_LEN);
    }
    free(data);
    return ok ? CLI_OK
              : cli_error("%s: %s: a 256-bit key (32 bytes) is expected, not %zu bytes", cmd,
                          keyfile, len);
}

int cli_flash_enable_enc_cmd(int argc, char **argv)
{
    const char *cmd = "flash enable-encryption";
    if (cli_help(argc, argv, enable_help)) {
        return CLI_OK;
    }
    const char *flash = NULL, *keyfile = NULL, *save = NULL, *conf = NULL;
    for (int i = 1; i < argc; i++) {
        int r;
        if ((r = cli_opt(cmd, argc, argv, &i, "--keyfile", &keyfile)) != 0 ||
            (r = cli_opt(cmd, argc, argv, &i, "--save-key", &save)) != 0 ||
            (r = cli_opt(cmd, argc, argv, &i, "--flash-crypt-conf", &conf)) != 0) {
            if (r < 0) {
                return CLI_USAGE;
            }
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error(cmd, "unknown option '%s'", argv[i]);
        } else if (flash == NULL) {
            flash = argv[i];
        } else {
            return cli_usage_error(cmd, "unexpected argument '%s'", argv[i]);
        }
    }
    uint32_t config = OTA_FLASH_ENC_CONFIG_DEFAULT;
    if (flash == NULL) {
        return cli_usage_error(cmd, "FLASH missing");
    }
    if (conf != NULL && (!cli_parse_u32(conf, &config) || config > 0xF)) {
        return cli_usage_error(cmd, "--flash-crypt-conf '%s' is not a 4-bit value", conf);
    }
    ota_efuse_store_t store;
    ota_efuse_flash_crypt_t fc;
    if (efuse_of(cmd, flash, &store) != CLI_OK) {
        return CLI_FAIL;
    }
    if (keyfile == NULL && store.ops.read_flash_crypt(&store, &fc) == OTA_OK &&
        ota_efuse_flash_crypt_on(&fc)) {
        printf("Flash encryption is already enabled in %s.efuse\n", flash);
        return CLI_OK; /* a random key would only be refused */
    }
    uint8_t key[OTA_FLASH_ENC_KEY_LEN];
    if (get_key(cmd, keyfile, key) != CLI_OK) {
        return CLI_FAIL;
    }
    if (save != NULL && cli_write_file(save, key, sizeof(key)) != CLI_OK) {
        return CLI_FAIL;
    }
    int err = ota_efuse_store_enable_flash_crypt(&store, key, (uint8_t)config);
    if (err != OTA_OK) {
        return cli_error("%s: %s.efuse: %s", cmd, flash,
                         err == OTA_ERR_STATE ? "another flash encryption key is burnt"
                                              : ota_strerror(err));
    }
    printf("Flash encryption enabled (development mode) in %s.efuse\n", flash);
    return CLI_OK;
}

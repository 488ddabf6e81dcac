/*
 * otakit nvs: NVS partitions in ESP-IDF's format, as nvs_partition_gen.py (generate) and
 * nvs_tool.py (dump) handle them.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_flash.h"
#include "ota/ota_idfnvs.h"
#include "ota/ota_nvs_dump.h"
#include "ota/ota_nvs_enc.h"
#include "ota/ota_posix.h"
#include "ota/ota_memflash.h"
#include "ota/ota_nvs_csv.h"

static const char generate_help[] =
    "usage: otakit nvs generate CSV OUT --size SIZE\n"
    "\n"
    "Writes an NVS partition image of SIZE bytes (a multiple of 4096) in ESP-IDF's format\n"
    "(version 2, multi-page blobs) holding the CSV's values, as nvs_partition_gen.py generate\n"
    "does: columns key,type,encoding,value; types namespace, data, file; encodings u8, i8,\n"
    "u16, i16, u32, i32, u64, i64, string, hex2bin, base64, binary.\n"
    "\n"
    "Exit status: 0 written; 1 the CSV is refused or a file cannot be read or written; 2 for a\n"
    "wrong command line.\n";

static int cmd_generate(int argc, char **argv)
{
    static const char cmd[] = "nvs generate";
    if (cli_help(argc, argv, generate_help)) {
        return CLI_OK;
    }
    const char *pos[2] = {NULL, NULL};
    int npos = 0;
    uint32_t size = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r = cli_opt(cmd, argc, argv, &i, "--size", &v);
        if (r < 0 || (r > 0 && !cli_parse_u32(v, &size))) {
            return r < 0 ? CLI_USAGE : cli_usage_error(cmd, "--size '%s' is not a size", v);
        } else if (r == 0 && (argv[i][0] == '-' || npos == 2)) {
            return cli_usage_error(cmd, "unexpected argument '%s'", argv[i]);
        } else if (r == 0) {
            pos[npos++] = argv[i];
        }
    }
    if (npos != 2 || size == 0) {
        return cli_usage_error(cmd, "expected CSV OUT --size SIZE");
    }
    uint8_t *csv = NULL;
    size_t len = 0;
    if (cli_read_file(pos[0], &csv, &len) != CLI_OK) {
        return CLI_FAIL;
    }
    uint8_t *part = NULL;
    ota_diag_t diag = {{0}};
    int err = ota_nvs_csv_generate((const char *)csv, len, size, &part, &diag);
    free(csv);
    if (err != OTA_OK) {
        return cli_error("%s: %s: %s", cmd, pos[0], ota_diag_why(&diag, err));
    }
    int rc = cli_write_file(pos[1], part, size);
    free(part);
    return rc;
}

static const char dump_help[] =
    "usage: otakit nvs dump FILE [--name NAME] [-d all|written|minimal|namespaces|values]\n"
    "                       [--keyfile KEYS]\n"
    "\n"
    "Prints an NVS partition in ESP-IDF's format as ESP-IDF's nvs_tool.py prints it with\n"
    "--color never: -d all (the default) every page with its header, entry state bitmap and\n"
    "entries; -d written the written entries only; -d minimal 'namespace:key = value' per written\n"
    "entry, page by page; -d namespaces the namespace table. These show the bytes as they are.\n"
    "-d values lists each stored value once, 'namespace:key = value (type)' (integers in decimal,\n"
    "strings quoted, blobs in hex), after repairing in memory what nvs_flash_init would repair.\n"
    "FILE is a partition image, or with --name a flash image whose partition NAME is read.\n"
    "--keyfile decrypts an encrypted partition first (NVS encryption: KEYS holds the 32-byte\n"
    "data key and the 32-byte tweak key, as nvs_partition_gen.py's key file or the nvs_keys\n"
    "partition's plaintext begins).\n"
    "\n"
    "Exit status: 0 printed; 1 FILE cannot be read or is not a whole number of 4 KiB pages (or,\n"
    "for -d values, holds no valid NVS partition); 2 for a wrong command line.\n";

static const char *type_name(uint8_t t)
{
    switch (t) {
    case OTA_IDFNVS_U8:
        return "u8";
    case OTA_IDFNVS_I8:
        return "i8";
    case OTA_IDFNVS_U16:
        return "u16";
    case OTA_IDFNVS_I16:
        return "i16";
    case OTA_IDFNVS_U32:
        return "u32";
    case OTA_IDFNVS_I32:
        return "i32";
    case OTA_IDFNVS_U64:
        return "u64";
    case OTA_IDFNVS_I64:
        return "i64";
    case OTA_IDFNVS_STR:
        return "string";
    default:
        return "blob";
    }
}

static int print_value(void *ctx, const ota_idfnvs_value_t *v)
{
    ota_idfnvs_t *s = ctx;
    printf("%s:%s = ", v->ns, v->key);
    if (v->type != OTA_IDFNVS_STR && v->type != OTA_IDFNVS_BLOB && v->type != OTA_IDFNVS_BLOB_V1) {
        if ((v->type & 0x10) != 0) {
            printf("%" PRId64, (int64_t)v->num);
        } else {
            printf("%" PRIu64, v->num);
        }
        printf(" (%s)\n", type_name(v->type));
        return 0;
    }
    uint8_t *buf = malloc(v->len + 1);
    size_t len = 0;
    if (buf == NULL || ota_idfnvs_get(s, v->ns, v->key,
                                      v->type == OTA_IDFNVS_STR ? OTA_IDFNVS_STR : OTA_IDFNVS_BLOB,
                                      buf, v->len, &len) != OTA_OK) {
        printf("<unreadable> (%s)\n", type_name(v->type));
    } else if (v->type == OTA_IDFNVS_STR) {
        printf("\"%.*s\" (string)\n", (int)(len > 0 ? len - 1 : 0), (const char *)buf);
    } else {
        for (size_t i = 0; i < len; i++) {
            printf("%02x", buf[i]);
        }
        printf(" (blob, %zu bytes)\n", len);
    }
    free(buf);
    return 0;
}

/* The partition bytes: FILE itself, or partition NAME of the flash image FILE. */
static int load_part(const char *cmd, const char *path, const char *name, uint8_t **data,
                     size_t *len)
{
    if (name == NULL) {
        return cli_read_file(path, data, len);
    }
    cli_flash_t fl;
    if (cli_flash_open(cmd, path, false, 0, &fl) != CLI_OK) {
        return CLI_FAIL;
    }
    const ota_part_t *p = ota_part_find_by_label(&fl.table, name);
    int rc = p != NULL ? CLI_OK : cli_error("%s: %s: no partition named '%s'", cmd, path, name);
    *data = p != NULL ? malloc(p->size) : NULL;
    if (rc == CLI_OK &&
        (*data == NULL || ota_flash_read(fl.flash, p->offset, *data, p->size) != OTA_OK)) {
        rc = cli_error("%s: %s: cannot read partition '%s'", cmd, path, name);
    }
    *len = p != NULL ? p->size : 0;
    cli_flash_close(&fl);
    return rc;
}

/* -d values: each stored value once, from the partition as nvs_flash_init would mount it. */
static int dump_values(uint8_t *data, size_t len)
{
    ota_flash_t f;
    ota_memflash_t m;
    static ota_idfnvs_t s;
    ota_memflash_init(&f, &m, data, (uint32_t)len, false);
    int err = ota_idfnvs_mount(&s, &f, 0, (uint32_t)len & ~(OTA_IDFNVS_PAGE_SIZE - 1));
    return err == OTA_OK ? ota_idfnvs_foreach(&s, print_value, &s) : err;
}

/* The listing a -d value names: 0..3 nvs_tool.py's (ota_nvs_dump_t), 4 values, -1 unknown. */
static int dump_kind(const char *name)
{
    static const char *const kinds[] = {"all", "written", "minimal", "namespaces", "values"};
    for (int k = 0; k < 5; k++) {
        if (strcmp(name, kinds[k]) == 0) {
            return k;
        }
    }
    return -1;
}

/* Decrypts the entries of data with the keys in keyfile (its first 64 bytes). */
static int decrypt_part(const char *cmd, const char *keyfile, uint8_t *data, size_t len)
{
    uint8_t *keys = NULL;
    size_t n = 0;
    if (cli_read_file(keyfile, &keys, &n) != CLI_OK) {
        return CLI_FAIL;
    }
    int err = n < OTA_NVS_ENC_KEY_LEN
                  ? OTA_ERR_SIZE
                  : ota_nvs_enc_decrypt_image(ota_crypto_openssl(), keys, data, (uint32_t)len);
    free(keys);
    if (err == OTA_ERR_SIZE) {
        return cli_error("%s: %s: %zu bytes; the 64 bytes of the two keys are expected", cmd,
                         keyfile, n);
    }
    return err == OTA_OK ? CLI_OK : cli_error("%s: %s: %s", cmd, keyfile, ota_strerror(err));
}

static int cmd_dump(int argc, char **argv)
{
    static const char cmd[] = "nvs dump";
    if (cli_help(argc, argv, dump_help)) {
        return CLI_OK;
    }
    const char *path = NULL;
    const char *name = NULL;
    const char *kind = "all";
    const char *keyfile = NULL;
    for (int i = 1; i < argc; i++) {
        int r = cli_opt(cmd, argc, argv, &i, "--name", &name);
        r = r == 0 ? cli_opt(cmd, argc, argv, &i, "--keyfile", &keyfile) : r;
        r = r == 0 ? cli_opt(cmd, argc, argv, &i, "-d", &kind) : r;
        r = r == 0 ? cli_opt(cmd, argc, argv, &i, "--dump", &kind) : r;
        if (r < 0) {
            return CLI_USAGE;
        } else if (r == 0 && (argv[i][0] == '-' || path != NULL)) {
            return cli_usage_error(cmd, "unexpected argument '%s'", argv[i]);
        } else if (r == 0) {
            path = argv[i];
        }
    }
    int k = dump_kind(kind);
    if (k < 0) {
        return cli_usage_error(cmd,
                               "unknown listing '%s' (all, written, minimal, namespaces, "
                               "values)",
                               kind);
    }
    if (path == NULL) {
        return cli_usage_error(cmd, "FILE missing");
    }
    uint8_t *data = NULL;
    size_t len = 0;
    if (load_part(cmd, path, name, &data, &len) != CLI_OK ||
        (keyfile != NULL && decrypt_part(cmd, keyfile, data, len) != CLI_OK)) {
        free(data);
        return CLI_FAIL;
    }
    int err =
        k == 4 ? dump_values(data, len) : ota_nvs_dump_print(stdout, data, len, (ota_nvs_dump_t)k);
    free(data);
    if (err == OTA_ERR_SIZE && k != 4) {
        return cli_error("%s: %s: %zu bytes is not a whole number of 4096-byte pages", cmd, path,
                         len);
    }
    return err == OTA_OK ? CLI_OK : cli_error("%s: %s: %s", cmd, path, ota_strerror(err));
}

/* Mounts the partition image at path (read and written whole), runs op, writes it back. */
static int with_partition(const char *cmd, const char *path,
                          int (*op)(ota_idfnvs_t *s, void *ctx, ota_diag_t *diag), void *ctx)
{
    uint8_t *data = NULL;
    size_t len = 0;
    if (cli_read_file(path, &data, &len) != CLI_OK) {
        return CLI_FAIL;
    }
    ota_flash_t f;
    ota_memflash_t m;
    static ota_idfnvs_t s;
    ota_diag_t diag = {{0}};
    ota_memflash_init(&f, &m, data, (uint32_t)len, false);
    int err = ota_idfnvs_mount(&s, &f, 0, (uint32_t)len);
    if (err == OTA_OK) {
        err = op(&s, ctx, &diag);
    }
    int rc = err == OTA_OK ? cli_write_file(path, data, len)
                           : cli_error("%s: %s: %s", cmd, path, ota_diag_why(&diag, err));
    free(data);
    return rc;
}

static int apply_op(ota_idfnvs_t *s, void *ctx, ota_diag_t *diag)
{
    const char *csv_path = ctx;
    uint8_t *csv = NULL;
    size_t len = 0;
    if (cli_read_file(csv_path, &csv, &len) != CLI_OK) {
        return ota_diag_set(diag, OTA_ERR_IO, "%s cannot be read", csv_path);
    }
    int err = ota_nvs_csv_apply(s, (const char *)csv, len, diag);
    free(csv);
    return err;
}

static const char apply_help[] =
    "usage: otakit nvs apply FILE CSV\n"
    "\n"
    "Sets the CSV's values (nvs generate's format) in the NVS partition image FILE as an app's\n"
    "nvs_set_* calls would: a key already there is updated (the new item written, the old one\n"
    "erased), full pages are garbage-collected. FILE is rewritten.\n";

static int cmd_apply(int argc, char **argv)
{
    if (cli_help(argc, argv, apply_help)) {
        return CLI_OK;
    }
    if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-') {
        return cli_usage_error("nvs apply", "expected FILE CSV");
    }
    return with_partition("nvs apply", argv[1], apply_op, argv[2]);
}

static int erase_op(ota_idfnvs_t *s, void *ctx, ota_diag_t *diag)
{
    char **names = ctx;
    int err = names[1] != NULL ? ota_idfnvs_erase_key(s, names[0], names[1])
                               : ota_idfnvs_erase_all(s, names[0]);
    return err == OTA_OK ? OTA_OK
                         : ota_diag_set(diag, err, "%s%s%s: %s", names[0], names[1] ? ":" : "",
                                        names[1] ? names[1] : "", ota_strerror(err));
}

static const char erase_help[] =
    "usage: otakit nvs erase FILE NAMESPACE [KEY]\n"
    "\n"
    "Erases KEY (nvs_erase_key), or every key of NAMESPACE (nvs_erase_all), in the NVS\n"
    "partition image FILE, which is rewritten.\n";

static int cmd_erase(int argc, char **argv)
{
    if (cli_help(argc, argv, erase_help)) {
        return CLI_OK;
    }
    if (argc < 3 || argc > 4) {
        return cli_usage_error("nvs erase", "expected FILE NAMESPACE [KEY]");
    }
    char *names[2] = {argv[2], argc == 4 ? argv[3] : NULL};
    return with_partition("nvs erase", argv[1], erase_op, names);
}

static const cli_sub_t subs[] = {
    {"generate", "write an NVS partition from a CSV (nvs_partition_gen.py generate)", cmd_generate},
    {"dump", "print an NVS partition as nvs_tool.py does", cmd_dump},
    {"apply", "set a CSV's values in an NVS partition image", cmd_apply},
    {"erase", "erase a key or a namespace's keys in an NVS partition image", cmd_erase},
};

static int run(int argc, char **argv)
{
    return cli_dispatch("nvs",
                        "usage: otakit nvs SUBCOMMAND [ARGS...]\n\n"
                        "NVS partitions in ESP-IDF's page format.\n",
                        subs, sizeof(subs) / sizeof(subs[0]), argc, argv);
}

const cli_cmd_t cli_cmd_nvs = {
    "nvs", "NVS partitions in ESP-IDF's format: generate, dump, apply, erase", run};

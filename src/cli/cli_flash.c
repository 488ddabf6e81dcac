/* Pieces shared by `otakit flash` and `otakit otadata`. */
#include "cli_flash.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "ota/ota_buf.h"
#include "ota/ota_file.h"
#include "ota/ota_flashimg.h"
#include "ota/ota_part_csv.h"
#include "ota/ota_posix.h"

int cli_flash_opt(const char *cmd, int argc, char **argv, int *i, const char *const *names,
                  const char **val)
{
    for (; *names != NULL; names++) {
        int r = cli_opt(cmd, argc, argv, i, *names, val);
        if (r != 0) {
            return r;
        }
    }
    return 0;
}

bool cli_flash_flag(const char *arg, const char *const *names)
{
    for (; *names != NULL; names++) {
        if (strcmp(arg, *names) == 0) {
            return true;
        }
    }
    return false;
}

bool cli_flash_parse_offset(const char *cmd, const char *s, uint32_t *out)
{
    int64_t v;
    if (!ota_part_parse_pyint(s, &v) || v <= 0 || v > (int64_t)UINT32_MAX ||
        v % OTA_PART_TABLE_SECTOR_SIZE != 0) {
        cli_usage_error(cmd, "partition table offset '%s' is not a non-zero multiple of 0x1000", s);
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

int cli_flash_offset_opt(const char *cmd, int argc, char **argv, int *i, uint32_t *out)
{
    static const char *const names[] = {"--offset", "--partition-table-offset", NULL};
    const char *v = NULL;
    int r = cli_flash_opt(cmd, argc, argv, i, names, &v);
    if (r > 0 && !cli_flash_parse_offset(cmd, v, out)) {
        return -1;
    }
    return r;
}

int cli_flash_file_size(const char *cmd, const char *path, uint32_t override, uint32_t *size,
                        uint64_t *file_len)
{
    uint8_t head[0x3000];
    FILE *fp = fopen(path, "rb");
    struct stat sb;
    if (fp == NULL || fstat(fileno(fp), &sb) != 0) {
        int e = errno;
        if (fp != NULL) {
            fclose(fp);
        }
        return cli_error("%s: %s: cannot open: %s", cmd, path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        fclose(fp);
        return cli_error("%s: %s: not a regular file", cmd, path);
    }
    size_t n = fread(head, 1, sizeof(head), fp);
    fclose(fp);
    if (file_len != NULL) {
        *file_len = (uint64_t)sb.st_size;
    }
    ota_diag_t diag = {{0}};
    int err = ota_flashimg_file_flash_size(head, n, (uint64_t)sb.st_size, override, size, &diag);
    if (err != OTA_OK) {
        return cli_error("%s: %s: %s", cmd, path, ota_diag_why(&diag, err));
    }
    return CLI_OK;
}

int cli_flash_open_nor(const char *cmd, const char *path, bool writable, uint32_t override,
                       ota_nor_t **out)
{
    *out = NULL;
    ota_nor_config_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.readonly = !writable;
    if (!writable && cli_flash_file_size(cmd, path, override, &cfg.pad_size, NULL) != CLI_OK) {
        return CLI_FAIL;
    }
    ota_diag_t diag = {{0}};
    int err = ota_nor_open(path, &cfg, out, &diag);
    if (err != OTA_OK) {
        *out = NULL;
        return cli_error("%s: %s: %s", cmd, path, ota_diag_why(&diag, err));
    }
    return CLI_OK;
}

/* Reads the file at path, padded with 0xFF to size bytes, into *out. Returns CLI_OK/CLI_FAIL. */
static int read_padded(const char *cmd, const char *path, uint32_t size, ota_buf_t *out)
{
    FILE *fp = fopen(path, "rb");
    bool ok = fp != NULL && ota_buf_read(out, fp);
    int e = errno;
    if (fp != NULL) {
        fclose(fp);
    }
    if (ok && out->len < size) {
        ota_buf_fill(out, 0xFF, size - out->len);
    }
    if (!ok || out->oom) {
        ota_buf_free(out);
        return cli_error("%s: %s: cannot read: %s", cmd, path, ok ? "out of memory" : strerror(e));
    }
    return CLI_OK;
}

/* Writes data to a new temporary file named into work (cap bytes). Returns CLI_OK/CLI_FAIL. */
static int write_temp(const char *cmd, const uint8_t *data, size_t len, char *work, size_t cap)
{
    const char *dir = getenv("TMPDIR");
    int n = snprintf(work, cap, "%s/otakit-flash.XXXXXX", dir != NULL && *dir ? dir : "/tmp");
    int fd = n > 0 && (size_t)n < cap ? mkstemp(work) : -1;
    if (fd < 0) {
        return cli_error("%s: cannot create a temporary flash image: %s", cmd, strerror(errno));
    }
    FILE *fp = fdopen(fd, "wb");
    bool ok = fp != NULL && fwrite(data, 1, len, fp) == len;
    ok = (fp != NULL ? fclose(fp) == 0 : (close(fd), false)) && ok;
    if (!ok) {
        unlink(work);
        return cli_error("%s: %s: cannot write: %s", cmd, work, strerror(errno));
    }
    return CLI_OK;
}

/* Copies "<from>.efuse" to "<to>.efuse" when the first exists (best effort). */
static void copy_efuse(const char *from, const char *to)
{
    char src[PATH_MAX];
    char dst[PATH_MAX];
    ota_buf_t b = {0};
    snprintf(src, sizeof(src), "%s.efuse", from);
    snprintf(dst, sizeof(dst), "%s.efuse", to);
    FILE *fp = fopen(src, "rb");
    if (fp != NULL && ota_buf_read(&b, fp) && !b.oom) {
        ota_file_write(dst, b.p, b.len, 0644, NULL);
    }
    if (fp != NULL) {
        fclose(fp);
    }
    ota_buf_free(&b);
}

int cli_flash_work_file(const char *cmd, const char *path, uint32_t override, bool in_place,
                        char *work, size_t cap)
{
    uint32_t size = 0;
    uint64_t len = 0;
    snprintf(work, cap, "%s", path);
    if (cli_flash_file_size(cmd, path, override, &size, &len) != CLI_OK) {
        return CLI_FAIL;
    }
    if (len == size) {
        return CLI_OK;
    }
    ota_buf_t b = {0};
    if (read_padded(cmd, path, size, &b) != CLI_OK) {
        return CLI_FAIL;
    }
    int rc = CLI_OK;
    ota_diag_t diag = {{0}};
    if (in_place) {
        if (ota_file_write(path, b.p, b.len, 0644, &diag) != OTA_OK) {
            rc = cli_error("%s: %s: %s", cmd, path, diag.msg);
        }
    } else if ((rc = write_temp(cmd, b.p, b.len, work, cap)) == CLI_OK) {
        copy_efuse(path, work);
        fprintf(stderr,
                "otakit: %s: %s: %llu bytes, run as a %u MiB flash padded with 0xFF on a copy; "
                "%s is not changed (--pad writes it at %u MiB)\n",
                cmd, path, (unsigned long long)len, (unsigned)(size >> 20), path,
                (unsigned)(size >> 20));
    }
    ota_buf_free(&b);
    return rc;
}

void cli_flash_work_done(const char *path, const char *work)
{
    if (strcmp(path, work) != 0) {
        char efuse[PATH_MAX];
        snprintf(efuse, sizeof(efuse), "%s.efuse", work);
        unlink(efuse);
        unlink(work);
    }
}

int cli_flash_open(const char *cmd, const char *path, bool writable, uint32_t table_offset,
                   cli_flash_t *out)
{
    memset(out, 0, sizeof(*out));
    if (cli_flash_open_nor(cmd, path, writable, 0, &out->nor) != CLI_OK) {
        return CLI_FAIL;
    }
    ota_diag_t diag = {{0}};
    int err;
    out->flash = ota_nor_flash(out->nor);
    if (table_offset == 0) {
        /* The offset the bootloader on this flash was built for, as the board reads it. */
        const uint8_t *data = ota_nor_data(out->nor);
        uint32_t size = ota_nor_size(out->nor);
        const ota_chip_t *chip = ota_flashimg_detect_chip(data, size);
        ota_boot_cfg_t bcfg;
        ota_flashimg_bootloader_cfg(chip != NULL ? out->flash : NULL,
                                    chip != NULL ? chip->bootloader_offset : 0,
                                    chip != NULL ? size - chip->bootloader_offset : 0, &bcfg);
        table_offset = bcfg.table_offset;
    }
    out->table_offset = table_offset;
    memset(&diag, 0, sizeof(diag));
    err =
        ota_flashimg_read_table(ota_crypto_openssl(), out->flash, table_offset, &out->table, &diag);
    if (err != OTA_OK) {
        cli_flash_close(out);
        return cli_error("%s: %s: %s", cmd, path, ota_diag_why(&diag, err));
    }
    return CLI_OK;
}

void cli_flash_close(cli_flash_t *fl)
{
    ota_nor_close(fl->nor);
    fl->nor = NULL;
    fl->flash = NULL;
}

void cli_flash_print_entries(const char *indent, const ota_otadata_entry_t e[2])
{
    for (int i = 0; i < 2; i++) {
        uint32_t computed = ota_otadata_seq_crc(e[i].seq);
        bool crc_ok = ota_otadata_crc_ok(&e[i]);
        bool erased = e[i].seq == OTA_OTADATA_SEQ_EMPTY && e[i].crc == 0xFFFFFFFFu;
        printf("%scopy %d: ota_seq=0x%08x (%u) ota_state=0x%08x %-14s crc=0x%08x computed=0x%08x "
               "crc_ok=%s -> %s\n",
               indent, i, (unsigned)e[i].seq, (unsigned)e[i].seq, (unsigned)e[i].state,
               ota_otadata_state_name(e[i].state), (unsigned)e[i].crc, (unsigned)computed,
               crc_ok   ? "yes"
               : erased ? "NO (erased)"
                        : "NO",
               ota_otadata_select_valid(&e[i]) ? "VALID" : "invalid");
    }
}

static void print_part(const ota_part_t *p)
{
    printf("  -> partition %s @0x%x size 0x%x\n", p->label, (unsigned)p->offset, (unsigned)p->size);
}

void cli_flash_print_selection(const ota_part_table_t *t, const ota_otadata_entry_t e[2])
{
    int active = ota_otadata_active(e);
    int boot_n = ota_part_ota_count_boot(t);
    if (active >= 0) {
        printf("active copy: %d\n", active);
    } else {
        printf("active copy: none\n");
    }
    printf("OTA app partitions: %d (bootloader count), %d (app-side consecutive count)\n", boot_n,
           ota_part_ota_count_app(t));
    const ota_part_t *factory =
        ota_part_find(t, OTA_PART_TYPE_APP, OTA_PART_SUBTYPE_APP_FACTORY, NULL);
    const ota_part_t *ota0 =
        ota_part_find(t, OTA_PART_TYPE_APP, OTA_PART_SUBTYPE_APP_OTA_MIN, NULL);
    if (active >= 0 && boot_n > 0) {
        int slot = ota_otadata_slot_of_seq(e[active].seq, (uint32_t)boot_n);
        printf("bootloader would select: ota_%d\n", slot);
        const ota_part_t *p =
            ota_part_find(t, OTA_PART_TYPE_APP, OTA_PART_SUBTYPE_APP_OTA_MIN + slot, NULL);
        if (p != NULL) {
            print_part(p);
        } else {
            printf("  -> no partition ota_%d: the bootloader tries the others\n", slot);
        }
        return;
    }
    const char *why = boot_n == 0 ? "no OTA app partitions" : "no valid otadata entry";
    if (factory != NULL) {
        printf("bootloader would select: factory (%s)\n", why);
        print_part(factory);
    } else if (ota0 != NULL) {
        printf("bootloader would select: ota_0 (%s, no factory app)\n", why);
        print_part(ota0);
    } else {
        printf("bootloader would select: nothing (%s, no factory app, no ota_0)\n", why);
    }
}

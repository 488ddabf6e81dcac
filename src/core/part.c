/*
 * Partition table: entry encoding, the bootloader's verifier, the application's loader, binary
 * generation with the MD5 row, lookups and keyword names. Portable core: no allocation.
 */
#include "ota/ota_part.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ota_le.h"

_Static_assert(OTA_PART_ENTRY_SIZE == 32, "a partition table entry is 32 bytes");
_Static_assert(OTA_PART_MAX_ENTRIES *OTA_PART_ENTRY_SIZE == OTA_PART_TABLE_MAX_LEN,
               "the verifier scans the whole table data area");
_Static_assert(OTA_PART_LABEL_LEN == 16, "the stored label field is 16 bytes");

/* Field offsets inside one 32-byte entry (esp_partition_info_t). */
enum {
    ENT_MAGIC = 0,
    ENT_TYPE = 2,
    ENT_SUBTYPE = 3,
    ENT_OFFSET = 4,
    ENT_SIZE = 8,
    ENT_LABEL = 12,
    ENT_FLAGS = 28,
    ENT_MD5 = 16, /* digest position inside the MD5 row */
};

void ota_part_decode(const uint8_t raw[OTA_PART_ENTRY_SIZE], ota_part_t *out)
{
    out->type = raw[ENT_TYPE];
    out->subtype = raw[ENT_SUBTYPE];
    out->offset = ota_get_le32(raw + ENT_OFFSET);
    out->size = ota_get_le32(raw + ENT_SIZE);
    size_t n = 0;
    while (n < OTA_PART_LABEL_LEN && raw[ENT_LABEL + n] != 0) {
        out->label[n] = (char)raw[ENT_LABEL + n];
        n++;
    }
    memset(out->label + n, 0, sizeof(out->label) - n);
    out->flags = ota_get_le32(raw + ENT_FLAGS);
}

void ota_part_encode(const ota_part_t *p, uint8_t raw[OTA_PART_ENTRY_SIZE])
{
    ota_put_le16(raw + ENT_MAGIC, OTA_PART_MAGIC);
    raw[ENT_TYPE] = p->type;
    raw[ENT_SUBTYPE] = p->subtype;
    ota_put_le32(raw + ENT_OFFSET, p->offset);
    ota_put_le32(raw + ENT_SIZE, p->size);
    size_t n = strnlen(p->label, OTA_PART_LABEL_LEN);
    memcpy(raw + ENT_LABEL, p->label, n);
    memset(raw + ENT_LABEL + n, 0, OTA_PART_LABEL_LEN - n);
    ota_put_le32(raw + ENT_FLAGS, p->flags);
}

static void table_reset(ota_part_table_t *table)
{
    if (table != NULL) {
        table->count = 0;
        table->has_md5 = false;
    }
}

int ota_part_table_verify(const ota_crypto_t *c, const uint8_t *buf, uint32_t chip_size,
                          ota_part_table_t *table, ota_diag_t *diag)
{
    if (c == NULL || buf == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    table_reset(table);
    bool md5_seen = false;
    int count = 0;
    for (int i = 0; i < OTA_PART_MAX_ENTRIES; i++) {
        const uint8_t *e = buf + (size_t)i * OTA_PART_ENTRY_SIZE;
        uint16_t magic = ota_get_le16(e + ENT_MAGIC);
        if (magic == OTA_PART_MAGIC) {
            uint32_t off = ota_get_le32(e + ENT_OFFSET);
            uint32_t size = ota_get_le32(e + ENT_SIZE);
            /* 64-bit sum: an entry whose end wraps past 4 GiB is beyond any chip. */
            if (off > chip_size || (uint64_t)off + size > chip_size) {
                table_reset(table);
                return ota_diag_set(diag, OTA_ERR_SIZE,
                                    "partition %d invalid - offset 0x%x size 0x%x exceeds flash "
                                    "chip size 0x%x",
                                    i, (unsigned)off, (unsigned)size, (unsigned)chip_size);
            }
            if (table != NULL) {
                ota_part_decode(e, &table->parts[count]);
            }
            count++;
        } else if (magic == OTA_PART_MD5_MAGIC) {
            if (md5_seen) {
                table_reset(table);
                return ota_diag_set(diag, OTA_ERR_CORRUPT, "Only one MD5 checksum is allowed");
            }
            uint8_t digest[OTA_MD5_LEN];
            int err = ota_hash(c, OTA_HASH_MD5, buf, (size_t)i * OTA_PART_ENTRY_SIZE, digest);
            if (err != OTA_OK) {
                table_reset(table);
                return ota_diag_set(diag, err, "MD5 computation failed");
            }
            if (memcmp(digest, e + ENT_MD5, OTA_MD5_LEN) != 0) {
                table_reset(table);
                return ota_diag_set(diag, OTA_ERR_CORRUPT, "Incorrect MD5 checksum");
            }
            md5_seen = true;
        } else if (i != 0 && magic == 0xFFFFu && e[ENT_TYPE] == 0xFF && e[ENT_SUBTYPE] == 0xFF) {
            if (table != NULL) {
                table->count = count;
                table->has_md5 = md5_seen;
            }
            return OTA_OK;
        } else {
            table_reset(table);
            return ota_diag_set(diag, OTA_ERR_CORRUPT, "partition %d invalid magic number 0x%x", i,
                                (unsigned)magic);
        }
    }
    table_reset(table);
    return ota_diag_set(diag, OTA_ERR_CORRUPT,
                        "partition table has no terminating entry, not valid");
}

int ota_part_table_load(const ota_crypto_t *c, const uint8_t *buf, bool require_md5,
                        ota_part_table_t *table, ota_diag_t *diag)
{
    if (c == NULL || buf == NULL || table == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    table_reset(table);
    void *md5 = c->hash_start(c->ctx, OTA_HASH_MD5);
    if (md5 == NULL) {
        return ota_diag_set(diag, OTA_ERR_NO_MEM, "MD5 computation failed");
    }
    int count = 0;
    bool md5_found = false;
    bool md5_ok = false;
    for (int i = 0; i < OTA_PART_MAX_ENTRIES; i++) {
        const uint8_t *e = buf + (size_t)i * OTA_PART_ENTRY_SIZE;
        uint16_t magic = ota_get_le16(e + ENT_MAGIC);
        if (magic == OTA_PART_MD5_MAGIC) {
            uint8_t digest[OTA_MD5_LEN];
            c->hash_finish(md5, digest);
            md5 = NULL;
            md5_found = true;
            md5_ok = memcmp(digest, e + ENT_MD5, OTA_MD5_LEN) == 0;
            break;
        }
        if (magic != OTA_PART_MAGIC) {
            break;
        }
        c->hash_update(md5, e, OTA_PART_ENTRY_SIZE);
        ota_part_decode(e, &table->parts[count]);
        count++;
    }
    if (md5 != NULL) {
        c->hash_finish(md5, NULL);
    }
    if (require_md5) {
        if (!md5_found) {
            return ota_diag_set(diag, OTA_ERR_NOT_FOUND, "No MD5 found in partition table");
        }
        if (!md5_ok) {
            return ota_diag_set(diag, OTA_ERR_CORRUPT, "Partition table MD5 mismatch");
        }
    }
    table->count = count;
    table->has_md5 = md5_found;
    return OTA_OK;
}

int ota_part_table_read_raw(const ota_flash_t *f, uint32_t offset, uint8_t *buf)
{
    return ota_flash_read(f, offset, buf, OTA_PART_TABLE_MAX_LEN);
}

int ota_part_table_encode(const ota_crypto_t *c, const ota_part_table_t *table, uint8_t *out,
                          ota_diag_t *diag)
{
    if (table == NULL || out == NULL || (table->has_md5 && c == NULL) || table->count < 0 ||
        table->count > OTA_PART_MAX_ENTRIES) {
        return OTA_ERR_INVALID_ARG;
    }
    size_t len = (size_t)table->count * OTA_PART_ENTRY_SIZE;
    if (table->has_md5) {
        len += OTA_PART_ENTRY_SIZE;
    }
    if (len >= OTA_PART_TABLE_MAX_LEN) {
        return ota_diag_set(diag, OTA_ERR_NO_SPACE,
                            "Binary partition table length (%zu) longer than max", len);
    }
    for (int i = 0; i < table->count; i++) {
        ota_part_encode(&table->parts[i], out + (size_t)i * OTA_PART_ENTRY_SIZE);
    }
    size_t used = (size_t)table->count * OTA_PART_ENTRY_SIZE;
    if (table->has_md5) {
        uint8_t *row = out + used;
        int err = ota_hash(c, OTA_HASH_MD5, out, used, row + ENT_MD5);
        if (err != OTA_OK) {
            return ota_diag_set(diag, err, "MD5 computation failed");
        }
        ota_put_le16(row + ENT_MAGIC, OTA_PART_MD5_MAGIC);
        memset(row + 2, 0xFF, ENT_MD5 - 2);
        used += OTA_PART_ENTRY_SIZE;
    }
    memset(out + used, 0xFF, OTA_PART_TABLE_MAX_LEN - used);
    return OTA_OK;
}

const ota_part_t *ota_part_find(const ota_part_table_t *table, int type, int subtype,
                                const char *label)
{
    if (table == NULL) {
        return NULL;
    }
    for (int i = 0; i < table->count; i++) {
        const ota_part_t *p = &table->parts[i];
        if (type != OTA_PART_TYPE_ANY && p->type != type) {
            continue;
        }
        if (subtype != OTA_PART_SUBTYPE_ANY && p->subtype != subtype) {
            continue;
        }
        if (label != NULL && strcmp(p->label, label) != 0) {
            continue;
        }
        return p;
    }
    return NULL;
}

const ota_part_t *ota_part_find_by_label(const ota_part_table_t *table, const char *name)
{
    if (name == NULL) {
        return NULL;
    }
    return ota_part_find(table, OTA_PART_TYPE_ANY, OTA_PART_SUBTYPE_ANY, name);
}

bool ota_part_is_ota_slot(const ota_part_t *p)
{
    return p != NULL && p->type == OTA_PART_TYPE_APP &&
           p->subtype >= OTA_PART_SUBTYPE_APP_OTA_MIN && p->subtype < OTA_PART_SUBTYPE_APP_OTA_MAX;
}

int ota_part_ota_count_app(const ota_part_table_t *table)
{
    int n = 0;
    while (n < OTA_PART_SUBTYPE_APP_OTA_MAX - OTA_PART_SUBTYPE_APP_OTA_MIN &&
           ota_part_find(table, OTA_PART_TYPE_APP, OTA_PART_SUBTYPE_APP_OTA_MIN + n, NULL) !=
               NULL) {
        n++;
    }
    return n;
}

int ota_part_ota_count_boot(const ota_part_table_t *table)
{
    int n = 0;
    if (table == NULL) {
        return 0;
    }
    for (int i = 0; i < table->count; i++) {
        if (ota_part_is_ota_slot(&table->parts[i])) {
            n++;
        }
    }
    return n;
}

const char *ota_part_type_name(uint8_t type)
{
    switch (type) {
    case OTA_PART_TYPE_APP:
        return "app";
    case OTA_PART_TYPE_DATA:
        return "data";
    case OTA_PART_TYPE_BOOTLOADER:
        return "bootloader";
    case OTA_PART_TYPE_PARTITION_TABLE:
        return "partition_table";
    default:
        return NULL;
    }
}

static const char *const ota_slot_names[16] = {
    "ota_0", "ota_1", "ota_2",  "ota_3",  "ota_4",  "ota_5",  "ota_6",  "ota_7",
    "ota_8", "ota_9", "ota_10", "ota_11", "ota_12", "ota_13", "ota_14", "ota_15",
};

static const char *app_subtype_name(uint8_t subtype)
{
    if (subtype >= OTA_PART_SUBTYPE_APP_OTA_MIN && subtype < OTA_PART_SUBTYPE_APP_OTA_MAX) {
        return ota_slot_names[subtype - OTA_PART_SUBTYPE_APP_OTA_MIN];
    }
    switch (subtype) {
    case OTA_PART_SUBTYPE_APP_FACTORY:
        return "factory";
    case OTA_PART_SUBTYPE_APP_TEST:
        return "test";
    case OTA_PART_SUBTYPE_APP_TEE_0:
        return "tee_0";
    case OTA_PART_SUBTYPE_APP_TEE_1:
        return "tee_1";
    default:
        return NULL;
    }
}

static const char *data_subtype_name(uint8_t subtype)
{
    switch (subtype) {
    case OTA_PART_SUBTYPE_DATA_OTA:
        return "ota";
    case OTA_PART_SUBTYPE_DATA_PHY:
        return "phy";
    case OTA_PART_SUBTYPE_DATA_NVS:
        return "nvs";
    case OTA_PART_SUBTYPE_DATA_COREDUMP:
        return "coredump";
    case OTA_PART_SUBTYPE_DATA_NVS_KEYS:
        return "nvs_keys";
    case OTA_PART_SUBTYPE_DATA_EFUSE:
        return "efuse";
    case OTA_PART_SUBTYPE_DATA_UNDEFINED:
        return "undefined";
    case OTA_PART_SUBTYPE_DATA_ESPHTTPD:
        return "esphttpd";
    case OTA_PART_SUBTYPE_DATA_FAT:
        return "fat";
    case OTA_PART_SUBTYPE_DATA_SPIFFS:
        return "spiffs";
    case OTA_PART_SUBTYPE_DATA_LITTLEFS:
        return "littlefs";
    case OTA_PART_SUBTYPE_DATA_TEE_OTA:
        return "tee_ota";
    default:
        return NULL;
    }
}

const char *ota_part_subtype_name(uint8_t type, uint8_t subtype)
{
    switch (type) {
    case OTA_PART_TYPE_APP:
        return app_subtype_name(subtype);
    case OTA_PART_TYPE_DATA:
        return data_subtype_name(subtype);
    case OTA_PART_TYPE_BOOTLOADER:
        switch (subtype) {
        case OTA_PART_SUBTYPE_BOOTLOADER_PRIMARY:
            return "primary";
        case OTA_PART_SUBTYPE_BOOTLOADER_OTA:
            return "ota";
        case OTA_PART_SUBTYPE_BOOTLOADER_RECOVERY:
            return "recovery";
        default:
            return NULL;
        }
    case OTA_PART_TYPE_PARTITION_TABLE:
        switch (subtype) {
        case OTA_PART_SUBTYPE_PT_PRIMARY:
            return "primary";
        case OTA_PART_SUBTYPE_PT_OTA:
            return "ota";
        default:
            return NULL;
        }
    default:
        return NULL;
    }
}

const char *ota_part_usage(const ota_part_t *p)
{
    if (p == NULL) {
        return "unknown";
    }
    switch (p->type) {
    case OTA_PART_TYPE_APP:
        if (p->subtype == OTA_PART_SUBTYPE_APP_FACTORY) {
            return "factory app";
        }
        if (p->subtype == OTA_PART_SUBTYPE_APP_TEST) {
            return "test app";
        }
        return ota_part_is_ota_slot(p) ? "OTA app" : "Unknown app";
    case OTA_PART_TYPE_DATA:
        switch (p->subtype) {
        case OTA_PART_SUBTYPE_DATA_OTA:
            return "OTA data";
        case OTA_PART_SUBTYPE_DATA_PHY:
            return "RF data";
        case OTA_PART_SUBTYPE_DATA_NVS:
            return "WiFi data";
        case OTA_PART_SUBTYPE_DATA_NVS_KEYS:
            return "NVS keys";
        case OTA_PART_SUBTYPE_DATA_EFUSE:
            return "efuse";
        default:
            return "Unknown data";
        }
    case OTA_PART_TYPE_BOOTLOADER:
        switch (p->subtype) {
        case OTA_PART_SUBTYPE_BOOTLOADER_PRIMARY:
            return "primary bootloader";
        case OTA_PART_SUBTYPE_BOOTLOADER_OTA:
            return "ota bootloader";
        case OTA_PART_SUBTYPE_BOOTLOADER_RECOVERY:
            return "recovery bootloader";
        default:
            return "unknown";
        }
    case OTA_PART_TYPE_PARTITION_TABLE:
        switch (p->subtype) {
        case OTA_PART_SUBTYPE_PT_PRIMARY:
            return "primary partition_table";
        case OTA_PART_SUBTYPE_PT_OTA:
            return "ota partition_table";
        default:
            return "unknown";
        }
    default:
        return "unknown";
    }
}

int ota_part_format_log_line(const ota_part_t *p, int index, char *buf, size_t len)
{
    if (p == NULL || buf == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    return snprintf(buf, len, "%2d %-16s %-16s %02x %02x %08x %08x", index, p->label,
                    ota_part_usage(p), (unsigned)p->type, (unsigned)p->subtype, (unsigned)p->offset,
                    (unsigned)p->size);
}

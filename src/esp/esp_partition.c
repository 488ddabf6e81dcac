/*
 * ESP-IDF partition API (esp_partition.h, v5.5) over the native core's partition list and I/O
 * (ota_ops.h). Records come from the installed table (erase_size 0x1000, encrypted by ESP-IDF's
 * rule when flash encryption is on, readonly from the flag) and from
 * esp_partition_register_external.
 *
 * Where ESP-IDF asserts on a NULL partition or iterator, these functions return
 * ESP_ERR_INVALID_ARG (or NULL) instead.
 */
#include "esp_partition.h"

#include <stdlib.h>
#include <string.h>

#include "esp_dev_priv.h"
#include "esp_log.h"

#define TAG "partition"

struct esp_partition_iterator_opaque_ {
    int type;
    int subtype;
    bool any_label;
    char label[OTA_PART_LABEL_LEN + 2]; /* one more than a label can hold: a longer one never
                                           matches */
    size_t next;                        /* index of the next record to look at */
    const esp_partition_t *info;
};

/* Mapped copies handed out by esp_partition_mmap. */
typedef struct mapping {
    esp_partition_mmap_handle_t handle;
    void *data;
    struct mapping *next;
} mapping_t;

static mapping_t *g_maps;
static esp_partition_mmap_handle_t g_last_map;

static bool iter_matches(const esp_partition_iterator_t it, const esp_partition_t *p)
{
    return (it->type == ESP_PARTITION_TYPE_ANY || (int)p->type == it->type) &&
           (it->subtype == ESP_PARTITION_SUBTYPE_ANY || (int)p->subtype == it->subtype) &&
           (it->any_label || strcmp(it->label, p->label) == 0);
}

/* Moves it to the next matching record; false at the end. Lock held. */
static bool iter_advance(esp_partition_iterator_t it)
{
    esp_prec_t *r;
    while ((r = esp_dev_rec_at(it->next)) != NULL) {
        it->next++;
        if (iter_matches(it, &r->info)) {
            it->info = &r->info;
            return true;
        }
    }
    return false;
}

esp_partition_iterator_t esp_partition_find(esp_partition_type_t type,
                                            esp_partition_subtype_t subtype, const char *label)
{
    if (type == ESP_PARTITION_TYPE_ANY && subtype != ESP_PARTITION_SUBTYPE_ANY) {
        return NULL; /* a subtype without a type is a usage error in ESP-IDF */
    }
    esp_partition_iterator_t it = calloc(1, sizeof(*it));
    if (it == NULL) {
        return NULL;
    }
    it->type = (int)type;
    it->subtype = (int)subtype;
    it->any_label = label == NULL;
    if (label != NULL) {
        size_t n = strnlen(label, sizeof(it->label) - 1);
        memcpy(it->label, label, n);
    }
    esp_dev_lock();
    bool found = esp_dev_state()->installed && iter_advance(it);
    esp_dev_unlock();
    if (!found) {
        free(it);
        return NULL;
    }
    return it;
}

const esp_partition_t *esp_partition_find_first(esp_partition_type_t type,
                                                esp_partition_subtype_t subtype, const char *label)
{
    esp_partition_iterator_t it = esp_partition_find(type, subtype, label);
    const esp_partition_t *p = esp_partition_get(it);
    esp_partition_iterator_release(it);
    return p;
}

const esp_partition_t *esp_partition_get(esp_partition_iterator_t iterator)
{
    return iterator != NULL ? iterator->info : NULL;
}

esp_partition_iterator_t esp_partition_next(esp_partition_iterator_t iterator)
{
    if (iterator == NULL) {
        return NULL;
    }
    esp_dev_lock();
    bool found = iter_advance(iterator);
    esp_dev_unlock();
    if (!found) {
        free(iterator);
        return NULL;
    }
    return iterator;
}

void esp_partition_iterator_release(esp_partition_iterator_t iterator)
{
    free(iterator);
}

const esp_partition_t *esp_partition_verify(const esp_partition_t *partition)
{
    if (partition == NULL) {
        return NULL;
    }
    ota_part_t want;
    esp_dev_part_from(partition, &want);
    esp_dev_lock();
    const esp_partition_t *p = esp_dev_info_of(ota_ops_part_verify(esp_dev_ops(), &want));
    esp_dev_unlock();
    return p;
}

typedef enum {
    PART_IO_READ,
    PART_IO_WRITE,
    PART_IO_ERASE,
    PART_IO_READ_RAW,
    PART_IO_WRITE_RAW,
} part_io_t;

/*
 * The I/O calls: checks the caller's struct, takes it as the core's description and runs the
 * read (into dst), write (from src) or erase of size bytes at offset under the device lock.
 */
static esp_err_t part_io(const esp_partition_t *partition, part_io_t op, size_t offset, void *dst,
                         const void *src, size_t size)
{
    if (partition == NULL || !esp_dev_chip_ok(partition->flash_chip)) {
        return ESP_ERR_INVALID_ARG;
    }
    ota_part_t p;
    esp_dev_part_from(partition, &p);
    int err = OTA_OK;
    esp_dev_lock();
    const ota_ops_dev_t *dev = esp_dev_ops();
    ota_ops_dev_t raw = *dev; /* the chip as it is, past the cache's decryption */
    raw.flash = esp_dev_state()->cfg.flash;
    switch (op) {
    case PART_IO_READ_RAW:
        err = ota_ops_part_read(&raw, &p, offset, dst, size);
        break;
    case PART_IO_WRITE_RAW:
        err = ota_ops_part_write(&raw, &p, offset, src, size);
        break;
    case PART_IO_READ:
        err = ota_ops_part_read(dev, &p, offset, dst, size);
        break;
    case PART_IO_WRITE:
        err = ota_ops_part_write(dev, &p, offset, src, size);
        break;
    case PART_IO_ERASE:
        err = ota_ops_part_erase(dev, &p, offset, size);
        break;
    }
    esp_dev_unlock();
    return esp_err_from_ota(err);
}

esp_err_t esp_partition_read(const esp_partition_t *partition, size_t src_offset, void *dst,
                             size_t size)
{
    return part_io(partition, PART_IO_READ, src_offset, dst, NULL, size);
}

esp_err_t esp_partition_write(const esp_partition_t *partition, size_t dst_offset, const void *src,
                              size_t size)
{
    return part_io(partition, PART_IO_WRITE, dst_offset, NULL, src, size);
}

esp_err_t esp_partition_read_raw(const esp_partition_t *partition, size_t src_offset, void *dst,
                                 size_t size)
{
    return part_io(partition, PART_IO_READ_RAW, src_offset, dst, NULL, size);
}

esp_err_t esp_partition_write_raw(const esp_partition_t *partition, size_t dst_offset,
                                  const void *src, size_t size)
{
    return part_io(partition, PART_IO_WRITE_RAW, dst_offset, NULL, src, size);
}

esp_err_t esp_partition_erase_range(const esp_partition_t *partition, size_t offset, size_t size)
{
    return part_io(partition, PART_IO_ERASE, offset, NULL, NULL, size);
}

esp_err_t esp_partition_mmap(const esp_partition_t *partition, size_t offset, size_t size,
                             esp_partition_mmap_memory_t memory, const void **out_ptr,
                             esp_partition_mmap_handle_t *out_handle)
{
    (void)memory;
    if (partition == NULL || out_ptr == NULL || out_handle == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    if (offset > partition->size) {
        return ESP_ERR_INVALID_ARG;
    }
    if (size > partition->size - offset) {
        return ESP_ERR_INVALID_SIZE;
    }
    if (!esp_dev_chip_ok(partition->flash_chip)) {
        return ESP_ERR_NOT_SUPPORTED;
    }
    ota_part_t p;
    esp_dev_part_from(partition, &p);
    mapping_t *m = calloc(1, sizeof(*m));
    void *data = malloc(size > 0 ? size : 1);
    if (m == NULL || data == NULL) {
        free(m);
        free(data);
        return ESP_ERR_NO_MEM;
    }
    esp_dev_lock();
    esp_err_t ret = esp_err_from_ota(ota_ops_part_read(esp_dev_ops(), &p, offset, data, size));
    if (ret == ESP_OK) {
        m->handle = ++g_last_map;
        m->data = data;
        m->next = g_maps;
        g_maps = m;
        *out_ptr = data;
        *out_handle = m->handle;
    }
    esp_dev_unlock();
    if (ret != ESP_OK) {
        free(m);
        free(data);
    }
    return ret;
}

void esp_partition_munmap(esp_partition_mmap_handle_t handle)
{
    esp_dev_lock();
    for (mapping_t **pp = &g_maps; *pp != NULL; pp = &(*pp)->next) {
        mapping_t *m = *pp;
        if (m->handle == handle) {
            *pp = m->next;
            free(m->data);
            free(m);
            break;
        }
    }
    esp_dev_unlock();
}

esp_err_t esp_partition_get_sha256(const esp_partition_t *partition, uint8_t *sha_256)
{
    if (partition == NULL || sha_256 == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    ota_part_t p;
    esp_dev_part_from(partition, &p); /* used as given: it need not be registered */
    esp_dev_lock();
    int err = ota_ops_part_sha256(esp_dev_ops(), &p, sha_256);
    esp_dev_unlock();
    if (err == OTA_ERR_BOUNDS || err == OTA_ERR_IO || err == OTA_ERR_POWER_LOSS) {
        return ESP_FAIL; /* ESP-IDF: the region could not be mapped */
    }
    return esp_err_from_ota(err);
}

bool esp_partition_check_identity(const esp_partition_t *partition_1,
                                  const esp_partition_t *partition_2)
{
    uint8_t a[32];
    uint8_t b[32];
    return esp_partition_get_sha256(partition_1, a) == ESP_OK &&
           esp_partition_get_sha256(partition_2, b) == ESP_OK && memcmp(a, b, sizeof(a)) == 0;
}

esp_err_t esp_partition_register_external(esp_flash_t *flash_chip, size_t offset, size_t size,
                                          const char *label, esp_partition_type_t type,
                                          esp_partition_subtype_t subtype,
                                          const esp_partition_t **out_partition)
{
    if (out_partition != NULL) {
        *out_partition = NULL;
    }
    if (!esp_dev_chip_ok(flash_chip) || label == NULL || (unsigned)type > 0xFF ||
        (unsigned)subtype > 0xFF) {
        return ESP_ERR_INVALID_ARG;
    }
    esp_dev_lock();
    esp_dev_state_t *st = esp_dev_state();
    esp_err_t ret = ESP_ERR_INVALID_STATE;
    if (st->installed) {
        ret = esp_err_from_ota(ota_ops_extra_check(esp_dev_ops(), offset, size));
    }
    esp_prec_t *r = NULL;
    if (ret == ESP_OK) {
        r = calloc(1, sizeof(*r));
        ret = r != NULL ? ESP_OK : ESP_ERR_NO_MEM;
    }
    if (ret == ESP_OK) {
        r->part.type = (uint8_t)type;
        r->part.subtype = (uint8_t)subtype;
        r->part.offset = (uint32_t)offset;
        r->part.size = (uint32_t)size;
        memcpy(r->part.label, label, strnlen(label, OTA_PART_LABEL_LEN));
        r->user = true;
        r->info.flash_chip = esp_flash_default_chip;
        r->info.type = type;
        r->info.subtype = subtype;
        r->info.address = (uint32_t)offset;
        r->info.size = (uint32_t)size;
        r->info.erase_size = OTA_OPS_ERASE_SIZE;
        memcpy(r->info.label, r->part.label, sizeof(r->info.label));
        /* encrypted by ESP-IDF's rule when flash encryption is on (spec 1.9) */
        r->info.encrypted = st->enc_on && ota_flash_enc_part_encrypted(&r->part);
        if (r->info.encrypted && !ota_flash_enc_covers(&st->enc, r->part.offset)) {
            ota_flash_enc_add_range(&st->enc, r->part.offset, r->part.size);
        }
        esp_prec_t **tail = &st->ext;
        while (*tail != NULL) {
            tail = &(*tail)->next;
        }
        *tail = r;
        if (!esp_dev_refresh_extra()) {
            *tail = NULL;
            free(r);
            ret = ESP_ERR_NO_MEM;
        } else if (out_partition != NULL) {
            *out_partition = &r->info;
        }
    }
    esp_dev_unlock();
    return ret;
}

esp_err_t esp_partition_deregister_external(const esp_partition_t *partition)
{
    esp_err_t ret = ESP_ERR_NOT_FOUND;
    esp_dev_lock();
    esp_dev_state_t *st = esp_dev_state();
    esp_prec_t *r = esp_dev_rec_of_info(partition);
    if (r != NULL && !r->user) {
        ret = ESP_ERR_INVALID_ARG;
    } else if (r != NULL && esp_ota_handle_uses(&r->part)) {
        ret = ESP_ERR_INVALID_STATE; /* an open OTA handle still writes there */
    } else if (r != NULL) {
        for (esp_prec_t **pp = &st->ext; *pp != NULL; pp = &(*pp)->next) {
            if (*pp == r) {
                *pp = r->next;
                break;
            }
        }
        free(r);
        (void)esp_dev_refresh_extra(); /* shrinking: rebuilt in place, cannot fail */
        ret = ESP_OK;
    }
    esp_dev_unlock();
    return ret;
}

esp_err_t esp_partition_copy(const esp_partition_t *dest_part, uint32_t dest_offset,
                             const esp_partition_t *src_part, uint32_t src_offset, size_t size)
{
    if (src_part == NULL || dest_part == NULL || src_part == dest_part) {
        return ESP_ERR_INVALID_ARG;
    }
    if (src_offset > src_part->size || dest_offset > dest_part->size) {
        return ESP_ERR_INVALID_SIZE;
    }
    if (!esp_dev_chip_ok(src_part->flash_chip)) {
        ESP_LOGE(TAG, "Source partition is on external flash. Operation not supported.");
        return ESP_ERR_NOT_SUPPORTED;
    }
    if (!esp_dev_chip_ok(dest_part->flash_chip)) {
        return ESP_ERR_INVALID_ARG;
    }
    ota_part_t dst;
    ota_part_t src;
    esp_dev_part_from(dest_part, &dst);
    esp_dev_part_from(src_part, &src);
    esp_dev_lock();
    esp_err_t ret = esp_err_from_ota(
        ota_ops_part_copy(esp_dev_ops(), &dst, dest_offset, &src, src_offset, size));
    esp_dev_unlock();
    return ret;
}

uint32_t esp_partition_get_main_flash_sector_size(void)
{
    return OTA_OPS_ERASE_SIZE;
}

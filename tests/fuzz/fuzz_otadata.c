/*
 * otadata, from the two 32-byte entries to the boot decision. The input's first 64 bytes are
 * entry 0 and entry 1; they go into the otadata partition of a flash that `otakit flash create`
 * could have made (a bootloader with rollback, a factory app and two OTA slots, 1 MiB), whose
 * apps the next input bytes may erase. The flash inspector then runs the second-stage
 * bootloader's selection, rollback and fallback on it: whatever otadata holds, the board boots
 * an app that verifies, or reports that none does. The pure selection functions must agree with
 * the bootloader: a new selection written by the app or by otatool selects the slot asked for.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "ota/ota_chip.h"
#include "ota/ota_flashimg.h"
#include "ota/ota_img_build.h"
#include "ota/ota_memflash.h"
#include "ota/ota_otadata.h"
#include "ota/ota_part_csv.h"
#include "ota/ota_posix.h"

#define FLASH_SIZE 0x100000u
#define OTADATA_AT 0xd000u

static const char table_csv[] = "nvs,data,nvs,0x9000,0x4000\n"
                                "otadata,data,ota,0xd000,0x2000\n"
                                "phy_init,data,phy,0xf000,0x1000\n"
                                "factory,app,factory,0x10000,0x40000\n"
                                "ota_0,app,ota_0,0x50000,0x40000\n"
                                "ota_1,app,ota_1,0x90000,0x40000\n";
static const uint32_t app_at[3] = {0x10000, 0x50000, 0x90000};
static uint8_t *base;

static uint8_t *pack(bool bootloader, const char *sdkconfig, const char *ver, size_t *len)
{
    ota_img_pack_opts_t o;
    ota_img_pack_opts_init(&o);
    o.bootloader = bootloader;
    o.chip = ota_chip_by_name("esp32");
    o.sdkconfig = sdkconfig;
    o.sdkconfig_len = strlen(sdkconfig);
    o.project_ver = ver;
    o.has_build_time = true;
    uint8_t *img = NULL;
    if (ota_img_pack(ota_crypto_openssl(), &o, &img, len, NULL) != OTA_OK) {
        abort();
    }
    return img;
}

static void make_base(void)
{
    const ota_crypto_t *c = ota_crypto_openssl();
    static ota_part_table_t table;
    if (ota_part_csv_parse(table_csv, strlen(table_csv), NULL, &table, NULL) != OTA_OK) {
        abort();
    }
    size_t blen, alen[3];
    uint8_t *boot = pack(true,
                         "CONFIG_IDF_TARGET=\"esp32\"\nCONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE=y\n"
                         "CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK=y\n",
                         NULL, &blen);
    static const char *const labels[3] = {"factory", "ota_0", "ota_1"};
    static const char *const vers[3] = {"1.0", "2.0", "3.0"};
    uint8_t *apps[3];
    ota_flashimg_file_t files[3];
    for (int i = 0; i < 3; i++) {
        apps[i] = pack(false, "CONFIG_IDF_TARGET=\"esp32\"\n", vers[i], &alen[i]);
        files[i] = (ota_flashimg_file_t){labels[i], labels[i], apps[i], alen[i], true};
    }
    ota_flashimg_create_opts_t o = {0};
    o.flash_size = FLASH_SIZE;
    o.table = &table;
    o.bootloader = boot;
    o.bootloader_len = blen;
    o.files = files;
    o.file_count = 3;
    base = malloc(FLASH_SIZE);
    ota_diag_t diag;
    if (base == NULL || ota_flashimg_create(c, &o, base, NULL, &diag) != OTA_OK) {
        fprintf(stderr, "fuzz_otadata: %s\n", diag.msg);
        abort();
    }
    free(boot);
    for (int i = 0; i < 3; i++) {
        free(apps[i]);
    }
}

/* The pure selection functions on the two entries. */
static void check_selection(const uint8_t *entries, uint8_t slot_byte)
{
    ota_otadata_entry_t e[2];
    ota_otadata_decode(entries, &e[0]);
    ota_otadata_decode(entries + 32, &e[1]);
    int a = ota_otadata_active(e);
    FUZZ_CHECK(a >= -1 && a <= 1);
    uint32_t n = 1 + slot_byte % 16, slot = (slot_byte >> 4) % n;
    int sector;
    ota_otadata_entry_t out;
    if (ota_otadata_next(e, slot, n, (slot_byte & 1) != 0, &sector, &out) == OTA_OK) {
        ota_otadata_entry_t after[2] = {e[0], e[1]};
        after[sector] = out;
        int b = ota_otadata_active(after);
        FUZZ_CHECK(b >= 0);
        /* ESP-IDF's quirk (kept): an active seq 0 and the last slot give seq 0 again */
        if (!(a >= 0 && e[a].seq == 0)) {
            FUZZ_CHECK((uint32_t)ota_otadata_slot_of_seq(after[b].seq, n) == slot);
        }
    }
    static uint8_t image[0x2000];
    memset(image, 0xFF, sizeof(image));
    memcpy(image, entries, 32);
    memcpy(image + 0x1000, entries + 32, 32);
    if (ota_otadata_tool_switch(image, sizeof(image), slot, n, &sector, NULL) == OTA_OK) {
        ota_otadata_entry_t w;
        ota_otadata_decode(image + (sector ? 0x1000 : 0), &w);
        FUZZ_CHECK(ota_otadata_seq_crc_ok(&w));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (base == NULL) {
        make_base();
    }
    fuzz_in_t in = {data, size};
    uint8_t entries[64];
    for (int i = 0; i < 64; i++) {
        entries[i] = in.size ? fuzz_byte(&in) : 0xFF;
    }
    uint8_t erase = fuzz_byte(&in), slot_byte = fuzz_byte(&in);
    check_selection(entries, slot_byte);

    const ota_crypto_t *c = ota_crypto_openssl();
    uint8_t *flash = malloc(FLASH_SIZE);
    if (flash == NULL) {
        return 0;
    }
    memcpy(flash, base, FLASH_SIZE);
    memcpy(flash + OTADATA_AT, entries, 32);
    memcpy(flash + OTADATA_AT + 0x1000, entries + 32, 32);
    for (int i = 0; i < 3; i++) {
        if (erase & (1u << i)) {
            memset(flash + app_at[i], 0xFF, 0x1000);
        } else if (erase & (8u << i)) {
            flash[app_at[i] + 0x100] ^= 0x5A; /* a corrupted image: the hash fails */
        }
    }
    ota_flashimg_report_t *r = NULL;
    if (ota_flashimg_inspect(c, flash, FLASH_SIZE, NULL, &r) == OTA_OK) {
        FUZZ_CHECK(r->table_err == OTA_OK);
        if (r->booted_run && r->boot.outcome == OTA_BOOT_OK) {
            /* what boots is an app partition whose image verifies */
            int found = 0;
            for (int i = 0; i < r->app_count; i++) {
                const ota_part_t *p = &r->table.parts[r->apps[i].part];
                if (p->offset == r->boot.part.offset) {
                    FUZZ_CHECK(r->apps[i].err == OTA_OK);
                    found++;
                }
            }
            FUZZ_CHECK(found == 1);
        }
        ota_flashimg_report_free(r);
    }
    free(flash);
    return 0;
}

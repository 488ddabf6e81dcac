/*
 * Randomized calls of the ESP-IDF OTA and partition API with garbage arguments, handles and
 * data, from fixed seeds (replayable: OTAKIT_FUZZ_SEED=n runs one seed, OTAKIT_FUZZ_ITERS the
 * number of calls). Run under ASan/UBSan: nothing may crash or leak, and every call returns
 * ESP_OK or one of the error codes the API documents.
 *
 * Pointers handed to the API are always valid for what the API may touch: buffers are
 * BUF_CAP bytes and a size passed with a buffer is either at most BUF_CAP or far beyond the
 * chip (so that a bounds check refuses it before the buffer is used), as a caller's contract
 * demands. Everything else - partition descriptions, handles, offsets, sizes, image bytes - is
 * random.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "esp_app_desc.h"
#include "esp_efuse.h"
#include "esp_flash.h"
#include "esp_internal.h"
#include "esp_log.h"
#include "esp_ota_ops.h"
#include "esp_partition.h"
#include "ota/ota_img_build.h"
#include "ota/ota_nor.h"
#include "ota/ota_ops.h"
#include "ota/ota_part_csv.h"
#include "ota/ota_posix.h"
#include "ota/ota_sdkconfig.h"
#include "fixture.h"
#include "test_util.h"

#define FLASH_SIZE 0x400000u
#define BUF_CAP 0x10000u
#define HUGE_SIZE 0x10000000u /* far beyond the chip */
#define MAX_EXT 8
#define MAX_MAPS 16

static uint64_t rng;
static ota_nor_t *nor;
static ota_sdkconfig_t *sdk;
static uint8_t *image;
static size_t image_len;
static uint8_t buf[BUF_CAP];
static uint8_t data[BUF_CAP];
static uint8_t imgbuf[BUF_CAP + 1024]; /* the image's first bytes, readable for any buffer size */
static test_fuses_t fuses;
static const esp_partition_t *ext[MAX_EXT];
static int n_ext;
static esp_partition_mmap_handle_t maps[MAX_MAPS];
static int n_maps;
static esp_ota_handle_t last_handle;
static int not_an_esp_flash;
static long n_ok;      /* calls that returned ESP_OK */
static long n_err;     /* calls that returned an error */
static long n_updates; /* complete updates that verified and were selected */

static uint64_t next(void)
{
    return test_splitmix64(&rng);
}

static uint32_t below(uint32_t n)
{
    return (uint32_t)(next() % n);
}

static bool coin(void)
{
    return next() & 1;
}

static ota_efuse_t efuse = {&fuses, test_fuses_read, test_fuses_write, NULL, NULL, NULL, NULL,
                            NULL};

/* Every code the layer may return. */
static void check(esp_err_t e)
{
    static const esp_err_t ok[] = {
        ESP_OK,
        ESP_FAIL,
        ESP_ERR_NO_MEM,
        ESP_ERR_INVALID_ARG,
        ESP_ERR_INVALID_STATE,
        ESP_ERR_INVALID_SIZE,
        ESP_ERR_NOT_FOUND,
        ESP_ERR_NOT_SUPPORTED,
        ESP_ERR_NOT_ALLOWED,
        ESP_ERR_OTA_PARTITION_CONFLICT,
        ESP_ERR_OTA_VALIDATE_FAILED,
        ESP_ERR_OTA_SMALL_SEC_VER,
        ESP_ERR_OTA_ROLLBACK_FAILED,
        ESP_ERR_OTA_ROLLBACK_INVALID_STATE,
        ESP_ERR_IMAGE_INVALID,
        ESP_ERR_FLASH_NOT_INITIALISED,
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (e == ok[i]) {
            if (e == ESP_OK) {
                n_ok++;
            } else {
                n_err++;
            }
            return;
        }
    }
    fail_msg("unexpected esp_err_t 0x%x", (unsigned)e);
}

/* ---- random arguments ---------------------------------------------------------------------- */

static const esp_partition_t *table_part(void)
{
    int k = (int)below(12);
    esp_partition_iterator_t it =
        esp_partition_find(ESP_PARTITION_TYPE_ANY, ESP_PARTITION_SUBTYPE_ANY, NULL);
    while (it != NULL && k-- > 0) {
        it = esp_partition_next(it);
    }
    const esp_partition_t *p = esp_partition_get(it);
    esp_partition_iterator_release(it);
    return p;
}

static uint32_t rnd_u32(void)
{
    static const uint32_t pick[] = {0,          1,          0x20,       0x1000,    0x8000,
                                    0x10000,    0x110000,   0x210000,   0x3FF000,  FLASH_SIZE,
                                    0x7FFFFFFF, 0xFFFFF000, 0xFFFFFFFE, 0xFFFFFFFF};
    switch (below(3)) {
    case 0:
        return pick[below(sizeof(pick) / sizeof(pick[0]))];
    case 1:
        return below(FLASH_SIZE + 0x10000) & ~0xFFFu;
    default:
        return (uint32_t)next();
    }
}

/* A partition description: NULL, a registered one, or a stack struct with random fields. */
static const esp_partition_t *rnd_part(esp_partition_t *tmp)
{
    switch (below(6)) {
    case 0:
        return NULL;
    case 1:
    case 2: {
        const esp_partition_t *p = table_part();
        if (p != NULL) {
            return p;
        }
        break;
    }
    case 3:
        if (n_ext > 0) {
            return ext[below((uint32_t)n_ext)];
        }
        break;
    case 4: {
        const esp_partition_t *p = table_part();
        if (p != NULL) {
            *tmp = *p; /* a copy, possibly altered */
            if (coin()) {
                tmp->size ^= 1u << below(24);
            }
            if (coin()) {
                tmp->flash_chip = NULL;
            }
            return tmp;
        }
        break;
    }
    default:
        break;
    }
    memset(tmp, 0, sizeof(*tmp));
    static const int types[] = {0, 1, 2, 3, 0x40, 0xFF, 0x100, -1};
    tmp->type = (esp_partition_type_t)types[below(8)];
    tmp->subtype = (esp_partition_subtype_t)(coin() ? (int)below(0x40) : (int)below(0x200));
    tmp->address = rnd_u32();
    tmp->size = rnd_u32();
    tmp->erase_size = 0x1000;
    switch (below(4)) {
    case 0:
        break;
    case 1:
        memcpy(tmp->label, "ota_0", 6);
        break;
    case 2:
        memset(tmp->label, 'z', sizeof(tmp->label));
        break; /* no NUL */
    default:
        tmp->label[0] = (char)('a' + below(26));
        break;
    }
    tmp->flash_chip =
        below(4) == 0 ? (esp_flash_t *)&not_an_esp_flash : (coin() ? NULL : esp_flash_default_chip);
    tmp->encrypted = below(8) == 0;
    tmp->readonly = below(8) == 0;
    return tmp;
}

/* A size that is safe with a BUF_CAP buffer: at most BUF_CAP, or far beyond the chip. */
static size_t rnd_buf_size(void)
{
    switch (below(5)) {
    case 0:
        return below(17);
    case 1:
        return below(BUF_CAP + 1);
    case 2:
        return BUF_CAP;
    case 3:
        return coin() ? SIZE_MAX : HUGE_SIZE + below(1000);
    default:
        return 0x1000u * below(16);
    }
}

static size_t rnd_any_size(void)
{
    static const size_t pick[] = {0,
                                  1,
                                  0x1000,
                                  0x1001,
                                  0x10000,
                                  0x100000,
                                  0x1A9000,
                                  OTA_SIZE_UNKNOWN,
                                  OTA_WITH_SEQUENTIAL_WRITES,
                                  SIZE_MAX,
                                  SIZE_MAX - 0xFFE};
    return coin() ? pick[below(sizeof(pick) / sizeof(pick[0]))] : rnd_u32();
}

static size_t rnd_off(void)
{
    return coin() ? below(0x200000) : (size_t)rnd_u32();
}

static esp_ota_handle_t rnd_handle(void)
{
    switch (below(4)) {
    case 0:
        return last_handle;
    case 1:
        return below(10);
    case 2:
        return last_handle - below(3);
    default:
        return (esp_ota_handle_t)next();
    }
}

static const void *rnd_data(size_t size)
{
    (void)size;
    if (below(16) == 0) {
        return NULL;
    }
    switch (below(3)) {
    case 0:
        return imgbuf; /* the start of a real image */
    case 1:
        return data; /* random bytes */
    default:
        return imgbuf + below(1000);
    }
}

/* ---- board --------------------------------------------------------------------------------- */

static void forget_pointers(void)
{
    n_ext = 0;
}

static void reinstall(void)
{
    assert_int_equal(ota_sdkconfig_set(sdk, "BOOTLOADER_APP_ROLLBACK_ENABLE", coin() ? "y" : "n"),
                     OTA_OK);
    assert_int_equal(ota_sdkconfig_set(sdk, "BOOTLOADER_APP_ANTI_ROLLBACK", below(4) ? "n" : "y"),
                     OTA_OK);
    static const uint32_t running[] = {0, 0x10000, 0x110000, 0x210000, 0x9000};
    esp_dev_config_t cfg = {
        .flash = ota_nor_flash(nor),
        .crypto = ota_crypto_openssl(),
        .chip = ota_chip_by_name("esp32"),
        .chip_rev = 300,
        .efuse = below(4) ? &efuse : NULL,
        .running_offset = running[below(5)],
        .sdkconfig = sdk,
        .ota_test_flags = below(8) == 0 ? OTA_OPS_TEST_SET_BOOT_ACTIVE_SECTOR : 0,
    };
    forget_pointers();
    check(esp_dev_install(&cfg));
}

static void board(void)
{
    assert_int_equal(ota_nor_create_mem(FLASH_SIZE, NULL, &nor, NULL), OTA_OK);
    ota_part_table_t t;
    test_table_builtin("two_ota", &t);
    test_table_put(ota_nor_flash(nor), &t);
    static const uint8_t payload[2000] = {1};
    image = test_app_image(NULL, "1", -1, payload, sizeof(payload), &image_len);
    test_flash_put(ota_nor_flash(nor), 0x10000, image, image_len);
    memset(imgbuf, 0xA5, sizeof(imgbuf));
    memcpy(imgbuf, image, image_len < sizeof(imgbuf) ? image_len : sizeof(imgbuf));
    test_flash_put(ota_nor_flash(nor), 0x110000, image, image_len);
    sdk = ota_sdkconfig_new();
    assert_non_null(sdk);
    fuses.counter = 0;
    n_maps = 0;
    last_handle = 0;
    reinstall();
}

static void unboard(void)
{
    for (int i = 0; i < n_maps; i++) {
        esp_partition_munmap(maps[i]);
    }
    esp_dev_uninstall();
    ota_sdkconfig_free(sdk);
    free(image);
    ota_nor_close(nor);
}

/* A complete, valid update of a random OTA slot (so that later calls see real images). */
static void real_update(void)
{
    const esp_partition_t *p = esp_ota_get_next_update_partition(NULL);
    esp_ota_handle_t h;
    if (p == NULL || esp_ota_begin(p, OTA_WITH_SEQUENTIAL_WRITES, &h) != ESP_OK) {
        return;
    }
    last_handle = h;
    for (size_t off = 0; off < image_len; off += 4096) {
        size_t n = image_len - off < 4096 ? image_len - off : 4096;
        check(esp_ota_write(h, image + off, n));
    }
    esp_err_t e = esp_ota_end(h);
    check(e);
    if (e == ESP_OK) {
        e = esp_ota_set_boot_partition(p);
        check(e);
        n_updates += e == ESP_OK;
    }
}

/* ---- one random call ----------------------------------------------------------------------- */

static void one_call(void)
{
    esp_partition_t tmp, tmp2;
    const esp_partition_t *p;
    esp_ota_handle_t h;
    switch (below(40)) {
    case 0:
    case 1: {
        esp_err_t e = below(2) == 0
                          ? esp_ota_begin(rnd_part(&tmp), rnd_any_size(), coin() ? &h : NULL)
                          : esp_ota_resume(rnd_part(&tmp), rnd_any_size(), rnd_off(), &h);
        check(e);
        if (e == ESP_OK) {
            last_handle = h;
        }
        break;
    }
    case 2:
    case 3: {
        size_t n = rnd_buf_size();
        check(esp_ota_write(rnd_handle(), rnd_data(n), n));
        break;
    }
    case 4: {
        size_t n = rnd_buf_size();
        check(esp_ota_write_with_offset(rnd_handle(), rnd_data(n), n, rnd_u32()));
        break;
    }
    case 5:
        check(esp_ota_end(rnd_handle()));
        break;
    case 6:
        check(esp_ota_abort(rnd_handle()));
        break;
    case 7:
        check(esp_ota_set_final_partition(rnd_handle(), rnd_part(&tmp), coin()));
        break;
    case 8:
        check(esp_ota_set_boot_partition(rnd_part(&tmp)));
        break;
    case 9:
        (void)esp_ota_get_boot_partition();
        (void)esp_ota_get_running_partition();
        (void)esp_ota_get_app_partition_count();
        break;
    case 10:
        (void)esp_ota_get_next_update_partition(rnd_part(&tmp));
        break;
    case 11: {
        esp_app_desc_t d;
        check(esp_ota_get_partition_description(rnd_part(&tmp), coin() ? &d : NULL));
        break;
    }
    case 12: {
        esp_bootloader_desc_t d;
        check(esp_ota_get_bootloader_description(rnd_part(&tmp), coin() ? &d : NULL));
        break;
    }
    case 13:
        check(esp_ota_mark_app_valid_cancel_rollback());
        break;
    case 14:
        check(esp_ota_mark_app_invalid_rollback());
        break;
    case 15:
        (void)esp_ota_get_last_invalid_partition();
        break;
    case 16: {
        esp_ota_img_states_t st;
        check(esp_ota_get_state_partition(rnd_part(&tmp), coin() ? &st : NULL));
        break;
    }
    case 17:
        check(esp_ota_erase_last_boot_app_partition());
        break;
    case 18:
        check(esp_ota_invalidate_inactive_ota_data_slot());
        break;
    case 19:
        (void)esp_ota_check_rollback_is_possible();
        break;
    case 20: {
        size_t n = rnd_buf_size();
        check(esp_partition_read(rnd_part(&tmp), rnd_off(), coin() ? buf : NULL, n));
        break;
    }
    case 21: {
        size_t n = rnd_buf_size();
        check(esp_partition_write(rnd_part(&tmp), rnd_off(), rnd_data(n), n));
        break;
    }
    case 22:
        check(esp_partition_erase_range(rnd_part(&tmp), rnd_off(), rnd_any_size()));
        break;
    case 23: {
        uint8_t sha[32];
        check(esp_partition_get_sha256(rnd_part(&tmp), coin() ? sha : NULL));
        (void)esp_partition_check_identity(rnd_part(&tmp), rnd_part(&tmp2));
        break;
    }
    case 24: {
        const void *ptr;
        esp_partition_mmap_handle_t mh;
        size_t n = below(BUF_CAP + 1);
        esp_err_t e = esp_partition_mmap(rnd_part(&tmp), rnd_off(), n, ESP_PARTITION_MMAP_DATA,
                                         coin() ? &ptr : NULL, &mh);
        check(e);
        if (e == ESP_OK) {
            if (n_maps < MAX_MAPS) {
                maps[n_maps++] = mh;
            } else {
                esp_partition_munmap(mh);
            }
        }
        break;
    }
    case 25:
        if (n_maps > 0) {
            esp_partition_munmap(maps[--n_maps]);
        }
        esp_partition_munmap((esp_partition_mmap_handle_t)next());
        break;
    case 26: {
        const esp_partition_t *out = NULL;
        static const char *labels[] = {"ext", "PrimaryBTLDR", "ThisLabelIsLongerThan16", ""};
        esp_err_t e = esp_partition_register_external(
            coin() ? NULL : (below(4) ? esp_flash_default_chip : (esp_flash_t *)&not_an_esp_flash),
            rnd_off(), coin() ? 0x1000u * below(64) : rnd_u32(), below(8) ? labels[below(4)] : NULL,
            (esp_partition_type_t)below(0x104), (esp_partition_subtype_t)below(0x104),
            coin() ? &out : NULL);
        check(e);
        if (e == ESP_OK && out != NULL && n_ext < MAX_EXT) {
            ext[n_ext++] = out;
        }
        break;
    }
    case 27: {
        p = n_ext > 0 && coin() ? ext[below((uint32_t)n_ext)] : rnd_part(&tmp);
        esp_err_t e = esp_partition_deregister_external(p);
        check(e);
        for (int i = 0; e == ESP_OK && i < n_ext; i++) {
            if (ext[i] == p) { /* freed now: the test must not hand it out again */
                ext[i--] = ext[--n_ext];
            }
        }
        break;
    }
    case 28: {
        size_t n = coin() ? SIZE_MAX : rnd_any_size();
        check(esp_partition_copy(rnd_part(&tmp), rnd_u32(), rnd_part(&tmp2), rnd_u32(), n));
        break;
    }
    case 29: {
        esp_partition_iterator_t it =
            esp_partition_find((esp_partition_type_t)(coin() ? 0xFF : (int)below(5)),
                               (esp_partition_subtype_t)(coin() ? 0xFF : (int)below(0x30)),
                               below(4) == 0 ? "ota_1" : NULL);
        for (int k = (int)below(10); it != NULL && k > 0; k--) {
            p = esp_partition_get(it);
            assert_non_null(p);
            it = esp_partition_next(it);
        }
        esp_partition_iterator_release(it);
        (void)esp_partition_verify(rnd_part(&tmp));
        break;
    }
    case 30: {
        uint32_t size;
        size_t n = rnd_buf_size();
        esp_flash_t *chip = below(8) ? NULL : (esp_flash_t *)&not_an_esp_flash;
        check(esp_flash_get_size(chip, coin() ? &size : NULL));
        check(esp_flash_read(chip, coin() ? buf : NULL, rnd_u32(), (uint32_t)n));
        break;
    }
    case 31: {
        size_t n = rnd_buf_size();
        uint32_t addr = rnd_u32();
        /* keep the table and images mostly intact: writes go to the upper 1 MiB */
        check(esp_flash_write(NULL, data, 0x300000 + (addr & 0xFFFFF), (uint32_t)n));
        check(esp_flash_erase_region(NULL, 0x300000 + (addr & 0xFF000), 0x1000u * below(4)));
        if (below(8) == 0) {
            check(esp_flash_erase_region(NULL, addr, (uint32_t)rnd_any_size()));
        }
        break;
    }
    case 32: {
        char hex[80];
        (void)esp_app_get_description();
        (void)esp_app_get_elf_sha256(coin() ? hex : NULL, below(sizeof(hex) + 1));
        (void)esp_ota_get_app_description();
        break;
    }
    case 33:
        (void)esp_efuse_read_secure_version();
        (void)esp_efuse_check_secure_version(below(40));
        check(esp_efuse_update_secure_version(below(4) == 0 ? below(40) : below(3)));
        break;
    case 34:
        for (size_t i = 0; i < sizeof(data); i++) {
            data[i] = (uint8_t)next();
        }
        data[0] = coin() ? 0xE9 : data[0];
        break;
    case 35:
        real_update();
        break;
    case 36:
        if (below(8) == 0) {
            reinstall();
        }
        break;
    default: {
        /* a session fed in order, with random pieces of the real image */
        const esp_partition_t *target = esp_ota_get_next_update_partition(NULL);
        if (target != NULL && esp_ota_begin(target, rnd_any_size(), &h) == ESP_OK) {
            last_handle = h;
            size_t off = 0;
            for (int k = (int)below(6); k > 0 && off < image_len; k--) {
                size_t n = below(8000) + 1;
                if (n > image_len - off) {
                    n = image_len - off;
                }
                check(esp_ota_write(h, image + off, n));
                off += n;
            }
            check(coin() ? esp_ota_end(h) : esp_ota_abort(h));
        }
        break;
    }
    }
}

static void run_seed(uint64_t seed, long iters)
{
    rng = seed;
    n_ok = n_err = n_updates = 0;
    board();
    for (long i = 0; i < iters; i++) {
        one_call();
    }
    unboard();
    fprintf(stderr, "seed %llu: %ld calls, %ld ESP_OK, %ld errors, %ld updates\n",
            (unsigned long long)seed, iters, n_ok, n_err, n_updates);
    /* the garbage must not hide the real paths: some calls succeed, some updates complete */
    if (iters >= 1000) {
        assert_true(n_ok > iters / 20);
        assert_true(n_err > iters / 20);
        assert_true(n_updates > 0);
    }
}

static void test_random_calls(void **state)
{
    (void)state;
    const char *env_seed = getenv("OTAKIT_FUZZ_SEED");
    const char *env_iters = getenv("OTAKIT_FUZZ_ITERS");
    long iters = env_iters != NULL ? atol(env_iters) : 3000;
    /* the layer logs to stdout: keep the test output short */
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    close(devnull);
    if (env_seed != NULL) {
        run_seed(strtoull(env_seed, NULL, 0), iters);
    } else {
        for (uint64_t seed = 1; seed <= 6; seed++) {
            run_seed(seed, iters);
        }
    }
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The app runtime: the start-up code of every app program on the simulated board.
 *
 * The board starts the program (taken from the app's image in flash) with the shared board
 * state's file descriptor in OTAKIT_BOARD_FD. The runtime attaches to the board (flash image,
 * virtual clock, eFuses, GPIO inputs), reads its own image back from flash (description, baked-in
 * sdkconfig, embedded files), installs the ESP-IDF layer's device, prints ESP-IDF's start-up
 * lines and calls app_main() as the main task. It ends the process with the OTA_APP_EXIT_*
 * status that tells the board what happened.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "esp_app_desc.h"
#include "esp_crt_bundle.h"
#include "esp_heap_caps.h"
#include "esp_internal.h"
#include "esp_flash_encrypt.h"
#include "esp_log.h"
#include "ota/ota_board_shm.h"
#include "ota/ota_clock.h"
#include "ota/ota_efuse_store.h"
#include "ota/ota_flash_enc.h"
#include "ota/ota_img.h"
#include "ota/ota_nor.h"
#include "ota/ota_posix.h"
#include "ota/ota_sdkconfig.h"
#include "ota/ota_timed_flash.h"

void app_main(void);

static ota_board_shm_t *shm;
static ota_nor_t *nor;
static ota_timed_flash_t timed;
static ota_nor_profile_t profile; /* the timing model of timed */
static ota_efuse_store_t efuse;
static bool enc_on;         /* flash encryption is on: the image is read decrypted */
static ota_flash_enc_t enc; /* over the timed flash */
static ota_sdkconfig_t *config;
/* the running image's embedded-files table, read in place from the flash mapping as ESP-IDF
 * apps read them through the flash cache: file-backed pages, no copy however large they are */
static const uint8_t *files;
static uint32_t files_len;

/* An embedded file of the running image (`otakit image pack --embed`; NUL-terminated), or NULL;
 * *len (if non-NULL) gets its length. */
static const char *image_file_n(const char *name, size_t *len)
{
    uint32_t off = 0;
    uint32_t n = 0;
    if (files == NULL || ota_img_files_find(files, files_len, name, &off, &n) != OTA_OK) {
        return NULL;
    }
    if (len != NULL) {
        *len = n;
    }
    return (const char *)files + off;
}

static const char *image_file(const char *name)
{
    return image_file_n(name, NULL);
}

/* ---- board hooks --------------------------------------------------------------------------- */

static void __attribute__((noreturn)) finish(int status)
{
    fflush(NULL);
    _exit(status);
}

static void power_lost(void *arg)
{
    (void)arg;
    finish(OTA_APP_EXIT_POWER_LOSS);
}

static void restart(void *ctx)
{
    (void)ctx;
    finish(OTA_APP_EXIT_RESTART);
}

static void deep_sleep(void *ctx, bool timer)
{
    (void)ctx;
    finish(timer ? OTA_APP_EXIT_DEEP_SLEEP : OTA_APP_EXIT_SLEEP_FOREVER);
}

static void idle_forever(void)
{
    finish(OTA_APP_EXIT_IDLE);
}

static int gpio_level(void *ctx, int pin)
{
    (void)ctx;
    return ota_board_gpio_level(shm, pin, ota_board_time_us(shm) / 1000u, -1);
}

static void gpio_pull(void *ctx, int pin, int pull)
{
    (void)ctx;
    if (pin >= 0 && pin < OTA_BOARD_GPIO_COUNT) {
        shm->gpio_pull[pin] = (int8_t)pull;
    }
}

static void gpio_drive(void *ctx, int pin, int level)
{
    (void)ctx;
    if (pin >= 0 && pin < OTA_BOARD_GPIO_COUNT) {
        shm->gpio_drive[pin] = (int8_t)level;
    }
}

static int read_mac(void *ctx, uint8_t mac[6])
{
    (void)ctx;
    return ota_efuse_store_read_mac(&efuse, mac) == OTA_OK ? 0 : -1;
}

/* abort(): ESP-IDF's panic handler reports it and the chip resets. */
static void on_abort(int sig)
{
    (void)sig;
    static const char msg[] = "\nabort() was called at PC 0x400d0000 on core 0\n\nRebooting...\n";
    if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0) {
        /* nothing more can be done while panicking */
    }
    _exit(OTA_APP_EXIT_PANIC);
}

static void __attribute__((noreturn)) host_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "otakit app: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    finish(OTA_APP_EXIT_HOST_ERROR);
}

/* ---- start-up ------------------------------------------------------------------------------ */

/* Reads [off, off+len) of the flash (not counted as flash operations: the program image was
 * already read and verified by the bootloader). */
static uint8_t *flash_copy(uint32_t off, uint32_t len)
{
    /* with flash encryption, the whole 16-byte blocks around it, decrypted */
    uint32_t base = enc_on ? off & ~15u : off;
    uint32_t whole = enc_on ? (off - base + len + 15u) & ~15u : len;
    uint32_t avail = ota_nor_size(nor) - base;
    uint8_t *buf = malloc((size_t)whole + 1);
    if (buf != NULL) {
        memset(buf, 0xFF, whole);
        memcpy(buf, ota_nor_data(nor) + base, whole < avail ? whole : avail);
        if (enc_on) {
            ota_flash_enc_crypt(ota_crypto_openssl(), enc.key, enc.config, true, base, buf, whole);
            memmove(buf, buf + (off - base), len);
        }
        buf[len] = 0;
    }
    return buf;
}

/* Reads the running image's sdkconfig and embedded files. Text that does not parse is a host
 * error at boot: the app never runs with an empty configuration in place of its own. */
static void load_image_config(void)
{
    ota_img_host_info_t info;
    ota_diag_t diag = {{0}};
    if (ota_img_host_locate(enc_on ? &enc.view.flash : &timed.flash, shm->running_offset,
                            shm->running_size, &info, &diag) != OTA_OK) {
        host_error("the running image has no otakit host descriptor: %s", diag.msg);
    }
    uint8_t *text = flash_copy(shm->running_offset + info.sdkconfig_offset, info.sdkconfig_len);
    if (text == NULL) {
        host_error("%s", "out of memory reading the image's sdkconfig");
    }
    int err = ota_sdkconfig_parse((const char *)text, info.sdkconfig_len, &config, &diag);
    free(text);
    if (err != OTA_OK) {
        host_error("the image's sdkconfig does not parse: %s", ota_diag_why(&diag, err));
    }
    if (info.has_files) {
        /* in place in the flash mapping, or a decrypted copy when the flash holds ciphertext */
        uint32_t at = shm->running_offset + info.files_offset;
        files = enc_on ? flash_copy(at, info.files_len) : ota_nor_data(nor) + at;
        files_len = info.files_len;
    }
}

/* The board's PSRAM chip: --psram, else the one a WROVER board carries for an app built with
 * CONFIG_SPIRAM. */
static uint32_t board_psram(void)
{
    if (shm->psram_size != OTA_BOARD_PSRAM_AUTO) {
        return shm->psram_size;
    }
    return ota_sdkconfig_bool(config, "SPIRAM", false) ? OTA_BOARD_PSRAM_DEFAULT : 0;
}

/* free() and realloc() of the whole program (glibc's, and the PSRAM heap's for its blocks): an
 * ESP-IDF app frees a heap_caps_malloc(MALLOC_CAP_SPIRAM) block with free(). */
extern void __libc_free(void *p);
extern void *__libc_realloc(void *p, size_t n);

void free(void *p)
{
    if (p != NULL && esp_psram_heap_owns(p)) {
        esp_psram_heap_free(p);
    } else {
        __libc_free(p);
    }
}

void *realloc(void *p, size_t n)
{
    if (p != NULL && esp_psram_heap_owns(p)) {
        return heap_caps_realloc(p, n, MALLOC_CAP_SPIRAM);
    }
    return __libc_realloc(p, n);
}

static void startup_banner(void)
{
    const esp_app_desc_t *d = esp_app_get_description();
    char sha[17] = {0};
    esp_app_get_elf_sha256(sha, sizeof(sha));
    esp_psram_startup();
    ESP_LOGI("cpu_start", "Pro cpu start user code");
    ESP_LOGI("cpu_start", "cpu freq: 160000000 Hz");
    ESP_LOGI("app_init", "Application information:");
    ESP_LOGI("app_init", "Project name:     %s", d->project_name);
    ESP_LOGI("app_init", "App version:      %s", d->version);
    ESP_LOGI("app_init", "Compile time:     %s %s", d->date, d->time);
    ESP_LOGI("app_init", "ELF file SHA256:  %s...", sha);
    ESP_LOGI("app_init", "ESP-IDF:          %s", d->idf_ver);
    ESP_LOGI("efuse_init", "Chip rev:         v%d.%d", shm->chip_rev / 100, shm->chip_rev % 100);
    esp_psram_startup_heap();
    ESP_LOGI("spi_flash", "detected chip: generic");
    ESP_LOGI("spi_flash", "flash io: dio");
    esp_psram_startup_reserve();
    if (ota_sdkconfig_bool(config, "SECURE_FLASH_ENC_ENABLED", false)) {
        esp_flash_encryption_init_checks();
    }
    ESP_LOGI("main_task", "Started on CPU0");
    ESP_LOGI("main_task", "Calling app_main()");
}

/* Joins the board that started this program: its shared state, clock and abort handling. */
static void attach_board(void)
{
    const char *fd_text = getenv("OTAKIT_BOARD_FD");
    if (fd_text == NULL) {
        fprintf(stderr, "this program is an otakit app: run it on the simulated board "
                        "(otakit board run FLASH)\n");
        exit(OTA_APP_EXIT_HOST_ERROR);
    }
    if (ota_board_shm_attach(atoi(fd_text), &shm) != 0) {
        host_error("cannot attach to the board (OTAKIT_BOARD_FD=%s)", fd_text);
    }
    ota_clock_attach(&shm->clock_us);
    const char *pace = getenv("OTAKIT_BOARD_PACE"); /* board run --pace */
    if (pace != NULL) {
        ota_clock_set_pace(strtod(pace, NULL));
    }
    signal(SIGABRT, on_abort);
}

/* The board's flash as the chip sees it (timed, with its eFuses and, when they enable it, flash
 * encryption); returns the chip. */
static const ota_chip_t *open_flash(void)
{
    ota_nor_config_t ncfg = {.state = &shm->nor, .on_power_loss = power_lost};
    ota_diag_t diag = {{0}};
    if (ota_nor_open(shm->flash_path, &ncfg, &nor, &diag) != OTA_OK) {
        host_error("cannot open the flash image: %s", diag.msg);
    }
    ota_timed_flash_init(&timed, ota_nor_flash(nor), ota_nor_state(nor), NULL);
    const ota_chip_t *chip = ota_chip_by_id(shm->chip_id);
    if (chip == NULL) {
        char id[16];
        snprintf(id, sizeof(id), "%u", (unsigned)shm->chip_id);
        host_error("the board names an unknown chip id %s", id);
    }
    /* the board's flash part and the bootloader header's SPI mode and frequency, as the board */
    ota_nor_profile_for_flash(ota_nor_size(nor), chip, ota_nor_data(nor) + chip->bootloader_offset,
                              &profile);
    timed.profile = &profile;
    if (shm->efuse_offset != 0) {
        ota_efuse_store_flash(&efuse, &timed.flash, shm->efuse_offset, chip->secure_version_bits);
    } else {
        ota_efuse_store_file(&efuse, shm->efuse_path, chip->secure_version_bits);
    }
    /* virtual eFuses in flash (efuse partition): encryption is virtual, the flash is plaintext */
    enc_on = shm->efuse_offset == 0 &&
             ota_flash_enc_from_efuse(&enc, &timed.flash, ota_crypto_openssl(), &efuse.ops, false,
                                      chip->bootloader_offset, shm->table_offset);
    return chip;
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    /* The console is a serial line: read input one byte at a time so nothing typed for a later
     * boot is swallowed by this one's buffer. */
    setvbuf(stdin, NULL, _IONBF, 0);
    /* What an app prints reaches the console line by line, as ESP-IDF's stdout does. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    attach_board();
    const ota_chip_t *chip = open_flash();
    load_image_config();

    size_t vkey_len = 0;
    const char *vkey = image_file_n("signature_verification_key.bin", &vkey_len);
    esp_dev_config_t dev = {
        .sig_v1_key = (const uint8_t *)vkey,
        .sig_v1_key_len = vkey_len,
        .flash = &timed.flash,
        .crypto = ota_crypto_openssl(),
        .chip = chip,
        .chip_rev = shm->chip_rev,
        .efuse_blk_rev = shm->efuse_blk_rev,
        .efuse = &efuse.ops,
        .efuse_virtual = shm->efuse_offset != 0,
        .table_offset = shm->table_offset,
        .running_offset = shm->running_offset,
        .rom_bootloader_offset = shm->rom_bootloader_offset,
        .psram_size = board_psram(),
        .sdkconfig = config,
        .restart = restart,
        .deep_sleep = deep_sleep,
        .gpio_level = gpio_level,
        .gpio_pull = gpio_pull,
        .gpio_drive = gpio_drive,
        .read_mac = read_mac,
        .reset_reason = (int)shm->reset_reason,
    };
    esp_err_t err = esp_dev_install(&dev);
    if (err != ESP_OK) {
        ESP_LOGE("esp_partition", "partition table load failed: %s", esp_err_to_name(err));
    }
    esp_log_level_set(
        "*", (esp_log_level_t)ota_sdkconfig_int(config, "LOG_DEFAULT_LEVEL", ESP_LOG_INFO));
    /* The custom bundle (CONFIG_MBEDTLS_CUSTOM_CERTIFICATE_BUNDLE_PATH, embedded by otakit build)
     * joins the system store, as ESP-IDF's build adds a custom bundle to the default one. */
    const char *bundle = image_file("x509_crt_bundle.pem");
    if (bundle != NULL) {
        esp_crt_bundle_add_pem(bundle);
    }
    startup_banner();
    esp_tasks_on_idle(idle_forever);
    app_main();
    ESP_LOGI("main_task", "Returned from app_main()");
    esp_tasks_wait_all();
    finish(OTA_APP_EXIT_RETURNED);
}

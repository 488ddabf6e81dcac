/*
 * ESP-IDF's PSRAM driver and its start-up steps on the simulated board (esp_psram.h).
 *
 * The board's PSRAM chip (esp_dev_config_t.psram_size) is an anonymous host mapping; an ESP32
 * maps at most 4 MB of it. The external .bss and .noinit sections (EXT_RAM_BSS_ATTR,
 * EXT_RAM_NOINIT_ATTR) come first, and the rest becomes the MALLOC_CAP_SPIRAM heap once
 * esp_psram_extram_add_to_heap_allocator() adds it. Log lines and their order are ESP-IDF's
 * (cpu_start.c, esp_psram.c, esp32/esp_psram_impl_quad.c).
 */
#include "esp_psram.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "esp_internal.h"
#include "esp_log.h"
#include "esp_private/esp_psram_extram.h"
#include "heap_pool.h"
#include "ota/ota_clock.h"
#include "ota/ota_sdkconfig.h"

#define MB (1024u * 1024u)
#define ESP32_PSRAM_WINDOW (4u * MB) /* the ESP32's external RAM address range */

/* The app's sections that EXT_RAM_BSS_ATTR and EXT_RAM_NOINIT_ATTR fill (esp_attr.h); absent in
 * programs without such variables. */
extern char __start_ext_ram_bss[] __attribute__((weak));
extern char __stop_ext_ram_bss[] __attribute__((weak));
extern char __start_ext_ram_noinit[] __attribute__((weak));
extern char __stop_ext_ram_noinit[] __attribute__((weak));

static struct {
    pthread_mutex_t lock;
    bool initialised;
    bool in_heap;
    uint32_t physical; /* the chip's size */
    uint8_t *map;      /* the mapped window */
    size_t mapped;
    heap_pool_t pool;
} s = {.lock = PTHREAD_MUTEX_INITIALIZER};

static const ota_sdkconfig_t *sdkconfig(void)
{
    const esp_dev_config_t *c = esp_internal_config();
    return c != NULL ? c->sdkconfig : NULL;
}

static bool cfg_on(const char *key)
{
    return ota_sdkconfig_bool(sdkconfig(), key, false);
}

/* The chip's answer to the driver: its size, or 0 when no chip answers (the ID reads as all
 * ones), after ESP-IDF's lines. */
static uint32_t probe_chip(uint32_t size, bool ignore_notfound)
{
    ESP_LOGI("quad_psram", "This chip is ESP32-D0WD");
    if (size == 0) {
        ESP_LOGE("quad_psram", "PSRAM ID read error: 0xffffffff, PSRAM chip not found or not "
                               "supported");
        if (ignore_notfound) {
            ESP_LOGE("esp_psram", "PSRAM enabled but initialization failed. Bailing out.");
        }
    }
    return size;
}

esp_err_t esp_psram_init(void)
{
    const esp_dev_config_t *c = esp_internal_config(); /* before s.lock: it takes the device's */
    uint32_t chip = c != NULL ? c->psram_size : 0;
    int speed = (int)ota_sdkconfig_int(sdkconfig(), "SPIRAM_SPEED", 40);
    bool unicore = cfg_on("FREERTOS_UNICORE");
    bool ignore_notfound = cfg_on("SPIRAM_IGNORE_NOTFOUND");
    pthread_mutex_lock(&s.lock);
    if (s.initialised) {
        pthread_mutex_unlock(&s.lock);
        return ESP_ERR_INVALID_STATE;
    }
    uint32_t size = probe_chip(chip, ignore_notfound);
    size_t mapped = size < ESP32_PSRAM_WINDOW ? size : ESP32_PSRAM_WINDOW;
    void *map = size == 0 ? MAP_FAILED
                          : mmap(NULL, mapped, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED) {
        pthread_mutex_unlock(&s.lock);
        return size == 0 ? ESP_ERR_NOT_SUPPORTED : ESP_ERR_NO_MEM;
    }
    ESP_LOGI("esp_psram", "Found %uMB PSRAM device", (unsigned)(size / MB));
    ESP_LOGI("esp_psram", "Speed: %dMHz", speed);
    ESP_LOGI("esp_psram", "PSRAM initialized, cache is in %s mode.",
             unicore ? "normal (1-core)" : "low/high (2-core)");
    if (mapped < size) {
        ESP_LOGW("esp_psram",
                 "Virtual address not enough for PSRAM, map as much as we can. %uMB is mapped",
                 (unsigned)(mapped / MB));
    }
    s.physical = size;
    s.map = map;
    s.mapped = mapped;
    s.initialised = true;
    pthread_mutex_unlock(&s.lock);
    return ESP_OK;
}

bool esp_psram_is_initialized(void)
{
    pthread_mutex_lock(&s.lock);
    bool on = s.initialised;
    pthread_mutex_unlock(&s.lock);
    return on;
}

size_t esp_psram_get_size(void)
{
    pthread_mutex_lock(&s.lock);
    size_t size = s.initialised ? s.physical : 0;
    pthread_mutex_unlock(&s.lock);
    return size;
}

bool esp_psram_check_ptr_addr(const void *p)
{
    const uint8_t *c = p;
    pthread_mutex_lock(&s.lock);
    bool in = s.initialised && c >= s.map && c < s.map + s.mapped;
    pthread_mutex_unlock(&s.lock);
    return in;
}

/* Bytes of the app's external .bss and .noinit sections. */
static size_t ext_sections(void)
{
    size_t n = 0;
    if (__start_ext_ram_bss != NULL && __stop_ext_ram_bss != NULL) {
        n += (size_t)(__stop_ext_ram_bss - __start_ext_ram_bss);
    }
    if (__start_ext_ram_noinit != NULL && __stop_ext_ram_noinit != NULL) {
        n += (size_t)(__stop_ext_ram_noinit - __start_ext_ram_noinit);
    }
    return n;
}

esp_err_t esp_psram_extram_add_to_heap_allocator(void)
{
    pthread_mutex_lock(&s.lock);
    size_t skip = ext_sections();
    if (!s.initialised || s.in_heap || skip >= s.mapped ||
        !heap_pool_init(&s.pool, s.map + skip, s.mapped - skip)) {
        pthread_mutex_unlock(&s.lock);
        return ESP_ERR_INVALID_STATE;
    }
    s.in_heap = true;
    size_t kib = (s.mapped - skip) / 1024;
    pthread_mutex_unlock(&s.lock);
    ESP_LOGI("esp_psram", "Adding pool of %uK of PSRAM memory to heap allocator", (unsigned)kib);
    return ESP_OK;
}

bool esp_psram_extram_test(void)
{
    bool fast = ota_sdkconfig_int(sdkconfig(), "SPIRAM_SPEED", 40) == 80;
    pthread_mutex_lock(&s.lock);
    volatile uint32_t *w = (volatile uint32_t *)(void *)s.map;
    size_t words = s.initialised && !s.in_heap ? s.mapped / 4 : 0;
    size_t bad = 0;
    for (size_t i = 0; i < words; i += 8) {
        w[i] = (uint32_t)i ^ 0xAAAAAAAAu;
    }
    for (size_t i = 0; i < words; i += 8) {
        bad += w[i] != ((uint32_t)i ^ 0xAAAAAAAAu);
    }
    /* a chip's test takes about 225 ms per MB at 40 MHz, 130 ms at 80 MHz */
    ota_clock_advance_us((uint64_t)(s.mapped / MB) * (fast ? 130000u : 225000u));
    pthread_mutex_unlock(&s.lock);
    if (words == 0 || bad != 0) {
        ESP_LOGE("esp_psram", "SPI SRAM memory test fail. %u/%u writes failed", (unsigned)bad,
                 (unsigned)(words / 8));
        return false;
    }
    ESP_LOGI("esp_psram", "SPI SRAM memory test OK");
    return true;
}

/* ---- start-up (cpu_start.c, startup_funcs.c), called by the app runtime -------------------- */

void esp_psram_startup(void)
{
    if (!cfg_on("SPIRAM") || !cfg_on("SPIRAM_BOOT_INIT")) {
        return;
    }
    if (esp_psram_init() != ESP_OK) {
        if (cfg_on("SPIRAM_ALLOW_BSS_SEG_EXTERNAL_MEMORY")) {
            ESP_LOGE("cpu_start", "Failed to init external RAM, needed for external .bss segment");
            abort();
        }
        if (!cfg_on("SPIRAM_IGNORE_NOTFOUND")) {
            ESP_LOGE("cpu_start", "Failed to init external RAM!");
            abort();
        }
        ESP_LOGI("cpu_start", "Failed to init external RAM; continuing without it.");
        return;
    }
    if (cfg_on("SPIRAM_MEMTEST") && !esp_psram_extram_test()) {
        ESP_LOGE("cpu_start", "External RAM failed memory test!");
        abort();
    }
}

void esp_psram_startup_heap(void)
{
    if (!esp_psram_is_initialized() ||
        !(cfg_on("SPIRAM_USE_CAPS_ALLOC") || cfg_on("SPIRAM_USE_MALLOC"))) {
        return;
    }
    if (esp_psram_extram_add_to_heap_allocator() != ESP_OK) {
        ESP_LOGE("cpu_start", "External RAM could not be added to heap!");
        abort();
    }
}

void esp_psram_startup_reserve(void)
{
    long long reserve = ota_sdkconfig_int(sdkconfig(), "SPIRAM_MALLOC_RESERVE_INTERNAL", 0);
    if (esp_psram_is_initialized() && cfg_on("SPIRAM_USE_MALLOC") && reserve > 0) {
        ESP_LOGI("esp_psram",
                 "Reserving pool of %uK of internal memory for DMA/internal "
                 "allocations",
                 (unsigned)(reserve / 1024));
    }
}

void esp_psram_drop(void)
{
    pthread_mutex_lock(&s.lock);
    if (s.map != NULL) {
        munmap(s.map, s.mapped);
    }
    memset(&s.pool, 0, sizeof(s.pool));
    s.initialised = false;
    s.in_heap = false;
    s.physical = 0;
    s.map = NULL;
    s.mapped = 0;
    pthread_mutex_unlock(&s.lock);
}

/* ---- the MALLOC_CAP_SPIRAM heap (esp_heap_caps.c) ------------------------------------------ */

bool esp_psram_heap_owns(const void *p)
{
    pthread_mutex_lock(&s.lock);
    bool in = s.in_heap && heap_pool_contains(&s.pool, p);
    pthread_mutex_unlock(&s.lock);
    return in;
}

void *esp_psram_heap_alloc(size_t n)
{
    pthread_mutex_lock(&s.lock);
    void *p = s.in_heap ? heap_pool_alloc(&s.pool, n) : NULL;
    pthread_mutex_unlock(&s.lock);
    return p;
}

void esp_psram_heap_free(void *p)
{
    pthread_mutex_lock(&s.lock);
    bool ok = s.in_heap && heap_pool_free(&s.pool, p);
    pthread_mutex_unlock(&s.lock);
    if (!ok) {
        /* ESP-IDF's heap asserts on a pointer it did not hand out */
        ESP_LOGE("heap", "free of %p, which is no block of the PSRAM heap", p);
        abort();
    }
}

size_t esp_psram_heap_block_size(const void *p)
{
    pthread_mutex_lock(&s.lock);
    size_t n = s.in_heap ? heap_pool_block_size(&s.pool, p) : 0;
    pthread_mutex_unlock(&s.lock);
    return n;
}

void esp_psram_heap_sizes(esp_psram_heap_sizes_t *out)
{
    pthread_mutex_lock(&s.lock);
    memset(out, 0, sizeof(*out));
    if (s.in_heap) {
        out->total = s.pool.size - 16u;
        out->free = s.pool.free;
        out->min_free = s.pool.min_free;
        out->largest = heap_pool_largest_free(&s.pool);
    }
    pthread_mutex_unlock(&s.lock);
}

/*
 * The simulated board's shared state (host port).
 *
 * The board runs the ROM step and the bootloader in its own process and each app as a separate
 * program taken from the flash image. What both sides must see lives in one plain-old-data block
 * of shared memory (a memfd the board creates and the app maps): the flash emulator's counters and
 * power-cut settings, the virtual clock, the boot being run and the GPIO inputs. The flash bytes
 * themselves are the flash image file, mapped by both.
 *
 * App process protocol: the board starts the app with OTAKIT_BOARD_FD=<fd of this block> in its
 * environment. The app ends with one of the OTA_APP_EXIT_* statuses (or a signal = a crash).
 */
#ifndef OTA_BOARD_SHM_H
#define OTA_BOARD_SHM_H

#include <stdbool.h>
#include <stdint.h>

#include "ota/ota_nor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTA_BOARD_SHM_MAGIC 0x4B54424Fu /* "OBTK" */
#define OTA_BOARD_SHM_VERSION 5u
#define OTA_BOARD_GPIO_COUNT 64
#define OTA_BOARD_MAX_GPIO_EVENTS 64
#define OTA_BOARD_PATH_MAX 1024
/* psram_size: the board carries a 4 MB PSRAM chip when the running app's sdkconfig enables
 * CONFIG_SPIRAM (a development board with an ESP32-WROVER module), none otherwise. */
#define OTA_BOARD_PSRAM_AUTO 0xFFFFFFFFu
#define OTA_BOARD_PSRAM_DEFAULT (4u * 1024u * 1024u)

/* Exit statuses of an app process. */
#define OTA_APP_EXIT_RETURNED 0    /* app_main and every task ended */
#define OTA_APP_EXIT_RESTART 70    /* esp_restart() */
#define OTA_APP_EXIT_POWER_LOSS 71 /* the power was cut during a flash operation */
#define OTA_APP_EXIT_PANIC 72      /* abort()/ESP_ERROR_CHECK: the chip resets */
#define OTA_APP_EXIT_HOST_ERROR 73 /* the runtime could not start (not a device behaviour) */
#define OTA_APP_EXIT_DEEP_SLEEP 74 /* deep sleep with a wake-up timer: the clock counts the sleep  \
                                    */
#define OTA_APP_EXIT_SLEEP_FOREVER 75 /* deep sleep without a wake-up source */
#define OTA_APP_EXIT_IDLE 76          /* every task waits with no timeout: nothing can run again */
#define OTA_APP_EXIT_SANITIZER 99     /* a host sanitizer found a bug in the program */

/* Reset reasons (esp_reset_reason_t values). */
#define OTA_BOARD_RST_POWERON 1
#define OTA_BOARD_RST_SW 3
#define OTA_BOARD_RST_PANIC 4
#define OTA_BOARD_RST_DEEPSLEEP 8

/* From at_ms (board time since power-on of the run) on, pin reads level. */
typedef struct ota_board_gpio_event {
    uint64_t at_ms;
    int32_t pin;
    int32_t level;
} ota_board_gpio_event_t;

typedef struct ota_board_shm {
    uint32_t magic;
    uint32_t version;
    ota_nor_state_t nor;   /* flash counters, wear, cut settings, shared by both processes */
    uint64_t clock_us;     /* virtual clock: microseconds since the last reset */
    uint64_t boot_base_us; /* board time at the last reset (microseconds since the run began) */
    uint32_t boot_count;   /* boots so far in this run */
    uint32_t reset_reason; /* OTA_BOARD_RST_* of the current boot */
    uint16_t chip_id;      /* the simulated chip */
    uint16_t chip_rev;     /* major * 100 + minor */
    uint16_t efuse_blk_rev;
    uint16_t reserved;
    uint32_t efuse_offset;   /* eFuse block in the efuse partition (0: sidecar file) */
    uint32_t table_offset;   /* CONFIG_PARTITION_TABLE_OFFSET of the bootloader */
    uint32_t running_offset; /* partition the bootloader started */
    uint32_t running_size;
    char flash_path[OTA_BOARD_PATH_MAX]; /* absolute path of the flash image */
    char efuse_path[OTA_BOARD_PATH_MAX]; /* eFuse sidecar file ("" when in the efuse partition) */
    int8_t gpio_pull[OTA_BOARD_GPIO_COUNT]; /* set by the app: 1 up, 0 down, -1 none */
    uint32_t n_events;
    ota_board_gpio_event_t events[OTA_BOARD_MAX_GPIO_EVENTS]; /* in time order */
    /* Levels the apps drive on output pins (0, 1; -1 not driven). They persist across restarts
     * (as with gpio_hold_en), so the bootloader reads a driven pin at that level. */
    int8_t gpio_drive[OTA_BOARD_GPIO_COUNT];
    /* Where the ROM found the second-stage bootloader of this boot (the recovery bootloader's
     * offset after a fallback); 0 before the first ROM step. */
    uint32_t rom_bootloader_offset;
    /* Bytes of the board's PSRAM chip (0: none), or OTA_BOARD_PSRAM_AUTO. */
    uint32_t psram_size;
} ota_board_shm_t;

/* Creates a zero-filled shared block (memfd, not close-on-exec) and maps it. Returns the fd and
 * sets *out, or returns -1. */
int ota_board_shm_create(ota_board_shm_t **out);

/* Maps the block behind fd (checks magic and version). Returns 0, or -1. */
int ota_board_shm_attach(int fd, ota_board_shm_t **out);

/* Board time in microseconds since the run began (boot base plus the clock). */
uint64_t ota_board_time_us(const ota_board_shm_t *shm);

/* Level of an input pin at board time t_ms: the level an app drives on it, else the last event at
 * or before t_ms, else the pull (pull-down or none reads 0, pull-up reads 1); pull overrides the
 * app's configured pull when not negative. */
int ota_board_gpio_level(const ota_board_shm_t *shm, int pin, uint64_t t_ms, int pull);

/* The first board time after from_ms (exclusive) and up to to_ms (inclusive) at which pin's level
 * changes, or UINT64_MAX if it does not. */
uint64_t ota_board_gpio_next_change(const ota_board_shm_t *shm, int pin, uint64_t from_ms,
                                    uint64_t to_ms, int pull);

/*
 * Adds "PIN=LEVEL[@MS]" (e.g. "4=0", "4=1@5000") to the schedule, keeping it in time order.
 * Returns 0, or -1 for a malformed spec or a full schedule.
 */
int ota_board_gpio_parse(ota_board_shm_t *shm, const char *spec);

#ifdef __cplusplus
}
#endif

#endif /* OTA_BOARD_SHM_H */

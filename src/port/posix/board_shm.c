/* Shared state of the simulated board: creation, attachment and the GPIO input schedule. */
#include "ota/ota_board_shm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int ota_board_shm_create(ota_board_shm_t **out)
{
    int fd = memfd_create("otakit-board", 0);
    if (fd < 0) {
        return -1;
    }
    if (ftruncate(fd, (off_t)sizeof(ota_board_shm_t)) != 0) {
        close(fd);
        return -1;
    }
    void *p = mmap(NULL, sizeof(ota_board_shm_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        close(fd);
        return -1;
    }
    ota_board_shm_t *shm = p;
    memset(shm, 0, sizeof(*shm));
    shm->magic = OTA_BOARD_SHM_MAGIC;
    shm->version = OTA_BOARD_SHM_VERSION;
    memset(shm->gpio_pull, -1, sizeof(shm->gpio_pull));
    memset(shm->gpio_drive, -1, sizeof(shm->gpio_drive));
    *out = shm;
    return fd;
}

int ota_board_shm_attach(int fd, ota_board_shm_t **out)
{
    void *p = mmap(NULL, sizeof(ota_board_shm_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        return -1;
    }
    ota_board_shm_t *shm = p;
    if (shm->magic != OTA_BOARD_SHM_MAGIC || shm->version != OTA_BOARD_SHM_VERSION) {
        munmap(p, sizeof(ota_board_shm_t));
        return -1;
    }
    *out = shm;
    return 0;
}

uint64_t ota_board_time_us(const ota_board_shm_t *shm)
{
    return shm->boot_base_us + __atomic_load_n(&shm->clock_us, __ATOMIC_SEQ_CST);
}

static int pull_level(const ota_board_shm_t *shm, int pin, int pull)
{
    if (pull < 0 && pin >= 0 && pin < OTA_BOARD_GPIO_COUNT) {
        pull = shm->gpio_pull[pin];
    }
    return pull == 1 ? 1 : 0;
}

int ota_board_gpio_level(const ota_board_shm_t *shm, int pin, uint64_t t_ms, int pull)
{
    if (pin >= 0 && pin < OTA_BOARD_GPIO_COUNT && shm->gpio_drive[pin] >= 0) {
        return shm->gpio_drive[pin];
    }
    int level = pull_level(shm, pin, pull);
    for (uint32_t i = 0; i < shm->n_events && i < OTA_BOARD_MAX_GPIO_EVENTS; i++) {
        const ota_board_gpio_event_t *e = &shm->events[i];
        if (e->pin == pin && e->at_ms <= t_ms) {
            level = e->level;
        }
    }
    return level;
}

uint64_t ota_board_gpio_next_change(const ota_board_shm_t *shm, int pin, uint64_t from_ms,
                                    uint64_t to_ms, int pull)
{
    if (pin >= 0 && pin < OTA_BOARD_GPIO_COUNT && shm->gpio_drive[pin] >= 0) {
        return UINT64_MAX; /* a driven pin keeps its level */
    }
    int level = ota_board_gpio_level(shm, pin, from_ms, pull);
    for (uint32_t i = 0; i < shm->n_events && i < OTA_BOARD_MAX_GPIO_EVENTS; i++) {
        const ota_board_gpio_event_t *e = &shm->events[i];
        if (e->pin == pin && e->at_ms > from_ms && e->at_ms <= to_ms && e->level != level) {
            return e->at_ms;
        }
    }
    return UINT64_MAX;
}

int ota_board_gpio_parse(ota_board_shm_t *shm, const char *spec)
{
    char *end = NULL;
    errno = 0;
    long pin = strtol(spec, &end, 10);
    if (errno != 0 || end == spec || *end != '=' || pin < 0 || pin >= OTA_BOARD_GPIO_COUNT) {
        return -1;
    }
    const char *p = end + 1;
    if ((*p != '0' && *p != '1') || (p[1] != '\0' && p[1] != '@')) {
        return -1;
    }
    int level = *p - '0';
    unsigned long long at = 0;
    if (p[1] == '@') {
        errno = 0;
        at = strtoull(p + 2, &end, 10);
        if (errno != 0 || end == p + 2 || *end != '\0') {
            return -1;
        }
    }
    if (shm->n_events >= OTA_BOARD_MAX_GPIO_EVENTS) {
        return -1;
    }
    /* insert in time order, after events at the same time (later options win) */
    uint32_t i = shm->n_events;
    while (i > 0 && shm->events[i - 1].at_ms > at) {
        shm->events[i] = shm->events[i - 1];
        i--;
    }
    shm->events[i].at_ms = at;
    shm->events[i].pin = (int32_t)pin;
    shm->events[i].level = level;
    shm->n_events++;
    return 0;
}

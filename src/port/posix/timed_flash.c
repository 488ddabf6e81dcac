/* Flash wrapper that charges each operation's modeled time to the virtual clock. */
#include "ota/ota_timed_flash.h"
#include "ota/ota_clock.h"

static uint64_t busy_us(const ota_timed_flash_t *t)
{
    ota_nor_op_counts_t counts;
    ota_nor_time_t time;
    ota_nor_state_counts(t->state, &counts);
    ota_nor_time_model(t->profile, &counts, &time);
    return time.typ_us + time.read_us;
}

static void charge(const ota_timed_flash_t *t, uint64_t before)
{
    uint64_t after = busy_us(t);
    if (after > before) {
        ota_clock_advance_us(after - before);
    }
}

static int timed_read(void *ctx, uint32_t addr, void *dst, uint32_t len)
{
    const ota_timed_flash_t *t = ctx;
    uint64_t before = busy_us(t);
    int err = t->inner->read(t->inner->ctx, addr, dst, len);
    charge(t, before);
    return err;
}

static int timed_program(void *ctx, uint32_t addr, const void *src, uint32_t len)
{
    const ota_timed_flash_t *t = ctx;
    uint64_t before = busy_us(t);
    int err = t->inner->program(t->inner->ctx, addr, src, len);
    charge(t, before);
    return err;
}

static int timed_erase(void *ctx, uint32_t addr, uint32_t len)
{
    const ota_timed_flash_t *t = ctx;
    uint64_t before = busy_us(t);
    int err = t->inner->erase(t->inner->ctx, addr, len);
    charge(t, before);
    return err;
}

static bool timed_generation(void *ctx, uint64_t *gen)
{
    const ota_timed_flash_t *t = ctx;
    return t->inner->generation(t->inner->ctx, gen);
}

static void timed_skip_read(void *ctx, uint64_t len)
{
    const ota_timed_flash_t *t = ctx;
    uint64_t before = busy_us(t);
    t->inner->skip_read(t->inner->ctx, len);
    charge(t, before);
}

void ota_timed_flash_init(ota_timed_flash_t *t, const ota_flash_t *inner,
                          const ota_nor_state_t *state, const ota_nor_profile_t *profile)
{
    t->inner = inner;
    t->state = state;
    t->profile = profile != NULL ? profile : ota_nor_profile_default();
    t->flash = *inner;
    t->flash.ctx = t;
    t->flash.read = timed_read;
    t->flash.program = timed_program;
    t->flash.erase = timed_erase;
    t->flash.generation = inner->generation != NULL ? timed_generation : NULL;
    t->flash.skip_read = inner->skip_read != NULL ? timed_skip_read : NULL;
}

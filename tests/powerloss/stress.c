/* Multi-cut sequences and flash faults over a sweep scenario (see sweep.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep.h"

/* splitmix64 step: the draws of a sequence. */
static uint64_t draw(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* After the final boot: did the board run an app (and a bootloader) that does not verify? */
static bool unverified_boot(sweep_t *s)
{
    const sweep_boot_t *b = &s->last;
    if (b->res.outcome != OTA_BOOT_OK || b->res.part.size == 0) {
        return false; /* no app started: counted as bricked */
    }
    uint32_t region = OTA_PART_TABLE_OFFSET_DEFAULT - s->chip->bootloader_offset;
    return !sweep_image_verifies(s, b->res.part.offset, b->res.part.size, false) ||
           !sweep_image_verifies(s, b->rom_offset, region, true);
}

/* Outcome tallies of a run of cases. */
typedef struct tally {
    unsigned cases;
    unsigned cuts;
    unsigned old_fw, new_fw, other, bricked, unverified, retried, failures;
} tally_t;

/* Counts one final outcome; returns true when it is a failure for this scenario. Under flash
 * faults a verified app that is neither the old nor the new one (the factory app, an app left
 * unconfirmed because its otadata sector wore out) is a clean failure of the update. */
static bool count(tally_t *t, const sweep_scenario_t *sc, int r, bool unverified, bool faults)
{
    t->cases++;
    t->old_fw += r == 0;
    t->new_fw += r == 1;
    t->bricked += r == -1;
    t->other += r == -2;
    t->unverified += unverified;
    bool fail = unverified || (r == -1 && !sc->bricks_allowed) ||
                (r == -2 && !sc->others_allowed && !faults);
    t->failures += fail;
    return fail;
}

/* ---- multi-cut sequences ----------------------------------------------------------------- */

/* After a cut: power on, settle, and retry the update when the board is back on the old
 * firmware (or, where that is a known outcome, on a half-copied data partition). */
static void recover(sweep_t *s, char *why)
{
    ota_nor_power_on(s->nor);
    int r = s->sc->settle(s, why);
    if (!sweep_power_lost(s) && (r == 0 || (r == -2 && s->sc->others_allowed))) {
        sweep_play(s);
    }
}

/* Plays sequence q: cuts at drawn operations (the first in the update, the next ones in the
 * recovery that follows). Returns the final outcome (as settle); *cuts = cuts that landed. */
static int run_sequence(sweep_t *s, const uint8_t *snapshot, uint64_t total, unsigned max_cuts,
                        uint64_t q, unsigned *cuts, char *why, char *plan, size_t cap)
{
    static const char *const modes[3] = {"before", "after", "torn"};
    size_t used = 0;
    plan[0] = '\0';
    uint64_t r = q ^ 0xA0761D6478BD642Full;
    sweep_rewind(s, snapshot);
    unsigned c = 1 + (unsigned)(draw(&r) % max_cuts);
    for (unsigned k = 0; k < c; k++) {
        uint64_t n = 1 + draw(&r) % (total + 8);
        int mode = (int)(draw(&r) % 3);
        ota_nor_cut_arm(s->nor, n, (ota_nor_cut_mode_t)mode, q * 8 + k);
        int w = snprintf(plan + used, cap - used, "%s%llu %s", k ? ", " : "", (unsigned long long)n,
                         modes[mode]);
        used += w > 0 && (size_t)w < cap - used ? (size_t)w : 0;
        if (k == 0) {
            sweep_play(s);
        } else {
            recover(s, why);
        }
        if (!sweep_power_lost(s)) {
            break; /* the cut fell after the board settled: the sequence is over */
        }
    }
    *cuts = (unsigned)ota_nor_state(s->nor)->cuts;
    ota_nor_cut_disarm(s->nor);
    ota_nor_power_on(s->nor);
    why[0] = '\0';
    return s->sc->settle(s, why);
}

/* On a safe path the update, retried without a cut, must then end on the new firmware. */
static bool retry_completes(sweep_t *s, int r, char *why)
{
    if (r == 1) {
        return true;
    }
    sweep_play(s);
    if (s->sc->settle(s, why) == 1) {
        return true;
    }
    snprintf(why, 64, "the update retried without a cut does not complete");
    return false;
}

/* One sequence, counted; prints a failure. */
static void one_sequence(sweep_t *s, const uint8_t *snapshot, uint64_t total, unsigned max_cuts,
                         uint64_t q, tally_t *t)
{
    char why[128] = "";
    char plan[160];
    unsigned cuts = 0;
    int r = run_sequence(s, snapshot, total, max_cuts, q, &cuts, why, plan, sizeof(plan));
    bool unverified = unverified_boot(s);
    t->cuts += cuts;
    bool fail = count(t, s->sc, r, unverified, false);
    if (!fail && !s->sc->bricks_allowed) {
        bool ok = retry_completes(s, r, why);
        t->retried += r != 1 && ok;
        t->failures += !ok;
        fail = !ok;
    }
    if (fail && t->failures <= 10) {
        printf("FAIL case %s:multi:%llu (%u cuts landed; planned at %s): %s%s\n", s->sc->name,
               (unsigned long long)q, cuts, plan,
               unverified ? "an app or bootloader that does not verify booted " : "", why);
    }
}

unsigned sweep_multi(sweep_t *s, const uint8_t *snapshot, uint64_t total, unsigned count_,
                     unsigned max_cuts, const char *one)
{
    tally_t t;
    memset(&t, 0, sizeof(t));
    uint64_t first = 1;
    if (one != NULL) {
        const char *q = strstr(one, ":multi:") + 7;
        first = strtoull(q, NULL, 10);
        count_ = 1;
    }
    for (uint64_t q = first; q < first + count_; q++) {
        one_sequence(s, snapshot, total, max_cuts, q, &t);
    }
    printf("%s: %u multi-cut sequences (1..%u cuts, %u cuts landed): verified app booted %u (old "
           "%u, new %u, other %u), bricked %u, unverified boots %u; interrupted updates retried "
           "to completion %u; failures %u\n",
           s->sc->name, t.cases, max_cuts, t.cuts, t.old_fw + t.new_fw + t.other, t.old_fw,
           t.new_fw, t.other, t.bricked, t.unverified, t.retried, t.failures);
    return t.failures;
}

/* ---- flash faults ------------------------------------------------------------------------ */

/* Plays the update on a chip with faults f, then settles with the lasting faults only (a bad or
 * worn sector stays bad; a read or program glitch does not repeat on the next boot). */
static int run_fault(sweep_t *s, const uint8_t *snapshot, const ota_nor_faults_t *f,
                     unsigned *injected, char *why)
{
    sweep_rewind(s, snapshot);
    ota_nor_set_faults(s->nor, f);
    sweep_play(s);
    *injected = (unsigned)ota_nor_state(s->nor)->faults.injected;
    ota_nor_faults_t lasting = *f;
    lasting.read_flip_ppm = 0;
    lasting.read_error_ppm = 0;
    lasting.program_drop_ppm = 0;
    ota_nor_set_faults(s->nor, &lasting);
    ota_nor_power_on(s->nor);
    why[0] = '\0';
    int r = s->sc->settle(s, why);
    ota_nor_set_faults(s->nor, NULL);
    return r;
}

/* The fault's case id text (the specification ota_nor_faults_parse reads back). */
static void fault_spec(const ota_nor_faults_t *f, char *out, size_t cap)
{
    snprintf(out, cap,
             "read-flip=%u,read-error=%u,program-drop=%u,bad-sector=0x%x,bad-mode=%s,"
             "wear-limit=%u,seed=%llu",
             f->read_flip_ppm, f->read_error_ppm, f->program_drop_ppm,
             f->bad_sector ? (f->bad_sector - 1) * 0x1000u : 0u,
             f->bad_mode == OTA_NOR_BAD_ERROR ? "error" : "stuck", f->wear_limit,
             (unsigned long long)f->seed);
    if (f->bad_sector == 0) {
        /* bad-sector=0 would name sector 0: leave the item out */
        char *p = strstr(out, "bad-sector=0x0,");
        memmove(p, p + 15, strlen(p + 15) + 1);
    }
}

/* Kinds of faults, for the figures. */
enum { K_FLIP, K_RERR, K_DROP, K_STUCK, K_ERROR, K_WEAR, K_COUNT };
static const char *const kind_names[K_COUNT] = {
    "bit errors on read", "read errors",          "programs leave bits set",
    "stuck sector",       "sector fails (error)", "wear-out",
};

/* One fault case, counted under its kind; prints a failure. */
static void one_fault(sweep_t *s, const uint8_t *snapshot, const ota_nor_faults_t *f, tally_t *t)
{
    char why[128];
    unsigned injected = 0;
    int r = run_fault(s, snapshot, f, &injected, why);
    bool unverified = unverified_boot(s);
    t->cuts += injected; /* here: faults injected */
    if (count(t, s->sc, r, unverified, true) && t->failures <= 10) {
        char spec[192];
        fault_spec(f, spec, sizeof(spec));
        printf("FAIL case %s:fault:%s: %s%s\n", s->sc->name, spec,
               unverified ? "an app or bootloader that does not verify booted " : "", why);
    }
}

/* The sectors the update erases (from a clean run's wear counts). */
static unsigned touched_sectors(sweep_t *s, const uint8_t *snapshot, uint32_t *out, unsigned cap)
{
    sweep_rewind(s, snapshot);
    sweep_play(s);
    const ota_nor_state_t *st = ota_nor_state(s->nor);
    unsigned n = 0;
    for (uint32_t i = 0; i < SWEEP_FLASH_SIZE / 0x1000u && n < cap; i++) {
        if (st->wear[i] != 0) {
            out[n++] = i;
        }
    }
    return n;
}

static void print_fault_figures(const sweep_t *s, const tally_t *t)
{
    unsigned failures = 0;
    for (int k = 0; k < K_COUNT; k++) {
        printf("%s: faults, %s: %u cases, %u faults injected: new %u, old %u, other %u, bricked "
               "%u, unverified boots %u, failures %u\n",
               s->sc->name, kind_names[k], t[k].cases, t[k].cuts, t[k].new_fw, t[k].old_fw,
               t[k].other, t[k].bricked, t[k].unverified, t[k].failures);
        failures += t[k].failures;
    }
    printf("%s: flash faults: failures %u\n", s->sc->name, failures);
}

unsigned sweep_faults(sweep_t *s, const uint8_t *snapshot, bool full, const char *one)
{
    tally_t t[K_COUNT];
    memset(t, 0, sizeof(t));
    ota_nor_faults_t f;
    if (one != NULL) {
        if (ota_nor_faults_parse(strstr(one, ":fault:") + 7, &f, NULL) != OTA_OK) {
            fprintf(stderr, "%s: bad fault case '%s'\n", s->sc->name, one);
            return 1;
        }
        one_fault(s, snapshot, &f, &t[0]);
        printf("case %s: %s\n", one,
               t[0].failures ? "FAIL"
               : t[0].new_fw ? "new firmware"
               : t[0].old_fw ? "old firmware"
                             : "other");
        return t[0].failures;
    }
    static const uint32_t rates[2] = {2000, 20000};
    unsigned seeds = full ? 200 : 20;
    for (int kind = K_FLIP; kind <= K_DROP; kind++) {
        for (int r = 0; r < 2; r++) {
            for (unsigned seed = 1; seed <= seeds; seed++) {
                memset(&f, 0, sizeof(f));
                f.seed = seed;
                *(kind == K_FLIP   ? &f.read_flip_ppm
                  : kind == K_RERR ? &f.read_error_ppm
                                   : &f.program_drop_ppm) = rates[r];
                one_fault(s, snapshot, &f, &t[kind]);
            }
        }
    }
    static uint32_t secs[SWEEP_FLASH_SIZE / 0x1000u];
    unsigned n = touched_sectors(s, snapshot, secs, SWEEP_FLASH_SIZE / 0x1000u);
    for (unsigned i = 0; i < n; i++) {
        for (int mode = OTA_NOR_BAD_STUCK; mode <= OTA_NOR_BAD_ERROR; mode++) {
            memset(&f, 0, sizeof(f));
            f.bad_sector = secs[i] + 1;
            f.bad_mode = (uint32_t)mode;
            one_fault(s, snapshot, &f, &t[mode == OTA_NOR_BAD_STUCK ? K_STUCK : K_ERROR]);
        }
    }
    for (uint32_t limit = 1; limit <= 4; limit++) {
        for (int mode = OTA_NOR_BAD_STUCK; mode <= OTA_NOR_BAD_ERROR; mode++) {
            memset(&f, 0, sizeof(f));
            f.wear_limit = limit;
            f.bad_mode = (uint32_t)mode;
            one_fault(s, snapshot, &f, &t[K_WEAR]);
        }
    }
    print_fault_figures(s, t);
    unsigned failures = 0;
    for (int k = 0; k < K_COUNT; k++) {
        failures += t[k].failures;
    }
    return failures;
}

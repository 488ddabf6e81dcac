/*
 * Power-loss sweep of NVS in ESP-IDF's page format through the nvs_* API, on the board: an app
 * whose nvs partition (six pages) is nearly full keeps advanced_https_ota_example's resumption
 * keys through three downloads (the URL once, the progress after every chunk, the namespace
 * erased when complete) and updates a counter and a 3000-byte calibration blob, so that pages
 * are collected. A cut at any flash operation, clean or torn, then power-on and nvs_flash_init:
 *   - every entry whose nvs_set / nvs_erase call returned (committed) holds that value;
 *   - the entry of the interrupted call holds its old or its new value;
 *   - keys the app never touches are intact, and the store takes writes again.
 * A case where some entry breaks these rules counts its entries as lost and fails.
 *
 * Under multi-cut sequences the board, back on the old state after a check, runs the workload
 * again from its first call, on the store as the check found it: a run's committed state is
 * that found state with the calls of this run that returned applied (a key the run has not
 * reached yet keeps what an earlier run left). A check the power cut finds nothing: it is done
 * again on the next power-on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvs.h"
#include "nvs_flash.h"
#include "sweep.h"

#define TABLE_CSV                                                                                  \
    "nvs, data, nvs, 0x9000, 0x6000,\n"                                                            \
    "factory, app, factory, 0x10000, 0x100000,\n"
#define BLOB_LEN 3000u
#define DOWNLOADS 3
#define CHUNKS 25
#define MAX_STEPS 128

/* The keys the sweep follows. */
enum { K_URL, K_WR_LEN, K_BOOTS, K_CAL, K_SERIAL, K_MAC, K_MODEL, K_HW, NKEYS };

typedef struct {
    const char *ns;
    const char *key;
    nvs_type_t type;
    bool touched; /* the workload changes it */
} key_def_t;

static const key_def_t keys[NKEYS] = {
    [K_URL] = {"ota_resumption", "nvs_ota_url", NVS_TYPE_STR, true},
    [K_WR_LEN] = {"ota_resumption", "nvs_ota_wr_len", NVS_TYPE_U16, true},
    [K_BOOTS] = {"cfg", "boots", NVS_TYPE_U32, true},
    [K_CAL] = {"cfg", "cal", NVS_TYPE_BLOB, true},
    [K_SERIAL] = {"keep", "serial", NVS_TYPE_STR, false},
    [K_MAC] = {"keep", "mac", NVS_TYPE_BLOB, false},
    [K_MODEL] = {"keep", "model", NVS_TYPE_U32, false},
    [K_HW] = {"keep", "hw", NVS_TYPE_STR, false},
};

/* One call of the workload: set key to the value numbered v, or erase the whole namespace. */
typedef struct {
    bool erase_all;
    int key;
    uint32_t v;
} step_t;

/* A key's state in the model: absent, or the value numbered v. */
typedef struct {
    bool present;
    uint32_t v;
} mval_t;

typedef struct {
    step_t steps[MAX_STEPS];
    int nsteps;
    mval_t initial[NKEYS]; /* the setup's state (the snapshot's) */
    mval_t base[NKEYS];    /* the store's state when this run began: initial, or the last check's */
    int done;              /* steps whose call returned ESP_OK in this run: committed */
    bool in_call;          /* the call of step `done` was under way when the run stopped */
    unsigned cases;
    unsigned committed_checked; /* committed entries checked over all cases */
    unsigned lost;              /* entries neither committed nor the interrupted call's */
    uint64_t collected;         /* pages the workload erased without a cut (collections) */
    char why[64];               /* the check app's finding */
    bool at_end;                /* the check app found the workload's end state */
} nvs_data_t;

static nvs_data_t *data_of(sweep_t *s)
{
    return s->user;
}

/* The bytes of value number v of key k (strings with their NUL). */
static size_t render(int k, uint32_t v, uint8_t *out)
{
    switch (keys[k].type) {
    case NVS_TYPE_U16:
    case NVS_TYPE_U32:
        memcpy(out, &v, keys[k].type == NVS_TYPE_U16 ? 2 : 4);
        return keys[k].type == NVS_TYPE_U16 ? 2 : 4;
    case NVS_TYPE_STR:
        return (size_t)snprintf((char *)out, 128, "https://192.168.2.106:8070/fw-%u-%s.bin",
                                (unsigned)v, keys[k].key) +
               1;
    default: {
        size_t n = k == K_MAC ? 6 : BLOB_LEN;
        uint32_t x = v * 2654435761u + 1;
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            out[i] = (uint8_t)(x >> 16);
        }
        return n;
    }
    }
}

static void add(nvs_data_t *d, bool erase_all, int key, uint32_t v)
{
    if (d->nsteps < MAX_STEPS) {
        d->steps[d->nsteps++] = (step_t){erase_all, key, v};
    }
}

/* The workload: three downloads as advanced_https_ota_example keeps them, a counter and a
 * calibration blob updated between them. */
static void build_steps(nvs_data_t *d)
{
    for (uint32_t dl = 1; dl <= DOWNLOADS; dl++) {
        add(d, false, K_BOOTS, 100 + dl);
        add(d, false, K_URL, dl);
        for (uint32_t k = 1; k <= CHUNKS; k++) {
            add(d, false, K_WR_LEN, k);
        }
        add(d, true, K_URL, 0); /* download complete: erase the namespace */
        if (dl == 2) {
            add(d, false, K_CAL, 2);
        }
    }
}

/* The model after the first n steps of this run. */
static void model_at(const nvs_data_t *d, int n, mval_t *m)
{
    memcpy(m, d->base, sizeof(d->base));
    for (int i = 0; i < n && i < d->nsteps; i++) {
        const step_t *st = &d->steps[i];
        if (!st->erase_all) {
            m[st->key] = (mval_t){true, st->v};
            continue;
        }
        for (int k = 0; k < NKEYS; k++) {
            if (strcmp(keys[k].ns, keys[st->key].ns) == 0) {
                m[k].present = false;
            }
        }
    }
}

static esp_err_t set_key(nvs_handle_t h, int k, uint32_t v)
{
    static uint8_t buf[BLOB_LEN];
    size_t n = render(k, v, buf);
    switch (keys[k].type) {
    case NVS_TYPE_U16:
        return nvs_set_u16(h, keys[k].key, (uint16_t)v);
    case NVS_TYPE_U32:
        return nvs_set_u32(h, keys[k].key, v);
    case NVS_TYPE_STR:
        return nvs_set_str(h, keys[k].key, (const char *)buf);
    default:
        return nvs_set_blob(h, keys[k].key, buf, n);
    }
}

/* A fresh boot's nvs layer: what the previous boot kept in RAM is gone. */
static esp_err_t boot_init(void)
{
    nvs_flash_deinit();
    return nvs_flash_init();
}

static esp_err_t run_step(const step_t *st)
{
    nvs_handle_t h = 0;
    esp_err_t err = nvs_open(keys[st->key].ns, NVS_READWRITE, &h);
    if (err == ESP_OK) {
        err = st->erase_all ? nvs_erase_all(h) : set_key(h, st->key, st->v);
    }
    if (err == ESP_OK) {
        err = nvs_commit(h);
    }
    nvs_close(h);
    return err;
}

/* Setup's app: the values the board had before, then counter updates until the partition is
 * nearly full (the workload then collects pages). The keys the app never changes are written
 * among the counter updates, so that the pages the workload collects hold live items. */
static void seed_app(sweep_t *s)
{
    nvs_data_t *d = data_of(s);
    static const step_t keep[] = {
        {false, K_SERIAL, 7}, {false, K_MAC, 8}, {false, K_MODEL, 9}, {false, K_HW, 10}};
    bool ok = boot_init() == ESP_OK && run_step(&(step_t){false, K_CAL, 1}) == ESP_OK;
    d->initial[K_CAL] = (mval_t){true, 1};
    for (uint32_t i = 0; ok && i < 480; i++) {
        ok = run_step(&(step_t){false, K_BOOTS, i}) == ESP_OK;
        d->initial[K_BOOTS] = (mval_t){true, i};
        if (ok && i % 100 == 50) {
            const step_t *k = &keep[(i / 100) % 4];
            ok = run_step(k) == ESP_OK;
            d->initial[k->key] = (mval_t){true, k->v};
        }
    }
    if (!ok) {
        fprintf(stderr, "sweep_nvs: the setup's writes failed\n");
        exit(2);
    }
}

static void setup(sweep_t *s)
{
    s->user = calloc(1, sizeof(nvs_data_t));
    build_steps(data_of(s));
    uint8_t *img;
    uint32_t len;
    sweep_pack_bootloader(s, NULL, NULL, &img, &len);
    sweep_write(s, s->chip->bootloader_offset, img, len);
    free(img);
    sweep_put_table(s, TABLE_CSV);
    sweep_pack_app(s, "nvs_app", "1.0", "", 4096, 5, &img, &len);
    sweep_write(s, 0x10000, img, len);
    free(img);
    sweep_boot_t b;
    if (!sweep_boot(s, &b) || sweep_run_app(s, seed_app) != 0) {
        fprintf(stderr, "sweep_nvs: the setup's app did not run\n");
        exit(2);
    }
}

/* The app of the update: the workload, counting the calls that returned. */
static void flow(sweep_t *s)
{
    nvs_data_t *d = data_of(s);
    d->done = 0;
    d->in_call = false;
    if (boot_init() != ESP_OK) {
        return;
    }
    for (int i = 0; i < d->nsteps && !sweep_power_lost(s); i++) {
        d->in_call = true;
        if (run_step(&d->steps[i]) != ESP_OK) {
            return;
        }
        d->done = i + 1;
        d->in_call = false;
    }
}

/* The flash is back to the snapshot: the next run starts from the setup's state. */
static void rewound(sweep_t *s)
{
    nvs_data_t *d = data_of(s);
    memcpy(d->base, d->initial, sizeof(d->initial));
    d->done = 0;
    d->in_call = false;
}

/* Reads key k into got (*len bytes). */
static esp_err_t read_key(nvs_handle_t h, int k, uint8_t *got, size_t *len)
{
    uint16_t u16 = 0;
    uint32_t u32 = 0;
    esp_err_t err;
    switch (keys[k].type) {
    case NVS_TYPE_U16:
        err = nvs_get_u16(h, keys[k].key, &u16);
        memcpy(got, &u16, 2);
        *len = 2;
        return err;
    case NVS_TYPE_U32:
        err = nvs_get_u32(h, keys[k].key, &u32);
        memcpy(got, &u32, 4);
        *len = 4;
        return err;
    case NVS_TYPE_STR:
        *len = 128;
        return nvs_get_str(h, keys[k].key, (char *)got, len);
    default:
        *len = BLOB_LEN;
        return nvs_get_blob(h, keys[k].key, got, len);
    }
}

/* Whether key k holds model value m (h 0: its namespace does not exist). */
static bool holds(nvs_handle_t h, int k, const mval_t *m)
{
    static uint8_t got[BLOB_LEN];
    static uint8_t want[BLOB_LEN];
    size_t len = 0;
    esp_err_t err = h == 0 ? ESP_ERR_NVS_NOT_FOUND : read_key(h, k, got, &len);
    if (!m->present) {
        return err == ESP_ERR_NVS_NOT_FOUND;
    }
    size_t n = render(k, m->v, want);
    return err == ESP_OK && len == n && memcmp(got, want, n) == 0;
}

/* Checks every key against the committed model and the interrupted call's; returns the keys
 * that match neither, what each key holds (found), the committed entries checked, and whether
 * the store holds the workload's end state. */
static unsigned check_keys(const nvs_data_t *d, mval_t *found, unsigned *checked, bool *at_end,
                           char *why)
{
    mval_t committed[NKEYS];
    mval_t next[NKEYS];
    mval_t end[NKEYS];
    model_at(d, d->done, committed);
    model_at(d, d->in_call ? d->done + 1 : d->done, next);
    model_at(d, d->nsteps, end);
    unsigned lost = 0;
    *at_end = true;
    for (int k = 0; k < NKEYS; k++) {
        nvs_handle_t h = 0;
        if (nvs_open(keys[k].ns, NVS_READONLY, &h) != ESP_OK) {
            h = 0;
        }
        bool old_ok = holds(h, k, &committed[k]);
        bool new_ok = keys[k].touched && holds(h, k, &next[k]);
        *at_end = *at_end && holds(h, k, &end[k]);
        nvs_close(h);
        *checked += committed[k].present;
        found[k] = old_ok || !new_ok ? committed[k] : next[k];
        if (!old_ok && !new_ok) {
            lost++;
            snprintf(why, 64, "%s:%s lost (%d calls committed)", keys[k].ns, keys[k].key, d->done);
        }
    }
    return lost;
}

/* The app after power-on: nvs_flash_init, every key checked, one more write. What it found
 * becomes the state the next run of the workload starts from. A check the power cut counts
 * nothing (its reads fail); *cut says so. */
static void check_app(sweep_t *s, bool *cut)
{
    nvs_data_t *d = data_of(s);
    nvs_handle_t h = 0;
    mval_t found[NKEYS];
    unsigned checked = 0;
    unsigned lost = 0;
    esp_err_t err = boot_init();
    if (err != ESP_OK) {
        snprintf(d->why, sizeof(d->why), "nvs_flash_init: %s", esp_err_to_name(err));
        lost = NKEYS;
    } else {
        lost = check_keys(d, found, &checked, &d->at_end, d->why);
    }
    if (lost == 0 &&
        (nvs_open("after", NVS_READWRITE, &h) != ESP_OK || nvs_set_u8(h, "k", 1) != ESP_OK)) {
        snprintf(d->why, sizeof(d->why), "the store takes no write after the cut");
        lost = 1;
    }
    nvs_close(h);
    *cut = sweep_power_lost(s);
    if (*cut) {
        return;
    }
    d->lost += lost;
    d->committed_checked += checked;
    if (lost == 0) {
        memcpy(d->base, found, sizeof(found));
        d->done = 0;
        d->in_call = false;
    }
}

static bool check_cut;

static void check_app_main(sweep_t *s)
{
    check_app(s, &check_cut);
}

/* After power-on: 1 the store holds the workload's end state, 0 an earlier one with nothing
 * committed lost, -2 an entry was lost, -1 no app booted. */
static int settle(sweep_t *s, char *why)
{
    nvs_data_t *d = data_of(s);
    if (d->cases == 0) { /* the run without a cut comes first */
        d->collected = ota_nor_state(s->nor)->sector_erases;
        if (d->collected == 0) {
            snprintf(why, 64, "the workload collects no page");
            return -2;
        }
    }
    sweep_boot_t b;
    if (!sweep_boot(s, &b)) {
        snprintf(why, 64, "no app boots (bootloader outcome %d)", (int)b.res.outcome);
        return -1;
    }
    unsigned before = d->lost;
    d->why[0] = '\0';
    d->at_end = false;
    check_cut = false;
    sweep_run_app(s, check_app_main);
    if (check_cut) {
        snprintf(why, 64, "the check was cut");
        return -2;
    }
    d->cases++;
    if (d->lost != before) {
        snprintf(why, 64, "%s", d->why);
        return -2;
    }
    return d->at_end ? 1 : 0;
}

static void cleanup(sweep_t *s)
{
    nvs_data_t *d = data_of(s);
    printf("nvs: %u power-ons checked (the workload collects %llu pages), %u committed entries "
           "checked, %u lost\n",
           d->cases, (unsigned long long)d->collected, d->committed_checked, d->lost);
}

static const sweep_scenario_t scenario = {
    .name = "nvs",
    .setup = setup,
    .flow = flow,
    .settle = settle,
    .cleanup = cleanup,
    .rewound = rewound,
};

int main(int argc, char **argv)
{
    return sweep_main(&scenario, argc, argv);
}

/*
 * The simulated board (see board.h): power-on, ROM step, second-stage bootloader, app launch from
 * the flash image, console, resets, power cuts.
 *
 * The bootloader runs in this process; each app runs as its own program, loaded from the bytes of
 * its image in flash into an anonymous file and executed. Both sides share the flash image file
 * and one block of shared memory (ota_board_shm.h): flash counters and the armed power cut, the
 * virtual clock, the GPIO inputs.
 */
#include "board.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include "esp_internal.h"
#include "esp_log.h"
#include "ota/ota_boot.h"
#include "ota/ota_boot_cfg.h"
#include "ota/ota_board_shm.h"
#include "ota/ota_clock.h"
#include "ota/ota_efuse_store.h"
#include "ota/ota_flash_enc.h"
#include "ota/ota_flashimg.h"
#include "ota/ota_img.h"
#include "ota/ota_nor.h"
#include "ota/ota_posix.h"
#include "ota/ota_sdkconfig.h"
#include "ota/ota_timed_flash.h"
#include "board_serial.h"

extern char **environ;

typedef struct board {
    const board_opts_t *opts;
    ota_board_shm_t *shm;
    int shm_fd;
    ota_nor_t *nor;
    ota_timed_flash_t timed;
    ota_nor_profile_t profile; /* the timing model of b->timed */
    const ota_flash_t *flash;
    const ota_chip_t *chip;
    ota_efuse_store_t efuse;
    bool enc_on;                   /* flash encryption is on in the eFuses */
    bool sw_reset;                 /* the bootloader reset the chip (esp_rom_software_reset) */
    ota_flash_enc_t enc;           /* then: what the ROM, bootloader and cache read */
    const ota_flash_t *boot_flash; /* &enc.view.flash or flash */
    bool colors;
    bool have_until;
    regex_t until;
    char line[4096]; /* app console line being assembled, for --until */
    size_t line_len;
    bool matched;
    serial_port_t *serial;             /* --serial, or NULL */
    board_serial_console_t con;        /* the port while the app runs or the chip waits */
    bool stdin_done;                   /* with a port: this command's standard input has ended */
    bool download;                     /* the next boot enters ROM download mode */
    uint64_t cut_plan[BOARD_MAX_CUTS]; /* the power cuts still to come (see board_opts_t) */
    int cut_modes[BOARD_MAX_CUTS];
    int n_plan;
    int next_cut;
} board_t;

/* ---- console ------------------------------------------------------------------------------- */

/* Strips ANSI colour sequences from s in place. */
static void strip_ansi(char *s)
{
    char *w = s;
    for (const char *r = s; *r != '\0'; r++) {
        if (*r == '\033' && r[1] == '[') {
            r += 2;
            while (*r != '\0' && *r != 'm') {
                r++;
            }
            if (*r == '\0') {
                break;
            }
            continue;
        }
        *w++ = *r;
    }
    *w = '\0';
}

static void check_until(board_t *b, const char *line)
{
    if (!b->have_until || b->matched) {
        return;
    }
    char plain[sizeof(b->line)];
    snprintf(plain, sizeof(plain), "%s", line);
    strip_ansi(plain);
    if (regexec(&b->until, plain, 0, NULL, 0) == 0) {
        b->matched = true;
    }
}

/* A whole line from the board itself (ROM, bootloader, board events). */
static void console_line(board_t *b, const char *line)
{
    serial_port_write(b->serial, line, strlen(line));
    serial_port_write(b->serial, "\n", 1);
    fputs(line, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    check_until(b, line);
}

static void board_event(board_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A board event, in the style of idf.py monitor's own lines: "--- text ---". */
static void board_event(board_t *b, const char *fmt, ...)
{
    char msg[512];
    char line[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(line, sizeof(line), "--- %s ---", msg);
    console_line(b, line);
}

/* Bytes of app output: passed through as they come, matched line by line. */
/* Bytes of app output: passed through as they come (a line in progress too), matched line by
 * line; nothing after the line that matched --until is shown. */
static void console_bytes(board_t *b, const char *data, size_t n)
{
    size_t shown = 0;
    serial_port_write(b->serial, data, n);
    for (size_t i = 0; i < n && !b->matched; i++) {
        bool full = b->line_len == sizeof(b->line) - 1;
        if (data[i] != '\n' && !full) {
            b->line[b->line_len++] = data[i];
            continue;
        }
        fwrite(data + shown, 1, i + 1 - shown, stdout);
        shown = i + 1;
        b->line[b->line_len] = '\0';
        check_until(b, b->line);
        b->line_len = 0;
        if (data[i] != '\n') {
            b->line[b->line_len++] = data[i];
        }
    }
    if (!b->matched && shown < n) {
        fwrite(data + shown, 1, n - shown, stdout);
    }
    fflush(stdout);
}

static void boot_log(void *ctx, char level, const char *tag, const char *msg)
{
    board_t *b = ctx;
    esp_log_level_t lv = level == 'E'   ? ESP_LOG_ERROR
                         : level == 'W' ? ESP_LOG_WARN
                         : level == 'I' ? ESP_LOG_INFO
                         : level == 'D' ? ESP_LOG_DEBUG
                                        : ESP_LOG_VERBOSE;
    if (lv > ESP_LOG_INFO) {
        return; /* CONFIG_BOOTLOADER_LOG_LEVEL: info */
    }
    char line[512];
    esp_log_format(line, sizeof(line), lv, tag, msg, b->colors);
    console_line(b, line);
}

/* ---- inputs -------------------------------------------------------------------------------- */

static ota_gpio_hold_t gpio_hold(void *ctx, int pin, bool active_high, uint32_t hold_s)
{
    board_t *b = ctx;
    /* the bootloader pulls the pin to the inactive level */
    int pull = active_high ? 0 : 1;
    int active = active_high ? 1 : 0;
    uint64_t now_ms = ota_board_time_us(b->shm) / 1000u;
    if (ota_board_gpio_level(b->shm, pin, now_ms, pull) != active) {
        return OTA_GPIO_NOT_HOLD;
    }
    uint64_t end_ms = now_ms + (uint64_t)hold_s * 1000u;
    uint64_t change = ota_board_gpio_next_change(b->shm, pin, now_ms, end_ms, pull);
    if (change != UINT64_MAX) {
        ota_clock_advance_us((change - now_ms) * 1000u);
        return OTA_GPIO_SHORT_HOLD;
    }
    ota_clock_advance_us((end_ms - now_ms) * 1000u);
    return OTA_GPIO_LONG_HOLD;
}

/* ---- set-up -------------------------------------------------------------------------------- */

/* eFuses: in the efuse partition of the table at table_offset, else in "<flash>.efuse". */
static void setup_efuse(board_t *b, uint32_t table_offset)
{
    uint8_t raw[OTA_PART_TABLE_MAX_LEN];
    ota_part_table_t table;
    b->shm->efuse_offset = 0;
    if (table_offset + sizeof(raw) <= ota_nor_size(b->nor)) {
        memcpy(raw, ota_nor_data(b->nor) + table_offset, sizeof(raw));
        if (ota_part_table_verify(ota_crypto_openssl(), raw, ota_nor_size(b->nor), &table, NULL) ==
            OTA_OK) {
            const ota_part_t *p =
                ota_part_find(&table, OTA_PART_TYPE_DATA, OTA_PART_SUBTYPE_DATA_EFUSE, NULL);
            if (p != NULL && p->size >= OTA_EFUSE_BLOCK_LEN) {
                b->shm->efuse_offset = p->offset;
            }
        }
    }
    uint32_t bits = b->chip->secure_version_bits;
    if (b->shm->efuse_offset != 0) {
        b->shm->efuse_path[0] = '\0';
        ota_efuse_store_flash(&b->efuse, b->flash, b->shm->efuse_offset, bits);
    } else {
        int n = snprintf(b->shm->efuse_path, sizeof(b->shm->efuse_path), "%s.efuse",
                         b->shm->flash_path);
        if (n < 0 || (size_t)n >= sizeof(b->shm->efuse_path)) {
            b->shm->efuse_path[0] = '\0'; /* path too long: no eFuse file, all unburnt */
        }
        ota_efuse_store_file(&b->efuse, b->shm->efuse_path, bits);
    }
}

/* Flash encryption: with FLASH_CRYPT_CNT odd, the boot chain reads through the decrypting view
 * (the bootloader region ends at table_offset). */
static void setup_flash_enc(board_t *b, uint32_t table_offset)
{
    /* virtual eFuses in flash: the flash stays plaintext */
    b->enc_on = ota_flash_enc_from_efuse(&b->enc, b->flash, ota_crypto_openssl(), &b->efuse.ops,
                                         b->shm->efuse_offset != 0, b->chip->bootloader_offset,
                                         table_offset);
    b->boot_flash = b->enc_on ? &b->enc.view.flash : b->flash;
}

/* Copies len bytes at addr as the cache reads them (decrypted when flash encryption is on),
 * straight from the image: no flash operation is counted. */
static void cache_copy(board_t *b, uint32_t addr, void *dst, uint32_t len)
{
    const uint8_t *data = ota_nor_data(b->nor);
    if (!b->enc_on || b->enc.is_virtual) {
        memcpy(dst, data + addr, len);
        return;
    }
    uint8_t buf[256];
    uint8_t *out = dst;
    while (len > 0) {
        uint32_t base = addr & ~15u;
        uint32_t skip = addr - base;
        uint32_t n = (uint32_t)sizeof(buf) - skip < len ? (uint32_t)sizeof(buf) - skip : len;
        uint32_t whole = (skip + n + 15u) & ~15u;
        uint32_t avail = ota_nor_size(b->nor) - base;
        memset(buf, 0xFF, sizeof(buf));
        memcpy(buf, data + base, whole < avail ? whole : avail);
        ota_flash_enc_crypt(ota_crypto_openssl(), b->enc.key, b->enc.config, true, base, buf,
                            whole);
        memcpy(out, buf + skip, n);
        out += n;
        addr += n;
        len -= n;
    }
}

/* ---- boot ---------------------------------------------------------------------------------- */

static const char *rom_reset_line(uint32_t reason)
{
    switch (reason) {
    case OTA_BOARD_RST_POWERON:
        return "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)";
    case OTA_BOARD_RST_DEEPSLEEP:
        return "rst:0x5 (DEEPSLEEP_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)";
    case OTA_BOARD_RST_PANIC:
    case OTA_BOARD_RST_SW:
    default:
        return "rst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)";
    }
}

/* The ROM's first lines: its version, a blank line, the reset reason and boot mode. */
static void rom_banner(board_t *b, const char *reset_line)
{
    char line[160];
    if (b->chip->id == OTA_CHIP_ID_ESP32) {
        console_line(b, "ets Jun  8 2016 00:22:57");
    } else {
        snprintf(line, sizeof(line), "ESP-ROM:%s", b->chip->target);
        console_line(b, line);
    }
    console_line(b, "");
    console_line(b, reset_line);
}

/* The ROM step: prints what the chip's ROM prints and checks the second-stage bootloader. */
static int rom_step(board_t *b, const ota_boot_env_t *env, uint32_t table_offset, uint32_t *used)
{
    char line[160];
    rom_banner(b, rom_reset_line(b->shm->reset_reason));
    ota_img_meta_t meta;
    ota_diag_t diag = {{0}};
    int err = ota_boot_rom_load(env, table_offset, used, &meta, &diag);
    if (err != OTA_OK) {
        uint8_t word[4] = {0xFF, 0xFF, 0xFF, 0xFF};
        if (b->chip->bootloader_offset + 4 <= ota_nor_size(b->nor)) {
            cache_copy(b, b->chip->bootloader_offset, word, 4);
        }
        snprintf(line, sizeof(line), "invalid header: 0x%02x%02x%02x%02x", word[3], word[2],
                 word[1], word[0]);
        console_line(b, line);
        return err;
    }
    if (*used != b->chip->bootloader_offset) {
        snprintf(line, sizeof(line), "Primary bootloader is invalid, loading recovery at 0x%x",
                 (unsigned)*used);
        console_line(b, line);
    }
    for (int i = 0; i < meta.header.segment_count && i < OTA_IMG_MAX_SEGMENTS; i++) {
        snprintf(line, sizeof(line), "load:0x%08x,len:%u", (unsigned)meta.segs[i].load_addr,
                 (unsigned)meta.segs[i].data_len);
        console_line(b, line);
    }
    snprintf(line, sizeof(line), "entry 0x%08x", (unsigned)meta.header.entry_addr);
    console_line(b, line);
    return OTA_OK;
}

/* The bootloader's configuration, baked into its image (defaults for ESP-IDF's own builds). */
static ota_sdkconfig_t *bootloader_config(board_t *b, uint32_t offset, uint32_t region)
{
    ota_sdkconfig_t *cfg = ota_flashimg_image_sdkconfig(b->boot_flash, offset, region);
    return cfg != NULL ? cfg : ota_sdkconfig_new();
}

static void bootloader_banner(board_t *b, uint32_t offset)
{
    ota_boot_desc_t desc;
    uint8_t raw[OTA_BOOT_DESC_LEN];
    const ota_log_t sink = {boot_log, b};
    cache_copy(b, offset + 0x20, raw, sizeof(raw));
    bool ok = ota_boot_desc_decode(raw, &desc);
    ota_logf(&sink, 'I', "boot", "ESP-IDF %s 2nd stage bootloader", ok ? desc.idf_ver : "?");
    if (ok) {
        ota_logf(&sink, 'I', "boot", "compile time %s", desc.date_time);
    }
    ota_logf(&sink, 'I', "boot", "chip revision: v%d.%d", b->shm->chip_rev / 100,
             b->shm->chip_rev % 100);
    if (b->chip->checks_efuse_blk_rev) {
        ota_logf(&sink, 'I', "boot", "efuse block revision: v%d.%d", b->shm->efuse_blk_rev / 100,
                 b->shm->efuse_blk_rev % 100);
    }
    ota_logf(&sink, 'I', "boot", "Enabling RNG early entropy source...");
}

/* ---- app ----------------------------------------------------------------------------------- */

static void child_env(char ***out, int shm_fd, bool colors)
{
    size_t n = 0;
    while (environ[n] != NULL) {
        n++;
    }
    char **env = calloc(n + 6, sizeof(char *));
    size_t k = 0;
    char buf[64];
    for (size_t i = 0; i < n; i++) {
        if (strncmp(environ[i], "OTAKIT_BOARD_FD=", 16) != 0 &&
            strncmp(environ[i], "OTAKIT_LOG_COLORS=", 18) != 0 &&
            strncmp(environ[i], "ASAN_OPTIONS=", 13) != 0 &&
            strncmp(environ[i], "UBSAN_OPTIONS=", 14) != 0) {
            env[k++] = strdup(environ[i]);
        }
    }
    snprintf(buf, sizeof(buf), "OTAKIT_BOARD_FD=%d", shm_fd);
    env[k++] = strdup(buf);
    env[k++] = strdup(colors ? "OTAKIT_LOG_COLORS=1" : "OTAKIT_LOG_COLORS=0");
    /* A sanitizer report in an app is a host bug, not a device crash: make it recognisable. */
    const char *asan = getenv("ASAN_OPTIONS");
    const char *ubsan = getenv("UBSAN_OPTIONS");
    char *s = NULL;
    if (asprintf(&s, "ASAN_OPTIONS=%s%sabort_on_error=0:exitcode=99", asan ? asan : "",
                 asan && *asan ? ":" : "") >= 0) {
        env[k++] = s;
    }
    if (asprintf(&s, "UBSAN_OPTIONS=%s%shalt_on_error=1:exitcode=99", ubsan ? ubsan : "",
                 ubsan && *ubsan ? ":" : "") >= 0) {
        env[k++] = s;
    }
    env[k] = NULL;
    *out = env;
}

static void free_env(char **env)
{
    for (size_t i = 0; env[i] != NULL; i++) {
        free(env[i]);
    }
    free(env);
}

typedef enum {
    APP_RETURNED,
    APP_RESTART,
    APP_POWER_LOSS,
    APP_PANIC,
    APP_UNTIL,
    APP_TIME,
    APP_HOST_ERROR,
    APP_DEEP_SLEEP,
    APP_ASLEEP,
    APP_RESET, /* EN pulled through the serial port */
} app_end_t;

/* ---- serial port --------------------------------------------------------------------------- */

/* The chip stopped (bricked, or nothing left to run): with a serial port, it waits for a reset
 * through the port, as a board on a USB cable does. Returns true when one came. */
static bool board_wait_reset(board_t *b)
{
    if (b->serial == NULL) {
        return false;
    }
    b->download = board_serial_wait_reset(&b->con) == SERIAL_EV_RESET_DOWNLOAD;
    return true;
}

/* With a port, the app's console input is a pipe that the board feeds from the port and from
 * this command's standard input (without one, the app reads the standard input itself). */
static void forward_stdin(board_t *b)
{
    if (b->con.app_in < 0 || b->stdin_done) {
        return;
    }
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
    char buf[1024];
    if (poll(&p, 1, 0) <= 0) {
        return;
    }
    ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
    if (n <= 0) {
        b->stdin_done = n == 0 || (errno != EINTR && errno != EAGAIN);
        return;
    }
    board_serial_feed(b->con.app_in, buf, (size_t)n);
}

static void close_input(board_t *b)
{
    if (b->con.app_in >= 0) {
        close(b->con.app_in);
        b->con.app_in = -1;
    }
}

/* Writes the app's payload at [offset, offset+len) of the flash into an anonymous file; returns
 * its descriptor, or -1 (reported). */
static int app_program_file(board_t *b, const char *name, uint32_t offset, uint32_t len)
{
    int mfd = memfd_create(name, MFD_CLOEXEC);
    if (mfd < 0) {
        board_event(b, "cannot create the app's program file: %s", strerror(errno));
        return -1;
    }
    uint8_t buf[4096];
    size_t done = 0;
    while (done < len) {
        uint32_t n = len - done < sizeof(buf) ? (uint32_t)(len - done) : (uint32_t)sizeof(buf);
        cache_copy(b, offset + (uint32_t)done, buf, n);
        if (write(mfd, buf, n) != (ssize_t)n) {
            close(mfd);
            board_event(b, "cannot write the app's program file");
            return -1;
        }
        done += n;
    }
    return mfd;
}

/* In the forked child: becomes the app program mfd, its console on out (and its input on in,
 * when not -1). Never returns. */
static _Noreturn void app_child(int mfd, const char *name, char **env, pid_t board, int out, int in)
{
    /* The app is the chip's code: it never outlives the board process (power). */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != board) {
        _exit(OTA_APP_EXIT_HOST_ERROR);
    }
    dup2(out, STDOUT_FILENO);
    dup2(out, STDERR_FILENO);
    if (in >= 0) {
        dup2(in, STDIN_FILENO);
    }
    char *argv[] = {(char *)name, NULL};
    fexecve(mfd, argv, env);
    fprintf(stderr, "--- cannot execute the app: %s ---\n", strerror(errno));
    _exit(OTA_APP_EXIT_HOST_ERROR);
}

/* Starts the app program mfd (closed here); *console gets the read end of its console output,
 * b->con.app_in the write end of its input (with a port). Returns its pid, or -1. */
static pid_t start_app(board_t *b, const char *name, int mfd, int *console)
{
    int pipefd[2];
    int infd[2] = {-1, -1}; /* with a port: the app's console input, fed by the board */
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        close(mfd);
        return -1;
    }
    if (b->serial != NULL && pipe2(infd, O_CLOEXEC) != 0) {
        close(mfd);
        close(pipefd[0]);
        close(pipefd[1]);
        return -1;
    }
    char **env = NULL;
    child_env(&env, b->shm_fd, b->colors);
    fflush(stdout);
    pid_t board = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        app_child(mfd, name, env, board, pipefd[1], infd[0]);
    }
    free_env(env);
    close(mfd);
    close(pipefd[1]);
    if (infd[0] >= 0) {
        close(infd[0]);
        fcntl(infd[1], F_SETFL, O_NONBLOCK);
    }
    b->con.app_in = infd[1];
    if (pid < 0) {
        close(pipefd[0]);
        close_input(b);
        return -1;
    }
    *console = pipefd[0];
    return pid;
}

/* Relays the app's console until the app closes it, killing the app when --until matched, a
 * reset came through the port or the time limit passed. Returns why it was killed, or
 * APP_RETURNED when it was not. */
static app_end_t pump_app(board_t *b, pid_t pid, int console)
{
    app_end_t end = APP_RETURNED;
    bool killed = false;
    char buf[4096];
    for (;;) {
        struct pollfd pfd = {.fd = console, .events = POLLIN};
        int r = poll(&pfd, 1, 20);
        if (r > 0) {
            ssize_t n = read(console, buf, sizeof(buf));
            if (n > 0) {
                console_bytes(b, buf, (size_t)n);
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                break; /* the app closed its console: it has ended */
            }
        }
        if (!killed && b->matched) {
            kill(pid, SIGKILL);
            killed = true;
            end = APP_UNTIL;
        }
        forward_stdin(b);
        int sev = b->serial != NULL ? board_serial_poll(&b->con) : SERIAL_EV_NONE;
        if (!killed && sev != SERIAL_EV_NONE) {
            kill(pid, SIGKILL);
            killed = true;
            end = APP_RESET;
            b->download = sev == SERIAL_EV_RESET_DOWNLOAD;
        }
        if (!killed && b->opts->max_time_ms != 0 &&
            ota_board_time_us(b->shm) / 1000u >= b->opts->max_time_ms) {
            kill(pid, SIGKILL);
            killed = true;
            end = APP_TIME;
        }
    }
    return end;
}

/* How an app program that ended by itself ended, from its wait status. */
static app_end_t app_exit_end(board_t *b, int status)
{
    if (!WIFEXITED(status)) {
        board_event(b, "the app program was killed by signal %d", WTERMSIG(status));
        return APP_PANIC;
    }
    switch (WEXITSTATUS(status)) {
    case OTA_APP_EXIT_RETURNED:
        return APP_RETURNED;
    case OTA_APP_EXIT_RESTART:
        return APP_RESTART;
    case OTA_APP_EXIT_POWER_LOSS:
        return APP_POWER_LOSS;
    case OTA_APP_EXIT_PANIC:
        return APP_PANIC;
    case OTA_APP_EXIT_DEEP_SLEEP:
        return APP_DEEP_SLEEP;
    case OTA_APP_EXIT_SLEEP_FOREVER:
        board_event(b, "the chip sleeps with no wake-up source");
        return APP_ASLEEP;
    case OTA_APP_EXIT_IDLE:
        board_event(b, "every task of the app waits with no timeout");
        return APP_ASLEEP;
    case OTA_APP_EXIT_SANITIZER:
        board_event(b, "the app program hit a sanitizer error (a host bug, not a device "
                       "behaviour)");
        return APP_HOST_ERROR;
    default:
        board_event(b, "the app program exited with status %d", WEXITSTATUS(status));
        return APP_HOST_ERROR;
    }
}

/* Runs the app whose payload is at [offset, offset+len) of the flash; returns how it ended. */
static app_end_t run_app(board_t *b, const char *name, uint32_t offset, uint32_t len)
{
    int mfd = app_program_file(b, name, offset, len);
    if (mfd < 0) {
        return APP_HOST_ERROR;
    }
    int console = -1;
    pid_t pid = start_app(b, name, mfd, &console);
    if (pid < 0) {
        return APP_HOST_ERROR;
    }
    app_end_t end = pump_app(b, pid, console);
    close(console);
    close_input(b);
    if (b->line_len > 0) {
        b->line[b->line_len] = '\0';
        check_until(b, b->line);
        b->line_len = 0;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (b->matched) {
        return APP_UNTIL;
    }
    if (end != APP_RETURNED) {
        return end; /* killed by the board */
    }
    return app_exit_end(b, status);
}

/* ---- the run ------------------------------------------------------------------------------- */

/* The table offset at which the ROM finds virtual eFuses kept in flash: the last boot's, else
 * the one the flash's bootloader is built for (a real chip's eFuses need no table). */
static uint32_t rom_efuse_table(board_t *b)
{
    if (b->shm->table_offset != 0) {
        return b->shm->table_offset;
    }
    uint32_t bl = b->chip->bootloader_offset;
    ota_sdkconfig_t *cfg =
        ota_flashimg_image_sdkconfig(b->flash, bl, OTA_PART_TABLE_OFFSET_DEFAULT - bl);
    uint32_t off = OTA_PART_TABLE_OFFSET_DEFAULT;
    if (cfg != NULL) {
        off = (uint32_t)ota_sdkconfig_int(cfg, "PARTITION_TABLE_OFFSET", off);
        ota_sdkconfig_free(cfg);
    }
    return off;
}

/* ROM download mode (GPIO0 low at reset): the ROM's lines, then esptool's protocol on the
 * board's flash until the loader runs the flash, a reset comes through the port or the power is
 * lost; with UART_DOWNLOAD_DIS burnt, the flash boots instead. Returns a BOARD_DL_* value. */
static int board_download(board_t *b)
{
    ota_efuse_secure_boot_t sb = {0};
    setup_efuse(b, rom_efuse_table(b));
    if (b->efuse.ops.read_secure_boot(&b->efuse, &sb) == OTA_OK && sb.download_disabled) {
        board_event(b, "ROM download mode is disabled in eFuse (UART_DOWNLOAD_DIS): "
                       "booting from flash");
        b->download = false;
        return BOARD_DL_BOOT;
    }
    rom_banner(b,
               b->chip->id == OTA_CHIP_ID_ESP32
                   ? "rst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))"
                   : "rst:0x1 (POWERON),boot:0x0 (DOWNLOAD(USB/UART0))");
    console_line(b, "waiting for download");
    board_serial_chip_t chip = {b->serial, b->flash, b->nor, b->chip->id, b->shm->chip_rev};
    int dl = board_serial_download(&chip);
    b->download = dl == BOARD_DL_DOWNLOAD;
    return dl;
}

static const char *cut_mode_name(int mode)
{
    return mode == OTA_NOR_CUT_BEFORE ? "before" : mode == OTA_NOR_CUT_AFTER ? "after" : "torn";
}

/* splitmix64 step, for the random cut plan */
static uint64_t plan_rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The cuts of this run: the listed ones, or a random plan drawn from the seed. */
static void plan_cuts(board_t *b)
{
    const board_opts_t *o = b->opts;
    uint64_t s = o->seed;
    b->n_plan = o->random_cuts != 0 ? 1 + (int)(plan_rng(&s) % o->random_cuts) : o->n_cuts;
    for (int k = 0; k < b->n_plan; k++) {
        b->cut_plan[k] = o->random_cuts != 0 ? 1 + plan_rng(&s) % o->random_window : o->cuts[k];
        b->cut_modes[k] =
            o->cut_mode == BOARD_CUT_MODE_RANDOM ? (int)(plan_rng(&s) % 3) : o->cut_mode;
    }
}

/* Arms the next planned cut, counted from now; a torn cut's seed is the run's seed plus k. */
static void arm_next_cut(board_t *b)
{
    int k = b->next_cut;
    if (k < b->n_plan) {
        ota_nor_cut_arm(b->nor, b->cut_plan[k], (ota_nor_cut_mode_t)b->cut_modes[k],
                        b->opts->seed + (uint64_t)k);
        b->next_cut++;
    }
}

static void power_cut(board_t *b)
{
    const ota_nor_state_t *st = ota_nor_state(b->nor);
    board_event(b, "power cut at flash operation %llu (%s, seed %llu)",
                (unsigned long long)st->cut_n, cut_mode_name((int)st->cut_mode),
                (unsigned long long)st->cut_seed);
    ota_nor_power_on(b->nor);
    board_event(b, "power on");
    arm_next_cut(b);
}

/* Starts a new boot: the clock restarts at 0, board time keeps counting. */
static void reset(board_t *b, uint32_t reason)
{
    b->shm->boot_base_us += __atomic_load_n(&b->shm->clock_us, __ATOMIC_SEQ_CST);
    ota_clock_set_us(0);
    b->shm->reset_reason = reason;
    if (reason == OTA_BOARD_RST_POWERON) {
        memset(b->shm->gpio_drive, -1, sizeof(b->shm->gpio_drive)); /* held outputs lose power */
    }
}

/* Besides the BOARD_EXIT_* values, a step of the boot loop returns one of these. */
#define BOOT_AGAIN (-1) /* reset the chip and boot again */
#define BOOT_ON (-2)    /* go on with this boot */

/* The chip stopped (the run would end with status): it boots again when a reset comes through
 * the port. */
static int chip_stopped(board_t *b, int status)
{
    return board_wait_reset(b) ? BOOT_AGAIN : status;
}

/* The ROM step: checks the second-stage bootloader; *used gets its size. Returns BOOT_ON,
 * BOOT_AGAIN or BOARD_EXIT_BRICKED. */
static int boot_rom(board_t *b, const ota_boot_env_t *env, uint32_t *used)
{
    /* The ROM does not know the table offset; the bootloader region ends at 0x8000 unless
     * the bootloader says otherwise, so check with the largest sane region first. */
    int err = rom_step(b, env, OTA_PART_TABLE_OFFSET_DEFAULT, used);
    b->shm->rom_bootloader_offset = err == OTA_OK ? *used : 0;
    if (err == OTA_ERR_POWER_LOSS) {
        power_cut(b);
        return BOOT_AGAIN;
    }
    if (err != OTA_OK) {
        board_event(b, "bricked: no valid second-stage bootloader at 0x%x",
                    (unsigned)b->chip->bootloader_offset);
        return chip_stopped(b, BOARD_EXIT_BRICKED);
    }
    return BOOT_ON;
}

/* Secure Boot V2 (CONFIG_SECURE_BOOT_V2_ENABLED): on the first boot the bootloader burns its key
 * digest and ABS_DONE_1; with disable_dl (CONFIG_SECURE_DISABLE_ROM_DL_MODE) UART_DOWNLOAD_DIS,
 * after which the board refuses to enter ROM download mode. Returns BOOT_ON, BOOT_AGAIN (power cut)
 * or BOARD_EXIT_BRICKED. */
static int secure_boot_step(board_t *b, const ota_boot_env_t *env, const ota_boot_cfg_t *cfg,
                            uint32_t used, bool disable_dl)
{
    if (disable_dl) {
        ota_efuse_secure_boot_t sb = {0};
        if (b->efuse.ops.read_secure_boot(&b->efuse, &sb) == OTA_OK && !sb.download_disabled) {
            b->efuse.ops.burn_secure_boot(&b->efuse, NULL, OTA_EFUSE_UART_DOWNLOAD_DIS);
        }
    }
    if (cfg->secure_boot_v2 == OTA_SIG_SCHEME_NONE) {
        return BOOT_ON;
    }
    int err = ota_boot_secure_boot_v2(env, cfg, used, cfg->table_offset - used);
    if (err == OTA_ERR_POWER_LOSS) {
        power_cut(b);
        return BOOT_AGAIN;
    }
    if (err != OTA_OK) {
        ota_logf(env->log, 'E', "boot", "Failed to enable Secure Boot (err=%d)", err);
        board_event(b, "bricked: the bootloader could not enable secure boot");
        return chip_stopped(b, BOARD_EXIT_BRICKED);
    }
    return BOOT_ON;
}

/* True when flash_encrypt.c encrypts p on the first pass: an app partition only when it holds
 * an image (ESP-IDF verifies it; the header's magic stands for that here). */
static bool first_pass_encrypts(board_t *b, const ota_part_t *p)
{
    uint8_t magic = 0;
    if (p->type != OTA_PART_TYPE_APP) {
        return ota_flash_enc_part_encrypted(p);
    }
    return ota_flash_read(b->flash, p->offset, &magic, 1) == OTA_OK && magic == OTA_IMG_MAGIC;
}

/* The regions flash_encrypt.c encrypts on the first boot, logged as it logs them. */
static void log_encrypted_parts(board_t *b, const ota_log_t *log)
{
    uint8_t raw[OTA_PART_TABLE_MAX_LEN];
    ota_part_table_t table;
    ota_logf(log, 'I', "flash_encrypt", "bootloader encrypted successfully");
    if (ota_part_table_read_raw(b->flash, b->shm->table_offset, raw) != OTA_OK ||
        ota_part_table_load(ota_crypto_openssl(), raw, false, &table, NULL) != OTA_OK) {
        return;
    }
    ota_logf(log, 'I', "flash_encrypt", "partition table encrypted and loaded successfully");
    for (int i = 0; i < table.count; i++) {
        const ota_part_t *p = &table.parts[i];
        if (first_pass_encrypts(b, p)) {
            ota_logf(log, 'I', "flash_encrypt",
                     "Encrypting partition %d at offset 0x%x (length "
                     "0x%x)...",
                     i, (unsigned)p->offset, (unsigned)p->size);
            ota_logf(log, 'I', "flash_encrypt", "Done encrypting");
        }
    }
}

/* First boot of a bootloader with CONFIG_SECURE_FLASH_ENC_ENABLED on virtual eFuses kept in
 * flash: a new key, FLASH_CRYPT_CONFIG and FLASH_CRYPT_CNT burnt, the contents left plaintext
 * (the chip's real eFuses have encryption off), and a reset. Returns BOOT_AGAIN, or BOOT_ON when
 * the eFuses are not virtual (the first-boot encryption of real eFuses is not modelled). */
static int flash_enc_first_boot(board_t *b, const ota_log_t *log)
{
    uint8_t key[OTA_FLASH_ENC_KEY_LEN];
    if (b->shm->efuse_offset == 0) {
        return BOOT_ON;
    }
    ota_logf(log, 'I', "flash_encrypt", "Generating new flash encryption key...");
    if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key) ||
        ota_efuse_store_enable_flash_crypt(&b->efuse, key, OTA_FLASH_ENC_CONFIG_DEFAULT) !=
            OTA_OK) {
        ota_logf(log, 'E', "flash_encrypt",
                 "Failed to write efuse block with purpose. Can't "
                 "continue.");
        return BOOT_ON;
    }
    log_encrypted_parts(b, log);
    ota_logf(log, 'I', "flash_encrypt", "Flash encryption completed");
    ota_logf(log, 'I', "boot", "Resetting with flash encryption enabled...");
    b->sw_reset = true;
    return BOOT_AGAIN;
}

/* The second-stage bootloader (used bytes at the bootloader offset): its configuration, banner
 * and run; *res gets the app it chose. Returns BOOT_ON, BOOT_AGAIN or BOARD_EXIT_BRICKED. */
static int boot_second_stage(board_t *b, const ota_boot_env_t *env, uint32_t used,
                             uint32_t efuse_table, ota_boot_result_t *res)
{
    ota_sdkconfig_t *bcfg =
        bootloader_config(b, used, OTA_PART_TABLE_OFFSET_DEFAULT - b->chip->bootloader_offset);
    ota_boot_cfg_t cfg;
    ota_boot_cfg_from_sdkconfig(bcfg, &cfg);
    b->shm->table_offset = cfg.table_offset;
    if (cfg.table_offset != efuse_table) {
        setup_efuse(b, cfg.table_offset);
        setup_flash_enc(b, cfg.table_offset);
    }
    bootloader_banner(b, used);
    int step = secure_boot_step(b, env, &cfg, used,
                                ota_sdkconfig_bool(bcfg, "SECURE_DISABLE_ROM_DL_MODE", false));
    if (step != BOOT_ON) {
        ota_sdkconfig_free(bcfg);
        return step;
    }
    ota_boot_run(env, &cfg, res);
    bool fe_check = ota_sdkconfig_bool(bcfg, "SECURE_FLASH_ENC_ENABLED", false);
    bool fe_required = ota_sdkconfig_bool(bcfg, "SECURE_FLASH_REQUIRE_ALREADY_ENABLED", false);
    ota_sdkconfig_free(bcfg);
    if (res->outcome == OTA_BOOT_FLASH_ERROR && res->err == OTA_ERR_POWER_LOSS) {
        power_cut(b);
        return BOOT_AGAIN;
    }
    if (res->outcome != OTA_BOOT_OK) {
        board_event(b, "bricked: %s",
                    res->outcome == OTA_BOOT_TABLE_ERROR   ? "the partition table is invalid"
                    : res->outcome == OTA_BOOT_NO_BOOTABLE ? "no bootable app"
                    : res->outcome == OTA_BOOT_SELECT_ERROR
                        ? "the bootloader cannot select a partition"
                        : "flash failure in the bootloader");
        return chip_stopped(b, BOARD_EXIT_BRICKED);
    }
    if (fe_check && b->enc_on) {
        ota_logf(env->log, 'I', "flash_encrypt",
                 "flash encryption is enabled (3 plaintext "
                 "flashes left)");
    } else if (fe_check && !fe_required && flash_enc_first_boot(b, env->log) == BOOT_AGAIN) {
        return BOOT_AGAIN;
    } else if (fe_check && fe_required) {
        ota_logf(env->log, 'E', "flash_encrypt",
                 "flash encryption is not enabled, and "
                 "SECURE_FLASH_REQUIRE_ALREADY_ENABLED is set, "
                 "refusing to boot.");
        board_event(b, "bricked: the bootloader requires flash encryption");
        return chip_stopped(b, BOARD_EXIT_BRICKED);
    }
    ota_logf(env->log, 'I', "boot", "Disabling RNG early entropy source...");
    return BOOT_ON;
}

/* What the board does after the app ended as end: *reason gets the next reset's reason. Returns
 * BOOT_AGAIN or a BOARD_EXIT_* value. */
static int app_ended(board_t *b, app_end_t end, uint32_t *reason)
{
    switch (end) {
    case APP_RETURNED:
        board_event(b, "the app returned; nothing left to run");
        *reason = OTA_BOARD_RST_POWERON;
        return chip_stopped(b, BOARD_EXIT_RETURNED);
    case APP_RESTART:
        *reason = OTA_BOARD_RST_SW;
        break;
    case APP_POWER_LOSS:
        power_cut(b);
        *reason = OTA_BOARD_RST_POWERON;
        break;
    case APP_PANIC:
        *reason = OTA_BOARD_RST_PANIC;
        break;
    case APP_DEEP_SLEEP:
        *reason = OTA_BOARD_RST_DEEPSLEEP;
        break;
    case APP_ASLEEP:
        board_event(b, "nothing left to run");
        return BOARD_EXIT_RETURNED;
    case APP_RESET:
        *reason = OTA_BOARD_RST_POWERON;
        break;
    case APP_UNTIL:
        return BOARD_EXIT_UNTIL;
    case APP_TIME:
        board_event(b, "stopped at the time limit");
        return BOARD_EXIT_TIME;
    case APP_HOST_ERROR:
    default:
        return BOARD_EXIT_ERROR;
    }
    return b->matched ? BOARD_EXIT_UNTIL : BOOT_AGAIN;
}

/* Runs the app the bootloader chose in res, when it can run on the host. Returns BOOT_AGAIN or a
 * BOARD_EXIT_* value; *reason gets the next reset's reason. */
static int boot_app(board_t *b, const ota_boot_result_t *res, uint32_t *reason)
{
    ota_img_host_info_t info;
    ota_diag_t diag = {{0}};
    int err = ota_img_host_locate(b->boot_flash, res->part.offset, res->part.size, &info, &diag);
    if (err != OTA_OK || !info.has_payload) {
        const ota_img_meta_t *m = &res->meta;
        const ota_chip_t *ic = ota_chip_by_id(m->header.chip_id);
        board_event(b, "boots project %s version %s for chip %s; not executable on the host",
                    m->has_app_desc ? m->app_desc.project_name : "(no app description)",
                    m->has_app_desc ? m->app_desc.version : "-", ic ? ic->name : "unknown");
        *reason = OTA_BOARD_RST_POWERON;
        return chip_stopped(b, BOARD_EXIT_FOREIGN);
    }
    b->shm->running_offset = res->part.offset;
    b->shm->running_size = res->part.size;
    b->shm->table_offset = res->table_used; /* the app loads the table the bootloader used */
    const char *name = res->meta.has_app_desc ? res->meta.app_desc.project_name : "app";
    app_end_t end = run_app(b, name[0] ? name : "app", res->part.offset + info.payload_offset,
                            info.payload_len);
    return app_ended(b, end, reason);
}

/* One boot from the flash after a reset for reason: ROM, bootloader, app. Returns BOOT_AGAIN or
 * a BOARD_EXIT_* value; *reason gets the next reset's reason. */
static int boot_once(board_t *b, uint32_t *reason)
{
    /* The ROM reads the eFuses (the recovery bootloader offset, flash encryption) before any
     * bootloader runs: they are found with the table offset of the last boot (0x8000 at
     * power-on). */
    uint32_t efuse_table =
        b->shm->table_offset ? b->shm->table_offset : OTA_PART_TABLE_OFFSET_DEFAULT;
    setup_efuse(b, efuse_table);
    setup_flash_enc(b, efuse_table);
    ota_boot_env_t env = {
        .flash = b->boot_flash,
        .crypto = ota_crypto_openssl(),
        .chip = b->chip,
        .chip_rev = b->shm->chip_rev,
        .efuse_blk_rev = b->shm->efuse_blk_rev,
        .efuse = &b->efuse.ops,
        .gpio_hold = gpio_hold,
        .gpio_ctx = b,
        .power_on = *reason == OTA_BOARD_RST_POWERON,
    };
    const ota_log_t sink = {boot_log, b};
    env.log = &sink;
    *reason = OTA_BOARD_RST_POWERON; /* unless the app ends otherwise */

    uint32_t used = 0;
    int step = boot_rom(b, &env, &used);
    if (step != BOOT_ON) {
        return step;
    }
    static ota_boot_result_t res;
    step = boot_second_stage(b, &env, used, efuse_table, &res);
    if (b->sw_reset) {
        b->sw_reset = false;
        *reason = OTA_BOARD_RST_SW;
    }
    if (step != BOOT_ON) {
        return step;
    }
    return boot_app(b, &res, reason);
}

/* The limit (--max-boots, --max-time) the run has reached, or BOOT_ON. */
static int run_limit(board_t *b)
{
    if (b->opts->max_boots != 0 && b->shm->boot_count >= b->opts->max_boots) {
        board_event(b, "stopped after %u boots", b->shm->boot_count);
        return BOARD_EXIT_MAX_BOOTS;
    }
    if (b->opts->max_time_ms != 0 && ota_board_time_us(b->shm) / 1000u >= b->opts->max_time_ms) {
        board_event(b, "stopped at the time limit");
        return BOARD_EXIT_TIME;
    }
    return BOOT_ON;
}

/* Boots the chip again and again until a BOARD_EXIT_* condition; returns it. */
static int boot_loop(board_t *b)
{
    uint32_t reason = OTA_BOARD_RST_POWERON;
    for (;;) {
        int stop = run_limit(b);
        if (stop != BOOT_ON) {
            return stop;
        }
        reset(b, reason);
        b->shm->boot_count++;
        if (b->download) {
            reason = OTA_BOARD_RST_POWERON;
            if (board_download(b) == BOARD_DL_POWER_LOSS) {
                power_cut(b);
            }
            continue;
        }
        stop = boot_once(b, &reason);
        if (stop != BOOT_AGAIN) {
            return stop;
        }
    }
}

/* What the run did to the flash: operations, modeled busy time, wear. */
static void flash_summary(board_t *b)
{
    const ota_nor_state_t *st = ota_nor_state(b->nor);
    ota_nor_op_counts_t counts;
    ota_nor_time_t t;
    ota_nor_state_counts(st, &counts);
    ota_nor_time_model(b->timed.profile, &counts, &t);
    board_event(b,
                "flash: %llu page programs, %llu sector erases, %llu block erases; modeled busy "
                "time %.2f s typical, %.2f s worst case (%s); highest sector wear %u",
                (unsigned long long)st->program_ops, (unsigned long long)st->sector_erases,
                (unsigned long long)st->block_erases, (double)t.typ_us / 1e6,
                (double)t.max_us / 1e6, b->timed.profile->name,
                (unsigned)ota_nor_state_wear_max(st));
    if (st->cuts > 1 || st->faults.injected > 0) {
        board_event(b, "%llu power cuts, %llu flash faults injected", (unsigned long long)st->cuts,
                    (unsigned long long)st->faults.injected);
    }
}

/* The shared memory, holding the flash image's real path, the clock and the --gpio inputs.
 * Returns BOOT_ON or a BOARD_EXIT_* value (reported). */
static int board_open_shm(board_t *b, char *path)
{
    const board_opts_t *o = b->opts;
    if (realpath(o->flash_path, path) == NULL) {
        fprintf(stderr, "otakit: board run: %s: %s\n", o->flash_path, strerror(errno));
        return BOARD_EXIT_ERROR;
    }
    b->shm_fd = ota_board_shm_create(&b->shm);
    if (b->shm_fd < 0) {
        fprintf(stderr, "otakit: board run: cannot create shared memory: %s\n", strerror(errno));
        return BOARD_EXIT_ERROR;
    }
    int plen = snprintf(b->shm->flash_path, sizeof(b->shm->flash_path), "%s", path);
    if (plen < 0 || (size_t)plen >= sizeof(b->shm->flash_path) - sizeof(".efuse")) {
        fprintf(stderr, "otakit: board run: %s: path too long\n", o->flash_path);
        return BOARD_EXIT_ERROR;
    }
    ota_clock_attach(&b->shm->clock_us);
    for (int i = 0; i < o->n_gpio; i++) {
        if (ota_board_gpio_parse(b->shm, o->gpio[i]) != 0) {
            fprintf(stderr, "otakit: board run: --gpio %s: expected PIN=LEVEL[@MS]\n", o->gpio[i]);
            return BOARD_EXIT_USAGE;
        }
    }
    return BOOT_ON;
}

/* The flash image at path, its timing model and chip. Returns BOOT_ON or a BOARD_EXIT_* value
 * (reported). */
/* True when the eFuses beside the flash image have flash encryption on: the flash holds an
 * ESP32's ciphertext, which no chip detection can read. */
static bool encrypted_esp32(board_t *b)
{
    ota_efuse_store_t s;
    ota_efuse_flash_crypt_t fc;
    char path[sizeof(b->shm->flash_path) + 8];
    snprintf(path, sizeof(path), "%s.efuse", b->shm->flash_path);
    return ota_efuse_store_file(&s, path, 32) == OTA_OK &&
           s.ops.read_flash_crypt(&s, &fc) == OTA_OK && ota_efuse_flash_crypt_on(&fc);
}

static int board_open_flash(board_t *b, const char *path)
{
    const board_opts_t *o = b->opts;
    ota_nor_config_t ncfg = {.state = &b->shm->nor};
    ota_diag_t diag = {{0}};
    if (ota_nor_open(path, &ncfg, &b->nor, &diag) != OTA_OK) {
        fprintf(stderr, "otakit: board run: %s: %s\n", o->flash_path, diag.msg);
        return BOARD_EXIT_ERROR;
    }
    ota_timed_flash_init(&b->timed, ota_nor_flash(b->nor), ota_nor_state(b->nor), NULL);
    b->flash = &b->timed.flash;
    b->chip = o->chip != NULL
                  ? ota_chip_by_name(o->chip)
                  : ota_flashimg_detect_chip(ota_nor_data(b->nor), ota_nor_size(b->nor));
    if (b->chip == NULL && o->chip == NULL && encrypted_esp32(b)) {
        b->chip = ota_chip_by_id(OTA_CHIP_ID_ESP32); /* its bootloader is ciphertext */
    }
    if (b->chip == NULL) {
        if (o->chip != NULL) {
            fprintf(stderr, "otakit: board run: --chip %s: unknown chip\n", o->chip);
        } else {
            fprintf(stderr,
                    "otakit: board run: %s: no bootloader image for any chip at its "
                    "bootloader offset (0x0, 0x1000 or 0x2000); give --chip\n",
                    o->flash_path);
        }
        return BOARD_EXIT_ERROR;
    }
    ota_nor_profile_for_flash(ota_nor_size(b->nor), b->chip,
                              ota_nor_data(b->nor) + b->chip->bootloader_offset, &b->profile);
    b->timed.profile = &b->profile;
    b->shm->chip_id = b->chip->id;
    b->shm->chip_rev =
        (uint16_t)(o->chip_rev >= 0 ? o->chip_rev : ota_flashimg_default_chip_rev(b->chip));
    b->shm->efuse_blk_rev = ota_flashimg_default_efuse_blk_rev(b->chip);
    b->shm->psram_size = o->psram_size;
    return BOOT_ON;
}

/* The flash faults (--faults), the power cuts, the serial port (--serial). Returns BOOT_ON or a
 * BOARD_EXIT_* value (reported). */
static int board_arm(board_t *b)
{
    const board_opts_t *o = b->opts;
    if (o->faults != NULL) {
        ota_nor_faults_t f;
        ota_diag_t diag = {{0}};
        if (ota_nor_faults_parse(o->faults, &f, &diag) != OTA_OK ||
            ota_nor_set_faults(b->nor, &f) != OTA_OK) {
            fprintf(stderr, "otakit: board run: --faults: %s\n",
                    diag.msg[0] ? diag.msg : "bad sector outside the flash");
            return BOARD_EXIT_USAGE;
        }
    }
    plan_cuts(b);
    arm_next_cut(b);
    if (o->serial != NULL && serial_port_open(o->serial, &b->serial) != 0) {
        return BOARD_EXIT_USAGE;
    }
    b->con.port = b->serial;
    b->con.app_in = -1;
    b->download = o->download;
    return BOOT_ON;
}

static void board_close(board_t *b)
{
    serial_port_close(b->serial);
    if (b->nor != NULL) {
        ota_nor_close(b->nor);
    }
    ota_clock_attach(NULL);
    if (b->shm != NULL) {
        munmap(b->shm, sizeof(*b->shm));
        close(b->shm_fd);
    }
    if (b->have_until) {
        regfree(&b->until);
    }
}

int board_run(const board_opts_t *o)
{
    board_t b;
    memset(&b, 0, sizeof(b));
    b.opts = o;
    if (o->pace > 0.0) {
        /* the board's own clock and, through the environment, every app it starts */
        char speed[32];
        snprintf(speed, sizeof(speed), "%g", o->pace);
        setenv("OTAKIT_BOARD_PACE", speed, 1);
        ota_clock_set_pace(o->pace);
    }
    b.colors = isatty(STDOUT_FILENO);
    esp_log_set_colors(b.colors);
    if (o->until != NULL) {
        if (regcomp(&b.until, o->until, REG_EXTENDED | REG_NOSUB) != 0) {
            fprintf(stderr, "otakit: board run: --until '%s': invalid regular expression\n",
                    o->until);
            return BOARD_EXIT_USAGE;
        }
        b.have_until = true;
    }
    char path[PATH_MAX];
    int status = board_open_shm(&b, path);
    if (status == BOOT_ON) {
        status = board_open_flash(&b, path);
    }
    if (status == BOOT_ON) {
        status = board_arm(&b);
    }
    if (status == BOOT_ON) {
        status = boot_loop(&b);
        flash_summary(&b);
    }
    board_close(&b);
    return status;
}

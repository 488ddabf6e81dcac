/*
 * ESP-IDF ROM and CPU calls (esp_rom_sys.h, esp_rom_uart.h, esp_system_console.h, esp_cpu.h,
 * esp_private/esp_clk.h) on the simulated board: the console is stdin/stdout, time is the
 * board's virtual clock.
 */
#include <poll.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "esp_cpu.h"
#include "esp_flash_partitions.h"
#include "esp_private/esp_clk.h"
#include "esp_rom_sys.h"
#include "esp_rom_uart.h"
#include "esp_system_console.h"
#include "ota/ota_clock.h"

#define CPU_HZ 160000000

int esp_rom_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

void esp_rom_delay_us(uint32_t us)
{
    ota_clock_advance_us(us);
}

int esp_rom_output_tx_one_char(uint8_t c)
{
    putchar(c);
    return 0;
}

void esp_rom_output_putc(char c)
{
    if (c == '\n') {
        putchar('\r');
    }
    putchar(c);
}

void esp_rom_output_tx_wait_idle(uint8_t uart_no)
{
    (void)uart_no;
    fflush(stdout);
}

/* Empty polls in a row: a caller that keeps polling (a console read loop) waits for input. */
static _Thread_local unsigned g_rx_empty;
/* After a line end, the bytes that had arrived with it (what a chip's receive buffer holds when
 * the line is read) and whether the poll past them has yet to report an empty buffer. The app's
 * start counts as a line end with nothing before it: a reply to its first prompt is not stale. */
static size_t g_rx_stale;
static bool g_rx_after_line = true;

static void note_byte(uint8_t c)
{
    if (g_rx_stale > 0) {
        g_rx_stale--;
    }
    if (c == '\r' || c == '\n') {
        int pending = 0;
        g_rx_stale = ioctl(STDIN_FILENO, FIONREAD, &pending) == 0 && pending > 0 ? (size_t)pending : 0;
        g_rx_after_line = true;
    }
}

/*
 * One byte of console input, or 1 when none has arrived. The first poll that finds nothing
 * returns at once; a poll that follows an empty one first lets what was printed out (the UART
 * has sent it by now) and waits up to 10 ms for input, which the board's clock counts.
 * ESP-IDF code empties the receive buffer before a prompt by reading until nothing is left
 * (unity_gets): what was in it when the previous line was read goes, but a reply the host sends
 * once it has seen the output that followed that line (pytest-embedded answers "Running ..."
 * with a stage number) arrives, on a chip, after the buffer was emptied. So after a line end
 * (and after the app's start, for the reply to its first prompt, "Press ENTER" of a Unity menu)
 * the poll past the bytes that came with it reports an empty buffer once.
 */
int esp_rom_output_rx_one_char(uint8_t *c)
{
    if (g_rx_after_line && g_rx_stale == 0) {
        g_rx_after_line = false;
        g_rx_empty = 1;
        return 1;
    }
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
    int wait_ms = 0;
    if (g_rx_empty > 0) {
        fflush(stdout);
        wait_ms = 10;
    }
    if (poll(&p, 1, wait_ms) != 1 || read(STDIN_FILENO, c, 1) != 1) {
        if (g_rx_empty++ > 0) {
            if (p.revents != 0) {
                poll(NULL, 0, wait_ms); /* input closed: nothing will come, wait as for it */
            }
            ota_clock_advance_us((uint64_t)wait_ms * 1000u);
        }
        return 1;
    }
    g_rx_empty = 0;
    note_byte(*c);
    return 0;
}

void esp_system_console_put_char(char c)
{
    putchar(c);
}

int esp_clk_cpu_freq(void)
{
    return CPU_HZ;
}

esp_cpu_cycle_count_t esp_cpu_get_cycle_count(void)
{
    return (esp_cpu_cycle_count_t)(ota_clock_now_us() * (CPU_HZ / 1000000));
}

int esp_cpu_get_core_id(void)
{
    return 0;
}

/* The board's serial port: raw and RFC 2217 clients, modem lines as EN and GPIO0 resets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "serial_port.h"

#define IAC 255

typedef struct rx_log {
    uint8_t data[256];
    size_t n;
} rx_log_t;

/* Keeps every data byte; ends serving at 'Z'. */
static int collect(void *ctx, const uint8_t *data, size_t n, size_t *used)
{
    rx_log_t *log = ctx;
    for (size_t i = 0; i < n; i++) {
        log->data[log->n++] = data[i];
        if (data[i] == 'Z') {
            *used = i + 1;
            return SERIAL_EV_USER;
        }
    }
    *used = n;
    return SERIAL_EV_NONE;
}

static int connect_to(serial_port_t *sp)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(serial_port_number(sp))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
    assert_int_equal(send(fd, p, n, 0), (ssize_t)n);
}

/* RFC 2217 SET-CONTROL with value v. */
static void set_control(int fd, uint8_t v)
{
    uint8_t sb[] = {IAC, 250, 44, 5, v, IAC, 240};
    send_all(fd, sb, sizeof(sb));
}

static void test_raw_client_data_and_console(void **state)
{
    (void)state;
    serial_port_t *sp = NULL;
    assert_int_equal(serial_port_open("socket:0", &sp), 0);
    assert_int_not_equal(serial_port_number(sp), 0);
    int fd = connect_to(sp);
    send_all(fd,
             "\xC0"
             "abZcd",
             6);
    rx_log_t log = {0};
    assert_int_equal(serial_port_serve(sp, -1, collect, &log), SERIAL_EV_USER);
    assert_int_equal(log.n, 4);
    assert_memory_equal(log.data,
                        "\xC0"
                        "abZ",
                        4);
    /* the bytes after the one that ended serving come with the next call */
    assert_int_equal(serial_port_serve(sp, 0, collect, &log), SERIAL_EV_NONE);
    assert_int_equal(log.n, 6);
    /* console output reaches the client unchanged (a raw client: 0xFF is not doubled) */
    serial_port_write(sp, "hi\xFF", 3);
    char buf[8];
    assert_int_equal(recv(fd, buf, sizeof(buf), 0), 3);
    assert_memory_equal(buf, "hi\xFF", 3);
    close(fd);
    serial_port_close(sp);
}

static void test_rfc2217_negotiation_and_resets(void **state)
{
    (void)state;
    serial_port_t *sp = NULL;
    assert_int_equal(serial_port_open("socket:0", &sp), 0);
    int fd = connect_to(sp);
    uint8_t will[] = {IAC, 251, 44, IAC, 253, 1}; /* WILL COM-PORT-OPTION, DO ECHO */
    send_all(fd, will, sizeof(will));
    /* esptool's classic reset: DTR off, RTS on (EN low), DTR on (EN high, GPIO0 still high
     * for an instant), RTS off (GPIO0 low), then data: download mode */
    set_control(fd, 9);
    set_control(fd, 11);
    set_control(fd, 8);
    set_control(fd, 12);
    send_all(fd, "x", 1);
    rx_log_t log = {0};
    assert_int_equal(serial_port_serve(sp, -1, collect, &log), SERIAL_EV_RESET_DOWNLOAD);
    uint8_t reply[64];
    ssize_t n = recv(fd, reply, sizeof(reply), 0);
    uint8_t want[] = {IAC, 253, 44, IAC, 252, 1, IAC, 250, 44, 105, 9, IAC, 240};
    assert_true(n >= (ssize_t)sizeof(want));
    assert_memory_equal(reply, want, sizeof(want)); /* DO COM-PORT, WONT ECHO, SET-CONTROL ack */
    assert_int_equal(serial_port_serve(sp, 0, collect, &log), SERIAL_EV_NONE);
    assert_int_equal(log.n, 1); /* the data byte belongs to the new boot */
    /* a hard reset: RTS on, RTS off with DTR off, then the client leaves: boot from flash */
    set_control(fd, 9);
    set_control(fd, 11);
    set_control(fd, 12);
    close(fd);
    assert_int_equal(serial_port_serve(sp, -1, collect, &log), SERIAL_EV_RESET_BOOT);
    /* console output to an RFC 2217 client doubles IAC */
    fd = connect_to(sp);
    send_all(fd, will, 3);
    assert_int_equal(serial_port_serve(sp, 0, collect, &log), SERIAL_EV_NONE); /* accepts */
    assert_int_equal(serial_port_serve(sp, 0, collect, &log), SERIAL_EV_NONE); /* reads */
    assert_int_equal(recv(fd, reply, sizeof(reply), 0), 3);
    serial_port_write(sp, "\xFF", 1);
    assert_int_equal(recv(fd, reply, sizeof(reply), 0), 2);
    assert_int_equal(reply[0], IAC);
    assert_int_equal(reply[1], IAC);
    close(fd);
    serial_port_close(sp);
}

/* A pty: data both ways while a client holds it open, a hang-up when it closes, then the next
 * client. */
static void test_pty_clients_and_hangup(void **state)
{
    (void)state;
    serial_port_t *sp = NULL;
    assert_int_equal(serial_port_open("pty", &sp), 0);
    assert_true(serial_port_is_pty(sp));
    assert_int_equal(serial_port_number(sp), 0);
    const char *path = serial_port_pty_path(sp);
    assert_non_null(path);
    rx_log_t log = {0};
    assert_int_equal(serial_port_serve(sp, 0, collect, &log), SERIAL_EV_NONE);
    serial_port_write(sp, "lost", 4); /* nobody holds the port: lost, as on a UART */

    int fd = open(path, O_RDWR | O_NOCTTY);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "abZ", 3), 3);
    assert_int_equal(serial_port_serve(sp, 5000, collect, &log), SERIAL_EV_USER);
    assert_int_equal(log.n, 3);
    assert_memory_equal(log.data, "abZ", 3);
    serial_port_write(sp, "hi\xff", 3); /* no Telnet escaping on a pty */
    char buf[8];
    assert_int_equal(read(fd, buf, sizeof(buf)), 3);
    assert_memory_equal(buf, "hi\xff", 3);

    close(fd);
    assert_int_equal(serial_port_serve(sp, 5000, collect, &log), SERIAL_EV_HANGUP);
    fd = open(path, O_RDWR | O_NOCTTY);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "Z", 1), 1);
    assert_int_equal(serial_port_serve(sp, 5000, collect, &log), SERIAL_EV_USER);
    assert_int_equal(log.n, 4);
    close(fd);
    serial_port_close(sp);
}

static void test_bad_spec(void **state)
{
    (void)state;
    serial_port_t *sp = NULL;
    assert_int_equal(serial_port_open("tcp:1234", &sp), -1);
    assert_int_equal(serial_port_open("socket:70000", &sp), -1);
    assert_int_equal(serial_port_open("socket:", &sp), -1);
    assert_null(sp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_client_data_and_console),
        cmocka_unit_test(test_rfc2217_negotiation_and_resets),
        cmocka_unit_test(test_pty_clients_and_hangup),
        cmocka_unit_test(test_bad_spec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * esp_timer on the timer service (rtos_alarm.c): the "esp_timer" task calls each callback when
 * the virtual clock reaches its alarm, earliest first.
 */
#include "esp_timer.h"

#include <inttypes.h>
#include <stdlib.h>

#include "ota/ota_clock.h"
#include "rtos_priv.h"

#define MIN_PERIOD_US 50u

struct esp_timer {
    rtos_alarm_t alarm; /* first: the service frees a timer deleted by its own callback */
    esp_timer_cb_t callback;
    void *arg;
    const char *name;
};

/* ESP-IDF's timer task: ESP_TASK_TIMER_PRIO (ESP_TASK_PRIO_MAX - 3), ESP_TASK_TIMER_STACK. */
static rtos_service_t service = {.name = "esp_timer", .priority = 22, .stack_depth = 3584};

static void fire(rtos_alarm_t *a)
{
    esp_timer_handle_t t = (esp_timer_handle_t)a;
    t->callback(t->arg);
}

int64_t esp_timer_get_time(void)
{
    return (int64_t)ota_clock_now_us();
}

esp_err_t esp_timer_create(const esp_timer_create_args_t *create_args,
                           esp_timer_handle_t *out_handle)
{
    if (create_args == NULL || create_args->callback == NULL || out_handle == NULL ||
        create_args->dispatch_method < 0 || create_args->dispatch_method >= ESP_TIMER_MAX) {
        return ESP_ERR_INVALID_ARG;
    }
    esp_timer_handle_t t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return ESP_ERR_NO_MEM;
    }
    t->alarm.fire = fire;
    t->alarm.skip_missed = create_args->skip_unhandled_events;
    t->callback = create_args->callback;
    t->arg = create_args->arg;
    t->name = create_args->name;
    rtos_lock();
    bool ok = rtos_alarm_attach(&service, &t->alarm);
    rtos_unlock();
    if (!ok) {
        free(t);
        return ESP_ERR_NO_MEM;
    }
    *out_handle = t;
    return ESP_OK;
}

/* Arms timer at now + after_us, repeating every period (0: once), unless its running state is
 * not want_running. */
static esp_err_t arm(esp_timer_handle_t t, uint64_t after_us, uint64_t period, bool want_running)
{
    if (t == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    rtos_lock();
    esp_err_t err = ESP_ERR_INVALID_STATE;
    if (t->alarm.active == want_running) {
        rtos_alarm_arm(&t->alarm, ota_clock_now_us() + after_us, period);
        err = ESP_OK;
    }
    rtos_unlock();
    return err;
}

esp_err_t esp_timer_start_once(esp_timer_handle_t timer, uint64_t timeout_us)
{
    return arm(timer, timeout_us, 0, false);
}

esp_err_t esp_timer_start_periodic(esp_timer_handle_t timer, uint64_t period)
{
    if (period < MIN_PERIOD_US) {
        return ESP_ERR_INVALID_ARG;
    }
    return arm(timer, period, period, false);
}

esp_err_t esp_timer_restart(esp_timer_handle_t timer, uint64_t timeout_us)
{
    if (timer == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    rtos_lock();
    bool periodic = timer->alarm.period != 0;
    rtos_unlock();
    return arm(timer, timeout_us, periodic ? timeout_us : 0, true);
}

esp_err_t esp_timer_stop(esp_timer_handle_t timer)
{
    if (timer == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    rtos_lock();
    esp_err_t err = timer->alarm.active ? ESP_OK : ESP_ERR_INVALID_STATE;
    rtos_alarm_disarm(&timer->alarm);
    rtos_unlock();
    return err;
}

esp_err_t esp_timer_delete(esp_timer_handle_t timer)
{
    if (timer == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    rtos_lock();
    if (timer->alarm.active) {
        rtos_unlock();
        return ESP_ERR_INVALID_STATE;
    }
    bool free_now = rtos_alarm_detach(&timer->alarm);
    rtos_unlock();
    if (free_now) {
        free(timer);
    }
    return ESP_OK;
}

static int64_t next_alarm(bool wake_only)
{
    rtos_lock();
    uint64_t at = rtos_alarm_next(&service, wake_only);
    rtos_unlock();
    return at == RTOS_FOREVER ? INT64_MAX : (int64_t)at;
}

int64_t esp_timer_get_next_alarm(void)
{
    return next_alarm(false);
}

int64_t esp_timer_get_next_alarm_for_wake_up(void)
{
    return next_alarm(true);
}

esp_err_t esp_timer_get_period(esp_timer_handle_t timer, uint64_t *period)
{
    if (timer == NULL || period == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    rtos_lock();
    *period = timer->alarm.period;
    rtos_unlock();
    return ESP_OK;
}

esp_err_t esp_timer_get_expiry_time(esp_timer_handle_t timer, uint64_t *expiry)
{
    if (timer == NULL || expiry == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    rtos_lock();
    esp_err_t err = ESP_ERR_NOT_SUPPORTED;
    if (timer->alarm.period == 0) {
        *expiry = timer->alarm.at;
        err = ESP_OK;
    }
    rtos_unlock();
    return err;
}

esp_err_t esp_timer_dump(FILE *stream)
{
    rtos_lock();
    fprintf(stream, "Timer stats:\n%-20s  %-12s  %-12s\n", "Name", "Period", "Alarm");
    for (rtos_alarm_t *a = service.alarms; a != NULL; a = a->next) {
        esp_timer_handle_t t = (esp_timer_handle_t)a;
        if (a->active) {
            fprintf(stream, "%-20s  %-12" PRIu64 "  %-12" PRIu64 "\n",
                    t->name != NULL ? t->name : "timer", a->period, a->at);
        }
    }
    rtos_unlock();
    return ESP_OK;
}

bool esp_timer_is_active(esp_timer_handle_t timer)
{
    if (timer == NULL) {
        return false;
    }
    rtos_lock();
    bool active = timer->alarm.active;
    rtos_unlock();
    return active;
}

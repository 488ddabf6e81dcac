/*
 * ESP-IDF's default event loop on the host: esp_event_post calls the matching handlers in the
 * posting thread, in registration order, with a copy of the event data.
 */
#include "esp_event.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HANDLERS 32

typedef struct {
    esp_event_base_t base;
    int32_t id;
    esp_event_handler_t fn;
    void *arg;
} handler_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool created;
static handler_t handlers[MAX_HANDLERS];
static int nhandlers;

esp_err_t esp_event_loop_create_default(void)
{
    pthread_mutex_lock(&lock);
    esp_err_t err = created ? ESP_ERR_INVALID_STATE : ESP_OK;
    created = true;
    pthread_mutex_unlock(&lock);
    return err;
}

esp_err_t esp_event_loop_delete_default(void)
{
    pthread_mutex_lock(&lock);
    esp_err_t err = created ? ESP_OK : ESP_ERR_INVALID_STATE;
    created = false;
    nhandlers = 0;
    pthread_mutex_unlock(&lock);
    return err;
}

esp_err_t esp_event_handler_register(esp_event_base_t event_base, int32_t event_id,
                                     esp_event_handler_t event_handler, void *event_handler_arg)
{
    if (event_handler == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    pthread_mutex_lock(&lock);
    esp_err_t err = ESP_OK;
    if (!created) {
        err = ESP_ERR_INVALID_STATE;
    } else if (nhandlers == MAX_HANDLERS) {
        err = ESP_ERR_NO_MEM;
    } else {
        handlers[nhandlers++] = (handler_t){event_base, event_id, event_handler, event_handler_arg};
    }
    pthread_mutex_unlock(&lock);
    return err;
}

esp_err_t esp_event_handler_instance_register(esp_event_base_t event_base, int32_t event_id,
                                              esp_event_handler_t event_handler,
                                              void *event_handler_arg,
                                              esp_event_handler_instance_t *instance)
{
    esp_err_t err =
        esp_event_handler_register(event_base, event_id, event_handler, event_handler_arg);
    if (err == ESP_OK && instance != NULL) {
        *instance = event_handler_arg;
    }
    return err;
}

esp_err_t esp_event_handler_unregister(esp_event_base_t event_base, int32_t event_id,
                                       esp_event_handler_t event_handler)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < nhandlers; i++) {
        if (handlers[i].base == event_base && handlers[i].id == event_id &&
            handlers[i].fn == event_handler) {
            memmove(&handlers[i], &handlers[i + 1],
                    (size_t)(nhandlers - i - 1) * sizeof(handler_t));
            nhandlers--;
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    return ESP_OK;
}

static bool base_matches(esp_event_base_t want, esp_event_base_t got)
{
    return want == ESP_EVENT_ANY_BASE || want == got ||
           (want != NULL && got != NULL && strcmp(want, got) == 0);
}

esp_err_t esp_event_post(esp_event_base_t event_base, int32_t event_id, const void *event_data,
                         size_t event_data_size, TickType_t ticks_to_wait)
{
    (void)ticks_to_wait;
    handler_t snapshot[MAX_HANDLERS];
    pthread_mutex_lock(&lock);
    if (!created) {
        pthread_mutex_unlock(&lock);
        return ESP_ERR_INVALID_STATE;
    }
    int n = nhandlers;
    memcpy(snapshot, handlers, (size_t)n * sizeof(handler_t));
    pthread_mutex_unlock(&lock);

    void *copy = NULL;
    if (event_data != NULL && event_data_size > 0) {
        copy = malloc(event_data_size);
        if (copy == NULL) {
            return ESP_ERR_NO_MEM;
        }
        memcpy(copy, event_data, event_data_size);
    }
    for (int i = 0; i < n; i++) {
        if (base_matches(snapshot[i].base, event_base) &&
            (snapshot[i].id == ESP_EVENT_ANY_ID || snapshot[i].id == event_id)) {
            snapshot[i].fn(snapshot[i].arg, event_base, event_id, copy);
        }
    }
    free(copy);
    return ESP_OK;
}

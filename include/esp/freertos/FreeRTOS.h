/* FreeRTOS types and tick arithmetic as configured by ESP-IDF (100 Hz tick). */
#ifndef FREERTOS_H_SHIM
#define FREERTOS_H_SHIM

#include <stdint.h>

typedef uint32_t TickType_t;
typedef int BaseType_t;
typedef unsigned int UBaseType_t;

#define configTICK_RATE_HZ 100
#define portTICK_PERIOD_MS ((TickType_t)1000 / configTICK_RATE_HZ)
#define portMAX_DELAY ((TickType_t)0xffffffffUL)
#define pdMS_TO_TICKS(ms) ((TickType_t)(((uint64_t)(ms)*configTICK_RATE_HZ) / 1000U))
#define pdTICKS_TO_MS(t) ((uint32_t)(((uint64_t)(t)*1000U) / configTICK_RATE_HZ))
#define pdTRUE 1
#define pdFALSE 0
#define pdPASS pdTRUE
#define pdFAIL pdFALSE
#define tskNO_AFFINITY 0x7FFFFFFF

#endif /* FREERTOS_H_SHIM */

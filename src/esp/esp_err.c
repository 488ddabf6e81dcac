/* Names of the ESP-IDF error codes, and the ESP_ERROR_CHECK reports. */
#include "esp_err.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct {
    esp_err_t code;
    const char *name;
} err_name_t;

#define ERR_NAME(x)                                                                                \
    {                                                                                              \
        x, #x                                                                                      \
    }

static const err_name_t names[] = {
    ERR_NAME(ESP_OK),
    ERR_NAME(ESP_FAIL),
    ERR_NAME(ESP_ERR_NO_MEM),
    ERR_NAME(ESP_ERR_INVALID_ARG),
    ERR_NAME(ESP_ERR_INVALID_STATE),
    ERR_NAME(ESP_ERR_INVALID_SIZE),
    ERR_NAME(ESP_ERR_NOT_FOUND),
    ERR_NAME(ESP_ERR_NOT_SUPPORTED),
    ERR_NAME(ESP_ERR_TIMEOUT),
    ERR_NAME(ESP_ERR_INVALID_RESPONSE),
    ERR_NAME(ESP_ERR_INVALID_CRC),
    ERR_NAME(ESP_ERR_INVALID_VERSION),
    ERR_NAME(ESP_ERR_INVALID_MAC),
    ERR_NAME(ESP_ERR_NOT_FINISHED),
    ERR_NAME(ESP_ERR_NOT_ALLOWED),
    ERR_NAME(ESP_ERR_NVS_NOT_INITIALIZED),
    ERR_NAME(ESP_ERR_NVS_NOT_FOUND),
    ERR_NAME(ESP_ERR_NVS_TYPE_MISMATCH),
    ERR_NAME(ESP_ERR_NVS_READ_ONLY),
    ERR_NAME(ESP_ERR_NVS_NOT_ENOUGH_SPACE),
    ERR_NAME(ESP_ERR_NVS_INVALID_NAME),
    ERR_NAME(ESP_ERR_NVS_INVALID_HANDLE),
    ERR_NAME(ESP_ERR_NVS_REMOVE_FAILED),
    ERR_NAME(ESP_ERR_NVS_KEY_TOO_LONG),
    ERR_NAME(ESP_ERR_NVS_PAGE_FULL),
    ERR_NAME(ESP_ERR_NVS_INVALID_STATE),
    ERR_NAME(ESP_ERR_NVS_INVALID_LENGTH),
    ERR_NAME(ESP_ERR_NVS_NO_FREE_PAGES),
    ERR_NAME(ESP_ERR_NVS_VALUE_TOO_LONG),
    ERR_NAME(ESP_ERR_NVS_PART_NOT_FOUND),
    ERR_NAME(ESP_ERR_NVS_NEW_VERSION_FOUND),
    ERR_NAME(ESP_ERR_NVS_KEYS_NOT_INITIALIZED),
    ERR_NAME(ESP_ERR_NVS_CORRUPT_KEY_PART),
    ERR_NAME(ESP_ERR_OTA_PARTITION_CONFLICT),
    ERR_NAME(ESP_ERR_OTA_SELECT_INFO_INVALID),
    ERR_NAME(ESP_ERR_OTA_VALIDATE_FAILED),
    ERR_NAME(ESP_ERR_OTA_SMALL_SEC_VER),
    ERR_NAME(ESP_ERR_OTA_ROLLBACK_FAILED),
    ERR_NAME(ESP_ERR_OTA_ROLLBACK_INVALID_STATE),
    ERR_NAME(ESP_ERR_IMAGE_FLASH_FAIL),
    ERR_NAME(ESP_ERR_IMAGE_INVALID),
    ERR_NAME(ESP_ERR_FLASH_OP_FAIL),
    ERR_NAME(ESP_ERR_FLASH_OP_TIMEOUT),
    ERR_NAME(ESP_ERR_FLASH_NOT_INITIALISED),
    ERR_NAME(ESP_ERR_FLASH_UNSUPPORTED_HOST),
    ERR_NAME(ESP_ERR_FLASH_UNSUPPORTED_CHIP),
    ERR_NAME(ESP_ERR_FLASH_PROTECTED),
    ERR_NAME(ESP_ERR_HTTP_MAX_REDIRECT),
    ERR_NAME(ESP_ERR_HTTP_CONNECT),
    ERR_NAME(ESP_ERR_HTTP_WRITE_DATA),
    ERR_NAME(ESP_ERR_HTTP_FETCH_HEADER),
    ERR_NAME(ESP_ERR_HTTP_INVALID_TRANSPORT),
    ERR_NAME(ESP_ERR_HTTP_CONNECTING),
    ERR_NAME(ESP_ERR_HTTP_EAGAIN),
    ERR_NAME(ESP_ERR_HTTP_CONNECTION_CLOSED),
    ERR_NAME(ESP_ERR_HTTP_NOT_MODIFIED),
    ERR_NAME(ESP_ERR_HTTP_RANGE_NOT_SATISFIABLE),
    ERR_NAME(ESP_ERR_HTTP_READ_TIMEOUT),
    ERR_NAME(ESP_ERR_HTTP_INCOMPLETE_DATA),
    ERR_NAME(ESP_ERR_HTTP_REDIRECT_DOWNGRADE),
    ERR_NAME(ESP_ERR_ESP_TLS_CANNOT_RESOLVE_HOSTNAME),
    ERR_NAME(ESP_ERR_ESP_TLS_CANNOT_CREATE_SOCKET),
    ERR_NAME(ESP_ERR_ESP_TLS_UNSUPPORTED_PROTOCOL_FAMILY),
    ERR_NAME(ESP_ERR_ESP_TLS_FAILED_CONNECT_TO_HOST),
    ERR_NAME(ESP_ERR_ESP_TLS_SOCKET_SETOPT_FAILED),
    ERR_NAME(ESP_ERR_ESP_TLS_CONNECTION_TIMEOUT),
    ERR_NAME(ESP_ERR_ESP_TLS_SE_FAILED),
    ERR_NAME(ESP_ERR_ESP_TLS_TCP_CLOSED_FIN),
    ERR_NAME(ESP_ERR_HTTPS_OTA_IN_PROGRESS),
};

const char *esp_err_to_name(esp_err_t code)
{
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (names[i].code == code) {
            return names[i].name;
        }
    }
    return "UNKNOWN ERROR";
}

const char *esp_err_to_name_r(esp_err_t code, char *buf, size_t buflen)
{
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (names[i].code == code) {
            snprintf(buf, buflen, "%s", names[i].name);
            return buf;
        }
    }
    snprintf(buf, buflen, "Unknown error %d", code);
    return buf;
}

void _esp_error_check_failed(esp_err_t rc, const char *file, int line, const char *function,
                             const char *expression)
{
    fprintf(stderr, "ESP_ERROR_CHECK failed: esp_err_t 0x%x (%s) at 0x%08x\n", (unsigned)rc,
            esp_err_to_name(rc), 0u);
    fprintf(stderr, "file: \"%s\" line %d\nfunc: %s\nexpression: %s\n", file, line, function,
            expression);
    fflush(NULL);
    abort();
}

esp_err_t _esp_error_check_report(esp_err_t rc, const char *file, int line, const char *function,
                                  const char *expression)
{
    if (rc != ESP_OK) {
        fprintf(stderr, "ESP_ERROR_CHECK_WITHOUT_ABORT failed: esp_err_t 0x%x (%s) at 0x%08x\n",
                (unsigned)rc, esp_err_to_name(rc), 0u);
        fprintf(stderr, "file: \"%s\" line %d\nfunc: %s\nexpression: %s\n", file, line, function,
                expression);
    }
    return rc;
}

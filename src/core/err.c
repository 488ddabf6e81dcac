/* Descriptions of the native error codes. */
#include "ota/ota_err.h"

#include <stdarg.h>
#include <stdio.h>

const char *ota_strerror(int err)
{
    switch (err) {
    case OTA_OK:
        return "success";
    case OTA_ERR_IO:
        return "flash I/O error";
    case OTA_ERR_INVALID_ARG:
        return "invalid argument";
    case OTA_ERR_BOUNDS:
        return "address range out of bounds";
    case OTA_ERR_ALIGN:
        return "misaligned address or length";
    case OTA_ERR_NOT_ERASED:
        return "programming non-erased flash";
    case OTA_ERR_POWER_LOSS:
        return "power lost";
    case OTA_ERR_CORRUPT:
        return "corrupt data";
    case OTA_ERR_NOT_FOUND:
        return "not found";
    case OTA_ERR_NO_SPACE:
        return "does not fit";
    case OTA_ERR_READONLY:
        return "read-only";
    case OTA_ERR_STATE:
        return "invalid state";
    case OTA_ERR_SIZE:
        return "invalid size";
    case OTA_ERR_UNSUPPORTED:
        return "not supported";
    case OTA_ERR_NO_MEM:
        return "out of memory";
    case OTA_ERR_SYNTAX:
        return "syntax error";
    case OTA_ERR_CHIP:
        return "wrong chip or chip revision";
    case OTA_ERR_VERSION:
        return "version not acceptable";
    case OTA_ERR_TIMEOUT:
        return "timed out";
    case OTA_ERR_NET:
        return "network error";
    case OTA_ERR_CONFLICT:
        return "target is the running partition";
    case OTA_ERR_PENDING_VERIFY:
        return "running app not confirmed";
    case OTA_ERR_ROLLBACK_FAILED:
        return "no app to roll back to";
    case OTA_ERR_VALIDATE:
        return "image validation failed";
    case OTA_ERR_FAIL:
        return "operation failed";
    default:
        return "unknown error";
    }
}

int ota_diag_set(ota_diag_t *diag, int err, const char *fmt, ...)
{
    if (diag != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(diag->msg, sizeof(diag->msg), fmt, ap);
        va_end(ap);
    }
    return err;
}

const char *ota_diag_why(const ota_diag_t *diag, int err)
{
    return diag != NULL && diag->msg[0] != '\0' ? diag->msg : ota_strerror(err);
}

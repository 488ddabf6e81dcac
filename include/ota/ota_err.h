/*
 * otakit native error codes.
 *
 * One enum for the whole native API: OTA_OK is zero, every failure is negative, and values are
 * never renumbered (new codes are appended). Functions that return a count or length return it as
 * a non-negative int and a failure as one of these codes. The ESP-IDF compatibility layer maps
 * them onto esp_err_t values.
 */
#ifndef OTA_ERR_H
#define OTA_ERR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    OTA_OK = 0,
    OTA_ERR_IO = -1,              /* the flash (or other storage) reported a failure */
    OTA_ERR_INVALID_ARG = -2,     /* a NULL pointer or an argument outside its domain */
    OTA_ERR_BOUNDS = -3,          /* an address range outside the device or the partition */
    OTA_ERR_ALIGN = -4,           /* an address or length not aligned to the required unit */
    OTA_ERR_NOT_ERASED = -5,      /* strict flash: programming bytes that are not erased */
    OTA_ERR_POWER_LOSS = -6,      /* the emulated power was cut; the device is off */
    OTA_ERR_CORRUPT = -7,         /* data fails its format, checksum or hash check */
    OTA_ERR_NOT_FOUND = -8,       /* the requested item does not exist */
    OTA_ERR_NO_SPACE = -9,        /* the result does not fit the space available */
    OTA_ERR_READONLY = -10,       /* the target is read-only */
    OTA_ERR_STATE = -11,          /* the call is not valid in the current state */
    OTA_ERR_SIZE = -12,           /* a size is wrong (too large, zero, not a multiple...) */
    OTA_ERR_UNSUPPORTED = -13,    /* the operation is not supported for this item */
    OTA_ERR_NO_MEM = -14,         /* an allocation failed (ports and tools only) */
    OTA_ERR_SYNTAX = -15,         /* text input could not be parsed */
    OTA_ERR_CHIP = -16,           /* image built for another chip or chip revision */
    OTA_ERR_VERSION = -17,        /* a version (secure_version, format version) is not acceptable */
    OTA_ERR_TIMEOUT = -18,        /* an operation did not finish in time */
    OTA_ERR_NET = -19,            /* a network transfer failed */
    OTA_ERR_CONFLICT = -20,       /* the target is the running partition */
    OTA_ERR_PENDING_VERIFY = -21, /* the running app has not confirmed itself (PENDING_VERIFY) */
    OTA_ERR_ROLLBACK_FAILED = -22, /* there is no app to roll back to */
    OTA_ERR_VALIDATE = -23,        /* a new image failed its first-byte check or verification */
    OTA_ERR_FAIL = -24, /* nothing to act on (no active otadata entry, no inactive slot) */
} ota_err_t;

/* Returns a short, static, human-readable description of an ota_err_t value; never NULL. */
const char *ota_strerror(int err);

/*
 * Optional detail for a failure, filled by functions that take an `ota_diag_t *diag` (which may be
 * NULL): one line saying what is wrong and where, in the words of the reference tool when there is
 * one (e.g. "partition 3 invalid magic number 0x1234"). Empty string when nothing was reported.
 */
typedef struct ota_diag {
    char msg[512]; /* long enough for the generator's longest messages (keyword lists) */
} ota_diag_t;

/* printf-style: writes into diag->msg when diag is non-NULL; returns err unchanged. */
int ota_diag_set(ota_diag_t *diag, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* What went wrong, for a message: the detail in diag when one was reported, else
 * ota_strerror(err). Never NULL. */
const char *ota_diag_why(const ota_diag_t *diag, int err);

#ifdef __cplusplus
}
#endif

#endif /* OTA_ERR_H */

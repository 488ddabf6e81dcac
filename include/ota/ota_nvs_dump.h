/*
 * Listings of an NVS partition in ESP-IDF's format as ESP-IDF's nvs_tool.py prints them in text
 * with colour off (`nvs_tool.py --color never -d all|written|minimal|namespaces FILE`): the raw
 * pages as they are, page by page, nothing repaired. Host tools library.
 */
#ifndef OTA_NVS_DUMP_H
#define OTA_NVS_DUMP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ota_nvs_dump {
    OTA_NVS_DUMP_ALL,        /* every page: header, state bitmap, entries (runs of empty ones
                                shortened), the entries a string or blob spans in hex */
    OTA_NVS_DUMP_WRITTEN,    /* the same with written entries only */
    OTA_NVS_DUMP_MINIMAL,    /* "namespace:key = value" per written entry, page by page */
    OTA_NVS_DUMP_NAMESPACES, /* the namespace table */
} ota_nvs_dump_t;

/*
 * Prints the listing `what` of the len bytes at part to out. Where nvs_tool.py stops with a
 * Python exception (a string or namespace entry whose key is not ASCII), the line shows "None".
 * Returns OTA_OK, or OTA_ERR_SIZE when len is not a multiple of 4096 bytes (nothing printed).
 */
int ota_nvs_dump_print(FILE *out, const uint8_t *part, size_t len, ota_nvs_dump_t what);

#ifdef __cplusplus
}
#endif

#endif /* OTA_NVS_DUMP_H */

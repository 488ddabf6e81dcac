/* Core log sink helper. */
#include "ota/ota_log.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

void ota_logf(const ota_log_t *log, char level, const char *tag, const char *fmt, ...)
{
    if (log == NULL || log->fn == NULL) {
        return;
    }
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log->fn(log->ctx, level, tag, msg);
}

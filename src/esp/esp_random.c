/* ESP-IDF random numbers over the host kernel's generator. */
#include "esp_random.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

void esp_fill_random(void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            abort(); /* no entropy source: the chip would have one */
        }
        p += n;
        len -= (size_t)n;
    }
}

uint32_t esp_random(void)
{
    uint32_t v;
    esp_fill_random(&v, sizeof(v));
    return v;
}

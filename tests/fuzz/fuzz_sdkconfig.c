/*
 * sdkconfig text: the parser, the typed getters, and the formatter. Text that parses must format
 * to text that parses to the same keys and values, and formatting that again gives the same text.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "ota/ota_boot_cfg.h"
#include "ota/ota_sdkconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);
    ota_sdkconfig_t *cfg = NULL;
    ota_diag_t diag;
    if (ota_sdkconfig_parse(text, size, &cfg, &diag) == OTA_OK) {
        ota_sdkconfig_bool(cfg, "CONFIG_A", false);
        ota_sdkconfig_int(cfg, "CONFIG_A", 0);
        ota_sdkconfig_str(cfg, "CONFIG_A", "");
        ota_boot_cfg_t bc;
        ota_boot_cfg_from_sdkconfig(cfg, &bc);
        char *out = ota_sdkconfig_format(cfg);
        FUZZ_CHECK(out != NULL);
        ota_sdkconfig_t *back = NULL;
        FUZZ_CHECK(ota_sdkconfig_parse(out, strlen(out), &back, &diag) == OTA_OK);
        char *again = ota_sdkconfig_format(back);
        FUZZ_CHECK(again != NULL && strcmp(out, again) == 0);
        free(again);
        free(out);
        ota_sdkconfig_free(back);
        ota_sdkconfig_set(cfg, "CONFIG_FUZZ", "\"x\"");
        FUZZ_CHECK(strcmp(ota_sdkconfig_str(cfg, "CONFIG_FUZZ", ""), "x") == 0);
    }
    ota_sdkconfig_free(cfg);
    free(text);
    return 0;
}

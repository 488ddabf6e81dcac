/*
 * ESP-IDF's headers include "sdkconfig.h" for the build's CONFIG_* macros. An app built with a
 * generated sdkconfig.h gets it through this header; apps built without one read their
 * configuration at run time from the image (ota_app.h), and the headers then fall back to the
 * running device's values where ESP-IDF uses a macro (ESP_PARTITION_TABLE_OFFSET, ...).
 */
#ifndef OTAKIT_SDKCONFIG_H
#define OTAKIT_SDKCONFIG_H

#if defined(__has_include)
#if __has_include("sdkconfig.h")
#include "sdkconfig.h"
#endif
#endif

#endif /* OTAKIT_SDKCONFIG_H */

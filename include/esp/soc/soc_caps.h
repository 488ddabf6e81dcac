/*
 * Chip capabilities ESP-IDF apps test with #if (soc/soc_caps.h), from the build's target
 * (CONFIG_IDF_TARGET_* of sdkconfig.h). Only the capabilities the OTA path depends on.
 */
#ifndef SOC_SOC_CAPS_H
#define SOC_SOC_CAPS_H

#include "otakit_sdkconfig.h"

#if defined(CONFIG_IDF_TARGET_ESP32C5) || defined(CONFIG_IDF_TARGET_ESP32C61)
#define SOC_RECOVERY_BOOTLOADER_SUPPORTED 1
#endif

#if defined(CONFIG_IDF_TARGET_ESP32) || defined(CONFIG_IDF_TARGET_ESP32S2) ||                      \
    defined(CONFIG_IDF_TARGET_ESP32S3)
#define SOC_CPU_CORES_NUM 2
#else
#define SOC_CPU_CORES_NUM 1
#endif

#endif /* SOC_SOC_CAPS_H */

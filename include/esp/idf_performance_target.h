/* Per-target performance thresholds (see idf_performance.h): none on the simulated board. */
#ifndef IDF_PERFORMANCE_TARGET_H
#define IDF_PERFORMANCE_TARGET_H
#endif /* IDF_PERFORMANCE_TARGET_H */

/*
 * ESP-IDF's performance thresholds (idf_performance.h, IDF_PERFORMANCE_MAX_* / _MIN_*) for unit
 * test apps. The simulated board's timings are modelled, not measured, so no threshold is
 * defined: a performance check that names one does not compile, which says it cannot apply.
 */
#ifndef IDF_PERFORMANCE_H
#define IDF_PERFORMANCE_H
#endif /* IDF_PERFORMANCE_H */

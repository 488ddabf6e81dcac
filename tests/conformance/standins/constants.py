"""Stand-in for ESP-IDF's tools/idf_py_actions/constants.py (see README.md), which esp-bool-parser
imports for the target lists that `idf_parametrize('target', ['supported_targets', ...])` expands.
The lists are ESP-IDF v5.5's."""

SUPPORTED_TARGETS = ['esp32', 'esp32s2', 'esp32c3', 'esp32s3', 'esp32c2', 'esp32c6', 'esp32h2',
                     'esp32p4', 'esp32c5', 'esp32c61']
PREVIEW_TARGETS = ['linux', 'esp32h21', 'esp32h4']

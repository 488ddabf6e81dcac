# Parts of a long script that CTest runs as entries of their own, so that -j overlaps them. A
# script names its parts on a line "# ctest-parts: A B ..."; CTest runs it once per part with
# OTAKIT_PART set to that part; a run by hand (OTAKIT_PART unset) does every part.
#   part NAME     true when this run includes part NAME
#   only_part NAME  true when this run is part NAME alone (the script may stop after it)

part() { [ -z "${OTAKIT_PART:-}" ] || [ "$OTAKIT_PART" = "$1" ]; }
only_part() { [ "${OTAKIT_PART:-}" = "$1" ]; }

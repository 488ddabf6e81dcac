/* otakit partition-table: placeholder until the command lands. */
#include "cli.h"

static int run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("partition-table: not available yet");
}

const cli_cmd_t cli_cmd_partition_table = {"partition-table", "Partition tables: CSV to binary and binary to CSV", run};

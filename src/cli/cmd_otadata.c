/* otakit otadata: placeholder until the command lands. */
#include "cli.h"

static int run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("otadata: not available yet");
}

const cli_cmd_t cli_cmd_otadata = {"otadata", "OTA selection data: read, erase, switch", run};

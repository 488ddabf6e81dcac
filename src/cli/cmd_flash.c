/* otakit flash: placeholder until the command lands. */
#include "cli.h"

static int run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("flash: not available yet");
}

const cli_cmd_t cli_cmd_flash = {"flash", "Flash images: create, info, read/write/erase a partition", run};

/* otakit image: placeholder until the command lands. */
#include "cli.h"

static int run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("image: not available yet");
}

const cli_cmd_t cli_cmd_image = {"image", "App and bootloader images: info, pack, verify", run};

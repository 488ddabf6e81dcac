/* otakit: one command for images, partition tables, flash images, otadata, server and board. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const cli_cmd_t *const commands[] = {
    &cli_cmd_image, &cli_cmd_partition_table, &cli_cmd_flash, &cli_cmd_otadata,
    &cli_cmd_board, &cli_cmd_serve,           &cli_cmd_build, &cli_cmd_nvs,
};

static void usage(FILE *out)
{
    fputs("usage: otakit COMMAND [ARGS...]\n"
          "\n"
          "ESP-IDF over-the-air update tools and a simulated board.\n"
          "\n"
          "Commands:\n",
          out);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        fprintf(out, "  %-16s %s\n", commands[i]->name, commands[i]->summary);
    }
    fputs("\nRun 'otakit COMMAND --help' for a command's subcommands and options.\n", out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("otakit %s\n", OTAKIT_VERSION);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i]->name) == 0) {
            return commands[i]->run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "otakit: unknown command '%s' (try 'otakit --help')\n", argv[1]);
    return CLI_USAGE;
}

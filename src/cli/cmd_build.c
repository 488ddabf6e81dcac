/*
 * otakit build: builds an ESP-IDF project, unmodified, for the simulated board, as `idf.py build`
 * builds it for a chip. The project's own CMake files are the way in: this command runs CMake
 * with IDF_PATH pointing at otakit's ESP-IDF build system (share/otakit/idf), which provides the
 * project.cmake and component functions an ESP-IDF project expects.
 */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char help_text[] =
    "usage: otakit build [PROJECT_DIR] [OPTIONS]\n"
    "\n"
    "Builds an ESP-IDF project (default: the current directory) for the simulated board, as\n"
    "idf.py build does for a chip: Kconfig over sdkconfig.defaults (and .<target>), the\n"
    "project's components and idf_component.yml path dependencies, EMBED_FILES, then the\n"
    "build directory as ESP-IDF lays it out: <project>.bin, bootloader/bootloader.bin,\n"
    "partition_table/partition-table.bin, ota_data_initial.bin, flasher_args.json,\n"
    "flash_args, config/sdkconfig.{h,json,cmake} and project_description.json.\n"
    "\n"
    "Options:\n"
    "  -B, --build-dir DIR      build directory (default PROJECT_DIR/build)\n"
    "  -D KEY=VALUE             a CMake cache entry, e.g. -D SDKCONFIG_DEFAULTS=\"a;b\"\n"
    "                           (sdkconfig defaults files, as ESP-IDF's CI builds\n"
    "                           sdkconfig.ci.<name> variants) or -D SDKCONFIG=build/sdkconfig\n"
    "  --target CHIP            target chip (default: $IDF_TARGET, else esp32)\n"
    "  --idf-path DIR           an ESP-IDF checkout, for components otakit does not provide\n"
    "                           (unity, test_utils); default: $IDF_PATH\n"
    "  -j, --jobs N             parallel build jobs (default: the number of CPUs)\n"
    "  -h, --help               this help\n"
    "\n"
    "Then: otakit board run BUILD_DIR boots the build on the simulated board.\n";

#define MAX_DEFINES 32

typedef struct build_opts {
    const char *project;
    const char *build_dir;
    const char *target;
    const char *idf_path;
    const char *jobs;
    const char *defines[MAX_DEFINES];
    size_t n_defines;
} build_opts_t;

/* Where otakit's files live: the install prefix beside the binary, else the source tree. */
typedef struct build_paths {
    char exe[PATH_MAX];
    char idf[PATH_MAX + 64];     /* otakit's IDF_PATH tree */
    char package[PATH_MAX + 64]; /* otakitConfig.cmake's directory */
} build_paths_t;

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int find_paths(build_paths_t *p)
{
    ssize_t n = readlink("/proc/self/exe", p->exe, sizeof(p->exe) - 1);
    if (n <= 0) {
        return cli_error("build: cannot find the otakit binary: %s", strerror(errno));
    }
    p->exe[n] = '\0';
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", p->exe);
    char *slash = strrchr(dir, '/');
    if (slash != NULL) {
        *slash = '\0';
    }
    char probe[PATH_MAX + 64];
    snprintf(probe, sizeof(probe), "%s/../share/otakit/idf/tools/cmake/project.cmake", dir);
    if (is_file(probe)) {
        snprintf(p->idf, sizeof(p->idf), "%s/../share/otakit/idf", dir);
        snprintf(p->package, sizeof(p->package), "%s/../lib/cmake/otakit", dir);
    } else {
        snprintf(p->idf, sizeof(p->idf), "%s", OTAKIT_SOURCE_IDF);
        snprintf(p->package, sizeof(p->package), "%s", OTAKIT_BINARY_DIR);
    }
    char resolved[PATH_MAX];
    if (realpath(p->idf, resolved) == NULL) {
        return cli_error("build: otakit's ESP-IDF build files: %s: %s", p->idf, strerror(errno));
    }
    snprintf(p->idf, sizeof(p->idf), "%s", resolved);
    return CLI_OK;
}

/* Runs argv (with IDF_PATH set to idf) and waits; returns its exit status or CLI_FAIL. */
static int run(char *const argv[], const char *idf)
{
    if (setenv("IDF_PATH", idf, 1) != 0) {
        return cli_error("build: setenv: %s", strerror(errno));
    }
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
    if (rc != 0) {
        return cli_error("build: cannot run %s: %s", argv[0], strerror(rc));
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return cli_error("build: waitpid: %s", strerror(errno));
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : CLI_FAIL;
}

static int parse(int argc, char **argv, build_opts_t *o)
{
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int m = 0;
        if ((m = cli_opt("build", argc, argv, &i, "-B", &o->build_dir)) != 0 ||
            (m = cli_opt("build", argc, argv, &i, "--build-dir", &o->build_dir)) != 0 ||
            (m = cli_opt("build", argc, argv, &i, "--target", &o->target)) != 0 ||
            (m = cli_opt("build", argc, argv, &i, "--idf-path", &o->idf_path)) != 0 ||
            (m = cli_opt("build", argc, argv, &i, "-j", &o->jobs)) != 0 ||
            (m = cli_opt("build", argc, argv, &i, "--jobs", &o->jobs)) != 0) {
            if (m < 0) {
                return CLI_USAGE;
            }
            continue;
        }
        if (strncmp(argv[i], "-D", 2) == 0 && argv[i][2] != '\0') {
            v = argv[i] + 2; /* -DKEY=VALUE, as CMake and idf.py take it */
        } else if ((m = cli_opt("build", argc, argv, &i, "-D", &v)) != 0) {
            if (m < 0) {
                return CLI_USAGE;
            }
        }
        if (v != NULL) {
            if (o->n_defines == MAX_DEFINES || strchr(v, '=') == NULL) {
                return cli_usage_error("build", "-D %s: expected KEY=VALUE (at most %d)", v,
                                       MAX_DEFINES);
            }
            o->defines[o->n_defines++] = v;
        } else if (argv[i][0] == '-') {
            return cli_usage_error("build", "unknown option '%s'", argv[i]);
        } else if (o->project == NULL) {
            o->project = argv[i];
        } else {
            return cli_usage_error("build", "unexpected argument '%s'", argv[i]);
        }
    }
    return CLI_OK;
}

/* The ESP-IDF checkout for components otakit does not provide: --idf-path, else $IDF_PATH
 * unless that is otakit's own tree. Empty when there is none. */
static const char *esp_idf_checkout(const build_opts_t *o, const build_paths_t *p,
                                    char buf[PATH_MAX])
{
    const char *src = o->idf_path != NULL ? o->idf_path : getenv("IDF_PATH");
    if (src == NULL || src[0] == '\0' || realpath(src, buf) == NULL) {
        return "";
    }
    return strcmp(buf, p->idf) == 0 ? "" : buf;
}

static int configure(const build_opts_t *o, const build_paths_t *p, const char *project,
                     const char *build_dir)
{
    static char defs[8][PATH_MAX + 128];
    char checkout[PATH_MAX];
    snprintf(defs[0], sizeof(defs[0]), "-Dotakit_DIR=%s", p->package);
    snprintf(defs[1], sizeof(defs[1]), "-DOTAKIT_TOOL=%s", p->exe);
    snprintf(defs[2], sizeof(defs[2]), "-DOTAKIT_ESP_IDF=%s", esp_idf_checkout(o, p, checkout));
    const char *target = o->target != NULL ? o->target : getenv("IDF_TARGET");
    snprintf(defs[3], sizeof(defs[3]), "-DIDF_TARGET=%s", target != NULL ? target : "");
    char *argv[16 + MAX_DEFINES] = {"cmake", "-S",    (char *)project, "-B",   (char *)build_dir,
                                    defs[0], defs[1], defs[2],         defs[3]};
    size_t n = 9;
    for (size_t i = 0; i < o->n_defines; i++) {
        static char d[MAX_DEFINES][PATH_MAX];
        snprintf(d[i], sizeof(d[i]), "-D%s", o->defines[i]);
        argv[n++] = d[i];
    }
    argv[n] = NULL;
    return run(argv, p->idf);
}

static int cmd_build(int argc, char **argv)
{
    if (cli_help(argc, argv, help_text)) {
        return CLI_OK;
    }
    build_opts_t o = {0};
    int rc = parse(argc, argv, &o);
    if (rc != CLI_OK) {
        return rc;
    }
    char project[PATH_MAX];
    if (realpath(o.project != NULL ? o.project : ".", project) == NULL) {
        return cli_error("build: project directory %s: %s", o.project != NULL ? o.project : ".",
                         strerror(errno));
    }
    char top[PATH_MAX + 32];
    snprintf(top, sizeof(top), "%s/CMakeLists.txt", project);
    if (!is_file(top)) {
        return cli_error("build: %s: not an ESP-IDF project (no CMakeLists.txt)", project);
    }
    char build_dir[PATH_MAX + 16];
    snprintf(build_dir, sizeof(build_dir), "%s", o.build_dir != NULL ? o.build_dir : "");
    if (o.build_dir == NULL) {
        snprintf(build_dir, sizeof(build_dir), "%s/build", project);
    }
    build_paths_t paths;
    rc = find_paths(&paths);
    if (rc != CLI_OK) {
        return rc;
    }
    rc = configure(&o, &paths, project, build_dir);
    if (rc != 0) {
        return cli_error("build: configuring %s failed (CMake exit status %d)", project, rc);
    }
    char jobs[32];
    snprintf(jobs, sizeof(jobs), "%ld",
             o.jobs != NULL ? strtol(o.jobs, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN));
    char *bargv[] = {"cmake", "--build", build_dir, "-j", jobs, NULL};
    rc = run(bargv, paths.idf);
    if (rc != 0) {
        return cli_error("build: building %s failed (exit status %d)", project, rc);
    }
    printf("Project build complete. To boot it on the board, run:\n  otakit board run %s\n",
           build_dir);
    return CLI_OK;
}

const cli_cmd_t cli_cmd_build = {
    "build", "Build an ESP-IDF project for the board (like idf.py build)", cmd_build};

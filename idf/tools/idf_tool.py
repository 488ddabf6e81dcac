#!/usr/bin/python3
"""otakit's build helpers for ESP-IDF projects, run by the CMake build (idf/tools/cmake).

  idf_tool.py manifest FILE
      Prints the dependencies of an idf_component.yml, one per line: "name=path" for a local
      (path:) dependency, "name=" for a registry one (namespace/name becomes namespace__name,
      ESP-IDF's component name). The "idf" version constraint is not a component.

  idf_tool.py kconfig --kconfig ROOT --config SDKCONFIG --outdir DIR [--defaults FILE]...
      Kconfig as ESP-IDF's build runs it, with kconfiglib (Debian's python3-kconfiglib): loads the
      defaults files in order, then an existing SDKCONFIG on top, and writes SDKCONFIG and
      DIR/sdkconfig.h, sdkconfig.json, sdkconfig.cmake.

Errors are one line on stderr and exit status 1.
"""
import json
import os
import sys


def fail(msg):
    sys.stderr.write("otakit build: %s\n" % msg)
    sys.exit(1)


def manifest(path):
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f) or {}
    except (OSError, yaml.YAMLError) as e:
        fail("%s: cannot read the manifest: %s" % (path, e))
    deps = doc.get("dependencies") or {}
    if not isinstance(deps, dict):
        fail("%s: 'dependencies' is not a mapping" % path)
    base = os.path.dirname(os.path.abspath(path))
    for name, spec in deps.items():
        if name == "idf":
            continue
        local = spec.get("path") if isinstance(spec, dict) else None
        if local:
            local = os.path.expandvars(local)
            print("%s=%s" % (name, os.path.normpath(os.path.join(base, local))))
        else:
            print("%s=" % name.replace("/", "__"))


HEADER = "Espressif IoT Development Framework (ESP-IDF) 5.5.5 Project Configuration"


def symbol_value(sym):
    """(kind, value) of a symbol for the JSON and CMake outputs, or None if it has no value."""
    import kconfiglib

    if not sym.config_string and sym.orig_type not in (kconfiglib.BOOL, kconfiglib.TRISTATE):
        return None
    val = sym.str_value
    if sym.orig_type in (kconfiglib.BOOL, kconfiglib.TRISTATE):
        return ("bool", val == "y")
    try:
        if sym.orig_type == kconfiglib.INT:
            return ("int", int(val, 10) if val else 0)
        if sym.orig_type == kconfiglib.HEX:
            return ("hex", int(val, 16) if val else 0)
    except ValueError:
        fail("Kconfig: %s has the value '%s', which is not a number" % (sym.name, val))
    return ("string", val)


def write_outputs(kconf, outdir):
    json_out = {}
    cmake_lines = []
    names = []
    for sym in kconf.unique_defined_syms:
        if not sym.name or (not sym.config_string and not sym.visibility):
            continue
        v = symbol_value(sym)
        if v is None:
            continue
        kind, val = v
        json_out[sym.name] = val
        if kind == "bool":
            text = "y" if val else ""
        else:
            text = sym.str_value
        text = text.replace("\\", "\\\\").replace('"', '\\"')
        cmake_lines.append('set(CONFIG_%s "%s")' % (sym.name, text))
        names.append("CONFIG_" + sym.name)
    cmake_lines.append('set(CONFIGS_LIST %s)' % ";".join(names))
    with open(os.path.join(outdir, "sdkconfig.json"), "w", encoding="utf-8") as f:
        json.dump(json_out, f, indent=4, sort_keys=True)
        f.write("\n")
    with open(os.path.join(outdir, "sdkconfig.cmake"), "w", encoding="utf-8") as f:
        f.write("# Automatically generated file. DO NOT EDIT.\n# %s\n\n" % HEADER)
        f.write("\n".join(cmake_lines) + "\n")
    kconf.write_autoconf(os.path.join(outdir, "sdkconfig.h"),
                         "/*\n * Automatically generated file. DO NOT EDIT.\n"
                         " * Espressif IoT Development Framework (ESP-IDF) 5.5.5 Configuration "
                         "Header\n */\n#pragma once\n")


def kconfig(args):
    import kconfiglib

    opts = {"--kconfig": None, "--config": None, "--outdir": None}
    defaults = []
    i = 0
    while i < len(args):
        if args[i] == "--defaults" and i + 1 < len(args):
            defaults.append(args[i + 1])
        elif args[i] in opts and i + 1 < len(args):
            opts[args[i]] = args[i + 1]
        else:
            fail("kconfig: bad argument '%s'" % args[i])
        i += 2
    if None in opts.values():
        fail("kconfig: --kconfig, --config and --outdir are required")
    os.makedirs(opts["--outdir"], exist_ok=True)
    try:
        kconf = kconfiglib.Kconfig(opts["--kconfig"], warn_to_stderr=False)
        for d in defaults:
            if not os.path.exists(d):
                fail("sdkconfig defaults file %s does not exist" % d)
            kconf.load_config(d, replace=False)
        if os.path.exists(opts["--config"]):
            kconf.load_config(opts["--config"], replace=False)
    except (kconfiglib.KconfigError, OSError) as e:
        fail(str(e).strip().splitlines()[0])
    for w in kconf.warnings:
        # Assignments to symbols that no Kconfig defines are common in ESP-IDF's CI configs (a
        # component the target does not have); ESP-IDF's build ignores them too.
        if "undefined symbol" not in w:
            sys.stderr.write("warning: %s\n" % w.strip())
    kconf.write_config(opts["--config"], "# Automatically generated file. DO NOT EDIT.\n# %s\n#\n"
                       % HEADER)
    write_outputs(kconf, opts["--outdir"])


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "manifest":
        manifest(sys.argv[2])
    elif len(sys.argv) >= 2 and sys.argv[1] == "kconfig":
        kconfig(sys.argv[2:])
    else:
        fail("usage: idf_tool.py manifest FILE | kconfig --kconfig ROOT --config F --outdir D")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A `pegasus` command line over the ACUITY engine published on PyPI as `acuitylite`.

acuitylite has no `pegasus` entry point; its command modules each describe their options
(`arguments()`), and `acuitylib.console.custom_args.build_options` turns them into argparse
sub-commands. This maps the pegasus spellings onto them:

    pegasus import onnx|tflite|caffe|tensorflow|darknet|pytorch|keras ...
    pegasus generate inputmeta|postprocess-file|fakedata ...
    pegasus quantize|inference|dump|measure|train ...
    pegasus export ovxlib|ide ...

scripts/setup-acuitylite copies this file to ENV/bin/pegasus with the environment's python
in the shebang. Exit status: the engine's (a non-zero int returned or SystemExit passed
through); 1 when the engine raises.
"""
import os
import sys

# TensorFlow's C++ start-up chatter only; the engine's own `I/W/E HH:MM:SS` lines stay.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

GROUPS = {
    # pegasus word -> (engine module, word shown in usage)
    "import": "acuitylib.app.importer.commands",
    "generate": "acuitylib.app.console.commands",
    "export": "acuitylib.app.exporter.commands",
}
# These are top-level pegasus commands handled by the medusa module.
MEDUSA = "acuitylib.app.medusa.commands"
MEDUSA_COMMANDS = ("quantize", "inference", "dump", "measure", "train")

USAGE = """usage: pegasus COMMAND ...

commands:
  import {onnx,tflite,caffe,tensorflow,darknet,pytorch,keras} ...
  generate {inputmeta,postprocess-file,fakedata} ...
  quantize ...
  inference ...
  dump ...
  measure ...
  train ...
  export {ovxlib,ide} ...

`pegasus COMMAND [SUBCOMMAND] --help` lists the options of the engine (acuitylite).
"""


def main(argv):
    if not argv or argv[0] in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return 0 if argv else 2
    word = argv[0]
    if word in GROUPS:
        module_name, prog, rest = GROUPS[word], "pegasus " + word, argv[1:]
    elif word in MEDUSA_COMMANDS:
        module_name, prog, rest = MEDUSA, "pegasus", argv
    else:
        sys.stderr.write(USAGE)
        sys.stderr.write("pegasus: error: unknown command %r\n" % word)
        return 2

    import argparse
    import importlib

    module = importlib.import_module(module_name)
    from acuitylib.console.custom_args import build_options

    parser = argparse.ArgumentParser(prog=prog)
    build_options(parser, module.arguments())
    args = parser.parse_args(rest)
    if getattr(args, "which", None) is None:
        parser.print_usage(sys.stderr)
        sys.stderr.write("%s: error: a sub-command is required\n" % prog)
        return 2

    try:
        status = module.execute(args)
    except SystemExit:
        raise
    except BaseException:  # the engine raised: report it and fail
        import traceback

        traceback.print_exc()
        sys.stderr.write("pegasus: error: the engine raised during %r\n" % " ".join(argv[:2]))
        return 1
    if isinstance(status, bool) or not isinstance(status, int):
        return 0
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

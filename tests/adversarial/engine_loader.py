"""Run in the ENGINE's Python: load every .quantize named on stdin the way acuitylite does
(`acuitylib.yaml_parser.load(open(path))`: ruamel.yaml 0.17.40, typ "rt", YAML 1.2, no
duplicate keys, over the text of `open(path)`) and print one JSON object: path -> null when
it loads, else the error's class and first line. One process for the whole corpus."""

import json
import sys

from acuitylib import yaml_parser  # the engine's own loader

verdicts = {}
for path in sys.stdin.read().split("\n"):
    if not path:
        continue
    try:
        with open(path) as handle:
            yaml_parser.load(handle)
        verdicts[path] = None
    except Exception as exc:  # noqa: BLE001 - every failure is a verdict
        verdicts[path] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
sys.stdout.write("\n" + json.dumps(verdicts) + "\n")

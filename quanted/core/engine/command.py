"""The `pegasus quantize --hybrid` command line: from the file itself, or from the line
`pegasus_quantize.sh` printed for the --rebuild run."""

from __future__ import annotations

import os
import shlex
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from quanted.core.document.model import QuantizeDocument
from quanted.core.errors import QuantedError

# A file's qtype -> pegasus's --qtype word (the words `pegasus quantize --qtype` accepts).
QTYPE_WORDS = {"u8": "uint8", "i8": "int8", "i16": "int16", "bf16": "bfloat16", "f16": "float16"}
REBUILD_FLAGS = ("--rebuild", "--rebuild-all")


class CommandError(QuantedError):
    exit_code = 2


@dataclass(frozen=True)
class ModelFiles:
    name: str  # NAME in NAME_POSTFIX.quantize
    folder: Path
    model: Path  # NAME.json
    data: Path  # NAME.data
    inputmeta: Path  # NAME_inputmeta.yml


def model_files(quantize: Path) -> ModelFiles:
    """NAME.json, NAME.data, NAME_inputmeta.yml beside NAME_POSTFIX.quantize."""
    folder = quantize.parent
    name = quantize.name
    stem = name[: -len(".quantize")] if name.endswith(".quantize") else quantize.stem
    candidates = []
    name = stem
    while True:
        candidates.append(name)
        if (folder / f"{name}.json").is_file():
            break
        head, sep, _ = name.rpartition("_")
        if not sep or not head:
            name = stem.rpartition("_")[0] or stem
            break
        name = head
    files = ModelFiles(name, folder, folder / f"{name}.json", folder / f"{name}.data",
                       folder / f"{name}_inputmeta.yml")
    missing = [p.name for p in (files.model, files.data, files.inputmeta) if not p.is_file()]
    if missing:
        raise CommandError(
            f"cannot build the pegasus command: missing {', '.join(missing)} in {folder} "
            "(use --from-command with the line pegasus_quantize.sh printed)",
            quantize,
        )
    return files


def hybrid_model(quantize: Path) -> Path:
    """NAME_POSTFIX.quantize.json: the model structure a --hybrid run writes beside the file."""
    return quantize.with_name(quantize.name + ".json")


def dominant_quantization(doc: QuantizeDocument) -> tuple[str, str]:
    """The (quantizer, qtype word) of the tensors that are not customized: the --rebuild run's."""
    customized = set(doc.customized)
    counts: Counter[tuple[str, str]] = Counter()
    for layer, tensors in doc.qtypes_by_layer().items():
        if layer not in customized:
            counts.update((t.quantizer, t.qtype) for t in tensors
                          if t.port != "bias" and t.quantizer and t.qtype)
    if not counts:
        raise CommandError("cannot tell the file's quantizer and qtype", doc.path)
    quantizer, qtype = counts.most_common(1)[0][0]
    return quantizer, QTYPE_WORDS.get(qtype, qtype)


def dataset_size(inputmeta: Path) -> int | None:
    """How many inputs the calibration dataset lists (a TEXT database: one per line).

    A --hybrid run recalibrates every tensor, the uint8 ones too, over --iterations
    batches; pegasus's default is one input, which clips ranges the --rebuild run saw."""
    lines = dataset_lines(inputmeta)
    return len(lines) if lines else None


def dataset_lines(inputmeta: Path) -> list[str] | None:
    """The calibration dataset's lines (a TEXT database), in order; None when unreadable."""
    try:
        from ruamel.yaml import YAML

        meta = YAML(typ="safe").load(inputmeta.read_text(encoding="utf-8"))
        database = meta["input_meta"]["databases"][0]
        if str(database.get("type", "TEXT")).upper() != "TEXT":
            return None
        listing = inputmeta.parent / str(database["path"])
        return [line.strip() for line in listing.read_text(encoding="utf-8").splitlines()
                if line.strip()]
    except Exception:  # noqa: BLE001 - any odd inputmeta just means "no --iterations"
        return None


def dataset_iterations(quantize: Path) -> int:
    """Verify's default --iterations: every input of the calibration dataset (as the hybrid
    run's default), so its figures are not one input's; 1 when the dataset cannot be read."""
    try:
        files = model_files(quantize)
    except QuantedError:
        return 1
    return dataset_size(files.inputmeta) or 1


def hybrid_args(quantize: Path, doc: QuantizeDocument, iterations: int | None = None) -> list[str]:
    """Arguments after the pegasus prefix, relative to the file's folder (the run's cwd).

    `iterations` defaults to the size of the calibration dataset (see dataset_size)."""
    files = model_files(quantize)
    quantizer, qtype = dominant_quantization(doc)
    if iterations is None:
        iterations = dataset_size(files.inputmeta)
    extra = ["--iterations", str(iterations)] if iterations else []
    return [
        "quantize",
        "--model", safe_arg(files.model.name),
        "--model-data", safe_arg(files.data.name),
        "--with-input-meta", safe_arg(files.inputmeta.name),
        "--hybrid",
        "--model-quantize", safe_arg(quantize.name),
        "--quantizer", quantizer,
        "--qtype", qtype,
        *extra,
        "--compute-entropy",
    ]


def from_printed_command(text: str, quantize: Path) -> tuple[list[str], list[str]]:
    """Split a printed `... quantize ... --rebuild ...` line into (program prefix, arguments)
    with --rebuild/--rebuild-all replaced by --hybrid; every other flag is kept as given."""
    line = text.strip()
    if line.startswith("+ "):  # `bash -x` echo
        line = line[2:]
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise CommandError(f"cannot split the command: {exc}") from None
    if "quantize" not in words:
        raise CommandError("the command has no `quantize` step")
    at = words.index("quantize")
    prefix, args = words[:at], words[at:]
    replaced = [("--hybrid" if w in REBUILD_FLAGS else w) for w in args]
    if "--hybrid" not in replaced:
        replaced.insert(1, "--hybrid")
    named = _model_quantize_values(replaced)
    for value in named:
        if value is None or not _same_file(value, quantize):
            raise CommandError(
                f"the command writes {value if value is not None else '(nothing)'} with "
                f"--model-quantize, not {quantize.name}: quanted keeps and restores only "
                f"{quantize.name}; pass the command for that file"
            )
    if not named:
        replaced += ["--model-quantize", safe_arg(quantize.name)]
    return prefix, replaced


_FLAG = "--model-quantize"
_SHORTEST = len("--model-q")  # argparse takes any unambiguous prefix: --model-q, --model-quant


def _model_quantize_values(words: list[str]) -> list[str | None]:
    """Every value given to --model-quantize, in both spellings and abbreviations."""
    values: list[str | None] = []
    for i, word in enumerate(words):
        flag, eq, value = word.partition("=")
        if len(flag) < _SHORTEST or not _FLAG.startswith(flag):
            continue
        if eq:
            values.append(value)
        else:
            values.append(words[i + 1] if i + 1 < len(words) else None)
    return values


def _same_file(value: str, quantize: Path) -> bool:
    """`value` (relative to the run's folder, the file's own) names the user's file."""
    candidate = Path(value) if Path(value).is_absolute() else quantize.parent / value
    return os.path.normpath(candidate.absolute()) == os.path.normpath(quantize.absolute())


def flag_value(words: list[str] | tuple[str, ...], flag: str) -> str | None:
    """The value given to `flag` in a command's words (`--flag V` or `--flag=V`), or None."""
    for i, word in enumerate(words):
        if word == flag and i + 1 < len(words):
            return words[i + 1]
        if word.startswith(flag + "="):
            return word.split("=", 1)[1]
    return None


def safe_arg(name: str) -> str:
    """A file name as a pegasus argument: `-rf_uint8.quantize` must not read as an option."""
    return f"./{name}" if name.startswith("-") else name


def quoted(command: list[str]) -> str:
    return shlex.join(command)


def dataset_files(inputmeta: Path) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """The listings the inputmeta names and, for TEXT ones, the files on their lines; only
    those inside the model folder (others are reached by their own path)."""
    from ruamel.yaml import YAML

    folder = inputmeta.parent
    try:
        meta = YAML(typ="safe").load(inputmeta.read_text(encoding="utf-8"))
        databases = meta["input_meta"]["databases"]
    except Exception as exc:  # noqa: BLE001 - any odd inputmeta is one clear error
        raise CommandError(f"cannot read the dataset from the inputmeta: {exc}",
                               inputmeta) from None
    listings: list[Path] = []
    inputs: list[Path] = []
    for database in databases or []:
        relative = _inside(folder, str(database.get("path", "")))
        if relative is None:
            continue
        listings.append(relative)
        if str(database.get("type", "TEXT")).upper() != "TEXT":
            continue
        text = (folder / relative).read_text(encoding="utf-8", errors="replace")
        for word in text.split():
            found = _inside(folder, word)
            if found is not None and found not in inputs:
                inputs.append(found)
    return tuple(listings), tuple(inputs)


def _inside(folder: Path, name: str) -> Path | None:
    if not name or Path(name).is_absolute():
        return None
    path = (folder / name).resolve()
    if not path.is_file():
        return None
    try:
        path.relative_to(folder.resolve())
    except ValueError:
        return None
    return Path(name)

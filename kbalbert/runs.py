"""Run records: the settings that define a training run, written into its output folder when it starts, so that a
rerun into the same folder resumes only the same run. Used by every resumable stage (`domain_albert.train_mlm`,
`train_nsmc.finetune`, notebook 02, `scripts/build_default_model.py`)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def fingerprint(folder) -> str:
    """A short sha256 of a model folder (its weights, config and tokenizer): which start a run trained from, so a
    folder rebuilt under the same name counts as another start."""
    digest = hashlib.sha256()
    for name in ("model.safetensors", "config.json", "tokenizer.json"):
        path = Path(folder) / name
        if path.is_file():
            digest.update(name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def content_digest(path) -> str:
    """A short sha256 of a file's bytes, or of a folder's files (their paths inside it and their bytes, in sorted
    order): which data a run read, wherever it lies."""
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for file in files:
        digest.update(str(file.relative_to(path) if file != path else "").encode())
        with open(file, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


# What a finished or resumable run leaves in its folder (besides checkpoint-N): found without a record, it is refused.
WORK_NAMES = ("model", "metrics.json", "report.json", "mlm", "finetune", "distilled", "nsmc")


def check_same_run(record_file, wanted: dict, what: str) -> None:
    """Writes `wanted` (the settings that define a run) to `record_file`, or, when the file is there from an earlier
    run beside that run's work, refuses to go on if they differ: resuming would mix two runs. Says what differs and
    what to do. A record with nothing else in its folder (a run refused its input before any work) is rewritten."""
    record_file = Path(record_file)
    wanted = json.loads(json.dumps(wanted, ensure_ascii=False))  # compare as stored: tuples become lists, and so on
    # A record alone (the run stopped on bad input before writing anything) holds no work to protect: rewrite it.
    alone = record_file.exists() and all(p == record_file or p.name.startswith(".") for p in record_file.parent.iterdir())
    # Finished work with no record (a folder from before records were kept, or another tool's): what settings made it
    # is unknown, so reusing it could mix two runs.
    unrecorded = [p.name for p in sorted(record_file.parent.glob("*")) if p.name in WORK_NAMES or p.name.startswith("checkpoint-")]
    if not record_file.exists() and unrecorded:
        raise ValueError(f"{record_file.parent} holds {what} results ({', '.join(unrecorded[:4])}) but no record of the "
                         f"settings that made them ({record_file.name}), so they cannot be checked against this run: "
                         f"give a new output folder, or delete {record_file.parent} to start over.")
    if record_file.exists() and not alone:
        before = json.loads(record_file.read_text(encoding="utf-8"))
        differs = {k: (before.get(k), v) for k, v in wanted.items() if before.get(k) != v}
        if differs:
            lines = ", ".join(f"{k}: {a!r} before, {b!r} now" for k, (a, b) in differs.items())
            raise ValueError(f"{record_file.parent} holds a {what} run with other settings ({lines}). Resuming would mix "
                             f"the two runs: give a new output folder, or delete {record_file.parent} to start over.")
        return
    record_file.parent.mkdir(parents=True, exist_ok=True)
    record_file.write_text(json.dumps(wanted, indent=2, ensure_ascii=False), encoding="utf-8")

"""Run records and safe writes: the settings that define a training run, written into its output folder when it
starts, so that a rerun into the same folder resumes only the same run; atomic file writes; the last complete
checkpoint; one run per output folder at a time (a lock file). Used by every resumable stage (`pretraining.train_mlm`,
`finetuning.finetune`, `distillation.distill`, notebooks 00 and 02, `scripts/build_default_model.py`)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
import tempfile
import time
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
    write_json(record_file, wanted)


class RunError(Exception):
    """A refusal that a command line prints as one `error:` line (a locked folder, a bad argument)."""


def write_bytes(path, data: bytes) -> Path:
    """Writes `data` to `path` atomically: to a temporary file in the same folder, then renamed over `path`. A crash or
    a full disk leaves the old file (or none), never half of the new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return path


def write_json(path, value) -> Path:
    """`write_bytes` of `value` as indented UTF-8 JSON."""
    return write_bytes(path, (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def checkpoint_is_complete(folder) -> bool:
    """A Trainer checkpoint that a resume can read: its `trainer_state.json` parses and its weights' header reads."""
    folder = Path(folder)
    try:
        json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
        weights = folder / "model.safetensors"
        if weights.exists():
            from safetensors import safe_open

            with safe_open(str(weights), "np") as f:
                list(f.keys())
        return weights.exists() or any(folder.glob("*.safetensors")) or any(folder.glob("*.bin"))
    except Exception:  # a missing, truncated or unreadable file: the checkpoint is incomplete
        return False


def last_complete_checkpoint(output_dir) -> str | None:
    """`transformers.trainer_utils.get_last_checkpoint`, but a checkpoint that was being written when the run stopped
    (no `trainer_state.json`, unreadable weights) is skipped for the last complete one, with one line saying so."""
    output_dir = Path(output_dir)
    if not output_dir.is_dir():
        return None
    checkpoints = sorted((p for p in output_dir.iterdir() if p.is_dir() and re.fullmatch(r"checkpoint-\d+", p.name)),
                         key=lambda p: int(p.name.split("-")[1]), reverse=True)
    for checkpoint in checkpoints:
        if checkpoint_is_complete(checkpoint):
            return str(checkpoint)
        print(f"note: {checkpoint} is incomplete (the run stopped while saving it); resuming from an earlier one",
              file=sys.stderr, flush=True)
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def locked(folder, what: str = "run"):
    """Holds `<folder>/.lock` (the process id) while a run writes into `folder`: a second run into the same folder is
    refused at once, naming the process that holds it; a lock whose process is gone (a killed run) is taken over."""
    folder = Path(folder)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / ".lock"
    while True:
        try:
            handle = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except FileExistsError:
            try:
                holder = int(lock.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                holder = -1
            if holder == os.getpid():  # this process holds it already (a stage inside a stage)
                yield
                return
            if holder > 0 and _alive(holder):
                raise RunError(f"{folder} is in use by another {what} (process {holder}): wait for it to finish, stop it, "
                               "or give another output folder") from None
            print(f"note: taking over {lock} left by process {holder}, which is no longer running", file=sys.stderr)
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()
    with os.fdopen(handle, "w") as f:
        f.write(f"{os.getpid()} {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()
        if created:  # a run refused before it wrote anything leaves no empty folder behind
            with contextlib.suppress(OSError):
                folder.rmdir()

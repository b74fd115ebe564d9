"""Execute notebooks in place with their default parameters, so the committed outputs come from the current code.

    python tools/run_notebooks.py --as-committed      # every NN-*.ipynb, each with the parameters of its committed run
    python tools/run_notebooks.py 04-Fine-tuning-ALBERT-with-TPU.ipynb -p TRAIN_SIZE 20000
    python tools/run_notebooks.py 00-Building-a-domain-ALBERT.ipynb 01-Features-of-Transformers.ipynb -o runs/  # copies

Each executed notebook gets `metadata.kbalbert.code_hash`, a hash of its code cells, of the code of the repository
modules they import (and the modules those import; comments and docstrings do not count, so editing them keeps the
notebooks current), and of every file in the `assets/` folders any of them names; and `executed_with`, the `-p`
overrides. The cell papermill injects for those overrides is removed from the written notebook, so its code is what a
learner runs. `tests/test_notebooks.py` fails when a notebook's code no longer matches that hash, so
outputs that are stale cannot land silently. Each notebook is told this command line (KBALBERT_RUN_COMMAND) for its
model card and metrics.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import hashlib
import os
import re
import shlex
import signal
import sys
import time
from pathlib import Path

import nbformat
import yaml

REPO = Path(__file__).resolve().parents[1]


# `import x`, `from x import ...`, `from kbalbert import a, b as c`, `from kbalbert.x import ...`, `import kbalbert.x`
IMPORT = re.compile(r"^\s*(?:from\s+([A-Za-z_][\w.]*)\s+import\s+([^\n#]+)|import\s+([A-Za-z_][\w.]*))", re.MULTILINE)
ASSET = re.compile(r"assets/([A-Za-z0-9_.-]+)")
PACKAGE = "kbalbert"


def imported_files(source: str, repo: Path = REPO) -> set[Path]:
    """The repository's own modules that `source` imports: root modules (`tokenization_kbalbert`, `colab_setup`) and
    the package's modules (with the package's `__init__.py`)."""
    found = set()
    for module, names, plain in IMPORT.findall(source):
        dotted = module or plain
        candidates = [dotted]
        if module == PACKAGE:  # from kbalbert import a, b as c: each name is a module of the package
            candidates += [f"{PACKAGE}.{name.split(' as ')[0].strip()}" for name in names.replace("(", "").replace(")", "").split(",")]
        for candidate in candidates:
            parts = candidate.split(".")
            file = repo.joinpath(*parts).with_suffix(".py")
            if file.is_file():
                found.add(file)
            if parts[0] == PACKAGE and (repo / PACKAGE / "__init__.py").is_file():
                found.add(repo / PACKAGE / "__init__.py")
    return found


def dependencies(sources: list[str], repo: Path = REPO) -> list[Path]:
    """The repository's modules that `sources` import, transitively (root modules and the `kbalbert` package's), and
    the files of every `assets/<name>` folder that the sources or those modules name: what a notebook's outputs
    depend on besides its own cells."""
    modules: set[Path] = set()
    texts = list(sources)
    pending = list(sources)
    while pending:
        for module in imported_files(pending.pop(), repo):
            if module not in modules:
                modules.add(module)
                texts.append(module.read_text(encoding="utf-8"))
                pending.append(texts[-1])
    files = set(modules)
    for text in texts:
        for name in ASSET.findall(text):
            folder = repo / "assets" / name
            if folder.is_dir():
                files |= {f for f in folder.rglob("*") if f.is_file()}
    return sorted(files)


def canonical(node) -> str:
    """`ast.dump` without its version differences: fields added after Python 3.11 (`type_params`) are left out, and
    an f-string's parts are taken without the empty strings Python 3.12 adds to a format spec (f"{a:>{w}}"), so the
    text is the same on Python 3.11, 3.12 and 3.13 (`ast.dump` itself changed between them)."""
    if isinstance(node, ast.JoinedStr):
        parts: list = []
        for value in node.values:
            if isinstance(value, ast.Constant) and value.value == "":
                continue
            if isinstance(value, ast.Constant) and parts and isinstance(parts[-1], ast.Constant):
                parts[-1] = ast.Constant(parts[-1].value + value.value)
            else:
                parts.append(value)
        return f"JoinedStr([{', '.join(canonical(part) for part in parts)}])"
    if isinstance(node, ast.AST):
        fields = [canonical(getattr(node, name, None)) for name in node._fields if name != "type_params"]
        return f"{type(node).__name__}({', '.join(fields)})"
    if isinstance(node, list):
        return "[" + ", ".join(canonical(item) for item in node) + "]"
    return repr(node)


def behaviour(source: str) -> str:
    """A module's code as Python runs it: parsed with `ast`, docstrings dropped, written out by `canonical` without
    comments or layout, the same text on every supported Python (3.11-3.13). Editing a comment, a docstring or the line
    wrapping leaves this unchanged; changing any statement, name or value changes it. A file that does not parse is
    taken as it is."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return canonical(tree)


def code_hash(notebook: nbformat.NotebookNode, repo: Path = REPO) -> str:
    """sha256 over the notebook's code cells, the behaviour (`behaviour`: no comments, no docstrings) of the modules
    they import, and the bytes of the asset files: what can change the notebook's outputs."""
    sources = [
        cell.source
        for cell in notebook.cells
        if cell.cell_type == "code" and "injected-parameters" not in cell.metadata.get("tags", [])
    ]
    digest = hashlib.sha256("\n\x00\n".join(sources).encode("utf-8"))
    for path in dependencies(sources, repo):
        digest.update(f"\n\x00{path.relative_to(repo).as_posix()}\x00".encode())
        content = behaviour(path.read_text(encoding="utf-8")).encode("utf-8") if path.suffix == ".py" else path.read_bytes()
        digest.update(hashlib.sha256(content).digest())
    return digest.hexdigest()


ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
WIDGET = "application/vnd.jupyter.widget-view+json"


# C++ log lines of TensorFlow/JAX GPU builds on a CPU-only machine ("Could not find cuda drivers", "failed call to cuInit").
NO_GPU_NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
                          r"|[IWE]\d{4} [\d:. ]+\d+ (cudart_stub|cuda_platform|cuda_executor|cuda_diagnostics)\.cc:\d+\]"
                          # TensorFlow's note on CPUs where it uses oneDNN (AVX-512 machines), also C++ logging at import
                          r"|I\d{4} [\d:. ]+\d+ port\.cc:\d+\] oneDNN custom operations are on"
                          # pyarrow 25 deprecates an option datasets' `sort` still passes: not the lesson's to fix
                          # (kbalbert.data.quiet_known_warnings silences it where the package sorts)
                          r"|.*FutureWarning: Specifying null_placement in SortOptions is deprecated"
                          r"|\s+return options_class\(\*args, \*\*kwargs\)$)")


def clean(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Removes what describes the machine and the run rather than the lesson, in place: widget state and the progress
    bars drawn as widgets (their text fallback is frozen at 0%), papermill's timings and paths, ANSI colour codes,
    this checkout's absolute path (and its virtual environment's) in printed text, the data folder beside it (as
    `../shared`, the path relative to the notebooks), and the CUDA-driver messages that
    TensorFlow's and JAX's GPU builds print on a machine without a GPU, and TensorFlow's oneDNN note on AVX-512 CPUs
    (C++ logging at import, before any Python-level setting such as TF_CPP_MIN_LOG_LEVEL can apply)."""
    site_packages = re.compile(re.escape(str(REPO)) + r"/\.venv[A-Za-z0-9_-]*/lib/python[0-9.]+/site-packages/")
    repo_path = re.compile(re.escape(str(REPO)) + r"/?")
    # the data beside the checkout (this tool's default NSMC_DIR and CORPUS_PATH), as the notebooks' cwd sees it
    shared_path = re.compile(re.escape(str(REPO.parent / "shared")) + r"(?=/|\b)")

    def tidy(text: str) -> str:
        return repo_path.sub("", shared_path.sub("../shared", site_packages.sub("", ANSI_ESCAPE.sub("", text))))

    notebook.metadata.pop("widgets", None)
    notebook.metadata.pop("papermill", None)
    for cell in notebook.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            if WIDGET in output.get("data", {}):
                continue
            if output.get("name") == "stderr":
                output["text"] = "".join(line for line in output["text"].splitlines(keepends=True)
                                         if not NO_GPU_NOISE.search(line))
                if not output["text"].strip():
                    continue
            if "text" in output:
                output["text"] = tidy(output["text"])
            for mime in ("text/plain", "text/html"):
                if isinstance(output.get("data", {}).get(mime), str):
                    output["data"][mime] = tidy(output["data"][mime])
            if output.get("output_type") == "error":
                output["traceback"] = [tidy(line) for line in output.get("traceback", [])]
            kept.append(output)
        cell["outputs"] = kept
    return notebook


def default_environment(repo: Path = REPO) -> None:
    """The data beside the checkout (`../shared/data`) when it is there; without it, NSMC_DIR stays unset so that the
    notebooks take the promised path (download from the public release, sha256-checked)."""
    nsmc = repo.parent / "shared" / "data" / "nsmc"
    corpus = repo.parent / "shared" / "data" / "movie-reviews" / "reviews.txt"
    if nsmc.is_dir():
        os.environ.setdefault("NSMC_DIR", str(nsmc))
    if corpus.is_file():
        os.environ.setdefault("CORPUS_PATH", str(corpus))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))


def command_line(path: Path, parameters: dict) -> str:
    """The command that repeats this run: what a notebook's RUN_COMMAND (its model card) is told, through the
    KBALBERT_RUN_COMMAND environment variable of the kernel."""
    options = [item for name, value in parameters.items() for item in ("-p", name, "null" if value is None else str(value))]
    return shlex.join(["python", "tools/run_notebooks.py", path.name, *options])


def plan(paths: list[Path], parameters: dict, output: Path | None, as_committed: bool) -> list[tuple[Path, dict, Path]]:
    """`(notebook, parameters, target)` for each run. With several notebooks, `-o` names a folder (one file each);
    with `as_committed`, each notebook gets the parameters its committed outputs were made with."""
    if output is not None and len(paths) > 1:
        if output.suffix == ".ipynb":
            raise SystemExit(f"-o {output}: with several notebooks, -o names a folder (each notebook keeps its name).")
        targets = [output / path.name for path in paths]
    elif output is not None and output.is_dir():
        targets = [output / path.name for path in paths]  # an existing folder: the notebook keeps its name there
    else:
        targets = [output or path for path in paths]
    runs = []
    for path, target in zip(paths, targets):
        chosen = dict(parameters)
        if as_committed:
            recorded = nbformat.read(path, as_version=4).metadata.get("kbalbert", {}).get("executed_with", {})
            chosen = {**{k: v for k, v in recorded.items() if k != "RUN_COMMAND"}, **parameters}
        runs.append((path, chosen, target))
    return runs


def parameter_names(path: Path) -> list[str]:
    """The names the notebook's `parameters` cell assigns: what `-p NAME VALUE` may set."""
    notebook = nbformat.read(path, as_version=4)
    cells = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    if not cells:
        return []
    return [target.id for node in ast.parse(cells[0].source).body if isinstance(node, ast.Assign)
            for target in node.targets if isinstance(target, ast.Name)]


def check_parameters(path: Path, parameters: dict) -> None:
    """Refuses, before a kernel starts, a `-p` name the notebook's parameter cell does not have (papermill would only
    warn and run the whole notebook with its defaults), naming the closest known name."""
    known = parameter_names(path)
    for name in parameters:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise UsageError(f"{path.name} has no parameter {name!r}: {hint}its parameters are {', '.join(known)}")


def interrupt(signum, frame):
    raise KeyboardInterrupt(f"stopped by signal {signum}")


class UsageError(Exception):
    """A mistake in the command line: printed as one `error:` line, exit code 2."""


def run(path: Path, parameters: dict[str, str], output: Path | None) -> None:
    import papermill

    # The notebook writes this command into its model card and metrics (its RUN_COMMAND); a learner's own run in
    # Jupyter has no such variable and says so instead.
    os.environ["KBALBERT_RUN_COMMAND"] = command_line(path, parameters)
    target = output or path
    target.parent.mkdir(parents=True, exist_ok=True)
    print(f"executing {path.name} -> {target} with {parameters or 'default parameters'}", flush=True)
    start = time.perf_counter()
    # Written to a temporary file first: the target (often the committed notebook itself) is replaced only by a run
    # that finished. A failed run is kept under outputs/failed/ to read its error, and the target stays as it was.
    partial = target.with_name(f".{target.stem}.running.ipynb")
    try:
        papermill.execute_notebook(str(path), str(partial), parameters=parameters, cwd=str(REPO),
                                  progress_bar=sys.stderr.isatty() or os.environ.get("KBALBERT_PROGRESS") == "1",
                                  # the kernel's own start-up warnings ("[IPKernelApp] WARNING | Kernel is running over
                                  # TCP ...") are about Jupyter's transport, not the lesson: errors only
                                  extra_arguments=["--IPKernelApp.log_level=ERROR"])
    except BaseException:
        failed = REPO / "outputs" / "failed" / target.name
        if partial.exists():
            failed.parent.mkdir(parents=True, exist_ok=True)
            os.replace(partial, failed)
            print(f"the run failed; {target} is unchanged, the failed run is in {failed}", flush=True)
        raise
    executed = nbformat.read(partial, as_version=4)
    # The cell papermill injects for `-p` overrides is not kept: the committed notebook's code is what a learner runs.
    # The overrides are recorded in the metadata below (and the notebooks print what they used).
    executed.cells = [c for c in executed.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    clean(executed)
    executed.metadata["kbalbert"] = {
        "code_hash": code_hash(executed),
        "executed_with": parameters,
        "wall_seconds": round(time.perf_counter() - start),
    }
    nbformat.write(executed, partial)
    os.replace(partial, target)
    print(f"done in {time.perf_counter() - start:.0f} s", flush=True)


def parse_value(text: str):
    """A parameter value as papermill's CLI reads it: YAML ("4000" -> 4000, "null" -> None), plus "1e-3" -> 0.001."""
    value = yaml.safe_load(text)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="default: every NN-*.ipynb in the repository root")
    parser.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"), help="papermill parameter (YAML value)")
    parser.add_argument("-o", "--output", type=Path, help="write the executed notebook here instead of in place")
    parser.add_argument("--as-committed", action="store_true",
                        help="give each notebook the -p parameters its committed outputs were made with (make notebooks)")
    parser.add_argument("--clean-only", action="store_true", help="do not execute: only strip machine-specific output (clean)")
    args = parser.parse_args()
    default_environment()
    paths = [Path(p).resolve() for p in args.notebooks] or sorted(REPO.glob("[0-9][0-9]-*.ipynb"))
    parameters = {name: parse_value(value) for name, value in args.p}
    if args.clean_only:
        for path in paths:
            nbformat.write(clean(nbformat.read(path, as_version=4)), path)
        return
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    if args.output is not None and args.output.exists() and not args.output.is_dir() and len(paths) > 1:
        parser.error(f"-o {args.output}: with several notebooks, -o names a folder, and this is a file")
    try:
        runs = plan(paths, parameters, args.output, args.as_committed)
        for path, chosen, _ in runs:
            check_parameters(path, chosen)
    except (UsageError, SystemExit) as error:
        parser.error(str(error))
    # SIGTERM (a closed terminal, a CI timeout) ends a run the way Ctrl-C does: the half-written notebook is moved to
    # outputs/failed/ instead of staying behind as a hidden .NAME.running.ipynb.
    signal.signal(signal.SIGTERM, interrupt)
    for path, chosen, target in runs:
        run(path, chosen, target)


if __name__ == "__main__":
    main()

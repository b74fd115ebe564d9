"""Issue 43: every third-party package the project imports is pinned in requirements.txt (numpy was imported in 17
files and unpinned)."""

import ast
import importlib.metadata
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OURS = {"kbalbert", "tokenization_kbalbert", "colab_setup", "run_notebooks", "build_default_model", "build_corpus",
        "set_repo_url", "tiny_models", "bench_script", "conftest", "google"}  # google: google.colab, only on Colab


def imported_top_level_names() -> set[str]:
    sources = [p.read_text(encoding="utf-8") for pattern in ("*.py", "kbalbert/*.py", "scripts/*.py", "tools/*.py",
                                                              "tests/*.py", "bench/*.py") for p in REPO.glob(pattern)]
    for notebook in REPO.glob("[0-9][0-9]-*.ipynb"):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        sources.append("\n".join(line for line in code.splitlines() if not line.strip().startswith(("!", "%"))))
    names = set()
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - OURS


def pinned_distributions() -> set[str]:
    pins = set()
    for line in (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines():
        requirement = line.split("#", 1)[0].split(";", 1)[0].strip()
        if requirement:
            assert "==" in requirement, f"not an exact pin: {line}"
            pins.add(requirement.split("==")[0].split("[")[0].strip().lower().replace("_", "-"))
    return pins


def test_every_imported_package_is_pinned():
    owners = importlib.metadata.packages_distributions()
    pins = pinned_distributions()
    missing = {}
    for name in sorted(imported_top_level_names()):
        distributions = {d.lower().replace("_", "-") for d in owners.get(name, [name])}
        if not distributions & pins:
            missing[name] = sorted(distributions)
    assert not missing, f"imported but not pinned in requirements.txt: {missing}"
    assert {"numpy", "torch", "transformers", "tensorflow"} <= pins

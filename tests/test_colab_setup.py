"""The Colab path: the notebooks' setup cell clones the repository, enters it, and installs pinned packages.

The setup cell is run here the way Colab runs it (google.colab imported, a fresh working directory), against a local bare
clone of this repository instead of GitHub, with pip in dry-run mode (colab_setup.install returns its commands)."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import colab_setup

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(REPO.glob("[0-9][0-9]-*.ipynb"))


def setup_cell(path: Path) -> str:
    notebook = nbformat.read(path, as_version=4)
    cells = [c.source for c in notebook.cells if c.cell_type == "code" and "IN_COLAB =" in c.source]
    assert len(cells) == 1, f"{path.name}: one setup cell"
    return cells[0]


def test_every_copy_of_the_address_is_colab_setups():
    github_path = colab_setup.REPO_URL.removeprefix("https://github.com/")
    for path in NOTEBOOKS:
        urls = re.findall(r'REPO_URL = "([^"]*)"', setup_cell(path))
        assert urls == [colab_setup.REPO_URL], f"{path.name}: run `python tools/set_repo_url.py`"
    badges = re.findall(r"colab\.research\.google\.com/github/([^/\s]+/[^/\s]+)/blob/main/([^)\s]+)",
                        (REPO / "README.md").read_text(encoding="utf-8"))
    assert {b[1] for b in badges} == {p.name for p in NOTEBOOKS}, "one Colab badge per notebook"
    assert {b[0] for b in badges} == {github_path}, "README badges: run `python tools/set_repo_url.py`"


def test_pins_come_from_requirements():
    table = colab_setup.pins()
    for notebook, names in colab_setup.PACKAGES.items():
        command, editable = colab_setup.pip_commands(notebook)
        assert editable[-3:] == ["--no-deps", "-e", str(REPO)], "the repository's package, editable"
        specs = command[command.index("-q") + 1:]
        assert specs == [table[n.lower()] for n in names], notebook
        assert not any(s.startswith("torch==") for s in specs), "Colab's own torch stays"
    tpu = colab_setup.pip_commands("04", tpu=True)[2]
    assert f"jax[tpu]=={table['jax'].split('==')[1]}" in tpu and table["torch"] in tpu
    with pytest.raises(KeyError, match="no pin"):
        colab_setup.pinned(["a-package-nobody-pinned"])
    with pytest.raises(ValueError, match="unknown notebook"):
        colab_setup.pip_commands("07")


def run_like_colab(cell: str, repo_url: str, tmp_path: Path) -> subprocess.CompletedProcess:
    repo_dir = tmp_path / "content" / "kbalbert-nsmc-tutorial"
    cell = re.sub(r'REPO_URL = "[^"]*"', f"REPO_URL = {repo_url!r}", cell)
    cell = re.sub(r'REPO_DIR = "[^"]*"', f"REPO_DIR = {str(repo_dir)!r}", cell)
    program = (
        "import json, os, sys, types\n"
        "sys.modules['google.colab'] = types.ModuleType('google.colab')\n"
        f"exec(compile({cell!r}, 'setup-cell', 'exec'))\n"
        "from kbalbert import data as kbalbert_data\nimport tokenization_kbalbert\n"
        "print(json.dumps({'cwd': os.getcwd(), 'module': kbalbert_data.__file__, 'setup': colab_setup.__file__}))\n"
    )
    (tmp_path / "content").mkdir(exist_ok=True)
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # only what the clone brings
    environment["COLAB_SETUP_DRY_RUN"] = "1"
    return subprocess.run([sys.executable, "-c", program], cwd=tmp_path / "content", env=environment,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def bare_clone(tmp_path_factory):
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs git and a git checkout of this repository")
    target = tmp_path_factory.mktemp("github") / "kbalbert-nsmc-tutorial.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(REPO), str(target)], check=True)
    return target


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name[:2] for p in NOTEBOOKS])
def test_setup_cell_clones_enters_and_imports(path, bare_clone, tmp_path):
    done = run_like_colab(setup_cell(path), bare_clone.as_uri(), tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    repo_dir = tmp_path / "content" / "kbalbert-nsmc-tutorial"
    assert Path(seen["cwd"]) == repo_dir
    assert Path(seen["module"]).parent == repo_dir / "kbalbert" and Path(seen["setup"]).parent == repo_dir


def test_setup_cell_stops_with_a_clear_message_when_the_clone_fails(tmp_path):
    done = run_like_colab(setup_cell(NOTEBOOKS[0]), (tmp_path / "no-such-repository.git").as_uri(), tmp_path)
    assert done.returncode != 0
    assert "RuntimeError" in done.stderr and "REPO_URL" in done.stderr
    assert "ModuleNotFoundError" not in done.stderr


def test_set_repo_url_refuses_an_address_that_would_break_the_generated_code():
    """Issue 42: a URL with a quote used to be written into colab_setup.py, leaving it with a SyntaxError."""
    import subprocess
    import sys

    before = (REPO / "colab_setup.py").read_bytes()
    for bad in ['https://github.com/me/x"; import os; "', "https://github.com/me", "http://example.com/a/b"]:
        result = subprocess.run([sys.executable, str(REPO / "tools" / "set_repo_url.py"), bad], capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 2 and result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
    assert (REPO / "colab_setup.py").read_bytes() == before

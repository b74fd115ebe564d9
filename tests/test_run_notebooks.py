"""tools/run_notebooks.py without executing anything: where runs go, with which parameters, and what `clean` strips."""

import os

import nbformat
import pytest
import run_notebooks  # tools/ is on sys.path (conftest.py)

REPO_ROOT = run_notebooks.REPO  # the repository itself (some tests point run_notebooks.REPO at a temporary folder)


def notebook_with(executed_with, tmp_path, name="02-x.ipynb"):
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kbalbert"] = {"code_hash": "x", "executed_with": executed_with}
    path = tmp_path / name
    nbformat.write(notebook, path)
    return path


def test_several_notebooks_with_o_go_into_a_folder(tmp_path):
    first, second = notebook_with({}, tmp_path, "00-a.ipynb"), notebook_with({}, tmp_path, "01-b.ipynb")
    runs = run_notebooks.plan([first, second], {}, tmp_path / "out", as_committed=False)
    assert [target for _, _, target in runs] == [tmp_path / "out" / "00-a.ipynb", tmp_path / "out" / "01-b.ipynb"]
    with pytest.raises(SystemExit, match="names a folder"):
        run_notebooks.plan([first, second], {}, tmp_path / "one.ipynb", as_committed=False)
    assert run_notebooks.plan([first], {}, tmp_path / "one.ipynb", as_committed=False)[0][2] == tmp_path / "one.ipynb"
    assert run_notebooks.plan([first], {}, None, as_committed=False)[0][2] == first  # in place


def test_as_committed_repeats_the_committed_parameters(tmp_path):
    path = notebook_with({"TRAIN_SIZE": 20000, "RUN_COMMAND": "old command"}, tmp_path)
    assert run_notebooks.plan([path], {}, None, as_committed=True)[0][1] == {"TRAIN_SIZE": 20000}
    assert run_notebooks.plan([path], {"TRAIN_SIZE": 500}, None, as_committed=True)[0][1] == {"TRAIN_SIZE": 500}
    assert run_notebooks.plan([path], {}, None, as_committed=False)[0][1] == {}
    assert run_notebooks.command_line(path, {"TRAIN_SIZE": 20000, "EXPORT_DIR": None}) == (
        "python tools/run_notebooks.py 02-x.ipynb -p TRAIN_SIZE 20000 -p EXPORT_DIR null")


def test_clean_strips_machine_state_and_keeps_the_lesson():
    repo = str(run_notebooks.REPO)
    notebook = nbformat.v4.new_notebook()
    notebook.metadata.update(widgets={"state": {}}, papermill={"input_path": repo + "/02.ipynb"})
    cell = nbformat.v4.new_code_cell("print(1)")
    cell.metadata["papermill"] = {"duration": 1.0}
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text=f"{repo}/.venv/lib/python3.11/site-packages/accelerate/state.py:279: Warn\n"),
        nbformat.v4.new_output("display_data", data={"application/vnd.jupyter.widget-view+json": {}, "text/plain": "Map: 0%"}),
        nbformat.v4.new_output("stream", name="stdout", text=f"\x1b[1mModel\x1b[0m saved to {repo}/outputs/model\n"),
        nbformat.v4.new_output("stream", name="stdout", text=f"--nsmc-dir {run_notebooks.REPO.parent}/shared/data/nsmc\n"),
        nbformat.v4.new_output("stream", name="stderr", text="I0000 00:00:1796015419.794578    3933 port.cc:153] oneDNN custom "
                               "operations are on. You may see slightly different numerical results.\n"),
        nbformat.v4.new_output("stream", name="stderr", text="pyarrow/compute.py:231: FutureWarning: Specifying null_placement "
                               "in SortOptions is deprecated as of 25.0.0.\n  return options_class(*args, **kwargs)\n"),
    ]
    notebook.cells = [cell]
    run_notebooks.clean(notebook)
    assert "widgets" not in notebook.metadata and "papermill" not in notebook.metadata and "papermill" not in cell.metadata
    assert [o.get("text") for o in cell.outputs] == ["accelerate/state.py:279: Warn\n", "Model saved to outputs/model\n",
                                                     "--nsmc-dir ../shared/data/nsmc\n"]


def test_code_hash_follows_imported_modules_and_the_assets_they_name(tmp_path):
    (tmp_path / "helper.py").write_text("import inner\n")
    (tmp_path / "inner.py").write_text('DEFAULT = "assets/tiny-model"\n')
    (tmp_path / "unused.py").write_text("x = 1\n")
    model = tmp_path / "assets" / "tiny-model"
    model.mkdir(parents=True)
    (model / "config.json").write_text("{}")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("import helper\nimport numpy as np")]
    deps = run_notebooks.dependencies([notebook.cells[0].source], tmp_path)
    assert deps == sorted([tmp_path / "helper.py", tmp_path / "inner.py", model / "config.json"])
    before = run_notebooks.code_hash(notebook, tmp_path)
    (tmp_path / "unused.py").write_text("x = 2\n")
    assert run_notebooks.code_hash(notebook, tmp_path) == before  # not a dependency
    (tmp_path / "inner.py").write_text('"""A docstring."""\nDEFAULT = "assets/tiny-model"  # a comment\n')
    assert run_notebooks.code_hash(notebook, tmp_path) == before  # comments and docstrings are not behaviour
    (tmp_path / "inner.py").write_text('DEFAULT = "assets/tiny-model"\nSIZE = 2\n')
    after_module = run_notebooks.code_hash(notebook, tmp_path)
    assert after_module != before
    (model / "config.json").write_text('{"hidden_size": 8}')
    assert run_notebooks.code_hash(notebook, tmp_path) != after_module


@pytest.mark.parametrize("notebook_name", ["02-Fine-tuning-ALBERT-in-PyTorch.ipynb", "00-Building-a-domain-ALBERT.ipynb"])
def test_committed_notebook_stays_current_after_comment_edits_and_goes_stale_after_code_edits(tmp_path, notebook_name):
    """On a copy of the repository: comments, docstrings and line wrapping edited in every module a committed notebook
    imports keep its recorded hash (no re-execution for a pure clean-up); one changed value makes it stale."""
    import ast
    import shutil

    repo = run_notebooks.REPO
    notebook = nbformat.read(repo / notebook_name, as_version=4)
    sources = [c.source for c in notebook.cells if c.cell_type == "code"]
    copy = tmp_path / "repo"
    (copy / "assets").mkdir(parents=True)
    for folder in (repo / "assets").iterdir():
        (copy / "assets" / folder.name).symlink_to(folder)
    modules = [p for p in run_notebooks.dependencies(sources, repo) if p.suffix == ".py"]
    assert len(modules) >= 4
    for module in modules:
        (copy / module.relative_to(repo)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(module, copy / module.relative_to(repo))
    before = run_notebooks.code_hash(notebook, copy)
    assert before == run_notebooks.code_hash(notebook, repo)
    for module in modules:
        path = copy / module.relative_to(repo)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # ast.unparse drops every comment and rewraps every line; each function gets a new or an edited docstring
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                has_doc = isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
                node.body[:1 if has_doc else 0] = [ast.Expr(ast.Constant("An edited docstring."))]
        path.write_text("# an edited comment\n" + ast.unparse(tree), encoding="utf-8")
    assert run_notebooks.code_hash(notebook, copy) == before
    precision_module = copy / "kbalbert" / "precision.py"
    precision_module.write_text(precision_module.read_text().replace("CPU_MARGIN = 1.2", "CPU_MARGIN = 1.3"))
    assert run_notebooks.code_hash(notebook, copy) != before


def test_a_failed_run_leaves_the_notebook_as_it_was(tmp_path, monkeypatch):
    """The in-place run (make notebooks) of a notebook whose run fails must not overwrite its good outputs."""
    import papermill

    good = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print('hello')")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello\n")]
    good.cells = [cell]
    path = tmp_path / "00-x.ipynb"
    nbformat.write(good, path)
    before = path.read_bytes()

    def failing_run(input_path, output_path, **kwargs):
        nbformat.write(nbformat.v4.new_notebook(), output_path)  # papermill writes as it goes, then raises
        raise papermill.PapermillExecutionError(0, 1, "x", "RuntimeError", "boom", [])

    monkeypatch.setattr(papermill, "execute_notebook", failing_run)
    monkeypatch.setattr(run_notebooks, "REPO", tmp_path)
    with pytest.raises(papermill.PapermillExecutionError):
        run_notebooks.run(path, {}, None)
    assert path.read_bytes() == before
    assert (tmp_path / "outputs" / "failed" / "00-x.ipynb").is_file()
    assert [p.name for p in tmp_path.glob(".*running*")] == []

    def working_run(input_path, output_path, **kwargs):
        notebook = nbformat.read(input_path, as_version=4)
        notebook.cells[0].outputs[0]["text"] = "hello again\n"
        nbformat.write(notebook, output_path)

    monkeypatch.setattr(papermill, "execute_notebook", working_run)
    run_notebooks.run(path, {}, None)
    assert "hello again" in path.read_text() and nbformat.read(path, as_version=4).metadata["kbalbert"]["code_hash"]


def test_the_kernel_is_told_the_command_that_repeats_the_run(tmp_path, monkeypatch):
    """Issue 33: RUN_COMMAND is no longer a learner's parameter; run_notebooks.py hands the kernel its command line
    (KBALBERT_RUN_COMMAND), which the notebooks write into their model cards and metrics."""
    import os

    import papermill

    path = tmp_path / "02-x.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), path)
    seen = {}

    def recording_run(input_path, output_path, parameters=None, **kwargs):
        seen["command"], seen["parameters"] = os.environ.get("KBALBERT_RUN_COMMAND"), parameters
        nbformat.write(nbformat.read(input_path, as_version=4), output_path)

    monkeypatch.setattr(papermill, "execute_notebook", recording_run)
    monkeypatch.setattr(run_notebooks, "REPO", tmp_path)
    monkeypatch.delenv("KBALBERT_RUN_COMMAND", raising=False)
    run_notebooks.run(path, {"TRAIN_SIZE": 20000}, tmp_path / "out.ipynb")
    assert seen == {"command": "python tools/run_notebooks.py 02-x.ipynb -p TRAIN_SIZE 20000",
                    "parameters": {"TRAIN_SIZE": 20000}}  # not a papermill parameter any more
    for name in ("00-Building-a-domain-ALBERT.ipynb", "02-Fine-tuning-ALBERT-in-PyTorch.ipynb"):
        notebook = nbformat.read(REPO_ROOT / name, as_version=4)
        parameters = next(c.source for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
        assert "RUN_COMMAND" not in parameters and "BENCH_STEPS" not in parameters
        assert any('os.environ.get("KBALBERT_RUN_COMMAND")' in c.source for c in notebook.cells)


# Python that parses on 3.11, 3.12 and 3.13 and holds what `ast.dump` writes differently between them (f-strings with
# nested format specs, which 3.12 splits with empty strings; functions and classes, which 3.12 gives `type_params`).
VERSION_SAMPLE = '''"""A module docstring."""
x = f"{a!r:>{w}} {b!s}" rf"\\d{c}" f"{x=}" f"{y:%Y-%m}" f"{{z}}" f'{"q"}' f"{a:{b}{c}>{d}}"
match x:
    case [1, *rest]:
        pass
class A(B, metaclass=M):
    async def f(self, /, a: int = 1e-4, *, b) -> None:
        """A docstring."""
        async with c as d:
            return [i async for i in j if i] or {k: v for k, v in w}  # a comment
try:
    pass
except* E as err:
    raise X from err
'''
# sha256 of behaviour(VERSION_SAMPLE), computed once on Python 3.11.7; .ci/run checks it again on Python 3.12.
VERSION_SAMPLE_SHA256 = "215d3e7acfc9787f195ea145412141c92d98497e04637a7357f2b9d5bba5a29c"


def test_the_freshness_hash_is_the_same_on_every_supported_python():
    """Issue 40: `ast.dump` differs between Python versions, so every committed notebook looked stale on 3.12 and 3.13.
    `behaviour` must give this value, computed once, on whichever Python runs the suite."""
    import hashlib

    assert hashlib.sha256(run_notebooks.behaviour(VERSION_SAMPLE).encode()).hexdigest() == VERSION_SAMPLE_SHA256


def test_an_unknown_parameter_is_refused_before_any_kernel_starts(tmp_path, monkeypatch, capsys):
    """Issue 42: `-p TRAIN_SIZ 64` used to print one papermill warning and run the whole notebook with its defaults."""
    import subprocess
    import sys

    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("TRAIN_SIZE = None\nEPOCHS = 1\n")
    cell.metadata["tags"] = ["parameters"]
    notebook.cells = [cell, nbformat.v4.new_code_cell("raise SystemExit('a kernel ran')")]
    path = tmp_path / "05-x.ipynb"
    nbformat.write(notebook, path)
    result = subprocess.run([sys.executable, str(REPO_ROOT / "tools" / "run_notebooks.py"), str(path), "-p", "TRAIN_SIZ", "64"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "run_notebooks.py: error: 05-x.ipynb has no parameter 'TRAIN_SIZ': did you mean TRAIN_SIZE? "
        "its parameters are TRAIN_SIZE, EPOCHS")
    assert "Traceback" not in result.stderr and "executing" not in result.stdout
    run_notebooks.check_parameters(path, {"TRAIN_SIZE": 64, "EPOCHS": 2})  # known names pass


def test_o_with_an_existing_folder_writes_the_notebook_into_it(tmp_path):
    first = notebook_with({}, tmp_path, "00-a.ipynb")
    folder = tmp_path / "existing"
    folder.mkdir()
    assert run_notebooks.plan([first], {}, folder, as_committed=False)[0][2] == folder / "00-a.ipynb"


def test_without_the_data_folder_nsmc_dir_stays_unset_so_the_download_path_is_taken(tmp_path, monkeypatch):
    """Issue 42: main.sh on a fresh clone without ../shared promised a download, but this tool set NSMC_DIR to the
    missing folder and the notebook refused. Where the folder exists, it is used."""
    monkeypatch.delenv("NSMC_DIR", raising=False)
    monkeypatch.delenv("CORPUS_PATH", raising=False)
    repo = tmp_path / "clone"
    repo.mkdir()
    run_notebooks.default_environment(repo)
    assert "NSMC_DIR" not in os.environ and "CORPUS_PATH" not in os.environ
    (tmp_path / "shared" / "data" / "nsmc").mkdir(parents=True)
    run_notebooks.default_environment(repo)
    assert os.environ["NSMC_DIR"] == str(tmp_path / "shared" / "data" / "nsmc")


def test_code_hash_follows_the_package_modules_a_notebook_uses(tmp_path):
    """Issue 41: `from kbalbert import a`, `from kbalbert.b import x` and `import kbalbert.c` all count, with the
    package's __init__.py; a code edit in a used package module makes the notebook stale, a comment edit does not, and
    an edit to a package module it does not use leaves it fresh."""
    package = tmp_path / "kbalbert"
    package.mkdir()
    (package / "__init__.py").write_text('"""The package."""\n')
    (package / "a.py").write_text("from kbalbert.b import VALUE\n")
    (package / "b.py").write_text("VALUE = 1\n")
    (package / "c.py").write_text("C = 1\n")
    (package / "unused.py").write_text("U = 1\n")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("from kbalbert import a as first\nimport kbalbert.c\nimport numpy as np")]
    deps = run_notebooks.dependencies([notebook.cells[0].source], tmp_path)
    assert deps == sorted(package / name for name in ("__init__.py", "a.py", "b.py", "c.py"))
    before = run_notebooks.code_hash(notebook, tmp_path)
    (package / "b.py").write_text("# a comment\nVALUE = 1  # another\n")
    (package / "unused.py").write_text("U = 2\n")
    assert run_notebooks.code_hash(notebook, tmp_path) == before
    (package / "b.py").write_text("VALUE = 2\n")
    assert run_notebooks.code_hash(notebook, tmp_path) != before

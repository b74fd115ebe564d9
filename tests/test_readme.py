"""Issue 43: the README is a front page of at most 10,000 characters, and every number in its result table and headline
sentences is read from the file it comes from (the recipe's run record, bench/results, the committed notebook 02
outputs), so a rerun that changes a number fails here until the README follows."""

import json
import re
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def percent(value: float) -> str:
    return f"{100 * value:.2f}%"


def table_row(label_start: str) -> str:
    rows = [line for line in README.splitlines() if line.startswith(f"| {label_start}")]
    assert len(rows) == 1, f"one README table row starts with {label_start!r}, found {len(rows)}"
    return rows[0]


def notebook_02_results() -> dict[str, float]:
    """Test accuracies in notebook 02's committed results table (`results_table.round(4)`)."""
    notebook = nbformat.read(REPO / "02-Fine-tuning-ALBERT-in-PyTorch.ipynb", as_version=4)
    cell = next(c for c in notebook.cells if c.cell_type == "code" and "results_table.round(4)" in c.source)
    text = next(o["data"]["text/plain"] for o in cell.outputs if "text/plain" in o.get("data", {}))
    rows = {}
    for line in text.splitlines()[2:]:
        numbers = re.findall(r"\d+\.\d+", line)
        if numbers:
            rows["tfidf" if line.startswith("TF-IDF") else "albert"] = float(numbers[0])
    return rows


def test_the_readme_is_a_front_page():
    assert len(README) <= 10_000, f"README.md has {len(README):,} characters"


def test_the_result_table_and_headline_come_from_their_sources():
    recipe = json.loads((REPO / "bench" / "results" / "default_model_recipe.json").read_text())
    shipped = recipe["distill"]["test_accuracy"]
    tfidf = json.loads((REPO / "bench" / "results" / "tfidf_baseline.json").read_text())["test_accuracy"]
    notebook = notebook_02_results()
    card = (REPO / "assets" / "albert-movie-wp-small-nsmc" / "README.md").read_text(encoding="utf-8")
    assert f"value: {round(shipped, 4)}" in card  # the model card says the same

    assert f"**{percent(shipped)}**" in table_row("저장소의 분류기")
    assert percent(notebook["albert"]) in table_row("노트북 02 (")
    assert percent(notebook["tfidf"]) in table_row("노트북 02의 TF-IDF")
    assert percent(tfidf) in table_row("TF-IDF 음절")
    kb_albert = float(re.search(r"(\d+\.\d+)%", table_row("KB-ALBERT (2020")).group(1))  # cited

    def points(a: float, b: float) -> str:
        return f"**{round(100 * a, 2) - round(b, 2):.2f}점**"

    assert f"TF-IDF({percent(tfidf)})보다 {points(shipped, 100 * tfidf)}" in README
    assert f"KB-ALBERT({kb_albert:.2f}%)보다 {points(shipped, kb_albert)}" in README
    assert f"자기 TF-IDF 행보다 {points(notebook['albert'], 100 * notebook['tfidf'])}" in README


def test_the_environment_sizes_are_the_measured_ones():
    measured = json.loads((REPO / "bench" / "results" / "environment.json").read_text())["environments"]
    by_build = {env["torch_build"]: env for env in measured.values()}
    assert by_build["CPU"]["python"].startswith("3.11") and by_build["CUDA"]["python"].startswith("3.12")
    assert f"Python 3.11 + CPU 빌드 torch **{by_build['CPU']['gigabytes']:.1f} GB**" in README
    assert f"CUDA 빌드 torch(triton 포함) **{by_build['CUDA']['gigabytes']:.1f} GB**" in README

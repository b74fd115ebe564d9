"""The serve.py that notebook 03 exports next to its SavedModel (serve_savedmodel.py): its command line."""

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_help_is_an_answer_not_a_review(tmp_path):
    serve = tmp_path / "serve.py"
    shutil.copy(REPO / "kbalbert" / "serve_savedmodel.py", serve)
    # No model in this folder: --help must answer without loading one (and must not classify "--help").
    result = subprocess.run([sys.executable, str(serve), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage:") and "one review per line on stdin" in result.stdout
    assert "label" not in result.stdout


def test_a_serve_py_away_from_its_export_or_without_reviews_says_so_in_one_line(tmp_path):
    """Issue 42: serve.py copied out of its export folder, or given no review, ends in one `error:` line, not in a
    TensorFlow traceback."""
    serve = tmp_path / "serve.py"
    shutil.copy(REPO / "kbalbert" / "serve_savedmodel.py", serve)
    result = subprocess.run([sys.executable, str(serve), "좋아요"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "lacks serving.json, saved_model, tokenizer" in result.stderr.strip().splitlines()[-1]
    for name in ("serving.json", "tokenizer", "saved_model"):
        (tmp_path / name).mkdir() if name != "serving.json" else (tmp_path / name).write_text("{}")
    result = subprocess.run([sys.executable, str(serve)], input="", capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stderr.strip().splitlines()[-1].endswith(
        "error: no reviews: give them as arguments, or one per line on stdin")

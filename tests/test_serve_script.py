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

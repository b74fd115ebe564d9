"""bench/mlm_layout.py: the settings it compares are read from `--runs`, and a mistake is one `error:` line."""

from __future__ import annotations

import subprocess
import sys

import bench_script
import pytest


def test_parse_run_reads_layout_batch_and_rate():
    script = bench_script.load("mlm_layout")
    assert script.parse_run("packed:64:2e-3") == ("packed", 64, 0.002)
    assert script.parse_run("review:128:5e-4") == ("review", 128, 0.0005)


@pytest.mark.parametrize("text", ["packed", "packed:64", "packed:x:1e-3", "rows:64:1e-3", "review:0:1e-3",
                                  "review:128:-1", "review:128:1e-3:7"])
def test_parse_run_refuses_what_it_cannot_run(text):
    with pytest.raises(ValueError, match="--runs"):
        bench_script.load("mlm_layout").parse_run(text)


def test_a_bad_run_is_one_error_line_before_any_work(tmp_path):
    result = subprocess.run([sys.executable, str(bench_script.BENCH / "mlm_layout.py"), "--out", str(tmp_path),
                             "--runs", "review:128:5e-4", "packed:0:1e-3"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("mlm_layout.py: error: --runs 'packed:0:1e-3'")
    assert not any(tmp_path.iterdir())  # nothing started

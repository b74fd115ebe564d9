"""Measures what `scripts/setup.sh` installs: each virtual environment's size on disk (`du`), its Python, and the torch
build it holds (CPU or CUDA, with or without triton). Writes bench/results/environment.json; the README's sizes come
from it (tests/test_readme.py checks them).

    python bench/environment_size.py .venv .venv312     # the environments to measure, made by scripts/setup.sh
"""

import argparse
import json
import platform
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROBE = ("import importlib.metadata as m, json, sys; names = {d.metadata['Name'].lower() for d in m.distributions()}; "
         "print(json.dumps({'python': '%d.%d.%d' % sys.version_info[:3], 'torch': m.version('torch'), "
         "'triton': m.version('triton') if 'triton' in names else None, "
         "'tensorflow': m.version('tensorflow'), 'packages': len(names)}))")


def measure(venv: Path) -> dict:
    size = int(subprocess.run(["du", "-sb", str(venv)], capture_output=True, text=True, check=True).stdout.split()[0])
    facts = json.loads(subprocess.run([str(venv / "bin" / "python"), "-c", PROBE], capture_output=True, text=True,
                                      check=True).stdout)
    return {"bytes": size, "gigabytes": round(size / 1e9, 1), **facts,
            "torch_build": "CUDA" if "+cu" in facts["torch"] or facts["triton"] else "CPU"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("venvs", nargs="+", type=Path, help="virtual environments made by scripts/setup.sh")
    args = parser.parse_args()
    results = {"date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {platform.system()}",
               "environments": {str(v): measure(v) for v in args.venvs}}
    out = REPO / "bench" / "results" / "environment.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

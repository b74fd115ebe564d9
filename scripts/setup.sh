#!/usr/bin/env bash
# Creates or updates the project's virtual environment from requirements.txt. Safe to run again: it reinstalls only
# when requirements.txt, the Python or the torch build changed. Sourced by test.sh and main.sh; runs alone too.
#
#   PYTHON=python3.12 bash scripts/setup.sh   # the Python to use (3.11, 3.12 or 3.13); default: the newest found
#   TORCH_BUILD=cpu|cuda|auto                 # auto (default): cuda where `nvidia-smi -L` lists a GPU, else cpu
#   VENV=.venv                                # where the environment goes
#
# Why choose the torch build: PyPI's torch for Linux x86-64 is the CUDA build (with triton and the NVIDIA libraries,
# about 4 GB more). A machine without a GPU gets the CPU build from https://download.pytorch.org/whl/cpu instead; where
# only the plain package index is reachable, it falls back to the index's build and says so.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV=${VENV:-.venv}
TORCH_BUILD=${TORCH_BUILD:-auto}
TORCH_CPU_INDEX=https://download.pytorch.org/whl/cpu
supported='import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))'

if [ -n "${PYTHON:-}" ]; then
  "$PYTHON" -c "$supported" 2>/dev/null || {
    echo "error: PYTHON=$PYTHON is not a Python 3.11, 3.12 or 3.13 that runs here ($("$PYTHON" --version 2>&1 | head -1))." >&2
    exit 2; }
else
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c "$supported" 2>/dev/null; then PYTHON=$candidate; break; fi
  done
  [ -n "${PYTHON:-}" ] || { echo "error: Python 3.11, 3.12 or 3.13 is needed (set PYTHON=/path/to/python3.12)." >&2; exit 2; }
fi
case "$TORCH_BUILD" in
  auto) if command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q GPU; then TORCH_BUILD=cuda; else TORCH_BUILD=cpu; fi ;;
  cpu|cuda) ;;
  *) echo "error: TORCH_BUILD=$TORCH_BUILD: use cpu, cuda or auto." >&2; exit 2 ;;
esac

version=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ -x "$VENV/bin/python" ] && [ "$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "$version" ]; then
  echo "error: $VENV holds Python $("$VENV/bin/python" --version 2>&1 | cut -d' ' -f2), not $version: remove it" \
       "(rm -r $VENV) or set VENV to another folder." >&2
  exit 2
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
stamp=$VENV/.requirements.sha256
wanted=$( (cat requirements.txt pyproject.toml 2>/dev/null; echo "python $version torch $TORCH_BUILD") | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "Setting up $VENV: Python $version, torch build: $TORCH_BUILD (a few minutes the first time)" >&2
  "$VENV/bin/python" -m pip install -q --upgrade pip
  torch_pin=$(grep -E '^torch==' requirements.txt)
  if [ "$TORCH_BUILD" = cpu ]; then
    # The CPU build first, from PyTorch's CPU index when it answers; `torch==X` in requirements.txt is then satisfied.
    if "$VENV/bin/python" -c "import urllib.request; urllib.request.urlopen('$TORCH_CPU_INDEX/torch/', timeout=10)" 2>/dev/null; then
      "$VENV/bin/python" -m pip install -q "$torch_pin" --index-url "$TORCH_CPU_INDEX"
    else
      echo "note: $TORCH_CPU_INDEX does not answer; torch comes from the package index (PyPI's build for Linux x86-64" \
           "is the CUDA one, about 4 GB more on disk; it runs on the CPU all the same)." >&2
    fi
  fi
  "$VENV/bin/python" -m pip install -q -r requirements.txt
  # The project's own package (kbalbert/) and root modules, editable: `from kbalbert import ...` works from any folder and
  # in every process (scripts, accelerate launch, notebook kernels), and edits take effect without reinstalling.
  "$VENV/bin/python" -m pip install -q --no-deps -e . >"$VENV/.editable-install.log" 2>&1 \
    || { cat "$VENV/.editable-install.log" >&2; exit 1; }  # (setuptools' notice about editable installs stays in the log)
  echo "$wanted" > "$stamp"
  "$VENV/bin/python" -c 'import importlib.metadata as m, sys; print(f"{sys.argv[1]} ready: torch", m.version("torch"),
    "with triton" if any(d.metadata["Name"] == "triton" for d in m.distributions()) else "without triton", file=sys.stderr)' "$VENV"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
VENV_PYTHON=$PWD/$VENV/bin/python
export VENV_PYTHON

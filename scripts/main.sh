#!/usr/bin/env bash
# The main job on the embedded default. Until notebook 02 lands: the tokenizer benchmark (fast vs slow).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
export NSMC_DIR=${NSMC_DIR:-$PWD/../shared/data/nsmc}
.venv/bin/python bench/tokenizer_speed.py "$@"

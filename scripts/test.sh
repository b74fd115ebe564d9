#!/usr/bin/env bash
# Runs the whole test suite (tokenizer parity on all NSMC reviews, data checks, notebooks at smoke size, offline).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
export NSMC_DIR=${NSMC_DIR:-$PWD/../shared/data/nsmc} HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
.venv/bin/python -m pytest -p no:cacheprovider "$@" tests

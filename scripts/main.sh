#!/usr/bin/env bash
# The main job on the embedded default: notebook 02 fine-tunes the shipped ALBERT (assets/albert-movie-wp-small) on
# NSMC and scores it on the 50,000 test reviews. The executed notebook goes to outputs/ (the committed one is untouched);
# metrics, figures and the fine-tuned model go to outputs/02-nsmc-pytorch/. Extra arguments go to tools/run_notebooks.py,
# e.g. `bash scripts/main.sh -p EPOCHS 2`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
export NSMC_DIR=${NSMC_DIR:-$PWD/../shared/data/nsmc} HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1} TOKENIZERS_PARALLELISM=false
mkdir -p outputs
.venv/bin/python tools/run_notebooks.py 02-Fine-tuning-ALBERT-in-PyTorch.ipynb -o outputs/02-Fine-tuning-ALBERT-in-PyTorch.executed.ipynb "$@"
echo "metrics: outputs/02-nsmc-pytorch/metrics.json"

#!/usr/bin/env bash
# The main job on the embedded default: notebook 02 fine-tunes the shipped ALBERT (assets/albert-movie-wp-small) on
# NSMC and scores it on the 50,000 test reviews. The executed notebook goes to outputs/ (the committed one is untouched);
# metrics, figures and the fine-tuned model go to outputs/02-nsmc-pytorch/. Extra arguments go to tools/run_notebooks.py,
# e.g. `bash scripts/main.sh -p EPOCHS 2`.
set -euo pipefail
cd "$(dirname "$0")/.."
# NSMC: NSMC_DIR if set, else ../shared/data/nsmc when it is there, else a download from the public release
# (github.com/e9t/nsmc, two files of 14 MB and 4.9 MB, sha256-checked) into ~/.cache/kbalbert/nsmc.
if [ -z "${NSMC_DIR:-}" ] && [ -d "$PWD/../shared/data/nsmc" ]; then export NSMC_DIR=$PWD/../shared/data/nsmc; fi
if [ -z "${NSMC_DIR:-}" ]; then
  echo "NSMC: no ../shared/data/nsmc beside the repository and no NSMC_DIR; downloading ratings_train.txt and" \
       "ratings_test.txt from https://raw.githubusercontent.com/e9t/nsmc/master/ into ~/.cache/kbalbert/nsmc (sha256-checked)."
fi
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1} TOKENIZERS_PARALLELISM=false
source scripts/setup.sh
mkdir -p outputs
"$VENV_PYTHON" tools/run_notebooks.py 02-Fine-tuning-ALBERT-in-PyTorch.ipynb -o outputs/02-Fine-tuning-ALBERT-in-PyTorch.executed.ipynb "$@"
echo "metrics: outputs/02-nsmc-pytorch/metrics.json"

#!/usr/bin/env bash
# Runs the whole test suite (tokenizer parity on all NSMC reviews, data checks, notebooks at smoke size, offline).
set -euo pipefail
cd "$(dirname "$0")/.."
# The tests run offline on the data beside the repository: NSMC (ratings_train.txt, ratings_test.txt) and the review
# corpus (reviews.txt). Say so clearly when they are not there, instead of failing test by test.
export NSMC_DIR=${NSMC_DIR:-$PWD/../shared/data/nsmc} CORPUS_PATH=${CORPUS_PATH:-$PWD/../shared/data/movie-reviews/reviews.txt}
for needed in "$NSMC_DIR/ratings_train.txt" "$NSMC_DIR/ratings_test.txt" "$CORPUS_PATH"; do
  if [ ! -e "$needed" ]; then
    echo "The tests need $needed. Put NSMC (github.com/e9t/nsmc: ratings_train.txt, ratings_test.txt) in" \
         "../shared/data/nsmc and the review corpus in ../shared/data/movie-reviews/reviews.txt beside the repository," \
         "or set NSMC_DIR and CORPUS_PATH." >&2
    exit 2
  fi
done
if ! command -v chromium >/dev/null; then
  echo "Note: the demo's browser test (tests/test_demo.py) is skipped: it needs Debian's Chromium and a Korean font" \
       "(apt-get install chromium fonts-nanum; .ci/run installs them)." >&2
fi
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
source scripts/setup.sh
"$VENV_PYTHON" -m pytest -p no:cacheprovider "$@" tests

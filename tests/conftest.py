"""Shared fixtures. Data comes from NSMC_DIR (default: ../shared/data/nsmc beside the repository)."""

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("NSMC_DIR", str(REPO.parent / "shared" / "data" / "nsmc"))
os.environ.setdefault("CORPUS_PATH", str(REPO.parent / "shared" / "data" / "movie-reviews" / "reviews.txt"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def nsmc():
    import kbalbert_data

    return kbalbert_data.load_nsmc()


@pytest.fixture(scope="session")
def train_vocab(nsmc):
    """A char vocab built from the NSMC *train* split only, so the test split has unknown characters."""
    import tokenization_kbalbert

    return tokenization_kbalbert.build_char_vocab(nsmc["train"]["document"])

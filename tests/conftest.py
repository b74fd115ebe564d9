"""Shared fixtures. Data comes from NSMC_DIR (default: ../shared/data/nsmc beside the repository)."""

import sys
from pathlib import Path

# Before any test imports TensorFlow: load it with RTLD_LOCAL, as keras_nsmc and the Keras notebooks do, so that PyTorch's
# triton can be imported after it in the same process (tensorflow/tensorflow#124205).
sys.modules.setdefault("tensorflow.python.pywrap_dlopen_global_flags", None)

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
from run_notebooks import default_environment  # noqa: E402

default_environment()  # NSMC_DIR, CORPUS_PATH (../shared/data), offline Hub, PYTHONPATH for notebook kernels


@pytest.fixture(scope="session")
def nsmc():
    from kbalbert import data as kd

    return kd.load_nsmc()


@pytest.fixture(scope="session")
def train_vocab(nsmc):
    """A char vocab built from the NSMC *train* split only, so the test split has unknown characters."""
    import tokenization_kbalbert

    return tokenization_kbalbert.build_char_vocab(nsmc["train"]["document"])


def pytest_addoption(parser):
    parser.addoption(
        "--precision", default="auto", choices=["auto", "fp32", "bf16"],
        help="PRECISION given to every notebook and to train_nsmc.py (default auto: each chooses by precision.py's rule). "
        "`bash scripts/test.sh --precision bf16` forces bf16 autocast even on a CPU where it is slow.",
    )


@pytest.fixture(scope="session")
def forced_precision(request):
    return request.config.getoption("precision")

"""TensorFlow and PyTorch in one process (issue 40).

TensorFlow 2.20-2.21 wheels load their library with RTLD_GLOBAL when `tensorflow.python.pywrap_dlopen_global_flags`
can be imported; their LLVM then sits in the process's global symbols, and a later `import triton` (PyTorch's CUDA
build has it; transformers imports it while loading a model class) binds to it and crashes the process
(tensorflow/tensorflow#124205). The project, like the fixed wheels, makes that module unimportable before TensorFlow is
first imported, so TensorFlow loads with RTLD_LOCAL. These tests check that the guard still matches the installed
TensorFlow, that it works, and that every path that loads TensorFlow sets it first.
"""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
GUARD = 'sys.modules.setdefault("tensorflow.python.pywrap_dlopen_global_flags", None)'
# A function of LLVM's command-line library, exported by libtensorflow_framework.so.2 (TensorFlow's own LLVM).
LLVM_SYMBOL = "_ZN4llvm2cl10SubCommand11getTopLevelEv"
LOADS_TENSORFLOW = re.compile(r"^\s*(?:import|from)\s+(tensorflow|keras|keras_hub)\b", re.MULTILINE)

SYMBOL_CHECK = f"""
import ctypes, sys
if sys.argv[1] == "guarded":
    {GUARD}
import tensorflow
try:
    ctypes.CDLL(None)["{LLVM_SYMBOL}"]
    print("global")
except AttributeError:
    print("local")
"""


def run_python(code: str, *args: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO, timeout=600,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO), **env})


def test_the_guard_names_the_module_tensorflow_reads():
    """If TensorFlow renames the module that switches RTLD_GLOBAL on, the guard silently stops working: fail instead."""
    spec = importlib.util.find_spec("tensorflow")
    source = (Path(spec.origin).parent / "python" / "pywrap_tensorflow.py").read_text(encoding="utf-8")
    assert "from tensorflow.python import pywrap_dlopen_global_flags" in source


def test_guarded_tensorflow_keeps_its_llvm_out_of_the_global_symbols():
    unguarded = run_python(SYMBOL_CHECK, "unguarded")
    assert unguarded.returncode == 0, unguarded.stderr[-2000:]
    if unguarded.stdout.strip() != "global":
        pytest.skip("this TensorFlow build no longer loads its library with RTLD_GLOBAL: the guard is not needed")
    guarded = run_python(SYMBOL_CHECK, "guarded")
    assert guarded.returncode == 0, guarded.stderr[-2000:]
    assert guarded.stdout.strip() == "local"


@pytest.mark.skipif(importlib.util.find_spec("triton") is None,
                    reason="triton is not installed (CPU build of torch); .ci/run runs this in the CUDA-build environment")
def test_keras_then_a_pytorch_model_in_one_process():
    """The crash the issue reports, as notebook 03 meets it: the Keras classifier (kbalbert.keras_albert, TensorFlow backend), then
    the transformers model class, which imports triton. Exit code 139 (SIGSEGV) before the fix."""
    code = """
import numpy as np
from kbalbert import keras_albert as kn
from transformers import AutoModelForSequenceClassification, AutoTokenizer
import triton  # what transformers imports on the way; explicit so the test does not depend on when it does
path = "assets/albert-movie-wp-small-nsmc"
tokenizer = AutoTokenizer.from_pretrained(path)
inputs = kn.keras_inputs(tokenizer, ["정말 재미있어요", "돈이 아깝다"], 32)
keras_logits = np.asarray(kn.build_classifier(path, copy_head=True).predict_on_batch(inputs))
model = AutoModelForSequenceClassification.from_pretrained(path).eval()
import torch
with torch.no_grad():
    torch_logits = model(input_ids=torch.tensor(inputs["token_ids"]),
                         attention_mask=torch.tensor(inputs["padding_mask"].astype("int64"))).logits.numpy()
print(float(np.abs(keras_logits - torch_logits).max()))
"""
    result = run_python(code, KERAS_BACKEND="tensorflow")
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stderr[-3000:]}"
    assert float(result.stdout.strip().splitlines()[-1]) < 1e-4


@pytest.mark.skipif(importlib.util.find_spec("triton") is None, reason="triton is not installed (CPU build of torch)")
def test_jax_backend_then_triton_in_one_process():
    """Notebook 04's order: Keras on JAX (keras_hub imports TensorFlow for tf.data), then transformers."""
    code = "import kbalbert.keras_albert, keras, jax.numpy as jnp; print(float(jnp.ones(3).sum())); import triton; print('ok')"
    result = run_python(code, KERAS_BACKEND="jax")
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), f"exit {result.returncode}\n{result.stderr[-3000:]}"


def first_tensorflow_import_is_guarded(lines: list[str]) -> tuple[bool, str]:
    """(True, "") when the guard (or importing `kbalbert.keras_albert`, which sets it) comes before the first line that loads
    TensorFlow, Keras or keras_hub; else (False, that line)."""
    guarded = False
    for line in lines:
        if GUARD in line or re.match(r"^\s*(?:from kbalbert import keras_albert|from kbalbert\.keras_albert import|import kbalbert\.keras_albert)", line):
            guarded = True
        elif LOADS_TENSORFLOW.match(line):
            return guarded, line
    return True, ""


NOTEBOOKS = sorted(REPO.glob("[0-9][0-9]-*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebooks_set_the_guard_before_tensorflow(path):
    notebook = nbformat.read(path, as_version=4)
    lines = [line for cell in notebook.cells if cell.cell_type == "code" for line in cell.source.splitlines()]
    ok, line = first_tensorflow_import_is_guarded(lines)
    assert ok, f"{path.name}: `{line.strip()}` loads TensorFlow before `{GUARD}`"


MODULES = sorted([*REPO.glob("*.py"), *REPO.glob("kbalbert/*.py"), *REPO.glob("scripts/*.py"), *REPO.glob("tools/*.py")])


@pytest.mark.parametrize("path", MODULES, ids=[p.relative_to(REPO).as_posix() for p in MODULES])
def test_modules_set_the_guard_before_tensorflow(path):
    ok, line = first_tensorflow_import_is_guarded(path.read_text(encoding="utf-8").splitlines())
    assert ok, f"{path.name}: `{line.strip()}` loads TensorFlow before `{GUARD}`"


def test_the_check_catches_a_missing_guard():
    assert first_tensorflow_import_is_guarded(["import os", "import keras"]) == (False, "import keras")
    assert first_tensorflow_import_is_guarded(["import sys", GUARD, "import tensorflow as tf"])[0]
    assert first_tensorflow_import_is_guarded(["from kbalbert import keras_albert as kn", "import keras_hub"])[0]

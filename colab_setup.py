"""What the notebooks' first cell does on Colab once the repository is cloned: install the packages each notebook needs,
at the versions pinned in requirements.txt (the one list of pins; Colab's own torch stays untouched).

`REPO_URL` is the one place the repository's address is written. The notebooks' setup cells and the README's Colab
badges carry copies (a cell cannot import this module before it has cloned the repository): change the address here
and run `python tools/set_repo_url.py` to rewrite the copies; tests/test_colab_setup.py fails while any copy differs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_URL = "https://github.com/OWNER/kbalbert-nsmc-tutorial"
REPOSITORY = Path(__file__).resolve().parent
REQUIREMENTS = REPOSITORY / "requirements.txt"

_CORE = ["transformers", "tokenizers", "datasets", "koreanize-matplotlib"]
_KERAS = ["tensorflow", "keras", "keras-hub", "scikit-learn"]
# What each notebook imports beyond what Colab preinstalls (torch, numpy, pandas, matplotlib).
PACKAGES = {
    "00": _CORE + ["accelerate", "gensim", "scikit-learn"],
    "01": _CORE + ["accelerate"] + _KERAS + ["onnx", "onnxscript", "onnxruntime"],
    "02": _CORE + ["accelerate", "scikit-learn", "gradio"],
    "03": _CORE + _KERAS,
    "04": _CORE + _KERAS,
}
# Colab's TPU runtime has neither JAX for TPU nor PyTorch (notebook 04's last section runs a transformers pipeline).
TPU_EXTRAS = ["jax[tpu]", "torch"]
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def pins(requirements: Path | str = REQUIREMENTS) -> dict[str, str]:
    """{package name (lower case): "name==version"} from a requirements file."""
    found = {}
    for line in Path(requirements).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].split(";", 1)[0].strip()  # without an environment marker (numpy's, by Python version)
        if "==" in line:
            found[line.split("==", 1)[0].strip().lower()] = line
    return found


def pinned(names: list[str], requirements: Path | str = REQUIREMENTS) -> list[str]:
    """`name==version` for each name (`jax[tpu]` takes jax's pin); fails, naming it, for a package without a pin."""
    table = pins(requirements)
    result = []
    for name in names:
        base, _, extra = name.partition("[")
        if base.lower() not in table:
            raise KeyError(f"{base} has no pin in {requirements}: add `{base}==<version>` there")
        version = table[base.lower()].split("==", 1)[1]
        result.append(f"{base}[{extra}=={version}" if extra else f"{base}=={version}")
    return result


def on_tpu() -> bool:
    return "COLAB_TPU_ADDR" in os.environ or os.path.exists("/dev/accel0") or os.path.exists("/dev/vfio/0")


def pip_commands(notebook: str, tpu: bool = False) -> list[list[str]]:
    """The pip command lines that install what `notebook` ("00" ... "04") needs."""
    if notebook not in PACKAGES:
        raise ValueError(f"unknown notebook {notebook!r}: one of {sorted(PACKAGES)}")
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    # the repository's own package (kbalbert/), editable, so that scripts started from the notebook import it too
    commands = [pip + pinned(PACKAGES[notebook]), pip + ["--no-deps", "-e", str(REPOSITORY)]]
    if tpu and notebook == "04":
        commands.append(pip + pinned(TPU_EXTRAS) + ["--extra-index-url", TORCH_CPU_INDEX])
    return commands


def install(notebook: str) -> list[list[str]]:
    """Runs `pip_commands` (on Colab's TPU runtime, with the TPU extras). With COLAB_SETUP_DRY_RUN=1 it only returns them
    (the tests run the setup cell that way)."""
    commands = pip_commands(notebook, tpu=on_tpu())
    if os.environ.get("COLAB_SETUP_DRY_RUN") != "1":
        for command in commands:
            subprocess.run(command, check=True)
    return commands

"""One precision rule for every notebook and script (PyTorch, Keras on TensorFlow, Keras on JAX).

    requested  accelerator                      chosen
    ---------  -------------------------------  ------------------------------------------------------------
    "auto"     CUDA GPU, compute capability >= 8.0 (A100, L4, H100)   bf16
    "auto"     CUDA GPU below 8.0 (T4, V100)    fp16  (no bf16 hardware; `torch.cuda.is_bf16_supported()`
                                                       says True on a T4 because it counts emulation)
    "auto"     TPU                              bf16  (TPUs have no fp16 matrix units)
    "auto"     CPU                              measured: bf16 only when it trains at least `CPU_MARGIN` times
                                                faster than fp32 over several interleaved steps (AVX-512-BF16 /
                                                AMX CPUs), else fp32 (an AVX2-only CPU here: PyTorch bf16 0.04x)
    "fp32" / "bf16" / "fp16"                    that, if the accelerator can run it at all

`choose` decides, timing a few training steps on a CPU (`measure_cpu`, with `torch_train_step` for PyTorch or
`kbalbert.keras_albert.precision_train_step` for Keras); the notebooks print the measurement and pass the result to
`TrainingArguments` (`trainer_flags`), `torch.autocast` (`autocast`) or Keras (`keras_policy`).
"""

from __future__ import annotations

import contextlib
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

CHOICES = ("auto", "fp32", "bf16", "fp16")
ACCELERATORS = ("cpu", "cuda", "tpu")
CPU_MARGIN = 1.2  # bf16 must train this many times faster than fp32 on a CPU to be chosen
MIN_TIMED_STEPS = 3  # fewer timed steps than this cannot tell a real speed-up from noise: keep fp32
DEFAULT_TIMED_STEPS = 6  # steps timed per precision by a CPU measurement (notebooks, scripts/train_nsmc.py, the MLM stage)
KERAS_POLICIES = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}


@dataclass
class Choice:
    """What was chosen and why; `speeds` holds the CPU measurement (steps per second) when there was one."""

    precision: str
    reason: str
    speeds: dict[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        measured = ", ".join(f"{k} {v:.2f} steps/s" for k, v in self.speeds.items())
        return f"{self.precision} ({self.reason}{'; ' + measured if measured else ''})"


def check(requested: str) -> str:
    """Normalises a user's precision ("BF16", "float32", "bfloat16", ...) to one of CHOICES, or says what is allowed."""
    aliases = {"float32": "fp32", "no": "fp32", "bfloat16": "bf16", "float16": "fp16", "half": "fp16"}
    name = aliases.get(str(requested).strip().lower(), str(requested).strip().lower())
    if name not in CHOICES:
        raise ValueError(f"precision {requested!r} is not one of {', '.join(CHOICES)} (auto lets the code choose).")
    return name


def rule(requested: str, accelerator: str, capability: tuple[int, int] | None = None) -> Choice | None:
    """The decision without measuring: a Choice, or None where only a CPU measurement can decide.

    Args:
        requested: one of CHOICES.
        accelerator: "cpu", "cuda" (also "gpu": an NVIDIA GPU seen by TensorFlow or JAX) or "tpu".
        capability: the CUDA compute capability, e.g. (7, 5) for a T4, (8, 0) for an A100.
    """
    requested = check(requested)
    accelerator = {"gpu": "cuda"}.get(accelerator, accelerator)
    if accelerator not in ACCELERATORS:
        raise ValueError(f"accelerator {accelerator!r} is not one of {ACCELERATORS}")
    if requested == "fp16" and accelerator != "cuda":
        raise ValueError(f"fp16 mixed precision needs a CUDA GPU; on a {accelerator.upper()} use bf16 or fp32.")
    if requested != "auto":
        return Choice(requested, "requested")
    if accelerator == "tpu":
        return Choice("bf16", "TPU: bf16 matrix units")
    if accelerator == "cuda":
        if capability is None:
            raise ValueError("a CUDA GPU needs its compute capability to choose a precision")
        if tuple(capability) >= (8, 0):
            return Choice("bf16", f"GPU compute capability {capability[0]}.{capability[1]} >= 8.0")
        return Choice("fp16", f"GPU compute capability {capability[0]}.{capability[1]} < 8.0: no bf16 hardware")
    return None


def measure_cpu(make_step: Callable[[str], Callable[[], object]], steps: int = 6, give_up_factor: float = 5.0) -> dict[str, float]:
    """Training steps per second in fp32 and bf16 on a CPU, measured the same way for both.

    `make_step(precision)` builds a model for that precision and returns a function that runs one training step on a
    fixed batch. Each precision gets one untimed warm-up step; then the two are timed in turns (fp32, bf16, fp32, ...)
    so that a machine slowing down or speeding up affects both alike, and the median step time is used. bf16 stops
    being timed once one of its steps takes `give_up_factor` times the median fp32 step (AVX2-only CPUs).
    """
    runners = {precision: make_step(precision) for precision in ("fp32", "bf16")}
    for run in runners.values():
        run()  # warm-up: allocation, kernel selection, graph compilation
    times: dict[str, list[float]] = {"fp32": [], "bf16": []}
    for _ in range(steps):
        for precision, run in runners.items():
            if precision == "bf16" and times["bf16"] and times["bf16"][-1] > give_up_factor * statistics.median(times["fp32"]):
                continue
            start = time.perf_counter()
            run()
            times[precision].append(time.perf_counter() - start)
    return {precision: 1 / statistics.median(values) for precision, values in times.items()}


def decide_cpu(speeds: dict[str, float], timed_steps: int) -> Choice:
    """bf16 on a CPU only with a clear margin over enough steps; fp32 otherwise."""
    if timed_steps < MIN_TIMED_STEPS:
        return Choice("fp32", f"CPU: {timed_steps} timed steps are too few to measure bf16 against", speeds)
    ratio = speeds["bf16"] / speeds["fp32"]
    if ratio >= CPU_MARGIN:
        return Choice("bf16", f"CPU: bf16 measured {ratio:.2f}x fp32 (>= {CPU_MARGIN})", speeds)
    return Choice("fp32", f"CPU: bf16 measured {ratio:.2f}x fp32 (< {CPU_MARGIN})", speeds)


def timed_steps() -> int:
    """How many steps a CPU measurement times in each precision: 6, or the PRECISION_BENCH_STEPS environment variable
    (the notebook tests set it lower to save time; below MIN_TIMED_STEPS nothing is measured and fp32 is kept)."""
    import os

    value = os.environ.get("PRECISION_BENCH_STEPS", str(DEFAULT_TIMED_STEPS))
    if not value.isdigit():
        raise ValueError(f"PRECISION_BENCH_STEPS must be a whole number of steps, got {value!r}")
    return int(value)


def choose(
    requested: str,
    accelerator: str,
    capability: tuple[int, int] | None = None,
    make_step: Callable[[str], Callable[[], object]] | None = None,
    steps: int | None = None,
    record=None,
) -> Choice:
    """The precision to train with: `rule` where it decides, else the CPU measurement (`measure_cpu`, `decide_cpu`)
    over `steps` timed steps (default `timed_steps()`).

    `record`: a JSON file in the run's output folder. A measured decision is written there, and a rerun that finds it
    takes it instead of measuring again: a run resumed from its checkpoints goes on at the precision it started with
    (two measurements near `CPU_MARGIN` can decide differently), and the processes it starts are given the same one."""
    import json
    from pathlib import Path

    decided = rule(requested, accelerator, capability)
    if decided is not None:
        return decided
    if record is not None and Path(record).is_file():
        stored = json.loads(Path(record).read_text())
        return Choice(stored["precision"], f"{stored['reason']}; measured by this folder's first run", stored["speeds"])
    steps = timed_steps() if steps is None else steps
    if make_step is None or steps < MIN_TIMED_STEPS:
        choice = decide_cpu({}, 0 if make_step is None else steps)
    else:
        choice = decide_cpu(measure_cpu(make_step, steps), steps)
    if record is not None:
        from kbalbert import runs

        runs.write_json(record, {"precision": choice.precision, "reason": choice.reason, "speeds": choice.speeds})
    return choice


def cpu_description() -> str:
    """"x86_64, 2 CPU cores": what the notebooks print and write into model cards for a CPU run."""
    import os
    import platform

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores"


def cpu_flags() -> str:
    """The CPU's model name and the flags that decide bf16 speed here ("AMD EPYC; avx2" or "...; avx2 avx512_bf16
    amx_bf16"), read from /proc/cpuinfo; what bench results record as "the machine". Empty off Linux."""
    from pathlib import Path

    info = Path("/proc/cpuinfo")
    if not info.exists():
        return ""
    text = info.read_text()
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")), "")
    flags = set(next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), []))
    wanted = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile") if f in flags]
    return f"{model}; {' '.join(wanted) or 'no avx2'}"


def torch_accelerator() -> tuple[str, tuple[int, int] | None, str]:
    """`(accelerator, compute capability, machine description)` for PyTorch: "cuda" or "cpu"."""
    import torch

    if torch.cuda.is_available():
        return "cuda", tuple(torch.cuda.get_device_capability(0)), torch.cuda.get_device_name(0)
    return "cpu", None, cpu_description()


def trainer_flags(precision: str) -> dict[str, bool]:
    """`TrainingArguments(**trainer_flags(p))`: bf16/fp16 mixed precision (fp32 weights, 16-bit matrix products)."""
    precision = check(precision)
    if precision == "auto":
        raise ValueError("choose a precision first (precision.choose), then pass it here")
    return {"bf16": precision == "bf16", "fp16": precision == "fp16"}


def autocast(precision: str, device_type: str):
    """A `torch.autocast` context for this precision (a no-op context for fp32)."""
    import torch

    precision = check(precision)
    if precision in ("fp32", "auto"):
        return contextlib.nullcontext()
    return torch.autocast(device_type, dtype=torch.bfloat16 if precision == "bf16" else torch.float16)


def keras_policy(precision: str) -> str:
    """The Keras global dtype policy for this precision."""
    precision = check(precision)
    if precision == "auto":
        raise ValueError("choose a precision first (precision.choose), then pass it here")
    return KERAS_POLICIES[precision]


def cuda_capability_from_string(text: str | None) -> tuple[int, int] | None:
    """"8.0" (JAX's `device.compute_capability`) or (8, 0) (TensorFlow's device details) as a tuple."""
    if text is None:
        return None
    if isinstance(text, (tuple, list)):
        return int(text[0]), int(text[1])
    major, _, minor = str(text).partition(".")
    return int(major), int(minor or 0)


def torch_train_step(build_model: Callable[[], object], batch: dict, device: str):
    """A `make_step` for `measure_cpu`/`choose` in PyTorch: `build_model()` is trained on one fixed `batch` (a dict of
    tensors with `labels`) with AdamW, under `autocast(precision)`."""
    import torch

    def make_step(precision_name: str):
        torch.manual_seed(0)
        model = build_model().to(device).train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
        inputs = {k: v.to(device) for k, v in batch.items()}

        def step():
            with autocast(precision_name, device):
                loss = model(**inputs).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            if device == "cuda":
                torch.cuda.synchronize()  # CUDA runs asynchronously: wait, or the clock measures only the launch

        return step

    return make_step

"""The one precision rule (precision.py) on simulated devices: T4, A100, H100, TPU, CPUs with and without fast bf16."""

import re
from pathlib import Path

import nbformat
import pytest

from kbalbert import precision

REPO = Path(__file__).resolve().parents[1]


class FakeClock:
    """Stands in for `time.perf_counter` inside precision.py: time moves only when a fake step says so, so the
    measurement sees exactly the step times given, however loaded the machine is."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture(autouse=True)
def fake_clock(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(precision.time, "perf_counter", clock)
    return clock


def sleeper(seconds_by_precision, calls=None):
    """A fake `make_step`: each precision's step takes a fixed time on the fake clock, like a CPU whose bf16 is that
    fast."""
    clock = precision.time.perf_counter  # the fake clock (fixture above)

    def make_step(name):
        def step():
            if calls is not None:
                calls[name] = calls.get(name, 0) + 1
            clock.now += seconds_by_precision[name]

        return step

    return make_step


@pytest.mark.parametrize(
    "capability, expected",
    [((7, 5), "fp16"), ((7, 0), "fp16"), ((6, 0), "fp16"), ((8, 0), "bf16"), ((8, 9), "bf16"), ((9, 0), "bf16")],
    ids=["T4", "V100", "P100", "A100", "L4", "H100"],
)
def test_cuda_rule_by_compute_capability(capability, expected):
    choice = precision.choose("auto", "cuda", capability)
    assert choice.precision == expected
    assert precision.choose("auto", "gpu", capability).precision == expected  # TensorFlow/JAX name for it


def test_tpu_is_bf16_and_refuses_fp16():
    assert precision.choose("auto", "tpu").precision == "bf16"
    with pytest.raises(ValueError, match="fp16 mixed precision needs a CUDA GPU"):
        precision.choose("fp16", "tpu")


def test_cpu_with_fast_bf16_chooses_bf16():
    choice = precision.choose("auto", "cpu", make_step=sleeper({"fp32": 0.02, "bf16": 0.008}), steps=4)
    assert choice.precision == "bf16" and choice.speeds["bf16"] > 2 * choice.speeds["fp32"], choice


def test_cpu_without_bf16_hardware_chooses_fp32_and_gives_up_early():
    calls = {}
    choice = precision.choose("auto", "cpu", make_step=sleeper({"fp32": 0.005, "bf16": 0.05}, calls), steps=6)
    assert choice.precision == "fp32", choice
    assert calls["fp32"] == 7 and calls["bf16"] == 2, calls  # warm-up + 1 timed bf16 step, then it stops timing bf16


def test_cpu_within_noise_keeps_fp32():
    choice = precision.choose("auto", "cpu", make_step=sleeper({"fp32": 0.02, "bf16": 0.019}), steps=4)
    assert choice.precision == "fp32" and "< 1.2" in choice.reason, choice


def test_cpu_with_too_few_steps_keeps_fp32_without_measuring():
    calls = {}
    choice = precision.choose("auto", "cpu", make_step=sleeper({"fp32": 0.01, "bf16": 0.001}, calls), steps=2)
    assert choice.precision == "fp32" and not calls


def test_a_measured_choice_is_kept_for_the_runs_that_resume_it(tmp_path):
    """Issue 42: two measurements near the margin can decide differently, and a rerun of notebook 02 then resumed the
    fp32 run in bf16 and gave its accelerate run a precision that run's folder refused. The first measurement is kept
    in the output folder; a rerun takes it without measuring; a rule's decision is neither read nor written."""
    record = tmp_path / "run" / "precision.json"
    first = precision.choose("auto", "cpu", make_step=sleeper({"fp32": 0.02, "bf16": 0.008}), steps=4, record=record)
    assert first.precision == "bf16" and record.is_file()
    calls = {}
    again = precision.choose("auto", "cpu", make_step=sleeper({"fp32": 0.005, "bf16": 0.05}, calls), steps=4, record=record)
    assert again.precision == "bf16" and not calls and again.speeds == first.speeds
    assert "first run" in again.reason and first.reason in again.reason
    assert precision.choose("fp32", "cpu", make_step=sleeper({"fp32": 0.02, "bf16": 0.008}), steps=4,
                            record=record).precision == "fp32"  # asked for explicitly: the record does not override it
    assert precision.choose("auto", "cuda", (7, 5), record=tmp_path / "gpu.json").precision == "fp16"
    assert not (tmp_path / "gpu.json").exists()
    # without a record, every call measures
    assert precision.choose("auto", "cpu", make_step=sleeper({"fp32": 0.005, "bf16": 0.05}), steps=4).precision == "fp32"


def test_the_number_of_timed_steps_comes_from_one_place(monkeypatch):
    """Notebooks no longer carry a BENCH_STEPS parameter: 6 steps, or PRECISION_BENCH_STEPS (the notebook tests)."""
    calls = {}
    monkeypatch.delenv("PRECISION_BENCH_STEPS", raising=False)
    assert precision.timed_steps() == precision.DEFAULT_TIMED_STEPS == 6
    monkeypatch.setenv("PRECISION_BENCH_STEPS", "2")
    choice = precision.choose("auto", "cpu", make_step=sleeper({"fp32": 0.01, "bf16": 0.001}, calls))
    assert choice.precision == "fp32" and not calls and "2 timed steps" in choice.reason
    monkeypatch.setenv("PRECISION_BENCH_STEPS", "six")
    with pytest.raises(ValueError, match="PRECISION_BENCH_STEPS"):
        precision.timed_steps()


def test_user_override_wins_everywhere():
    for accelerator, capability in [("cpu", None), ("cuda", (7, 5)), ("cuda", (9, 0)), ("tpu", None)]:
        assert precision.choose("fp32", accelerator, capability).precision == "fp32"
        assert precision.choose("BF16", accelerator, capability).precision == "bf16"
    assert precision.choose("float16", "cuda", (8, 0)).precision == "fp16"
    with pytest.raises(ValueError, match="fp16 mixed precision needs a CUDA GPU"):
        precision.choose("fp16", "cpu")
    with pytest.raises(ValueError, match="not one of auto, fp32, bf16, fp16"):
        precision.choose("int8", "cpu")


def test_simulated_t4_in_torch(monkeypatch):
    """A T4 says `is_bf16_supported() == True` (emulation); the rule must still pick fp16."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *a: (7, 5))
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a: "Tesla T4")
    accelerator, capability, machine = precision.torch_accelerator()
    assert (accelerator, capability, machine) == ("cuda", (7, 5), "Tesla T4")
    choice = precision.choose("auto", accelerator, capability)
    assert choice.precision == "fp16"
    assert precision.trainer_flags(choice.precision) == {"bf16": False, "fp16": True}


def test_flags_policies_and_autocast():
    import torch

    assert precision.trainer_flags("fp32") == {"bf16": False, "fp16": False}
    assert precision.trainer_flags("bf16") == {"bf16": True, "fp16": False}
    assert [precision.keras_policy(p) for p in ("fp32", "bf16", "fp16")] == ["float32", "mixed_bfloat16", "mixed_float16"]
    with pytest.raises(ValueError, match="choose a precision first"):
        precision.trainer_flags("auto")
    layer = torch.nn.Linear(4, 4)
    with precision.autocast("bf16", "cpu"):
        assert layer(torch.ones(1, 4)).dtype == torch.bfloat16
    with precision.autocast("fp32", "cpu"):
        assert layer(torch.ones(1, 4)).dtype == torch.float32
    assert precision.cuda_capability_from_string("8.6") == (8, 6) and precision.cuda_capability_from_string((7, 5)) == (7, 5)


NOTEBOOKS = sorted(REPO.glob("[0-9][0-9]-*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_notebook_chooses_precision_through_the_helper(path):
    """No notebook has its own precision rule: a PRECISION parameter, the helper's choice, no `is_bf16_supported`."""
    notebook = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    parameters = next(c.source for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    assert re.search(r'^PRECISION = "auto"', parameters, re.M), "PRECISION parameter (auto/fp32/bf16/fp16)"
    # through precision.choose in the notebook, or through train_nsmc.finetune (which calls it) with PRECISION passed on
    assert "precision.choose(PRECISION" in code or "pr.choose(PRECISION" in code or "precision=PRECISION" in code
    assert "is_bf16_supported" not in code
    assert not re.search(r'"mixed_(b)?float16" if', code), "a hard-coded Keras policy rule"

"""Training throughput of notebook 02's recipe vs the 2020 tutorial's recipe, side by side in one run, same model and data.

    python bench/finetune_speed.py                 # writes bench/results/finetune_speed.json
    python bench/finetune_speed.py --steps-2020 5 --steps-ours 15 --reviews 4000 --rounds 1   # quicker
    python bench/finetune_speed.py --compile       # also our recipe under torch.compile

- 2020 recipe: every review padded to 128 tokens when the dataset is built, fp32, random batches.
- ours: truncation only, `DataCollatorWithPadding` (pad per batch), `train_sampling_strategy="group_by_length"`,
  and bf16 autocast only with `--bf16` (on an AVX2-only CPU bf16 is far slower than fp32; notebook 02 measures it);
  `--compile` adds a row with `TrainingArguments(torch_compile=True)` (TorchInductor; its compile time is in the warm-up).
Both train `AutoModelForSequenceClassification` from the same checkpoint with the same batch size and optimiser through
the Trainer; the first steps are a warm-up and are not timed. Each recipe is measured `--rounds` times, interleaved, and the median
is reported (single runs of the same recipe differed by up to a third on the 2-core VM). Run it alone: another CPU-heavy
process skews it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("NSMC_DIR", str(REPO.parent / "shared" / "data" / "nsmc"))

import torch  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    default_data_collator,
)

import tokenization_kbalbert  # noqa: E402, F401
from kbalbert import data as kd  # noqa: E402
from kbalbert import finetuning  # noqa: E402


class StepTimer(TrainerCallback):
    """Wall time of the training steps after the first `skip` (warm-up) ones."""

    def __init__(self, skip: int):
        self.skip, self.start, self.end = skip, None, None

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.skip:
            self.start = time.perf_counter()
        self.end = time.perf_counter()


def measure(name, model_path, dataset, collator, steps, batch_size, warmup, out, **extra):
    model = AutoModelForSequenceClassification.from_pretrained(model_path, num_labels=2)
    args = TrainingArguments(
        output_dir=str(out / name), max_steps=warmup + steps, per_device_train_batch_size=batch_size,
        learning_rate=5e-4, save_strategy="no", report_to="none", disable_tqdm=True, use_cpu=not torch.cuda.is_available(),
        seed=42, **extra,
    )
    timer = StepTimer(warmup)
    trainer = Trainer(model=model, args=args, train_dataset=dataset, data_collator=collator, callbacks=[timer])
    trainer.train()
    seconds = timer.end - timer.start
    return {"recipe": name, "timed_steps": steps, "seconds": round(seconds, 2),
            "reviews_per_second": round(steps * batch_size / seconds, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-path", default=str(REPO / "assets" / "albert-movie-char-small"))
    parser.add_argument("--reviews", type=int, default=20000, help="training reviews to draw batches from")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps-2020", type=int, default=15)
    parser.add_argument("--steps-ours", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=3, help="untimed first steps of the 2020 recipe (one batch shape)")
    parser.add_argument("--warmup-ours", type=int, default=20,
                        help="untimed first steps of our rows (varying shapes: covers torch.compile's recompilations)")
    parser.add_argument("--bf16", action="store_true", help="also time our recipe with bf16 autocast")
    parser.add_argument("--compile", action="store_true", help="also time our recipe under torch.compile")
    parser.add_argument("--rounds", type=int, default=3, help="times each recipe is measured (the median is reported)")
    parser.add_argument("--output", default=str(REPO / "bench" / "results" / "finetune_speed.json"))
    args = parser.parse_args()

    tokenizer = AutoTokenizer.from_pretrained(args.model_path)
    train = kd.nsmc_splits(kd.load_nsmc(), train_size=args.reviews)["train"]
    static = train.map(lambda b: tokenizer(b["document"], padding="max_length", truncation=True, max_length=128),
                       batched=True, remove_columns=["id", "document"])
    dynamic = finetuning.tokenize_splits(train, tokenizer, max_length=128)  # notebook 02's tokenisation
    out = Path("/tmp/kbalbert-finetune-speed")
    collator = DataCollatorWithPadding(tokenizer)
    grouped = {"train_sampling_strategy": "group_by_length"}
    recipes = [  # (name, dataset, collator, timed steps, warm-up steps, extra TrainingArguments)
        ("2020: pad to 128, fp32, random batches", static, default_data_collator, args.steps_2020, args.warmup, {}),
        ("ours: dynamic padding + group_by_length, fp32", dynamic, collator, args.steps_ours, args.warmup_ours, grouped),
    ]
    if args.bf16:
        recipes.append(("ours + bf16 autocast", dynamic, collator, args.steps_ours, args.warmup_ours, {**grouped, "bf16": True}))
    if args.compile:
        recipes.append(("ours + torch.compile, fp32", dynamic, collator, args.steps_ours, args.warmup_ours,
                        {**grouped, "torch_compile": True}))
    runs = {name: [] for name, *_ in recipes}
    for _ in range(args.rounds):  # rounds interleave the recipes, so a slow spell of the machine hits all of them
        for name, dataset, data_collator, steps, warmup, extra in recipes:
            runs[name].append(measure(name, args.model_path, dataset, data_collator, steps, args.batch_size, warmup, out, **extra))
    rows = []
    for name, measured in runs.items():
        speeds = [m["reviews_per_second"] for m in measured]
        rows.append({"recipe": name, "timed_steps": measured[0]["timed_steps"], "rounds": len(speeds),
                     "reviews_per_second": round(statistics.median(speeds), 1), "reviews_per_second_each_round": speeds})
    baseline = rows[0]["reviews_per_second"]
    for row in rows:
        row["speedup_vs_2020"] = round(row["reviews_per_second"] / baseline, 2)
    result = {
        "model": Path(args.model_path).name, "batch_size": args.batch_size, "reviews_drawn_from": train.num_rows,
        "torch_threads": torch.get_num_threads(), "torch": torch.__version__, "command": " ".join(["python", *sys.argv]),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores", "rows": rows,
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

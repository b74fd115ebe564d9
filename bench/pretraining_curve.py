"""What more pretraining buys: NSMC accuracy of pretraining checkpoints, each fine-tuned with the same small budget.

    python bench/pretraining_curve.py CHECKPOINT [CHECKPOINT ...]
    python bench/pretraining_curve.py /work/runs/00-snapshots/checkpoint-* assets/albert-movie-char-small

Each CHECKPOINT is a folder with a pretrained ALBERT and its tokenizer: a Trainer checkpoint of notebook 00
(`OUTPUT_DIR/checkpoints/checkpoint-N`, which also holds `trainer_state.json` with the step and the held-out MLM/SOP
accuracy) or an exported model folder (its `pretraining_log.json` is read instead). Every one is fine-tuned with
`finetuning.finetune` on the same budget (default: 20,000 training reviews, 1 epoch, lr 5e-4, the usual 5,000
validation reviews) and scored on the same 5,000 test reviews, so only the pretraining differs. Smaller than notebook
02's full budget (145,000 reviews, 22 minutes each) so that many checkpoints fit in an hour; the full-budget number of
the final model is in the README.

Finished fine-tunes are cached in the output JSON (by folder, pretraining step and budget) and skipped on the next run;
an interrupted one resumes from its checkpoints in `--work-dir`, in a folder named after the checkpoint, its pretraining
step and the budget (so neither a different budget nor a re-exported, longer-trained model resumes another run). Pretraining time is given as steps, reviews seen, and CPU minutes at `--seconds-per-step` (default: 0.8 s, the
rate of notebook 00's default model, batch 64, measured running alone on the 2-core machine, README).
Run it alone: another CPU-heavy process skews it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("NSMC_DIR", str(REPO.parent / "shared" / "data" / "nsmc"))

from kbalbert import finetuning  # noqa: E402


def pretraining_info(folder: Path) -> dict:
    """Step, batch size and the last held-out MLM/SOP accuracy recorded for a checkpoint or an exported model."""
    source = next((folder / n for n in ("trainer_state.json", "pretraining_log.json") if (folder / n).exists()), None)
    if source is None:
        raise FileNotFoundError(f"{folder}: neither trainer_state.json (a Trainer checkpoint) nor pretraining_log.json (an exported model).")
    data = json.loads(source.read_text())  # both are a Trainer state
    history, step, batch = data["log_history"], data["global_step"], data.get("train_batch_size")
    evals = [e for e in history if "eval_mlm_accuracy" in e and e.get("step", 0) <= step]
    last = evals[-1] if evals else {}
    return {"step": step, "batch_size": batch, "mlm_accuracy": last.get("eval_mlm_accuracy"), "sop_accuracy": last.get("eval_sop_accuracy")}


def plot(rows: list[dict], seconds_per_step: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = sorted((r for r in rows if r["series"] == "curve"), key=lambda r: r["step"])
    fig, ax = plt.subplots(figsize=(7, 4.2))
    minutes = [r["step"] * seconds_per_step / 60 for r in curve]
    ax.plot(minutes, [r["test_accuracy"] for r in curve], "o-", label="checkpoints of one pretraining run")
    for r in rows:
        if r["series"] != "curve":
            ax.plot(r["step"] * seconds_per_step / 60, r["test_accuracy"], "s", label=r["name"])
    mlm = ax.twinx()
    mlm.plot(minutes, [r["mlm_accuracy"] for r in curve], "^--", color="gray", label="held-out MLM accuracy (right axis)")
    mlm.set_ylabel("held-out MLM accuracy", color="gray")
    ax.set_xlabel(f"pretraining time, CPU minutes (steps x {seconds_per_step} s, 2-core CPU)")
    ax.set_ylabel("NSMC test accuracy (5,000 reviews)")
    ax.set_title(f"Fine-tuned on {rows[0]['train_reviews']:,} reviews, 1 epoch, each")
    ax.grid(alpha=0.3)
    handles = ax.get_legend_handles_labels()[0] + mlm.get_legend_handles_labels()[0]
    ax.legend(handles=handles, fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument("--train-size", type=int, default=20000)
    parser.add_argument("--test-size", type=int, default=5000)
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument("--seconds-per-step", type=float, default=0.8)
    parser.add_argument("--work-dir", type=Path, default=REPO / "outputs" / "pretraining-curve")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "pretraining_curve.json")
    args = parser.parse_args()

    done = json.loads(args.output.read_text())["rows"] if args.output.exists() else []
    rows = {r["checkpoint"]: r for r in done}
    for folder in args.checkpoints:
        key = os.path.relpath(folder.resolve(), REPO) if folder.resolve().is_relative_to(REPO) else str(folder.resolve())
        info = pretraining_info(folder)
        budget = (info["step"], args.train_size, args.test_size, args.learning_rate)
        cached = rows.get(key)
        if cached and (cached["step"], cached["train_reviews"], cached["test_reviews"], cached["learning_rate"]) == budget:
            print(f"{key}: cached, test accuracy {cached['test_accuracy']:.4f}")
            continue
        name = folder.name
        # the pretraining step is in the name: an exported folder replaced by a longer-trained model never resumes the
        # old model's fine-tuning
        run_dir = args.work_dir / f"{name}-step{info['step']}-train{args.train_size}-lr{args.learning_rate:g}"
        config = finetuning.FinetuneConfig(model_path=str(folder), train_size=args.train_size, test_size=args.test_size,
                                           quiet=True)
        metrics = finetuning.finetune(config, finetuning.training_arguments(
            output_dir=str(run_dir), learning_rate=args.learning_rate, eval_steps=100))
        rows[key] = {
            "checkpoint": key, "name": name, "series": "curve" if (folder / "trainer_state.json").exists() else "exported model",
            **info, "reviews_seen": info["step"] * (info["batch_size"] or 64),
            "train_reviews": args.train_size, "test_reviews": metrics["test_reviews"], "learning_rate": args.learning_rate,
            "validation_accuracy": metrics["validation_accuracy"], "test_accuracy": metrics["test_accuracy"],
        }
        print(json.dumps(rows[key]), flush=True)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps({"command": " ".join(["python bench/pretraining_curve.py", *sys.argv[1:]]),
                                           "seconds_per_step": args.seconds_per_step, "rows": list(rows.values())}, indent=2) + "\n")
    ordered = sorted(rows.values(), key=lambda r: r["step"])
    plot(ordered, args.seconds_per_step, args.output.with_suffix(".png"))
    for r in ordered:
        mlm = f"{r['mlm_accuracy']:.3f}" if r["mlm_accuracy"] is not None else "-"
        print(f"{r['name']:<28} step {r['step']:>6}  MLM acc {mlm}  test {r['test_accuracy']:.4f}  (val {r['validation_accuracy']:.4f})")


if __name__ == "__main__":
    main()

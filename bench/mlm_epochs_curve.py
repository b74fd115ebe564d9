"""NSMC accuracy against corpus epochs of masked-language-model pretraining: one continued MLM run from a pretrained
folder, snapshots at chosen epoch marks, each snapshot fine-tuned with notebook 02's recipe (train_nsmc defaults).

    python bench/mlm_epochs_curve.py --corpus-epochs 4.4 --snapshots 1 2 3 4.4 --finetune 2 4.4
    python bench/mlm_epochs_curve.py --finetune 0                  # the start folder itself, same fine-tuning
    python bench/mlm_epochs_curve.py --corpus-epochs 4.4 --snapshots 1 2 3 --finetune 2 3 --finetune-only   # stopped early

The MLM stage is `pretraining.train_mlm` (masked-only head, length grouping, device and precision by
`precision.py`'s rule) continued from `--start` (default the shipped `assets/albert-movie-wp-small`, 0.62 corpus
epochs): warm-up 6%, then linear decay to 0 at `--corpus-epochs`, so a snapshot before the end is mid-schedule.
`--start-epochs` is what the start has already seen; the table's epochs are that plus the added ones.
Every fine-tune is `finetuning.finetune` with the recipe's TrainingArguments (1 epoch, batch 64, lr 3e-4, seed 42; best
checkpoint by validation accuracy on the 5,000-review split, scored once on all 50,000 test reviews).

Resumes: the MLM run from its last checkpoint (refusing other settings), snapshots and fine-tunes are skipped when
their folder is complete. Results: `<out>/curve.json` (copy it to bench/results/). Run it alone: another CPU-heavy
process skews the times.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("CORPUS_PATH", str(REPO.parent / "shared" / "data" / "movie-reviews" / "reviews.txt"))
os.environ.setdefault("NSMC_DIR", str(REPO.parent / "shared" / "data" / "nsmc"))


def tag(epochs: float) -> str:
    return f"{epochs:g}"


def snapshot_callback(start_dir: Path, out: Path, steps: dict[int, str], tokenizer):
    """Writes `<out>/snapshot-<tag>` (an AlbertForPreTraining folder with the tokenizer) when training reaches each
    step; written to a temporary folder and renamed, so a half-written snapshot is never taken for a finished one."""
    from transformers import TrainerCallback

    import tokenization_kbalbert
    from kbalbert import pretraining

    class Snapshots(TrainerCallback):
        def on_step_end(self, args, state, control, model=None, **kwargs):
            name = steps.get(state.global_step)
            target = out / f"snapshot-{name}"
            if name is None or target.exists():
                return
            partial = out / f".partial-snapshot-{name}"
            shutil.rmtree(partial, ignore_errors=True)
            pretraining.save_with_start_heads(model, start_dir, partial)
            tokenization_kbalbert.save_tokenizer(tokenizer, partial)
            (partial / "snapshot.json").write_text(json.dumps({"step": state.global_step, "added_epochs": name}))
            partial.rename(target)
            print(f"snapshot {target} at step {state.global_step}", flush=True)

    return Snapshots()


def main():
    from transformers import AutoTokenizer

    from kbalbert import data as kd
    from kbalbert import finetuning, precision, pretraining

    defaults = pretraining.MlmSettings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--start", default="assets/albert-movie-wp-small")
    parser.add_argument("--start-epochs", type=float, default=0.62, help="corpus epochs the start has already seen")
    parser.add_argument("--out", default="outputs/bench/mlm-epochs")
    parser.add_argument("--corpus-epochs", type=float, default=4.4, help="epochs this run adds")
    parser.add_argument("--snapshots", type=float, nargs="*", default=[], help="added epochs at which to save the model")
    parser.add_argument("--finetune", type=float, nargs="*", default=[],
                        help="added epochs whose snapshot is fine-tuned (0: the start itself)")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    parser.add_argument("--max-docs", type=int, default=None, help="a corpus prefix (a quick try)")
    parser.add_argument("--train-size", type=int, default=None, help="NSMC train reviews for the fine-tunes (a quick try)")
    parser.add_argument("--test-size", type=int, default=None)
    parser.add_argument("--eval-steps", type=int, default=1000)
    parser.add_argument("--save-steps", type=int, default=500)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--finetune-only", action="store_true",
                        help="do not start or resume the MLM run: fine-tune the snapshots it has written so far")
    args = parser.parse_args()
    if args.corpus_epochs <= 0 or any(e <= 0 or e > args.corpus_epochs for e in args.snapshots):
        parser.error("--corpus-epochs must be positive and every --snapshots value in (0, --corpus-epochs].")
    if any(e != 0 and e not in args.snapshots and e != args.corpus_epochs for e in args.finetune):
        parser.error("each --finetune value must be 0, a --snapshots value or --corpus-epochs.")

    out, start_dir = Path(args.out), Path(args.start)
    out.mkdir(parents=True, exist_ok=True)
    results_file = out / "curve.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    results.update(command="python bench/mlm_epochs_curve.py " + " ".join(sys.argv[1:]),
                   machine=f"{precision.cpu_description()} ({precision.cpu_flags()})")

    snapshots = sorted(set(args.snapshots) | {args.corpus_epochs})
    missing = [e for e in args.finetune if e != 0 and not (out / f"snapshot-{tag(e)}").is_dir()]
    if args.finetune_only and missing:
        parser.error(f"--finetune-only: no snapshot yet for {', '.join(map(tag, missing))} added epochs in {out}.")
    if not args.finetune_only and not all((out / f"snapshot-{tag(e)}").is_dir() for e in snapshots):
        corpus = kd.load_corpus(os.environ["CORPUS_PATH"])
        if args.max_docs:
            corpus = corpus.select(range(min(args.max_docs, corpus.num_rows)))
        settings = pretraining.MlmSettings(
            corpus_epochs=args.corpus_epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
            eval_steps=args.eval_steps, save_steps=args.save_steps, precision=args.precision, quiet=True)
        rows = sum(len(t.strip()) >= 2 for t in corpus["text"]) - settings.held_out  # train_mlm's training rows
        steps = {math.ceil(e * rows / args.batch_size): tag(e) for e in snapshots}
        tokenizer = AutoTokenizer.from_pretrained(str(start_dir))
        started = time.perf_counter()
        report = pretraining.train_mlm(start_dir, corpus, out / "mlm", settings,
                                         callbacks=[snapshot_callback(start_dir, out, steps, tokenizer)])
        report["wall_minutes_this_run"] = round((time.perf_counter() - started) / 60, 1)
        results["mlm"] = report
        results_file.write_text(json.dumps(results, indent=2, ensure_ascii=False))

    points = results.setdefault("points", {})
    for added in args.finetune:
        folder = start_dir if added == 0 else out / f"snapshot-{tag(added)}"
        name = tag(added)
        if name in points:
            continue
        started = time.perf_counter()
        metrics = finetuning.finetune(
            finetuning.FinetuneConfig(model_path=str(folder), train_size=args.train_size, test_size=args.test_size,
                                      precision=args.precision, quiet=True),
            finetuning.training_arguments(output_dir=str(out / f"finetune-{name}")))
        points[name] = {"corpus_epochs": round(args.start_epochs + added, 2), "model": str(folder),
                        "wall_minutes": round((time.perf_counter() - started) / 60, 1),
                        **{k: metrics[k] for k in ("device", "precision", "steps", "train_minutes", "validation_accuracy",
                                                   "test_accuracy", "test_f1", "test_reviews")}}
        results_file.write_text(json.dumps(results, indent=2, ensure_ascii=False))
        print(f"[{name}] {points[name]}", flush=True)
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

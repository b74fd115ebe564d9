"""Distillation over the unlabelled reviews: can the student ALBERT learn more from a teacher than from NSMC's labels?

    python bench/distill.py --unlabeled 100000     # writes bench/results/distill-<n>.json

1. Teachers, trained on NSMC train minus the 5,000-review validation split only: TF-IDF char 2-5-grams + logistic
   regression (`train_nsmc.tfidf_teacher`), and the fine-tuned ALBERT of the recipe (scripts/build_default_model.py).
   Their probability average is the ensemble teacher; its weight is chosen on the validation split.
2. Unlabelled reviews: the corpus minus every NSMC train review (exact text), a seeded sample of `--unlabeled`.
3. Student: the recipe's starting ALBERT (WordPiece + word2vec), trained 1 epoch on NSMC train (gold labels) plus the
   unlabelled reviews (the teacher's probabilities as soft targets; `train_nsmc.finetune(soft_targets=...)`), best
   checkpoint by validation accuracy, scored once on NSMC test. At inference the student is the ALBERT alone.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("NSMC_DIR", str(REPO.parent / "shared" / "data" / "nsmc"))
os.environ.setdefault("CORPUS_PATH", str(REPO.parent / "shared" / "data" / "movie-reviews" / "reviews.txt"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work-dir", default="outputs/default-model", help="the recipe's folder (pretrained/, nsmc/model)")
    parser.add_argument("--unlabeled", type=int, default=100_000, help="how many unlabelled reviews (0: all of them)")
    parser.add_argument("--init", choices=["pretrained", "classifier"], default="pretrained",
                        help="the student's starting point: the recipe's pretrained ALBERT, or its fine-tuned classifier")
    parser.add_argument("--eval-steps", type=int, default=500)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--out", default="outputs/distill")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    import kbalbert_data
    import precision
    import train_nsmc

    work, root = Path(args.work_dir), Path(args.out)
    name = f"unlabeled-{args.unlabeled or 'all'}" + ("" if args.init == "pretrained" else f"-from-classifier-lr{args.learning_rate:g}")
    out = root / name
    out.mkdir(parents=True, exist_ok=True)
    report = {"command": "python bench/distill.py " + " ".join(sys.argv[1:]),
              "machine": f"{precision.cpu_description()} ({precision.cpu_flags()})"}
    splits = kbalbert_data.nsmc_splits(kbalbert_data.load_nsmc(), 5000, args.seed)
    train, validation = splits["train"], splits["validation"]
    y_val = np.array(validation["label"])

    corpus = kbalbert_data.load_corpus(os.environ["CORPUS_PATH"])
    seen = set(train["document"]) | set(validation["document"])
    pool = [t for t in corpus["text"] if t not in seen]
    rng = np.random.default_rng(args.seed)
    chosen = np.sort(rng.choice(len(pool), size=min(args.unlabeled or len(pool), len(pool)), replace=False))
    unlabeled = [pool[i] for i in chosen]
    report["unlabeled_pool"], report["unlabeled_used"] = len(pool), len(unlabeled)

    # The teachers label the whole pool once (outputs/distill/teacher-pool.npz); each run takes its sample from it.
    teacher_file = root / "teacher-pool.npz"
    if not teacher_file.exists():
        start = time.perf_counter()
        tfidf = train_nsmc.tfidf_teacher().fit(train["document"], train["label"])
        albert = work / "nsmc" / "model"
        np.savez(teacher_file, tfidf_val=tfidf.predict_proba(validation["document"]), tfidf_unl=tfidf.predict_proba(pool),
                 albert_val=train_nsmc.predict_proba(albert, validation["document"]),
                 albert_unl=train_nsmc.predict_proba(albert, pool))
        report["teacher_seconds"] = round(time.perf_counter() - start, 1)
    t = dict(np.load(teacher_file))
    t["tfidf_unl"], t["albert_unl"] = t["tfidf_unl"][chosen], t["albert_unl"][chosen]
    val_acc = {round(float(w), 1): float(((w * t["tfidf_val"] + (1 - w) * t["albert_val"]).argmax(1) == y_val).mean())
               for w in np.linspace(0, 1, 11)}
    best_w = max(val_acc, key=val_acc.get)
    report["teacher_validation_accuracy"] = {"tfidf_lr": val_acc[1.0], "albert": val_acc[0.0],
                                             f"ensemble(w_tfidf={best_w})": val_acc[best_w]}
    print(json.dumps(report, indent=2), flush=True)
    targets = out / "soft_targets.jsonl"
    train_nsmc.write_soft_targets(targets, unlabeled, best_w * t["tfidf_unl"] + (1 - best_w) * t["albert_unl"])

    metrics = train_nsmc.finetune(
        train_nsmc.FinetuneConfig(model_path=str(work / ("pretrained" if args.init == "pretrained" else "nsmc/model")),
                                  soft_targets=str(targets), quiet=True),
        train_nsmc.training_arguments(output_dir=str(out / "student"), num_train_epochs=args.epochs,
                                      learning_rate=args.learning_rate, seed=args.seed, eval_steps=args.eval_steps))
    report.update({f"student_{k}": metrics[k] for k in ("validation_accuracy", "test_accuracy", "test_f1")})
    report.update({k: metrics[k] for k in ("steps", "precision", "train_minutes", "train_reviews_per_second")})
    results = REPO / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / f"distill-{name.removeprefix('unlabeled-')}.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

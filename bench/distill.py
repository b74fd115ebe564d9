"""Distillation over the unlabelled reviews: can the student ALBERT learn more from a teacher than from NSMC's labels?

    python bench/distill.py --unlabeled 100000     # writes bench/results/distill-<n>.json

1. Teachers, trained on NSMC train minus the 5,000-review validation split only: TF-IDF char 2-5-grams + logistic
   regression (`baselines.tfidf_teacher`), and the fine-tuned ALBERT of the recipe (scripts/build_default_model.py).
   Their probability average is the ensemble teacher; its weight is chosen on the validation split.
2. Unlabelled reviews: the corpus minus every NSMC train review (exact text), a seeded sample of `--unlabeled`.
3. Student: the recipe's starting ALBERT (WordPiece + word2vec), trained 1 epoch on NSMC train (gold labels) plus the
   unlabelled reviews (the teacher's probabilities as soft targets; `finetuning.finetune(soft_targets=...)`), best
   checkpoint by validation accuracy, scored once on NSMC test. At inference the student is the ALBERT alone.

A second round: `--classifier assets/albert-movie-wp-small-nsmc --init classifier --learning-rate 1e-4` makes the
shipped (already distilled) classifier both the teacher's ALBERT and the student's start.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("NSMC_DIR", str(REPO.parent / "shared" / "data" / "nsmc"))
os.environ.setdefault("CORPUS_PATH", str(REPO.parent / "shared" / "data" / "movie-reviews" / "reviews.txt"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work-dir", default="outputs/default-model", help="the recipe's folder (pretrained/, nsmc/model)")
    parser.add_argument("--unlabeled", type=int, default=100_000, help="how many unlabelled reviews (0: all of them)")
    parser.add_argument("--classifier", default=None,
                        help="the fine-tuned ALBERT in the teacher and the student's start (default: <work-dir>/nsmc/model); "
                             "a distilled classifier here makes a second round, e.g. assets/albert-movie-wp-small-nsmc")
    parser.add_argument("--init", choices=["pretrained", "classifier"], default="pretrained",
                        help="the student's starting point: the recipe's pretrained ALBERT, or its fine-tuned classifier")
    parser.add_argument("--eval-steps", type=int, default=500)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--out", default="outputs/distill")
    parser.add_argument("--seed", type=int, default=42,
                        help="also draws the validation split: keep the recipe's (42) when --classifier is a shipped model")
    args = parser.parse_args()

    from kbalbert import data as kd
    from kbalbert import distillation, precision

    work = Path(args.work_dir)
    classifier = Path(args.classifier) if args.classifier else work / "nsmc" / "model"
    name = f"{args.unlabeled or 'all'}" + ("" if args.init == "pretrained" else f"-from-classifier-lr{args.learning_rate:g}")
    if args.classifier:
        name += f"-round2-{classifier.name}"
    if args.seed != 42:
        name += f"-seed{args.seed}"
    corpus = kd.load_corpus(os.environ["CORPUS_PATH"])["text"]
    metrics = distillation.distill(
        classifier, corpus, Path(args.out) / f"unlabeled-{name}",
        distillation.DistillSettings(unlabeled=args.unlabeled, learning_rate=args.learning_rate, epochs=args.epochs,
                                   eval_steps=args.eval_steps, seed=args.seed),
        init=str(work / "pretrained") if args.init == "pretrained" else None)
    report = {"command": "python bench/distill.py " + " ".join(sys.argv[1:]), "classifier": str(classifier),
              "machine": f"{precision.cpu_description()} ({precision.cpu_flags()})",
              "unlabeled_used": metrics["unlabeled"], "teacher_validation_accuracy": metrics["teacher_validation_accuracy"],
              **{f"student_{k}": metrics[k] for k in ("validation_accuracy", "test_accuracy", "test_f1")},
              **{k: metrics[k] for k in ("steps", "precision", "train_minutes", "train_reviews_per_second")}}
    results = REPO / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / f"distill-{name}.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

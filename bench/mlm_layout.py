"""One review per row or packed rows: the held-out MLM loss per corpus epoch of the recipe's two MLM layouts, from the
same word2vec start, on the CPU (`--mlm-layout review|packed`; the recipe uses review rows on every device).

    python bench/mlm_layout.py --docs 100000 --epochs 1      # writes bench/results/mlm_layout-<docs>-e<epochs>.json
    python bench/mlm_layout.py --docs 100000 --epochs 3 --runs review:128:5e-4 packed:64:1e-3 packed:64:2e-3

The start is built as the recipe's stages 1-3 build it, on the first `--docs` corpus reviews, with the shipped
WordPiece vocabulary (assets/albert-movie-wp-small: its tokenizer only, not its weights): word2vec vectors
(`pretraining.word2vec_vectors`), then the shipped size (`pretraining.build_albert`). Both layouts then train
`pretraining.train_mlm` for `--epochs` passes over those reviews, each at its recipe settings (review: batch 128
reviews, lr 5e-4; packed: 64 rows of 128 tokens, lr 1e-3, `kbalbert.settings.MLM`), and are scored on the same 2,000
held-out reviews, one per row. `--runs` names other settings as layout:batch:learning-rate (batch = reviews for
`review`, 128-token rows for `packed`). Run alone: two CPU-heavy jobs slow each other several-fold.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("CORPUS_PATH", str(REPO.parent / "shared" / "data" / "movie-reviews" / "reviews.txt"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=100_000, help="corpus reviews (the first N)")
    parser.add_argument("--epochs", type=float, default=1.0, help="corpus epochs per layout")
    parser.add_argument("--out", default="outputs/mlm-layout")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--runs", nargs="+", metavar="LAYOUT:BATCH:LR", help="settings to compare (default: the recipe's two)")
    args = parser.parse_args()
    try:
        compared = [parse_run(text) for text in args.runs] if args.runs else None
    except ValueError as error:
        parser.error(str(error))

    from transformers import AutoTokenizer

    import tokenization_kbalbert
    from kbalbert import data as kd
    from kbalbert import precision, pretraining, runs
    from kbalbert.settings import MLM

    out = Path(args.out) / f"docs{args.docs}"
    corpus = kd.load_corpus(os.environ["CORPUS_PATH"])
    corpus = corpus.select(range(min(args.docs, corpus.num_rows)))
    start_dir = out / "start"
    if not (start_dir / "model.safetensors").exists():
        tokenizer = AutoTokenizer.from_pretrained(str(REPO / "assets" / "albert-movie-wp-small"))
        vectors, _ = pretraining.word2vec_vectors(tokenizer, corpus["text"], show_progress=True)
        pretraining.build_albert(tokenizer, pretraining.AlbertSize(), embeddings=vectors).save_pretrained(str(start_dir))
        tokenization_kbalbert.save_tokenizer(tokenizer, start_dir)
    report = {"command": "python bench/mlm_layout.py " + " ".join(sys.argv[1:]),
              "machine": f"{precision.cpu_description()} ({precision.cpu_flags()})", "docs": corpus.num_rows,
              "epochs": args.epochs, "layouts": {}}
    compared = compared or [("review", MLM.batch_size, MLM.learning_rate),
                            ("packed", MLM.packed_batch_size, MLM.packed_learning_rate)]
    for layout, batch, lr in compared:
        name = f"{layout}:{batch}:{lr:g}"
        began = time.perf_counter()
        result = pretraining.train_mlm(start_dir, corpus, out / f"e{args.epochs:g}" / name.replace(":", "-"), pretraining.MlmSettings(
            max_steps=0, corpus_epochs=args.epochs, batch_size=batch, learning_rate=lr, pack=layout == "packed",
            eval_steps=100_000, precision=args.precision))
        report["layouts"][name] = {"layout": layout, "batch_size": batch, "learning_rate": lr, "minutes": round((time.perf_counter() - began) / 60, 1),
                                     **{k: result[k] for k in ("steps", "rows_per_epoch", "reviews_per_epoch", "corpus_epochs",
                                                               "precision", "unigram_loss", "final_eval_loss")}}
        print(json.dumps(report["layouts"][name]), flush=True)
    runs.write_json(REPO / "bench" / "results" / f"mlm_layout-{args.docs}-e{args.epochs:g}.json", report)
    print(json.dumps(report, indent=2))


def parse_run(text: str) -> tuple[str, int, float]:
    """'packed:64:1e-3' -> ('packed', 64, 0.001); a clear error for anything else."""
    parts = text.split(":")
    try:
        layout, batch, lr = parts[0], int(parts[1]), float(parts[2])
    except (IndexError, ValueError):
        raise ValueError(f"--runs {text!r}: write layout:batch:learning-rate, e.g. packed:64:1e-3") from None
    if len(parts) != 3 or layout not in ("review", "packed") or batch <= 0 or not lr > 0:
        raise ValueError(f"--runs {text!r}: the layout is review or packed, the batch and learning rate positive")
    return layout, batch, lr


if __name__ == "__main__":
    main()

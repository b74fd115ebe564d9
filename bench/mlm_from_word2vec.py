"""Masked-language-model training on top of the word2vec start: does a short MLM stage, on single (unpacked) reviews,
add what word2vec alone does not, on 2 CPU cores?

    python bench/mlm_from_word2vec.py --max-steps 3000                 # writes outputs/mlm-w2v/ and bench/results/mlm_from_word2vec-<steps>.json
    python train_nsmc.py --model-path outputs/mlm-w2v/model --output_dir outputs/mlm-w2v/nsmc --quiet true   # then fine-tune

The model is the recipe's word2vec-start folder (scripts/build_default_model.py's pretrained/: WordPiece 32k, word2vec
embeddings, E128/H256, 4 passes through one shared layer). The training is `pretraining.train_mlm`, the recipe's own
MLM stage (one review per row, 15% masking, length grouping); the evaluation loss is on 2,000 held-out corpus reviews,
`unigram_loss` the loss of always answering the token frequencies (the plateau). Resumes from its last checkpoint.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("CORPUS_PATH", str(REPO.parent / "shared" / "data" / "movie-reviews" / "reviews.txt"))


def main():
    from kbalbert import data as kd
    from kbalbert import precision, pretraining

    defaults = pretraining.MlmSettings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="outputs/default-model/pretrained")
    parser.add_argument("--out", default="outputs/mlm-w2v")
    parser.add_argument("--max-steps", type=int, default=defaults.max_steps)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    parser.add_argument("--mask-probability", type=float, default=defaults.mask_probability)
    parser.add_argument("--eval-steps", type=int, default=250)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    settings = pretraining.MlmSettings(
        max_steps=args.max_steps, batch_size=args.batch_size, learning_rate=args.learning_rate,
        mask_probability=args.mask_probability, eval_steps=args.eval_steps, precision=args.precision, seed=args.seed)
    corpus = kd.load_corpus(os.environ["CORPUS_PATH"])
    report = {"command": "python bench/mlm_from_word2vec.py " + " ".join(sys.argv[1:]),
              "machine": f"{precision.cpu_description()} ({precision.cpu_flags()})",
              **pretraining.train_mlm(args.model, corpus, args.out, settings)}
    (REPO / "bench" / "results" / f"mlm_from_word2vec-{args.max_steps}.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

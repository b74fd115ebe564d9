"""One MLM training step (forward + backward) with the head at every position (`AlbertForMaskedLM`) against the head at
the masked positions only (`pretraining.masked_positions_model_class`), fp32 and bf16 autocast, on this CPU.

    python bench/mlm_head_speed.py                         # the shipped pretrained model, 128 corpus reviews
    python bench/mlm_head_speed.py --length-grouped        # 128 reviews of the median length (as training batches are)

Same batch, same masks, dropout off: the two losses must agree (printed), only the time differs. The median of
`--steps` timed steps after one warm-up is reported. Run it alone: another CPU-heavy process skews it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("CORPUS_PATH", str(REPO.parent / "shared" / "data" / "movie-reviews" / "reviews.txt"))


def main():
    import torch
    from transformers import AlbertForMaskedLM, AutoTokenizer, DataCollatorForLanguageModeling
    from transformers.utils import logging as hf_logging

    from kbalbert import precision, pretraining

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="assets/albert-movie-wp-small")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--length-grouped", action="store_true")
    args = parser.parse_args()

    tokenizer = AutoTokenizer.from_pretrained(args.model)
    with open(os.environ["CORPUS_PATH"], encoding="utf-8") as f:
        texts = [line.strip() for _, line in zip(range(20_000), f) if len(line.strip()) >= 2]
    if args.length_grouped:
        lengths = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=128)["input_ids"]]
        order = sorted(range(len(texts)), key=lengths.__getitem__)
        middle = len(order) // 2
        texts = [texts[i] for i in order[middle - args.batch_size // 2: middle + args.batch_size // 2]]
    else:
        texts = texts[::len(texts) // args.batch_size][:args.batch_size]
    encoded = tokenizer(texts, truncation=True, max_length=128, return_special_tokens_mask=True)
    torch.manual_seed(0)
    batch = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)(
        [{k: encoded[k][i] for k in encoded} for i in range(len(texts))])
    hf_logging.set_verbosity_error()
    models = {"every position": AlbertForMaskedLM.from_pretrained(args.model).eval(),
              "masked positions": pretraining.masked_positions_model_class().from_pretrained(args.model).eval()}
    rows = []
    for name, model in models.items():
        for chosen in ("fp32", "bf16"):
            times = []
            for _ in range(args.steps + 1):
                start = time.perf_counter()
                with precision.autocast(chosen, "cpu"):
                    loss = model(**batch).loss
                loss.backward()
                model.zero_grad()
                times.append(time.perf_counter() - start)
            rows.append({"head": name, "precision": chosen, "ms_per_step": round(1000 * statistics.median(times[1:])),
                         "loss": round(loss.item(), 5)})
            print(rows[-1], flush=True)
    report = {"command": "python bench/mlm_head_speed.py " + " ".join(sys.argv[1:]),
              "machine": f"{precision.cpu_description()} ({precision.cpu_flags()})",
              "batch": {"reviews": len(texts), "padded_length": int(batch["input_ids"].shape[1]),
                        "masked_tokens": int((batch["labels"] != -100).sum())}, "rows": rows}
    out = REPO / "bench" / "results" / f"mlm_head_speed{'-length-grouped' if args.length_grouped else ''}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

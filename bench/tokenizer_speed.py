"""Fast vs slow KB-ALBERT char tokenizer on the 50,000 NSMC test reviews, side by side in one run.

    python bench/tokenizer_speed.py            # prints a Markdown table, writes bench/results/tokenizer_speed.json

Both tokenizers use the same vocab (built from NSMC train). Each measurement is the median of --repeats runs:
`tokenizer(texts)` on the whole list, and `Dataset.map(batched=True)` with 1,000 reviews per batch (no cache).
"""

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("NSMC_DIR", str(REPO.parent / "shared" / "data" / "nsmc"))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")

import datasets  # noqa: E402
import torch  # noqa: E402

import tokenization_kbalbert as tk  # noqa: E402
from kbalbert import data as kd  # noqa: E402


def median_seconds(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    datasets.disable_caching()
    nsmc = kd.load_nsmc()
    vocab = tk.build_char_vocab(nsmc["train"]["document"])
    test = nsmc["test"]
    texts = list(test["document"])
    tokenizers = {"slow (Python)": tk.KbAlbertCharTokenizer(vocab=vocab), "fast (tokenizers)": tk.KbAlbertCharTokenizerFast(vocab=vocab)}
    assert tokenizers["slow (Python)"](texts[:2000])["input_ids"] == tokenizers["fast (tokenizers)"](texts[:2000])["input_ids"]
    rows = []
    for name, tokenizer in tokenizers.items():
        call = median_seconds(lambda: tokenizer(texts), args.repeats)
        mapped = median_seconds(
            lambda: test.map(lambda b: tokenizer(b["document"]), batched=True, batch_size=1000, load_from_cache_file=False),
            args.repeats,
        )
        rows.append({"tokenizer": name, "__call__ s": round(call, 2), "reviews/s (__call__)": round(len(texts) / call),
                     "datasets.map s": round(mapped, 2), "reviews/s (map)": round(len(texts) / mapped)})
    result = {
        "reviews": len(texts), "repeats": args.repeats, "rows": rows,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}",
        "python": platform.python_version(),
    }
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "tokenizer_speed.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    header = list(rows[0])
    print(f"{len(texts):,} NSMC test reviews, median of {args.repeats}, {result['machine']}")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(row[h]) for h in header) + " |")


if __name__ == "__main__":
    main()

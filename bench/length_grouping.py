"""What `train_sampling_strategy="group_by_length"` costs at the start of every epoch, as the Trainer builds it.

    python bench/length_grouping.py                  # 100,000 corpus reviews; writes bench/results/length_grouping.json
    python bench/length_grouping.py --docs 20000     # quicker

With datasets 5, `dataset["length"]` is a lazy `datasets.arrow_dataset.Column`, not a list. transformers 5.23's
`Trainer` hands it to `LengthGroupedSampler`, which converts only torch tensors to lists, so sorting the reviews by
length reads the column one Arrow row at a time. Whether that happens depends on `remove_unused_columns`: when it is
True (notebook 02) the Trainer drops the `length` column before it builds the sampler, which then measures
`input_ids` itself; when it is False (notebook 00: its collator needs extra columns) the column is read.

Each row times `trainer.get_train_dataloader()` plus one pass over its sampler's indices (what happens when training
starts, resumes or begins a new epoch), the median of --repeats runs, on the same tokenised reviews. The model is a
tiny ALBERT from a config: the model plays no part in the sampler.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import datasets  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import AlbertConfig, AlbertForPreTraining, AutoTokenizer, Trainer, TrainingArguments  # noqa: E402

import tokenization_kbalbert  # noqa: E402,F401  (registers the char tokenizer with AutoTokenizer)
from kbalbert import data as kd  # noqa: E402


def epoch_start_seconds(dataset, remove_unused_columns: bool, repeats: int) -> tuple[float, list[int], str]:
    args = TrainingArguments(
        output_dir=tempfile.mkdtemp(prefix="length_grouping_"), per_device_train_batch_size=64, report_to="none", use_cpu=True,
        train_sampling_strategy="group_by_length", length_column_name="length",
        remove_unused_columns=remove_unused_columns, label_names=["labels"],
    )
    model = AlbertForPreTraining(AlbertConfig(vocab_size=100, embedding_size=8, hidden_size=16, num_hidden_layers=1,
                                              num_attention_heads=1, intermediate_size=16))
    trainer = Trainer(model=model, args=args, train_dataset=dataset)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        sampler = trainer.get_train_dataloader().batch_sampler.sampler  # accelerate wraps it in a BatchSampler
        order = list(sampler)
        times.append(time.perf_counter() - start)
    assert sorted(order) == list(range(dataset.num_rows))
    return statistics.median(times), list(sampler.lengths), type(sampler.lengths).__name__


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=os.environ.get("CORPUS_PATH", str(REPO.parent / "shared/data/movie-reviews/reviews.txt")))
    parser.add_argument("--model", default=str(REPO / "assets" / "albert-movie-char-small"))
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    datasets.disable_progress_bars()
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    corpus = kd.load_corpus(args.corpus)  # clear error when the file is missing or empty
    encoded = corpus.select(range(min(args.docs, corpus.num_rows))).map(
        lambda batch: tokenizer(batch["text"], truncation=True, max_length=128), batched=True, remove_columns=["text"]
    )
    with_length = encoded.map(lambda batch: {"length": [len(ids) for ids in batch["input_ids"]]}, batched=True)
    cases = [
        ("remove_unused_columns=False, `length` column (notebook 00 before)", with_length, False),
        ("remove_unused_columns=False, no `length` column (notebook 00 now)", encoded, False),
        ("remove_unused_columns=True, `length` column dropped by the Trainer (notebook 02)", with_length, True),
    ]
    rows, reference = [], None
    for name, dataset, remove in cases:
        seconds, lengths, kind = epoch_start_seconds(dataset, remove, args.repeats)
        reference = reference or lengths
        assert lengths == reference, "every case must group by the same lengths"
        rows.append({"case": name, "sampler lengths": kind, "seconds": round(seconds, 2)})
    result = {
        "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "reviews": encoded.num_rows, "repeats": args.repeats, "rows": rows,
        "datasets": datasets.__version__, "transformers": transformers.__version__,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}",
    }
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "length_grouping.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"{encoded.num_rows:,} corpus reviews, median of {args.repeats}, {result['machine']}")
    print("| case | LengthGroupedSampler.lengths | seconds per epoch start |\n|---|---|---|")
    for row in rows:
        print(f"| {row['case']} | {row['sampler lengths']} | {row['seconds']} |")


if __name__ == "__main__":
    main()

"""Masked-language-model training on top of the word2vec start: does a short MLM stage, on single (unpacked) reviews,
add what word2vec alone does not, on 2 CPU cores?

    python bench/mlm_from_word2vec.py --max-steps 3000                 # writes outputs/mlm-w2v/ and bench/results/mlm_from_word2vec-<steps>.json
    python train_nsmc.py --model-path outputs/mlm-w2v/model --output_dir outputs/mlm-w2v/nsmc --quiet true   # then fine-tune

The model is the recipe's pretrained folder (scripts/build_default_model.py: WordPiece 32k, word2vec embeddings,
E128/H256, 4 passes through one shared layer) with its MLM head. Each training row is one review (no packing), 15% of
its tokens masked (transformers' DataCollatorForLanguageModeling), batches grouped by length. The evaluation loss is on
2,000 held-out corpus reviews; `unigram_loss` is the loss of always answering the token frequencies (the plateau).
Resumes from its last checkpoint.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("CORPUS_PATH", str(REPO.parent / "shared" / "data" / "movie-reviews" / "reviews.txt"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="outputs/default-model/pretrained")
    parser.add_argument("--out", default="outputs/mlm-w2v")
    parser.add_argument("--max-steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument("--mask-probability", type=float, default=0.15)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    import numpy as np
    from transformers import (AlbertForMaskedLM, AutoTokenizer, DataCollatorForLanguageModeling, Trainer,
                              TrainingArguments)
    from transformers.trainer_utils import get_last_checkpoint

    import kbalbert_data
    import precision
    import tokenization_kbalbert

    out = Path(args.out)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    corpus = kbalbert_data.load_corpus(os.environ["CORPUS_PATH"], min_chars=2).shuffle(seed=args.seed)
    held_out, train = corpus.select(range(2000)), corpus.select(range(2000, corpus.num_rows))

    def encode(batch):
        encoded = tokenizer(batch["text"], truncation=True, max_length=128, return_special_tokens_mask=True)
        encoded["length"] = [len(ids) for ids in encoded["input_ids"]]
        return encoded

    train = train.map(encode, batched=True, remove_columns=["text"])
    held_out = held_out.map(encode, batched=True, remove_columns=["text"])

    # The plateau: cross-entropy of predicting every masked token by its corpus frequency.
    counts = Counter()
    sample = train.select(range(100_000))
    for ids, special in zip(sample["input_ids"], sample["special_tokens_mask"]):
        counts.update(i for i, s in zip(ids, special) if not s)
    freq = np.array(list(counts.values()), dtype=float) / sum(counts.values())
    unigram_loss = float(-(freq * np.log(freq)).sum())

    model = AlbertForMaskedLM.from_pretrained(args.model)
    # precision.py's rule: a requested precision as is; "auto" times training steps of both on a real batch
    collate = DataCollatorForLanguageModeling(tokenizer, mlm_probability=args.mask_probability)
    rows = train.sort("length").select(range(train.num_rows // 2, train.num_rows // 2 + args.batch_size))
    batch = collate(rows.select_columns(["input_ids", "token_type_ids", "attention_mask"]).to_list())
    chosen = precision.choose(args.precision, "cpu", None,
                              precision.torch_train_step(lambda: AlbertForMaskedLM.from_pretrained(args.model), batch, "cpu"))
    print("precision:", chosen.precision, chosen.reason, flush=True)
    training_args = TrainingArguments(
        output_dir=str(out), max_steps=args.max_steps, per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=256, learning_rate=args.learning_rate, warmup_steps=0.06, weight_decay=0.01,
        lr_scheduler_type="linear", train_sampling_strategy="group_by_length", length_column_name="length",
        eval_strategy="steps", eval_steps=250, save_strategy="steps", save_steps=250, save_total_limit=1,
        logging_steps=50, report_to="none", seed=args.seed, use_cpu=True, disable_tqdm=True,
        **precision.trainer_flags(chosen.precision),
    )
    trainer = Trainer(model=model, args=training_args, train_dataset=train, eval_dataset=held_out,
                      data_collator=collate)
    last = get_last_checkpoint(str(out)) if out.is_dir() else None
    result = trainer.train(resume_from_checkpoint=last)
    final = trainer.evaluate()
    trainer.model.save_pretrained(str(out / "model"))
    tokenization_kbalbert.save_tokenizer(tokenizer, out / "model")
    history = [{k: round(v, 4) if isinstance(v, float) else v for k, v in e.items()}
               for e in trainer.state.log_history if "eval_loss" in e]
    report = {"command": "python bench/mlm_from_word2vec.py " + " ".join(sys.argv[1:]),
              "machine": f"{precision.cpu_description()} ({precision.cpu_flags()})", "precision": chosen.precision,
              "unigram_loss": round(unigram_loss, 3), "steps": trainer.state.global_step,
              "train_minutes_this_run": round(result.metrics["train_runtime"] / 60, 1),
              "final_eval_loss": round(final["eval_loss"], 4),
              "final_eval_perplexity": round(math.exp(final["eval_loss"]), 1), "eval_history": history}
    (REPO / "bench" / "results" / f"mlm_from_word2vec-{args.max_steps}.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

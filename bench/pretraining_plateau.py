"""Why notebook 00 uses lr 3e-4 and per-character masking: the early-pretraining plateau, measured.

    python bench/pretraining_plateau.py run --masking char --lr 1e-3 --steps 300   # stays at loss ~6.75
    python bench/pretraining_plateau.py run --masking char --lr 3e-4 --steps 300   # starts to come down (~6.52)
    python bench/pretraining_plateau.py overfit                                    # one batch: ~100% MLM/SOP accuracy in 80 steps

`run` pretrains notebook 00's default model (E128/H256, 4 shared layers) with MLM + SOP on 60,000 reviews of the
corpus and prints the training loss (MLM + SOP) every 25 steps. `overfit` trains on a single batch of 32 reviews to
show the pipeline can learn at all (a plateau that is not a bug). Run alone: another CPU-heavy process skews the time.
"""

import argparse
import os
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

import torch  # noqa: E402
from transformers import AlbertConfig, AlbertForPreTraining, Trainer, TrainerCallback, TrainingArguments, set_seed  # noqa: E402

import tokenization_kbalbert as tk  # noqa: E402
from kbalbert import data as kd  # noqa: E402
from kbalbert import sop as sop  # noqa: E402

CORPUS = os.environ.get("CORPUS_PATH", str(REPO.parent / "shared" / "data" / "movie-reviews" / "reviews.txt"))


def config(tokenizer):
    return AlbertConfig(
        vocab_size=len(tokenizer), embedding_size=128, hidden_size=256, num_hidden_layers=4, num_attention_heads=4,
        intermediate_size=1024, max_position_embeddings=128, hidden_dropout_prob=0, attention_probs_dropout_prob=0,
        pad_token_id=tokenizer.pad_token_id,
    )


def encode(tokenizer, texts):
    enc = tokenizer(texts, add_special_tokens=False, truncation=True, max_length=125, return_offsets_mapping=True)
    cuts = [sop.split_for_sop(i, o) if len(i) >= 2 else 0 for i, o in zip(enc["input_ids"], enc["offset_mapping"])]
    return {"input_ids": enc["input_ids"], "offset_mapping": enc["offset_mapping"], "sop_split": cuts,
            "length": [len(i) + 3 for i in enc["input_ids"]]}


def run(args):
    set_seed(42)
    corpus = kd.load_corpus(CORPUS).shuffle(seed=42).select(range(args.docs))
    tokenizer = tk.KbAlbertCharTokenizerFast(vocab=tk.build_char_vocab(corpus["text"], min_frequency=3))
    data = corpus.map(lambda b: encode(tokenizer, b["text"]), batched=True, remove_columns=["text"])
    data = data.filter(lambda b: [c > 0 for c in b["sop_split"]], batched=True)
    collator = sop.DataCollatorForAlbertPretraining(tokenizer, whole_word_mask=args.masking == "word", seed=42)

    class PrintLoss(TrainerCallback):
        def on_log(self, _args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                print(state.global_step, round(logs["loss"], 3), flush=True)

    training = TrainingArguments(
        "/tmp/pretraining_plateau", max_steps=args.steps, per_device_train_batch_size=64, learning_rate=args.lr,
        warmup_steps=0.05, weight_decay=0.01, train_sampling_strategy="group_by_length", length_column_name="length",
        remove_unused_columns=False, logging_steps=25, report_to="none", save_strategy="no", disable_tqdm=True,
    )
    start = time.perf_counter()
    Trainer(model=AlbertForPreTraining(config(tokenizer)), args=training, train_dataset=data, data_collator=collator,
            callbacks=[PrintLoss()]).train()
    print(f"{args.steps} steps in {time.perf_counter() - start:.0f} s")


def overfit(args):
    torch.manual_seed(0)
    corpus = kd.load_corpus(CORPUS).select(range(5000))
    tokenizer = tk.KbAlbertCharTokenizerFast(vocab=tk.build_char_vocab(corpus["text"]))
    encoded = encode(tokenizer, corpus["text"][:32])
    examples = [{k: encoded[k][i] for k in ("input_ids", "offset_mapping", "sop_split")}
                for i in range(32) if encoded["sop_split"][i] > 0]
    batch = sop.DataCollatorForAlbertPretraining(tokenizer, whole_word_mask=False, seed=0)(examples)
    model = AlbertForPreTraining(config(tokenizer))
    optimizer = torch.optim.AdamW(model.parameters(), 5e-4)
    for step in range(args.steps):
        out = model(**batch)
        out.loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if step % 20 == 0 or step == args.steps - 1:
            masked = batch["labels"] != -100
            mlm = (out.prediction_logits.argmax(-1)[masked] == batch["labels"][masked]).float().mean().item()
            sop_accuracy = (out.sop_logits.argmax(-1) == batch["sentence_order_label"]).float().mean().item()
            print(step, f"loss {out.loss.item():.3f}  MLM acc {mlm:.3f}  SOP acc {sop_accuracy:.3f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("run")
    r.add_argument("--masking", choices=["char", "word"], default="char")
    r.add_argument("--lr", type=float, default=3e-4)
    r.add_argument("--steps", type=int, default=300)
    r.add_argument("--docs", type=int, default=60000)
    o = sub.add_parser("overfit")
    o.add_argument("--steps", type=int, default=120)
    args = parser.parse_args()
    run(args) if args.mode == "run" else overfit(args)


if __name__ == "__main__":
    main()

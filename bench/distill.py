"""Distillation over the unlabelled reviews: can the student ALBERT learn more from a teacher than from NSMC's labels?

    python bench/distill.py --unlabeled 150000     # writes bench/results/distill-<n>.json

1. Teachers, trained on NSMC train minus the 5,000-review validation split only: TF-IDF char 2-5-grams + logistic
   regression, and the fine-tuned ALBERT of the recipe (scripts/build_default_model.py). Their probability average is
   the ensemble teacher; its weight is chosen on the validation split.
2. Unlabelled reviews: the corpus minus every NSMC train review (exact text), a seeded sample of `--unlabeled`.
3. Student: the recipe's starting ALBERT (WordPiece + word2vec), trained 1 epoch on NSMC train (gold labels) plus the
   unlabelled reviews (the teacher's probabilities as soft targets), best checkpoint by validation accuracy, scored
   once on NSMC test. At inference the student is the ALBERT alone.
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


def predict_proba(model_dir, texts, batch_size=256, max_length=128):
    """Class probabilities of a sequence classifier for `texts`, in their order (batches built by length)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    ids = tokenizer(list(texts), truncation=True, max_length=max_length)
    order = np.argsort([len(x) for x in ids["input_ids"]], kind="stable")
    out = np.zeros((len(texts), model.config.num_labels), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            batch = tokenizer.pad({k: [ids[k][i] for i in rows] for k in ids.keys()}, return_tensors="pt")
            out[rows] = torch.softmax(model(**batch).logits.float(), dim=-1).numpy()
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work-dir", default="outputs/default-model")
    parser.add_argument("--unlabeled", type=int, default=150_000)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--out", default="outputs/distill")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    import torch
    from datasets import Dataset, concatenate_datasets
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding, Trainer, TrainingArguments

    import kbalbert_data
    import precision
    import train_nsmc

    work, out = Path(args.work_dir), Path(args.out) / f"unlabeled-{args.unlabeled}"
    out.mkdir(parents=True, exist_ok=True)
    report = {"command": "python bench/distill.py " + " ".join(sys.argv[1:]), "machine": f"{precision.cpu_description()} ({precision.cpu_flags()})"}
    splits = kbalbert_data.nsmc_splits(kbalbert_data.load_nsmc(), 5000, args.seed)
    train, validation = splits["train"], splits["validation"]
    y_val = np.array(validation["label"])

    teacher_file = out / "teacher.npz"
    corpus = kbalbert_data.load_corpus(os.environ["CORPUS_PATH"])
    seen = set(train["document"]) | set(validation["document"])
    pool = [t for t in corpus["text"] if t not in seen]
    rng = np.random.default_rng(args.seed)
    unlabeled = [pool[i] for i in rng.choice(len(pool), size=min(args.unlabeled, len(pool)), replace=False)]
    report["unlabeled_pool"], report["unlabeled_used"] = len(pool), len(unlabeled)
    if not teacher_file.exists():
        start = time.perf_counter()
        tfidf = make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(2, 5), min_df=2, sublinear_tf=True),
                              LogisticRegression(C=4.0, max_iter=2000))
        tfidf.fit(train["document"], train["label"])
        tfidf_val, tfidf_unl = tfidf.predict_proba(validation["document"]), tfidf.predict_proba(unlabeled)
        albert_val = predict_proba(str(work / "nsmc" / "model"), validation["document"])
        albert_unl = predict_proba(str(work / "nsmc" / "model"), unlabeled)
        np.savez(teacher_file, tfidf_val=tfidf_val, tfidf_unl=tfidf_unl, albert_val=albert_val, albert_unl=albert_unl)
        report["teacher_seconds"] = round(time.perf_counter() - start, 1)
    t = np.load(teacher_file)
    weights = np.linspace(0, 1, 11)
    val_acc = {float(w): float(((w * t["tfidf_val"] + (1 - w) * t["albert_val"]).argmax(1) == y_val).mean()) for w in weights}
    best_w = max(val_acc, key=val_acc.get)
    report["teacher_validation_accuracy"] = {"tfidf_lr": val_acc[1.0], "albert": val_acc[0.0], f"ensemble(w_tfidf={best_w})": val_acc[best_w]}
    print(json.dumps(report, indent=2), flush=True)
    soft = best_w * t["tfidf_unl"] + (1 - best_w) * t["albert_unl"]

    tokenizer = AutoTokenizer.from_pretrained(str(work / "pretrained"))

    def encode(batch):
        # no `length` column: with remove_unused_columns=False it would reach the length sampler as a lazy datasets
        # Column, read row by row (bench/README.md, "길이 그룹핑의 함정"); the sampler measures input_ids instead
        return tokenizer(batch["document"], truncation=True, max_length=128)

    gold = train.map(lambda b: {"soft_labels": [[1.0 - l, float(l)] for l in b["label"]]}, batched=True)
    extra = Dataset.from_dict({"id": ["u"] * len(unlabeled), "document": unlabeled, "label": soft.argmax(1).tolist(),
                               "soft_labels": soft.tolist()})
    extra = extra.cast(gold.features)
    student_data = concatenate_datasets([gold, extra]).map(encode, batched=True, remove_columns=["id", "document"])
    val_data = validation.map(lambda b: {"soft_labels": [[1.0 - l, float(l)] for l in b["label"]]}, batched=True)
    val_data = val_data.map(encode, batched=True, remove_columns=["id", "document"])
    test_data = splits["test"].map(lambda b: {"soft_labels": [[1.0 - l, float(l)] for l in b["label"]]}, batched=True)
    test_data = test_data.map(encode, batched=True, remove_columns=["id", "document"])

    class SoftTargetTrainer(Trainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            targets = inputs.pop("soft_labels")
            inputs.pop("labels", None)
            inputs.pop("length", None)
            outputs = model(**inputs)
            loss = torch.nn.functional.cross_entropy(outputs.logits.float(), targets.float())
            return (loss, outputs) if return_outputs else loss

    chosen = precision.choose("auto", "cpu", None, precision.torch_train_step(
        lambda: AutoModelForSequenceClassification.from_pretrained(str(work / "pretrained"), num_labels=2),
        DataCollatorWithPadding(tokenizer)(val_data.select(range(64)).select_columns(["input_ids", "token_type_ids", "attention_mask", "label"]).to_list()), "cpu"))
    targs = TrainingArguments(
        output_dir=str(out / "checkpoints"), num_train_epochs=args.epochs, per_device_train_batch_size=64,
        per_device_eval_batch_size=256, learning_rate=args.learning_rate, warmup_steps=0.06, weight_decay=0.01,
        **precision.trainer_flags(chosen.precision), train_sampling_strategy="group_by_length",
        eval_strategy="steps", eval_steps=500, save_strategy="steps", save_steps=500, save_total_limit=2,
        load_best_model_at_end=True, metric_for_best_model="accuracy", logging_steps=100, report_to="none",
        seed=args.seed, use_cpu=True, remove_unused_columns=False, disable_tqdm=True, label_names=["labels"],
    )
    model = AutoModelForSequenceClassification.from_pretrained(str(work / "pretrained"), num_labels=2)
    trainer = SoftTargetTrainer(model=model, args=targs, train_dataset=student_data, eval_dataset=val_data,
                                processing_class=tokenizer, data_collator=DataCollatorWithPadding(tokenizer),
                                compute_metrics=train_nsmc.compute_metrics)
    from transformers.trainer_utils import get_last_checkpoint

    last = get_last_checkpoint(targs.output_dir) if Path(targs.output_dir).is_dir() else None
    trained = trainer.train(resume_from_checkpoint=last)
    test = trainer.evaluate(test_data, metric_key_prefix="test")
    report.update({
        "student_validation_accuracy": trainer.state.best_metric, "student_test_accuracy": test["test_accuracy"],
        "student_test_f1": test["test_f1"], "steps": trainer.state.global_step, "precision": chosen.precision,
        "train_minutes": round(trained.metrics["train_runtime"] / 60, 1),
    })
    trainer.model.save_pretrained(str(out / "model"))
    tokenizer.save_pretrained(str(out / "model"))
    results = REPO / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / f"distill-{args.unlabeled}.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

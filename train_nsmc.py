"""Fine-tunes an ALBERT (or any encoder with a sequence-classification head) on NSMC: the recipe of notebook 02 in one
function, so the same code runs in one process, from a notebook with `accelerate.notebook_launcher`, or on several
machines with `accelerate launch`:

    python train_nsmc.py --train-size 2000                                          # one process
    python train_nsmc.py --num_train_epochs 2 --learning_rate 1e-4                  # any TrainingArguments option
    accelerate launch --multi_gpu --num_processes 2 train_nsmc.py --train-size 2000  # 2 processes; CPU + gloo without a GPU
    accelerate launch --multi_gpu --num_processes 8 train_nsmc.py                    # 8 GPUs (nccl), bf16 or fp16 by GPU

(`--multi_gpu` means "several processes through torchrun": on a machine without a GPU they run on the CPU and talk
over gloo. `accelerate launch --cpu` alone starts one process; its multi-CPU mode needs MPI.)

The Trainer inside finds the processes that `accelerate launch` (or `torchrun`) started and trains data-parallel:
each process gets its share of every batch (`--per_device_train_batch_size` is per process), gradients are averaged, and only the
first process writes the checkpoints, the final model and `metrics.json`.

`--precision auto` (the default) follows the one rule in `precision.py`: bf16 on a GPU of compute capability 8.0 or
more, fp16 below that (a T4), and on a CPU bf16 only when a short measurement shows it clearly faster. With several
processes the first one measures and the others take its choice, so every process trains at the same precision.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kbalbert_data import LABEL_NAMES

LABELS = dict(enumerate(LABEL_NAMES))  # {0: "부정", 1: "긍정"}: the classifier's id2label
# A model folder needs one of these to be tokenized as it was trained (vocab.txt: KB-ALBERT's distributed format).
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "spiece.model", "sentencepiece.bpe.model")


@dataclass
class FinetuneConfig:
    """What `TrainingArguments` does not hold: the model, the data and the precision rule. The command line takes these
    names (`--train-size`) beside every `TrainingArguments` option (`--learning_rate`, `--num_train_epochs`, ...)."""

    model_path: str = "assets/albert-movie-wp-small"
    nsmc_dir: str | None = None  # None: the NSMC_DIR environment variable, else download (sha256-checked)
    train_size: int | None = None  # None: all of NSMC train minus the validation split
    validation_size: int = 5000
    test_size: int | None = None  # None: all 50,000 test reviews
    max_length: int = 128
    precision: str = "auto"  # auto | fp32 | bf16 | fp16 (precision.py: bf16 on GPUs >= 8.0, fp16 below, CPU measured)
    quiet: bool = False  # no progress bars (processes forked from a notebook cannot draw them)
    # Distillation: a .jsonl of {"document": ..., "probs": [p_negative, p_positive]}, unlabelled reviews with a
    # teacher's probabilities, trained on beside NSMC train's gold labels (write it with `write_soft_targets`).
    soft_targets: str | None = None
    # Keep the word embeddings as the pretrained folder has them (e.g. word2vec vectors learned on the whole corpus):
    # tokens that NSMC train never shows keep vectors consistent with the ones it does show.
    freeze_word_embeddings: bool = False


# Notebook 02's recipe as TrainingArguments values: the defaults of `training_arguments()` and of the command line.
RECIPE = dict(
    output_dir="outputs/02-nsmc-pytorch-script",  # checkpoint-N/, then model/ and metrics.json
    num_train_epochs=1.0,
    per_device_train_batch_size=64,  # per process
    per_device_eval_batch_size=256,
    # a small ALBERT takes a larger rate than big models (2e-5 to 5e-5); on the 5-epoch model, validation accuracy
    # peaked here: 7.5e-5 0.8894, 1.5e-4 0.8952, 3e-4 0.8946, 6e-4 0.8868 (bench/README.md, "미세조정 학습률")
    learning_rate=1.5e-4,
    warmup_steps=0.06,  # < 1: a fraction of the training steps (transformers 5)
    weight_decay=0.01,
    eval_strategy="steps",
    eval_steps=500,  # validation accuracy (and a checkpoint) every this many steps
    save_strategy="steps",  # `finetune` saves at every evaluation and keeps the best (load_best_model_at_end)
    save_total_limit=2,
    metric_for_best_model="accuracy",
    train_sampling_strategy="group_by_length",  # batches of similar lengths: the largest speed-up on a CPU
    length_column_name="length",
    label_names=["labels"],
    report_to="none",
    seed=42,
    ddp_find_unused_parameters=False,  # every parameter takes part in the forward pass
    # ALBERT's classification loss is already a mean over the batch. With this left on (the default), transformers
    # 5.23 multiplies it by the number of processes, as it does for token-summed language-model losses: with 2
    # processes the logged losses were twice the single-process ones (train 1.31 vs 0.66 on the same 2,000 reviews).
    average_tokens_across_devices=False,
)


def training_arguments(**overrides):
    """`TrainingArguments` of this recipe (`RECIPE`), with any option changed: `training_arguments(output_dir="...",
    num_train_epochs=2)`. `finetune` then adds what it decides at run time: the precision, and a checkpoint at every
    evaluation with the best one kept (load_best_model_at_end)."""
    from transformers import TrainingArguments

    return TrainingArguments(**{**RECIPE, **overrides})


def tokenize_splits(splits, tokenizer, max_length: int, keep_text: bool = False):
    """Tokenises every split once (cached by `datasets`), truncating only: padding happens per batch. Adds a `length`
    column (tokens per review) for length grouping; keeps the review text (`document`) when `keep_text`."""

    def encode(batch):
        encoded = tokenizer(batch["document"], truncation=True, max_length=max_length)
        encoded["length"] = [len(ids) for ids in encoded["input_ids"]]
        return encoded

    return splits.map(encode, batched=True, remove_columns=["id"] if keep_text else ["id", "document"])


def tfidf_features():
    """The TF-IDF features of both classical models below: character 2-5-grams seen in at least 2 reviews, sublinear
    term frequencies. Characters rather than words, because Korean words carry their particles and endings."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer="char", ngram_range=(2, 5), min_df=2, sublinear_tf=True)


def tfidf_baseline():
    """The classical bar every ALBERT here must clear: TF-IDF over character 2-5-grams + a linear SVM (scikit-learn).
    `tfidf_baseline().fit(texts, labels).predict(texts)`; it trains on NSMC's 150,000 reviews in about a minute."""
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    return make_pipeline(tfidf_features(), LinearSVC(C=0.5))


def tfidf_teacher(c: float = 4.0):
    """TF-IDF over character 2-5-grams + logistic regression: the baseline's features with probabilities, a teacher
    for distillation (`predict_proba`)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(tfidf_features(), LogisticRegression(C=c, max_iter=2000))


def inference_plan(accelerator: str, capability: tuple[int, int] | None, requested: str = "auto") -> tuple[str, str]:
    """(device, precision) for predicting with a classifier. `requested` as for training ("auto", "fp32", "bf16",
    "fp16"): on a GPU, "auto" follows `precision.py`'s rule (bf16 from compute capability 8.0, fp16 below); on the CPU,
    "auto" means fp32 (teacher probabilities are cheap there next to training, and fp32 keeps them free of bf16
    rounding). An explicit choice is kept, or refused where the rule refuses it (fp16 on a CPU)."""
    import precision

    if accelerator == "cpu" and precision.check(requested) == "auto":
        return "cpu", "fp32"
    chosen = precision.rule(requested, accelerator, capability)
    return accelerator, chosen.precision


def predict_proba(model_dir, texts, batch_size: int = 256, max_length: int = 128, precision_name: str = "auto") -> np.ndarray:
    """Class probabilities of a saved sequence classifier for `texts`, in their order (batched by length), on the
    accelerator PyTorch finds, at `inference_plan`'s precision for `precision_name`."""
    import torch
    from transformers import AutoModelForSequenceClassification

    import precision
    import tokenization_kbalbert  # noqa: F401

    device, chosen = inference_plan(*precision.torch_accelerator()[:2], precision_name)
    tokenizer = load_tokenizer(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(str(model_dir)).eval().to(device)
    encoded = tokenizer(list(texts), truncation=True, max_length=max_length)
    order = np.argsort([len(ids) for ids in encoded["input_ids"]], kind="stable")
    probs = np.zeros((len(order), model.config.num_labels), dtype=np.float32)
    with torch.inference_mode(), precision.autocast(chosen, device):
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            batch = tokenizer.pad({k: [encoded[k][i] for i in rows] for k in encoded.keys()}, return_tensors="pt")
            logits = model(**batch.to(device)).logits.float()
            probs[rows] = torch.softmax(logits, dim=-1).cpu().numpy()
    return probs


def unlabeled_reviews(corpus_texts, seen, size: int | None, seed: int = 42) -> list[str]:
    """A seeded sample of `size` corpus reviews (None or 0: all) that are not in `seen` (the NSMC reviews the models
    train and validate on), in corpus order: the unlabelled pool that a teacher labels."""
    seen = set(seen)
    pool = [t for t in corpus_texts if t not in seen]
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(len(pool), size=min(size or len(pool), len(pool)), replace=False))
    return [pool[i] for i in chosen]


def ensemble_teacher(train, validation, classifier_dir, texts, max_length: int = 128,
                     precision_name: str = "auto") -> tuple[np.ndarray, dict]:
    """
    The distillation teacher: `tfidf_teacher` fitted on `train` and the fine-tuned ALBERT in `classifier_dir`,
    averaged as w * TF-IDF + (1 - w) * ALBERT with w (0, 0.1, ..., 1) chosen on `validation`. Both models learn from
    NSMC train only. Returns the teacher's probabilities for `texts` and the validation accuracies it chose from.
    """
    y_val = np.array(validation["label"])
    tfidf = tfidf_teacher().fit(train["document"], train["label"])
    tfidf_val = tfidf.predict_proba(validation["document"])
    # one pass of the ALBERT over validation and the unlabelled texts together: the model is loaded once
    albert = predict_proba(classifier_dir, list(validation["document"]) + list(texts), max_length=max_length,
                           precision_name=precision_name)
    albert_val, albert_texts = albert[:len(y_val)], albert[len(y_val):]
    accuracy = {round(float(w), 1): float(((w * tfidf_val + (1 - w) * albert_val).argmax(1) == y_val).mean())
                for w in np.linspace(0, 1, 11)}
    w = max(accuracy, key=accuracy.get)
    probs = w * tfidf.predict_proba(texts) + (1 - w) * albert_texts
    return probs, {"tfidf_lr": accuracy[1.0], "albert": accuracy[0.0], f"ensemble(w_tfidf={w})": accuracy[w]}


def write_soft_targets(path, texts, probs) -> None:
    """The `soft_targets` file: one {"document", "probs"} line per unlabelled review."""
    with open(path, "w", encoding="utf-8") as f:
        for text, p in zip(texts, np.asarray(probs, dtype=float)):
            f.write(json.dumps({"document": text, "probs": [round(float(x), 6) for x in p]}, ensure_ascii=False) + "\n")


def with_soft_targets(train, soft_targets: str, tokenizer, max_length: int):
    """NSMC train (tokenised, gold labels as one-hot `soft_labels`) followed by the teacher-labelled reviews."""
    from datasets import concatenate_datasets, load_dataset

    extra = load_dataset("json", data_files=str(soft_targets), split="train")
    extra = extra.map(lambda b: {**tokenizer(b["document"], truncation=True, max_length=max_length),
                                 "label": [int(np.argmax(p)) for p in b["probs"]], "soft_labels": b["probs"]},
                      batched=True, remove_columns=["document", "probs"])
    gold = train.map(lambda b: {"soft_labels": [[1.0 - y, float(y)] for y in b["label"]]}, batched=True)
    gold = gold.remove_columns([c for c in gold.column_names if c not in extra.column_names])
    return concatenate_datasets([gold, extra.cast(gold.features)])


def soft_target_trainer():
    """A Trainer whose loss is cross-entropy against `soft_labels` when a batch has them (distillation), else the
    model's own loss on `labels`."""
    import torch
    from transformers import Trainer

    class SoftTargetTrainer(Trainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            targets = inputs.pop("soft_labels", None)
            inputs.pop("length", None)
            if targets is None:
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            inputs.pop("labels", None)
            outputs = model(**inputs)
            loss = torch.nn.functional.cross_entropy(outputs.logits.float(), targets.float())
            return (loss, outputs) if return_outputs else loss

    return SoftTargetTrainer


def load_tokenizer(model_path):
    """The tokenizer a model was trained with: `AutoTokenizer` for a Hub name or a folder with `tokenizer.json`, the
    char tokenizer for KB-ALBERT's distributed format (`vocab.txt` without `tokenizer.json`; AutoTokenizer would build
    a 5-token tokenizer from it), as notebook 02 loads it. Refuses a tokenizer that knows only special tokens."""
    from transformers import AutoTokenizer

    import tokenization_kbalbert

    folder = Path(model_path)
    if folder.is_dir() and (folder / "vocab.txt").is_file() and not (folder / "tokenizer.json").is_file():
        tokenizer = tokenization_kbalbert.KbAlbertCharTokenizerFast.from_pretrained(str(folder))
    else:
        tokenizer = AutoTokenizer.from_pretrained(str(model_path))
    if len(tokenizer) <= 5:
        raise ValueError(f"The tokenizer of {model_path} knows only {len(tokenizer)} tokens (its special tokens): every "
                         "word would be [UNK]. Save the tokenizer the model was trained with beside it.")
    return tokenizer


def check_model_path(model_path: str) -> None:
    """Fails early, saying what to do, when `model_path` is neither a local folder nor reachable on the Hub."""
    import os

    offline = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")
    if Path(model_path).is_dir():
        # Without its tokenizer files AutoTokenizer quietly builds a tokenizer of 5 special tokens: every word becomes
        # [UNK], and training goes on, learning nothing from the text.
        if not any((Path(model_path) / name).is_file() for name in TOKENIZER_FILES):
            raise FileNotFoundError(
                f"{model_path} has no tokenizer files ({', '.join(TOKENIZER_FILES)}). Save the tokenizer beside the "
                "model (tokenizer.save_pretrained(folder)), or give the folder it was saved with.")
        return
    if not offline:
        return
    raise FileNotFoundError(
        f"Model {model_path!r} is not a folder here and the Hub is offline (HF_HUB_OFFLINE). Give the folder of a saved "
        "model, e.g. assets/albert-movie-wp-small (config.json + model.safetensors + tokenizer files), or unset "
        "HF_HUB_OFFLINE to download a Hub model such as bert-base-multilingual-cased."
    )


def log_evaluations_only(trainer) -> None:
    """Keeps the Trainer's progress bar (if it has one) but replaces the log dicts it prints at every logging step
    (numbers as strings) with one line per evaluation: step, last training loss, validation loss and accuracy. In an
    interactive Jupyter the Trainer's own notebook progress bar already draws one table row per evaluation, so it is
    kept as it is and no lines are added. The full history stays in `trainer.state.log_history`."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback, TrainerCallback
    from transformers.utils.notebook import NotebookProgressCallback

    class BarOnly(ProgressCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            pass

    class EvaluationLine(TrainerCallback):
        def on_evaluate(self, args, state, control, metrics=None, **kwargs):
            if state.is_world_process_zero and metrics and "eval_accuracy" in metrics:
                losses = [h["loss"] for h in state.log_history if "loss" in h]
                train = f", 학습 손실 {losses[-1]:.4f}" if losses else ""
                print(f"스텝 {state.global_step:,}/{state.max_steps:,}{train}, 검증 손실 {metrics['eval_loss']:.4f}, "
                      f"검증 정확도 {metrics['eval_accuracy']:.4f}", flush=True)

    callbacks = trainer.callback_handler.callbacks
    trainer.remove_callback(PrinterCallback)
    if any(isinstance(c, NotebookProgressCallback) for c in callbacks):
        return  # its table: one row per evaluation (training loss, validation loss, accuracy, F1)
    had_bar = any(isinstance(c, ProgressCallback) for c in callbacks)
    trainer.remove_callback(ProgressCallback)
    if had_bar:
        trainer.add_callback(BarOnly)
    trainer.add_callback(EvaluationLine)


def compute_metrics(prediction) -> dict[str, float]:
    """Accuracy and macro F1, computed against the labels the Trainer returns with its predictions (same order)."""
    from sklearn.metrics import accuracy_score, f1_score

    predicted = np.argmax(prediction.predictions, axis=-1)
    return {
        "accuracy": float(accuracy_score(prediction.label_ids, predicted)),
        "f1": float(f1_score(prediction.label_ids, predicted, average="macro")),
    }


def choose_precision(config: FinetuneConfig, batch_size: int, data, tokenizer):
    """`precision.choose` for this run; with several processes, the first process decides and tells the others."""
    from accelerate import PartialState
    from accelerate.utils import broadcast_object_list
    from transformers import AutoModelForSequenceClassification, DataCollatorWithPadding

    import precision

    state = PartialState()
    accelerator, capability, _ = precision.torch_accelerator()
    choice = [None]
    if state.is_main_process:
        train = data["train"]
        if "length" not in train.column_names:
            train = train.map(lambda b: {"length": [len(ids) for ids in b["input_ids"]]}, batched=True)
        by_length = train.sort("length")
        middle = by_length.num_rows // 2
        rows = by_length.select(range(middle, min(middle + batch_size, by_length.num_rows)))
        batch = DataCollatorWithPadding(tokenizer)(rows.select_columns(["input_ids", "token_type_ids", "attention_mask", "label"]).to_list())
        make_step = precision.torch_train_step(
            lambda: AutoModelForSequenceClassification.from_pretrained(config.model_path, num_labels=2), batch, accelerator
        )
        choice = [precision.choose(config.precision, accelerator, capability, make_step)]
    if state.num_processes > 1:
        broadcast_object_list(choice)
    return choice[0]


# The TrainingArguments that change what a fine-tuning run learns: a rerun into the same output folder must match them.
RUN_DEFINING_ARGUMENTS = ("num_train_epochs", "max_steps", "per_device_train_batch_size", "gradient_accumulation_steps",
                          "learning_rate", "lr_scheduler_type", "lr_scheduler_kwargs", "warmup_steps", "weight_decay",
                          "optim", "adam_beta1", "adam_beta2", "adam_epsilon", "max_grad_norm", "label_smoothing_factor",
                          "eval_steps", "seed", "train_sampling_strategy")


def run_settings(config: FinetuneConfig, planned: dict, splits) -> dict:
    """What defines a fine-tuning run (recorded in `<output_dir>/finetune_run.json`): the start model (path and
    content), which reviews train and validate (`kbalbert_data.splits_digest`) and how many, the precision asked for,
    the soft targets' content, the number of processes and the training arguments that change the result. Where NSMC
    lies, the test set and progress bars do not count."""
    from accelerate import PartialState

    import kbalbert_data
    import runs

    settings = {k: v for k, v in dataclasses.asdict(config).items()  # the splits below stand for the sizes
                if k not in ("nsmc_dir", "quiet", "soft_targets", "train_size", "validation_size", "test_size")}
    settings["train_reviews"], settings["validation_reviews"] = splits["train"].num_rows, splits["validation"].num_rows
    settings["splits"] = kbalbert_data.splits_digest(splits)
    settings["start_model"] = runs.fingerprint(config.model_path) if Path(config.model_path).is_dir() else None
    settings["soft_targets_sha256"] = kbalbert_data.sha256sum(config.soft_targets) if config.soft_targets else None
    settings["processes"] = PartialState().num_processes
    # A dict of overrides and a TrainingArguments must give the same record: missing keys take TrainingArguments'
    # defaults, enums their values (SchedulerType.LINEAR -> "linear").
    from transformers import TrainingArguments

    defaults = {f.name: f.default for f in dataclasses.fields(TrainingArguments)}
    for name in RUN_DEFINING_ARGUMENTS:
        value = planned.get(name, defaults.get(name))
        settings[name] = getattr(value, "value", value)
    return settings


def finetune(config: FinetuneConfig, args=None, splits=None) -> dict[str, float]:
    """Trains with `args` (TrainingArguments, or a dict of `training_arguments` overrides; default the recipe), keeps
    the checkpoint with the best validation accuracy, scores it once on test, saves it to `args.output_dir`/model with
    `metrics.json` beside it. `splits`: NSMC splits already loaded (`kbalbert_data.nsmc_splits`' DatasetDict), used
    as they are; without them the splits are made from `config` (nsmc_dir and sizes). Give a dict when launching
    processes (`notebook_launcher`): TrainingArguments settles the device and the process group when it is made, so
    each process must make its own."""
    import torch
    from accelerate import PartialState
    from transformers import (
        AutoModelForSequenceClassification,
        DataCollatorWithPadding,
        Trainer,
        set_seed,
    )
    from transformers.trainer_utils import get_last_checkpoint

    import kbalbert_data
    import precision
    import runs
    import tokenization_kbalbert  # noqa: F401  (registers the char tokenizer with AutoTokenizer)

    # A dict (or nothing) is turned into TrainingArguments once, below, when the precision is known.
    planned = {**RECIPE, **(args or {})} if args is None or isinstance(args, dict) else dataclasses.asdict(args)
    set_seed(planned["seed"])
    kbalbert_data.quiet_known_warnings()
    if config.quiet:
        import datasets
        import transformers

        datasets.disable_progress_bars()
        transformers.utils.logging.disable_progress_bar()
        transformers.logging.set_verbosity_error()
    out = Path(planned["output_dir"])
    check_model_path(config.model_path)
    if splits is None:
        with PartialState().main_process_first():  # the first process fills the datasets cache, the others read it
            splits = kbalbert_data.nsmc_splits(kbalbert_data.load_nsmc(config.nsmc_dir), config.validation_size,
                                               planned["seed"], config.train_size, config.test_size)
    kbalbert_data.check_splits(splits)
    with PartialState().main_process_first():  # the first process writes the record, the others compare with it
        runs.check_same_run(out / "finetune_run.json", run_settings(config, planned, splits), "fine-tuning")
    tokenizer = load_tokenizer(config.model_path)
    with PartialState().main_process_first():
        data = tokenize_splits(splits, tokenizer, config.max_length)
        if config.soft_targets:
            # soft_labels must reach the loss, so the Trainer keeps every column; the length sampler then measures
            # input_ids itself (a `length` column would reach it as a lazy datasets Column, read row by row).
            data = data.remove_columns("length")
            data["train"] = with_soft_targets(data["train"], config.soft_targets, tokenizer, config.max_length)
    chosen = choose_precision(config, planned["per_device_train_batch_size"], data, tokenizer)
    decided = dict(  # what is decided here: the precision, a checkpoint at each evaluation, ...
        **precision.trainer_flags(chosen.precision),
        save_steps=planned["eval_steps"],
        load_best_model_at_end=True,  # the checkpoint with the best validation accuracy is the one scored and saved
        logging_steps=max(1, int(planned["eval_steps"]) // 10),
        remove_unused_columns=not config.soft_targets,  # soft_labels must reach the loss
        use_cpu=bool(planned.get("use_cpu")) or not torch.cuda.is_available(),  # bf16 autocast on a CPU needs this
        disable_tqdm=bool(planned.get("disable_tqdm")) or config.quiet,
    )
    if isinstance(args, dict) or args is None:
        args = training_arguments(**{**planned, **decided})
    else:
        args = dataclasses.replace(args, **decided)
    model = AutoModelForSequenceClassification.from_pretrained(
        config.model_path, num_labels=2, id2label=LABELS, label2id={v: k for k, v in LABELS.items()}
    )
    if config.freeze_word_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)  # the Trainer's optimizer skips frozen parameters
    trainer = (soft_target_trainer() if config.soft_targets else Trainer)(
        model=model,
        args=args,
        train_dataset=data["train"],
        eval_dataset=data["validation"],
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=compute_metrics,
    )
    if config.quiet:  # with the progress bar off, the Trainer prints every log as a dict: quiet means neither
        from transformers.trainer_callback import PrinterCallback, ProgressCallback

        trainer.remove_callback(PrinterCallback)
        trainer.remove_callback(ProgressCallback)
    last = get_last_checkpoint(str(out)) if out.is_dir() else None
    trained = trainer.train(resume_from_checkpoint=last)
    test = trainer.evaluate(data["test"], metric_key_prefix="test")
    metrics = {
        "processes": args.world_size,
        "device": str(args.device),
        "precision": chosen.precision,
        "precision_reason": chosen.reason,
        "steps": trainer.state.global_step,
        "train_loss": round(trained.training_loss, 4),  # mean over the steps of this run
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "validation_accuracy": trainer.state.best_metric,
        "test_accuracy": test["test_accuracy"],
        "test_f1": test["test_f1"],
        "train_reviews": data["train"].num_rows,
        "validation_reviews": data["validation"].num_rows,
        "test_reviews": data["test"].num_rows,
        "train_minutes": round(trained.metrics["train_runtime"] / 60, 2),  # this run's training (not a resumed part)
        "train_reviews_per_second": round(trained.metrics["train_samples_per_second"], 1),
        "test_reviews_per_second": round(test["test_samples_per_second"], 1),  # evaluation batches, padded per batch
    }
    if trainer.is_world_process_zero():
        # model.safetensors + config.json + tokenizer files; not Trainer.save_model, which adds training_args.bin (how
        # the model was trained, as a pickle), which a model folder should not carry.
        trainer.model.save_pretrained(str(out / "model"))
        tokenization_kbalbert.save_tokenizer(tokenizer, out / "model")  # without this session's truncation settings
        training = {k: getattr(args, k) for k in ("num_train_epochs", "per_device_train_batch_size", "learning_rate",
                                                  "warmup_steps", "weight_decay", "eval_steps", "seed")}
        (out / "metrics.json").write_text(json.dumps({**metrics, "config": dataclasses.asdict(config),
                                                      "training_arguments": training}, indent=2))
    return metrics


@dataclass
class DistillSettings:
    """Born-again distillation, the recipe's last stage (`distill`): how many unlabelled corpus reviews the teacher
    labels, and how the student trains on them beside NSMC train."""

    unlabeled: int | None = None  # how many corpus reviews not in NSMC train or validation (None: all of them)
    learning_rate: float = 1e-4  # lower than fine-tuning's: the student starts from the fine-tuned classifier
    epochs: float = RECIPE["num_train_epochs"]
    batch_size: int = RECIPE["per_device_train_batch_size"]
    eval_steps: int = RECIPE["eval_steps"]
    seed: int = RECIPE["seed"]


def distill(classifier_dir, corpus_texts, output_dir, settings: DistillSettings = DistillSettings(),
            data: FinetuneConfig | None = None, init: str | None = None, splits=None) -> dict:
    """
    Born-again distillation over unlabelled reviews: the student (`init`, default the fine-tuned `classifier_dir`
    itself) trains `settings.epochs` on NSMC train (gold labels) plus `settings.unlabeled` corpus reviews that are not
    in NSMC train or validation, labelled with `ensemble_teacher`'s probabilities (TF-IDF + the ALBERT in
    `classifier_dir`). `splits` are the NSMC splits the classifier was fine-tuned on (made from `data` and
    `settings.seed` when not given); `data` gives `max_length` and the precision as for `finetune` (its `model_path`
    is ignored). Best checkpoint by validation accuracy, scored once on test, saved to
    `<output_dir>/model` with `metrics.json` (as `finetune`). The teacher's labels are written first
    (`<output_dir>/soft_targets.jsonl`) and reused, training resumes from its last checkpoint (when the settings are
    the same: `finetune`'s run record), and a finished run is read back, so an interrupted run picks up where it was.
    At inference the student is the ALBERT alone.
    """
    import kbalbert_data

    data = data or FinetuneConfig()
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    targets, teacher_file = out / "soft_targets.jsonl", out / "teacher.json"
    if splits is None:
        splits = kbalbert_data.nsmc_splits(kbalbert_data.load_nsmc(data.nsmc_dir), data.validation_size, settings.seed,
                                           data.train_size, data.test_size)
    kbalbert_data.check_splits(splits)
    import runs

    # What defines this run, checked before anything is reused: the teacher's ALBERT and the student's start (by
    # content), the reviews (NSMC splits and the unlabelled pool) and every setting. Another run's labels, checkpoints
    # or results in this folder are refused, not mixed in.
    corpus_texts = list(corpus_texts)
    runs.check_same_run(out / "distill_run.json", {
        "teacher": runs.fingerprint(classifier_dir), "student_start": runs.fingerprint(init or classifier_dir),
        "splits": kbalbert_data.splits_digest(splits),
        "unlabeled_pool": hashlib.sha256("\n".join(corpus_texts).encode("utf-8")).hexdigest()[:16],
        "max_length": data.max_length, **dataclasses.asdict(settings)}, "distillation")
    if not teacher_file.exists():
        seen = list(splits["train"]["document"]) + list(splits["validation"]["document"])
        texts = unlabeled_reviews(corpus_texts, seen, settings.unlabeled, settings.seed)
        probs, accuracy = ensemble_teacher(splits["train"], splits["validation"], classifier_dir, texts,
                                           max_length=data.max_length, precision_name=data.precision)
        write_soft_targets(targets, texts, probs)
        teacher_file.write_text(json.dumps({"unlabeled": len(texts), "validation_accuracy": accuracy}, indent=2))
    teacher = json.loads(teacher_file.read_text())
    teacher = {"unlabeled": teacher["unlabeled"], "teacher_validation_accuracy": teacher["validation_accuracy"]}
    if (out / "metrics.json").exists():
        return {**teacher, **json.loads((out / "metrics.json").read_text())}
    metrics = finetune(
        dataclasses.replace(data, model_path=str(init or classifier_dir), soft_targets=str(targets), quiet=True),
        training_arguments(output_dir=str(out), num_train_epochs=settings.epochs,
                           per_device_train_batch_size=settings.batch_size, learning_rate=settings.learning_rate,
                           seed=settings.seed, eval_steps=settings.eval_steps),
        splits,
    )
    return {**teacher, **metrics}


def parse_args(argv: list[str] | None = None):
    """(FinetuneConfig, TrainingArguments) from the command line, read by transformers' HfArgumentParser: this
    module's options (`--train-size`) and every TrainingArguments option, whose defaults are `RECIPE`'s."""
    from transformers import HfArgumentParser, TrainingArguments

    import precision

    parser = HfArgumentParser((FinetuneConfig, TrainingArguments), description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(**RECIPE)
    config, args = parser.parse_args_into_dataclasses(args=argv)
    try:
        config.precision = precision.check(config.precision)
    except ValueError as error:
        parser.error(str(error))
    return config, args


if __name__ == "__main__":
    print(json.dumps(finetune(*parse_args()), indent=2))

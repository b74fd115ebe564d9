"""Fine-tuning an ALBERT (or any encoder with a sequence-classification head) on NSMC: notebook 02's recipe in one
function (`finetune`), so the same code runs in one process, from a notebook, or on several processes or machines with
`accelerate launch scripts/train_nsmc.py` (that script is this module's command line; its docstring shows the commands).

The Trainer inside finds the processes that `accelerate launch` (or `torchrun`) started and trains data-parallel: each
process gets its share of every batch (`per_device_train_batch_size` is per process), gradients are averaged, and only
the first process writes the checkpoints, the final model and `metrics.json`.

`precision="auto"` (the default) follows the one rule in `kbalbert.precision`: bf16 on a GPU of compute capability 8.0
or more, fp16 below that (a T4), and on a CPU bf16 only when a short measurement shows it clearly faster. With several
processes the first one measures and the others take its choice, so every process trains at the same precision.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np
import torch
import transformers
from accelerate import PartialState
from accelerate.utils import broadcast_object_list
from datasets import concatenate_datasets, load_dataset
from sklearn.metrics import accuracy_score, f1_score
from transformers import (
    AutoModelForSequenceClassification,
    DataCollatorWithPadding,
    HfArgumentParser,
    Trainer,
    TrainingArguments,
    set_seed,
)
from transformers.trainer_callback import PrinterCallback, ProgressCallback, TrainerCallback
from transformers.utils.notebook import NotebookProgressCallback

import tokenization_kbalbert
from kbalbert import data as kd
from kbalbert import precision, runs
from kbalbert.data import LABEL_NAMES
from kbalbert.inference import check_model_path, load_tokenizer
from kbalbert.settings import DATA, FINETUNE, DataDefaults, help_of, setting

LABELS = dict(enumerate(LABEL_NAMES))  # {0: "부정", 1: "긍정"}: the classifier's id2label


@dataclass
class FinetuneConfig:
    """What `TrainingArguments` does not hold: the model, the data and the precision rule. The command line takes these
    names (`--train-size`) beside every `TrainingArguments` option (`--learning_rate`, `--num_train_epochs`, ...)."""

    model_path: str = setting("assets/albert-movie-wp-small", "the pretrained model: a folder or a Hub name")
    nsmc_dir: str | None = setting(None, "folder with ratings_train.txt and ratings_test.txt (default: the NSMC_DIR "
                                         "environment variable, else a sha256-checked download)")
    train_size: int | None = setting(None, "training reviews (default: all of NSMC train minus the validation split)")
    validation_size: int = setting(DATA.validation_size, help_of(DataDefaults, "validation_size"))
    test_size: int | None = setting(None, "test reviews (default: all 50,000)")
    max_length: int = setting(DATA.max_length, help_of(DataDefaults, "max_length"))
    precision: str = setting("auto", "auto | fp32 | bf16 | fp16 (auto: bf16 on GPUs of compute capability 8.0 or more, "
                                     "fp16 below, on a CPU bf16 only where a measurement shows it faster)")
    quiet: bool = setting(False, "no progress bars (processes forked from a notebook cannot draw them)")
    soft_targets: str | None = setting(None, "distillation: a .jsonl of {\"document\", \"probs\"} lines (unlabelled reviews "
                                             "with a teacher's probabilities), trained on beside NSMC train's gold labels")
    freeze_word_embeddings: bool = setting(False, "keep the word embeddings as the pretrained folder has them")


# Notebook 02's recipe as TrainingArguments values: the defaults of `training_arguments()` and of the command line.
RECIPE = dict(
    output_dir="outputs/02-nsmc-pytorch-script",  # checkpoint-N/, then model/ and metrics.json
    num_train_epochs=FINETUNE.epochs,
    per_device_train_batch_size=FINETUNE.batch_size,  # per process
    per_device_eval_batch_size=FINETUNE.eval_batch_size,
    learning_rate=FINETUNE.learning_rate,
    warmup_steps=FINETUNE.warmup,  # < 1: a fraction of the training steps (transformers 5)
    weight_decay=FINETUNE.weight_decay,
    max_grad_norm=FINETUNE.max_grad_norm,
    eval_strategy="steps",
    eval_steps=FINETUNE.eval_steps,  # validation accuracy (and a checkpoint) every this many steps
    save_strategy="steps",  # `finetune` saves at every evaluation and keeps the best (load_best_model_at_end)
    save_total_limit=2,
    metric_for_best_model="accuracy",
    train_sampling_strategy="group_by_length",  # batches of similar lengths: the largest speed-up on a CPU
    length_column_name="length",
    label_names=["labels"],
    report_to="none",
    seed=DATA.seed,
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

    return TrainingArguments(**{**RECIPE, **overrides})


def tokenize_splits(splits, tokenizer, max_length: int, keep_text: bool = False):
    """Tokenises every split once (cached by `datasets`), truncating only: padding happens per batch. Adds a `length`
    column (tokens per review) for length grouping; keeps the review text (`document`) when `keep_text`."""

    def encode(batch):
        encoded = tokenizer(batch["document"], truncation=True, max_length=max_length)
        encoded["length"] = [len(ids) for ids in encoded["input_ids"]]
        return encoded

    return splits.map(encode, batched=True, remove_columns=["id"] if keep_text else ["id", "document"])


def with_soft_targets(train, soft_targets: str, tokenizer, max_length: int):
    """NSMC train (tokenised, gold labels as one-hot `soft_labels`) followed by the teacher-labelled reviews."""

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


def log_evaluations_only(trainer) -> None:
    """Keeps the Trainer's progress bar (if it has one) but replaces the log dicts it prints at every logging step
    (numbers as strings) with one line per evaluation: step, last training loss, validation loss and accuracy. In an
    interactive Jupyter the Trainer's own notebook progress bar already draws one table row per evaluation, so it is
    kept as it is and no lines are added. The full history stays in `trainer.state.log_history`."""

    class BarOnly(ProgressCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            pass

    class EvaluationLine(TrainerCallback):
        def on_evaluate(self, args, state, control, metrics=None, **kwargs):
            if state.is_world_process_zero and metrics and "eval_loss" in metrics:
                losses = [h["loss"] for h in state.log_history if "loss" in h]
                train = f", 학습 손실 {losses[-1]:.4f}" if losses else ""
                accuracy = f", 검증 정확도 {metrics['eval_accuracy']:.4f}" if "eval_accuracy" in metrics else ""
                print(f"스텝 {state.global_step:,}/{state.max_steps:,}{train}, 검증 손실 {metrics['eval_loss']:.4f}{accuracy}",
                      flush=True)

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

    predicted = np.argmax(prediction.predictions, axis=-1)
    return {
        "accuracy": float(accuracy_score(prediction.label_ids, predicted)),
        "f1": float(f1_score(prediction.label_ids, predicted, average="macro")),
    }


def choose_precision(config: FinetuneConfig, batch_size: int, data, tokenizer, record=None):
    """`precision.choose` for this run; with several processes, the first process decides and tells the others.
    `record`: where a CPU measurement is kept, so that a resumed run keeps its precision (`precision.choose`)."""


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
        choice = [precision.choose(config.precision, accelerator, capability, make_step, record=record)]
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
    content), which reviews train and validate (`kd.splits_digest`) and how many, the precision asked for,
    the soft targets' content, the number of processes and the training arguments that change the result. Where NSMC
    lies, the test set and progress bars do not count."""


    settings = {k: v for k, v in dataclasses.asdict(config).items()  # the splits below stand for the sizes
                if k not in ("nsmc_dir", "quiet", "soft_targets", "train_size", "validation_size", "test_size")}
    settings["train_reviews"], settings["validation_reviews"] = splits["train"].num_rows, splits["validation"].num_rows
    settings["splits"] = kd.splits_digest(splits)
    settings["start_model"] = runs.fingerprint(config.model_path) if Path(config.model_path).is_dir() else None
    settings["soft_targets_sha256"] = kd.sha256sum(config.soft_targets) if config.soft_targets else None
    settings["processes"] = PartialState().num_processes
    # A dict of overrides and a TrainingArguments must give the same record: missing keys take TrainingArguments'
    # defaults, enums their values (SchedulerType.LINEAR -> "linear").

    defaults = {f.name: f.default for f in dataclasses.fields(TrainingArguments)}
    for name in RUN_DEFINING_ARGUMENTS:
        value = planned.get(name, defaults.get(name))
        settings[name] = getattr(value, "value", value)
    return settings


def check_arguments(config: FinetuneConfig, planned: dict) -> None:
    """Refuses, before any data loads, settings that cannot train or would train something other than asked: each
    message says what to give instead (the command line prints it as one `error:` line)."""

    def whole(value) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    batch = planned.get("per_device_train_batch_size")
    for name, value in (("per_device_train_batch_size", batch),
                        ("per_device_eval_batch_size", planned.get("per_device_eval_batch_size")),
                        ("eval_steps", planned.get("eval_steps")), ("validation_size", config.validation_size)):
        if not whole(value) or value < 1:
            raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
    for name in ("train_size", "test_size"):
        value = getattr(config, name)
        if value is not None and (not whole(value) or value < 1):
            raise ValueError(f"{name} must be a positive number of reviews (or left out for all of them), got {value!r}")
    if config.train_size is not None and config.train_size < batch:
        raise ValueError(f"train_size {config.train_size} is smaller than one batch ({batch} reviews): give at least {batch}")
    if (planned.get("max_steps") or -1) <= 0 and not planned.get("num_train_epochs", 0) > 0:
        raise ValueError(f"num_train_epochs must be positive (got {planned.get('num_train_epochs')!r}): with no training "
                         "step the run would save the untrained model as if it were fine-tuned")
    if not planned.get("learning_rate", 0) > 0:
        raise ValueError(f"learning_rate must be positive, got {planned.get('learning_rate')!r}")
    positions = None
    if (Path(config.model_path) / "config.json").is_file():
        positions = json.loads((Path(config.model_path) / "config.json").read_text()).get("max_position_embeddings")
    if not whole(config.max_length) or config.max_length < 1 or (positions and config.max_length > positions):
        raise ValueError(f"max_length must be between 1 and the model's {positions or 'position'} positions, "
                         f"got {config.max_length!r}")
    if config.soft_targets:
        check_soft_targets(config.soft_targets)


def check_soft_targets(path) -> None:
    """Refuses a soft-targets file that `with_soft_targets` cannot read as the teacher's labels, naming the first bad
    line: each line one JSON object {"document": text, "probs": [P(부정), P(긍정)]}, probabilities summing to 1."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"soft_targets {path} not found: give the .jsonl file the teacher wrote "
                                "(distillation.write_soft_targets)")
    expected = 'one JSON object per line, {"document": "...", "probs": [P(부정), P(긍정)]}'
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}, line {number}: not JSON ({error.msg}); expected {expected}") from None
            probs = row.get("probs") if isinstance(row, dict) else None
            if (not isinstance(row, dict) or not isinstance(row.get("document"), str) or not isinstance(probs, list)
                    or len(probs) != 2 or not all(isinstance(p, (int, float)) and 0 <= p <= 1 for p in probs)
                    or abs(sum(probs) - 1) > 1e-3):
                raise ValueError(f"{path}, line {number}: {line.strip()[:80]!r} is not a teacher label; expected "
                                 f"{expected}, probabilities in [0, 1] summing to 1")
    if path.stat().st_size == 0:
        raise ValueError(f"{path} is empty: expected {expected}")


def check_vocabulary(model_path, tokenizer) -> None:
    """Refuses a tokenizer that does not fit the model's embeddings (a char tokenizer on a WordPiece model, or the
    reverse): token ids past the embeddings crash, and a much smaller vocabulary trains on the wrong tokens."""
    config_file = Path(model_path) / "config.json"
    if not config_file.is_file():
        return
    size = json.loads(config_file.read_text()).get("vocab_size")
    if size and not (size * 0.99 <= len(tokenizer) <= size):
        raise ValueError(f"the tokenizer of {model_path} has {len(tokenizer):,} tokens but the model's embeddings have "
                         f"{size:,}: they were not trained together. Save the tokenizer the model was trained with beside it")


def finetune(config: FinetuneConfig, args=None, splits=None) -> dict[str, float]:
    """Trains with `args` (TrainingArguments, or a dict of `training_arguments` overrides; default the recipe), keeps
    the checkpoint with the best validation accuracy, scores it once on test, saves it to `args.output_dir`/model with
    `metrics.json` beside it. `splits`: NSMC splits already loaded (`kd.nsmc_splits`' DatasetDict), used
    as they are; without them the splits are made from `config` (nsmc_dir and sizes). Give a dict when launching
    processes (`notebook_launcher`): TrainingArguments settles the device and the process group when it is made, so
    each process must make its own.

    Safe to rerun: settings are checked before any data loads; one run at a time per output folder (`runs.locked`);
    a rerun with the same settings resumes from the last complete checkpoint, or reports a finished run's stored
    result without training again; another run's folder is refused (`runs.check_same_run`)."""
    planned = {**RECIPE, **(args or {})} if args is None or isinstance(args, dict) else dataclasses.asdict(args)
    check_arguments(config, planned)
    check_model_path(config.model_path)
    # Only the first process holds the lock (torchrun and accelerate launch number them in RANK); PartialState cannot
    # tell yet, as the process group is set up later, with the TrainingArguments.
    first = int(os.environ.get("RANK", "0")) == 0
    lock = runs.locked(planned["output_dir"], "fine-tuning") if first else contextlib.nullcontext()
    with lock:
        return _finetune(config, args, splits)


def _finetune(config: FinetuneConfig, args=None, splits=None) -> dict[str, float]:
    # A dict (or nothing) is turned into TrainingArguments once, below, when the precision is known.
    planned = {**RECIPE, **(args or {})} if args is None or isinstance(args, dict) else dataclasses.asdict(args)
    set_seed(planned["seed"])
    kd.quiet_known_warnings()
    if config.quiet:

        datasets.disable_progress_bars()
        transformers.utils.logging.disable_progress_bar()
        transformers.logging.set_verbosity_error()
    out = Path(planned["output_dir"])
    check_model_path(config.model_path)
    if splits is None:
        with PartialState().main_process_first():  # the first process fills the datasets cache, the others read it
            splits = kd.nsmc_splits(kd.load_nsmc(config.nsmc_dir), config.validation_size,
                                               planned["seed"], config.train_size, config.test_size)
    kd.check_splits(splits)
    with PartialState().main_process_first():  # the first process writes the record, the others compare with it
        runs.check_same_run(out / "finetune_run.json", run_settings(config, planned, splits), "fine-tuning")
    if (out / "metrics.json").is_file() and (out / "model" / "model.safetensors").is_file():
        print(f"{out}: this run finished before with the same settings; its stored result is reported (metrics.json "
              "unchanged). Delete the folder to train again.", flush=True)
        stored = json.loads((out / "metrics.json").read_text())
        return {k: v for k, v in stored.items() if k not in ("config", "training_arguments")}
    tokenizer = load_tokenizer(config.model_path)
    check_vocabulary(config.model_path, tokenizer)
    with PartialState().main_process_first():
        data = tokenize_splits(splits, tokenizer, config.max_length)
        if config.soft_targets:
            # soft_labels must reach the loss, so the Trainer keeps every column; the length sampler then measures
            # input_ids itself (a `length` column would reach it as a lazy datasets Column, read row by row).
            data = data.remove_columns("length")
            data["train"] = with_soft_targets(data["train"], config.soft_targets, tokenizer, config.max_length)
    chosen = choose_precision(config, planned["per_device_train_batch_size"], data, tokenizer, record=out / "precision.json")
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
        trainer.remove_callback(PrinterCallback)
        trainer.remove_callback(ProgressCallback)
    else:  # a progress bar with its time estimate, and one line per evaluation instead of a dict per log
        log_evaluations_only(trainer)
    last = runs.last_complete_checkpoint(out)  # a checkpoint cut short by a crash is skipped
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
        tokenizer.model_max_length = config.max_length  # the length it was trained at: inference and the demo read it
        tokenization_kbalbert.save_tokenizer(tokenizer, out / "model")  # without this session's truncation settings
        training = {k: getattr(args, k) for k in ("num_train_epochs", "per_device_train_batch_size", "learning_rate",
                                                  "warmup_steps", "weight_decay", "eval_steps", "seed")}
        runs.write_json(out / "metrics.json", {**metrics, "config": dataclasses.asdict(config), "training_arguments": training})
    return metrics


def parse_args(argv: list[str] | None = None, description: str | None = None):
    """(FinetuneConfig, TrainingArguments) from the command line, read by transformers' HfArgumentParser: this
    module's options (`--train-size`) and every TrainingArguments option, whose defaults are `RECIPE`'s."""

    parser = HfArgumentParser((FinetuneConfig, TrainingArguments), description=description,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(**RECIPE)
    config, args = parser.parse_args_into_dataclasses(args=argv)
    try:
        config.precision = precision.check(config.precision)
    except ValueError as error:
        parser.error(str(error))
    return config, args

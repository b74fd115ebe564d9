"""Born-again distillation, the recipe's last stage: a teacher (TF-IDF + the fine-tuned ALBERT, averaged with a weight
chosen on validation) labels unlabelled corpus reviews with probabilities, and the student ALBERT trains on them beside
NSMC train's gold labels (`distill`). At inference the student is the ALBERT alone."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kbalbert import data as kd
from kbalbert import runs
from kbalbert.baselines import tfidf_teacher
from kbalbert.finetuning import RECIPE, FinetuneConfig, finetune, training_arguments
from kbalbert.inference import predict_proba
from kbalbert.settings import DATA


def unlabeled_reviews(corpus_texts, seen, size: int | None, seed: int = DATA.seed) -> list[str]:
    """A seeded sample of `size` corpus reviews (None or 0: all) that are not in `seen` (the NSMC reviews the models
    train and validate on), in corpus order: the unlabelled pool that a teacher labels."""
    seen = set(seen)
    pool = [t for t in corpus_texts if t not in seen]
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(len(pool), size=min(size or len(pool), len(pool)), replace=False))
    return [pool[i] for i in chosen]


def ensemble_teacher(train, validation, classifier_dirs, texts, max_length: int = DATA.max_length,
                     precision_name: str = "auto", progress: bool = False) -> tuple[np.ndarray, dict]:
    """
    The distillation teacher: `tfidf_teacher` fitted on `train` and the fine-tuned ALBERT in `classifier_dirs` (one
    folder, or a list of ALBERTs fine-tuned with different seeds, whose probabilities are averaged), mixed as
    w * TF-IDF + (1 - w) * ALBERT with w (0, 0.1, ..., 1) chosen on `validation`. Every model learns from NSMC train
    only. Returns the teacher's probabilities for `texts` and the validation accuracies it chose from.
    """
    folders = [classifier_dirs] if isinstance(classifier_dirs, (str, Path)) else list(classifier_dirs)
    y_val = np.array(validation["label"])
    if progress:  # scikit-learn shows no progress of its own: say what the next minute is spent on
        print(f"fitting the TF-IDF teacher on {len(train['document']):,} reviews", flush=True)
    tfidf = tfidf_teacher().fit(train["document"], train["label"])
    tfidf_val = tfidf.predict_proba(validation["document"])
    # one pass of each ALBERT over validation and the unlabelled texts together: each model is loaded once
    each = [predict_proba(folder, list(validation["document"]) + list(texts), max_length=max_length,
                          precision_name=precision_name, progress=progress) for folder in folders]
    albert = np.mean(each, axis=0)
    albert_val, albert_texts = albert[:len(y_val)], albert[len(y_val):]
    accuracy = {round(float(w), 1): float(((w * tfidf_val + (1 - w) * albert_val).argmax(1) == y_val).mean())
                for w in np.linspace(0, 1, 11)}
    w = max(accuracy, key=accuracy.get)
    probs = w * tfidf.predict_proba(texts) + (1 - w) * albert_texts
    report = {"tfidf_lr": accuracy[1.0], "albert": accuracy[0.0], f"ensemble(w_tfidf={w})": accuracy[w]}
    if len(folders) > 1:  # each ALBERT alone, then their average ("albert")
        report = {"tfidf_lr": report["tfidf_lr"],
                  **{f"albert_{i + 1}": float((p[:len(y_val)].argmax(1) == y_val).mean()) for i, p in enumerate(each)},
                  **{k: v for k, v in report.items() if k != "tfidf_lr"}}
    return probs, report


def write_soft_targets(path, texts, probs) -> None:
    """The `soft_targets` file: one {"document", "probs"} line per unlabelled review."""
    with open(path, "w", encoding="utf-8") as f:
        for text, p in zip(texts, np.asarray(probs, dtype=float)):
            f.write(json.dumps({"document": text, "probs": [round(float(x), 6) for x in p]}, ensure_ascii=False) + "\n")


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
    teachers: int = 1  # fine-tuned ALBERTs in the teacher: the classifier, and teachers - 1 more fine-tuned from
    # `pretrained` with seeds seed + 1, seed + 2, ... on the same splits (`teacher_seeds`)


def teacher_seeds(pretrained, splits, output_dir, settings: DistillSettings, data: FinetuneConfig,
                  finetune_args: dict | None = None) -> list[Path]:
    """The teacher's extra ALBERTs: `pretrained` fine-tuned `settings.teachers - 1` times more on the same `splits`
    (same validation reviews), with `finetune_args` (`training_arguments` overrides; the classifier's own) and seeds
    `settings.seed + 1`, `+ 2`, ..., into `<output_dir>/teacher-seed<seed>/` (each resumes and is reused as
    `finetune` is). Returns their model folders."""
    folders = []
    for k in range(1, settings.teachers):
        seed = settings.seed + k
        folder = Path(output_dir) / f"teacher-seed{seed}"
        finetune(dataclasses.replace(data, model_path=str(pretrained), soft_targets=None),
                 training_arguments(**{**(finetune_args or {}), "output_dir": str(folder), "seed": seed}), splits)
        folders.append(folder / "model")
    return folders


def distill(classifier_dir, corpus_texts, output_dir, settings: DistillSettings = DistillSettings(),
            data: FinetuneConfig | None = None, init: str | None = None, splits=None, pretrained=None,
            finetune_args: dict | None = None) -> dict:
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
    At inference the student is the ALBERT alone. With `settings.teachers` > 1, the teacher's ALBERT is the average of
    the classifier and `teacher_seeds` more fine-tuned from `pretrained` with `finetune_args` (the classifier's own
    pretrained start and training arguments).
    """

    data = data or FinetuneConfig()
    if settings.teachers < 1:
        raise ValueError(f"teachers must be 1 or more (the fine-tuned classifier itself is one), got {settings.teachers}")
    if settings.teachers > 1 and pretrained is None:
        raise ValueError("teachers > 1 needs `pretrained`, the ALBERT the classifier was fine-tuned from")
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    targets, teacher_file = out / "soft_targets.jsonl", out / "teacher.json"
    if splits is None:
        splits = kd.nsmc_splits(kd.load_nsmc(data.nsmc_dir), data.validation_size, settings.seed,
                                           data.train_size, data.test_size)
    kd.check_splits(splits)

    # What defines this run, checked before anything is reused: the teacher's ALBERT and the student's start (by
    # content), the reviews (NSMC splits and the unlabelled pool) and every setting. Another run's labels, checkpoints
    # or results in this folder are refused, not mixed in.
    corpus_texts = list(corpus_texts)
    runs.check_same_run(out / "distill_run.json", {
        "teacher": runs.fingerprint(classifier_dir), "student_start": runs.fingerprint(init or classifier_dir),
        "splits": kd.splits_digest(splits),
        "unlabeled_pool": hashlib.sha256("\n".join(corpus_texts).encode("utf-8")).hexdigest()[:16],
        "max_length": data.max_length, **dataclasses.asdict(settings),
        **({"teacher_start": runs.fingerprint(pretrained), "teacher_training": finetune_args or {}}
           if settings.teachers > 1 else {})}, "distillation")
    if not teacher_file.exists():
        teachers = [classifier_dir, *teacher_seeds(pretrained, splits, out, settings, data, finetune_args)]
        seen = list(splits["train"]["document"]) + list(splits["validation"]["document"])
        texts = unlabeled_reviews(corpus_texts, seen, settings.unlabeled, settings.seed)
        probs, accuracy = ensemble_teacher(splits["train"], splits["validation"], teachers, texts,
                                           max_length=data.max_length, precision_name=data.precision,
                                           progress=not data.quiet)
        write_soft_targets(targets, texts, probs)
        runs.write_json(teacher_file, {"unlabeled": len(texts), "validation_accuracy": accuracy})
    teacher = json.loads(teacher_file.read_text())
    teacher = {"unlabeled": teacher["unlabeled"], "teacher_validation_accuracy": teacher["validation_accuracy"]}
    if (out / "metrics.json").exists():
        return {**teacher, **json.loads((out / "metrics.json").read_text())}
    metrics = finetune(
        dataclasses.replace(data, model_path=str(init or classifier_dir), soft_targets=str(targets)),
        training_arguments(output_dir=str(out), num_train_epochs=settings.epochs,
                           per_device_train_batch_size=settings.batch_size, learning_rate=settings.learning_rate,
                           seed=settings.seed, eval_steps=settings.eval_steps),
        splits,
    )
    return {**teacher, **metrics}

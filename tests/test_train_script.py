"""`train_nsmc.py`, the recipe of notebook 02 as one function: launched with `accelerate launch` on 2 CPU processes."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_accelerate_launch_two_cpu_processes(tmp_path, forced_precision):
    # Without a GPU, `--multi_gpu` starts the processes with torchrun on the CPU (gloo); see train_nsmc.py.
    from transformers import AutoModelForSequenceClassification

    out = tmp_path / "run"
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
        "--mixed_precision", "no", "--dynamo_backend", "no", str(REPO / "scripts" / "train_nsmc.py"),
        "--model-path", str(REPO / "assets" / "albert-movie-wp-small"), "--output-dir", str(out),
        "--train-size", "128", "--validation-size", "64", "--test-size", "64", "--per_device_train_batch_size", "16",
        "--eval_steps", "2",
        "--precision", forced_precision, "--quiet",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["processes"] == 2
    assert metrics["steps"] == 4  # 128 reviews / (16 per process x 2 processes)
    assert metrics["precision"] in ("fp32", "bf16") and (forced_precision == "auto" or metrics["precision"] == forced_precision)
    # The logged loss is a per-review mean as in one process (transformers otherwise multiplies it by the process
    # count): 4 steps from the pretrained model stay near ln 2 = 0.69, far below 2 x 0.69.
    assert 0.4 < metrics["train_loss"] < 1.0, metrics
    assert metrics["test_reviews"] == 64
    saved = [p for p in out.rglob("model.safetensors") if p.parent.name == "model"]
    assert saved == [out / "model" / "model.safetensors"]  # one model, written by the first process only
    assert not (out / "model" / "training_args.bin").exists()
    model = AutoModelForSequenceClassification.from_pretrained(out / "model")
    assert model.config.id2label[1] == "긍정"


def test_command_line_matches_config():
    from kbalbert import finetuning

    config, args = finetuning.parse_args(["--train-size", "10", "--learning_rate", "1e-4", "--precision", "bf16",
                                          "--num_train_epochs", "2"])
    assert (config.train_size, config.precision, config.validation_size) == (10, "bf16", 5000)
    assert (args.learning_rate, args.num_train_epochs) == (1e-4, 2)
    with pytest.raises(SystemExit):
        finetuning.parse_args(["--precision", "int8"])
    config, args = finetuning.parse_args([])
    assert config == finetuning.FinetuneConfig()
    # with no options, the command line trains with the same TrainingArguments as the function's default
    expected = finetuning.training_arguments()
    for name in finetuning.RECIPE:
        assert getattr(args, name) == getattr(expected, name), name


def test_wrong_model_path_says_what_to_do(monkeypatch):
    import pytest

    from kbalbert import finetuning, inference

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="assets/albert-movie-wp-small"):
        finetuning.finetune(finetuning.FinetuneConfig(model_path="assets/no-such-model"))
    inference.check_model_path(str(REPO / "assets" / "albert-movie-wp-small"))  # a real folder passes


def test_shipped_folders_hold_weights_as_safetensors_and_no_run_state():
    for folder in (REPO / "assets").iterdir():
        if folder.is_dir():
            names = {p.name for p in folder.iterdir()}
            assert "model.safetensors" in names and "config.json" in names, folder
            assert not {n for n in names if n.endswith((".bin", ".pt", ".pth", ".pkl", ".h5"))}, (folder, names)


def test_every_shipped_folder_is_small_loads_offline_and_is_used_by_a_notebook(monkeypatch):
    from huggingface_hub import ModelCard
    from transformers import AutoConfig, AutoTokenizer

    import tokenization_kbalbert  # noqa: F401  (the char model's tokenizer class)

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    notebooks = "".join(p.read_text(encoding="utf-8") for p in REPO.glob("[0-9][0-9]-*.ipynb"))
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for folder in sorted(p for p in (REPO / "assets").iterdir() if p.is_dir()):
        assert f"assets/{folder.name}\\\"" in notebooks or f"assets/{folder.name}\"" in notebooks, f"{folder.name} is used by no notebook"
        assert sum(f.stat().st_size for f in folder.iterdir()) <= 25 * 2**20, folder
        config = AutoConfig.from_pretrained(folder)
        size = config.vocab_size * config.embedding_size + 12 * config.hidden_size**2 + config.embedding_size * config.hidden_size
        assert size <= 10_000_000, (folder, size)  # an upper-bound estimate of ALBERT's parameters
        assert AutoTokenizer.from_pretrained(folder)("영화 재밌다")["input_ids"][0] == config.bos_token_id
        card = ModelCard.load(folder / "README.md")
        assert card.data.language == "ko" and card.data.license == "cc0-1.0", folder
        if config.architectures == ["AlbertForSequenceClassification"]:
            accuracy = next(r.metric_value for r in card.data.eval_results if r.metric_type == "accuracy")
            assert f"{100 * accuracy:.2f}%" in readme, f"the README does not show {folder.name}'s accuracy {accuracy}"


@pytest.mark.slow
def test_distillation_trains_on_gold_and_teacher_labelled_reviews(tmp_path, forced_precision, monkeypatch, capsys):
    """`soft_targets`: unlabelled reviews with a teacher's probabilities join NSMC train; the loss is cross-entropy
    against those probabilities (gold labels as one-hot)."""
    import numpy as np
    import torch
    from transformers import AutoModelForSequenceClassification

    from kbalbert import distillation, finetuning

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    targets = tmp_path / "soft.jsonl"
    texts = ["정말 재밌다", "최악이다 진짜", "그냥 그랬음", "배우 연기 최고"] * 8
    probs = np.array([[0.1, 0.9], [0.95, 0.05], [0.6, 0.4], [0.2, 0.8]] * 8)
    distillation.write_soft_targets(targets, texts, probs)
    assert json.loads(targets.read_text(encoding="utf-8").splitlines()[1]) == {"document": "최악이다 진짜", "probs": [0.95, 0.05]}

    tokenizer_name = str(REPO / "assets" / "albert-movie-wp-small")
    from transformers import AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_name)
    from kbalbert import data as kd
    splits = kd.nsmc_splits(kd.load_nsmc(), 32, 42, 64, 32)
    train = finetuning.tokenize_splits(splits, tokenizer, 128)["train"].remove_columns("length")
    mixed = finetuning.with_soft_targets(train, str(targets), tokenizer, 128)
    assert mixed.num_rows == 64 + 32
    assert mixed[0]["soft_labels"] == [1.0 - mixed[0]["label"], float(mixed[0]["label"])]
    assert mixed[65]["soft_labels"] == [0.95, 0.05] and mixed[65]["label"] == 0

    # The loss on a soft batch is the cross-entropy against the probabilities, not against the argmax labels.
    Trainer = finetuning.soft_target_trainer()
    model = AutoModelForSequenceClassification.from_pretrained(tokenizer_name, num_labels=2)
    batch = tokenizer(["정말 재밌다", "그냥 그랬음"], padding=True, return_tensors="pt")
    soft = torch.tensor([[0.1, 0.9], [0.6, 0.4]])
    loss = Trainer.compute_loss(None, model.eval(), {**batch, "labels": torch.tensor([1, 0]), "soft_labels": soft})
    with torch.no_grad():
        logits = model(**batch).logits
    assert torch.allclose(loss, torch.nn.functional.cross_entropy(logits, soft), atol=1e-6)

    metrics = finetuning.finetune(
        finetuning.FinetuneConfig(model_path=tokenizer_name, train_size=64, validation_size=32, test_size=32,
                                  precision=forced_precision, soft_targets=str(targets), quiet=True),
        finetuning.training_arguments(output_dir=str(tmp_path / "run"), per_device_train_batch_size=16, eval_steps=3))
    assert metrics["steps"] == 6  # (64 gold + 32 teacher-labelled) / 16
    printed = capsys.readouterr()
    assert "'loss'" not in printed.out + printed.err, "quiet=True must not print the Trainer's log dicts"
    assert 0 <= metrics["test_accuracy"] <= 1 and metrics["test_reviews"] == 32


def test_shipped_pretrained_model_fills_masks_better_than_token_frequencies(nsmc, monkeypatch):
    """The shipped WordPiece ALBERT went through the recipe's MLM stage: on NSMC test reviews (never seen in
    pretraining), its masked-token loss is well below the loss of answering every mask by token frequency."""
    import math
    from collections import Counter

    import torch
    from transformers import AutoModelForMaskedLM, AutoTokenizer, DataCollatorForLanguageModeling

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = REPO / "assets" / "albert-movie-wp-small"
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForMaskedLM.from_pretrained(folder).eval()
    texts = [t for t in nsmc["test"]["document"][:2000] if len(t.strip()) >= 2]
    rows = [{"input_ids": ids} for ids in tokenizer(texts, truncation=True, max_length=128)["input_ids"]]
    counts = Counter(i for row in rows for i in row["input_ids"][1:-1])
    total = sum(counts.values())
    unigram = -sum(c / total * math.log(c / total) for c in counts.values())  # in-sample: a low (strict) bar
    torch.manual_seed(0)
    collate = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)
    losses = []
    with torch.inference_mode():
        for start in range(0, len(rows), 250):
            losses.append(float(model(**collate(rows[start:start + 250])).loss))
    loss = sum(losses) / len(losses)
    assert loss < unigram - 1.0, (loss, unigram)


def _tiny_run(finetuning, model_path, out, precision="auto", **overrides):
    return finetuning.finetune(
        finetuning.FinetuneConfig(model_path=str(model_path), train_size=32, validation_size=16, test_size=16,
                                  precision=precision, quiet=True),
        finetuning.training_arguments(output_dir=str(out), per_device_train_batch_size=16, eval_steps=1, **overrides))


def test_a_rerun_into_the_same_folder_resumes_only_the_same_run(tmp_path, forced_precision, monkeypatch):
    """Issue 32: another model, learning rate or data size into the same --output_dir is refused before any work
    (it used to resume the old run's checkpoint silently); the same settings resume."""
    import shutil

    from kbalbert import finetuning

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    pretrained, out = REPO / "assets" / "albert-movie-wp-small", tmp_path / "run"
    first = _tiny_run(finetuning, pretrained, out, forced_precision)
    assert first["steps"] == 2 and (out / "finetune_run.json").exists()
    saved = (out / "model" / "model.safetensors").read_bytes()
    checkpoints = sorted(p.name for p in out.glob("checkpoint-*"))

    recipe_rate = finetuning.RECIPE["learning_rate"]
    with pytest.raises(ValueError, match=re.escape(f"learning_rate: {recipe_rate!r} before, 0.0001 now")):
        _tiny_run(finetuning, pretrained, out, forced_precision, learning_rate=1e-4)
    other = tmp_path / "other-model"  # the same files but one config value changed: another start model
    shutil.copytree(pretrained, other)
    config = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**config, "classifier_dropout_prob": 0.2}))
    with pytest.raises(ValueError, match="start_model"):
        _tiny_run(finetuning, other, out, forced_precision)
    with pytest.raises(ValueError, match="train_reviews: 32 before, 48 now"):
        finetuning.finetune(finetuning.FinetuneConfig(model_path=str(pretrained), train_size=48, validation_size=16,
                                                      test_size=16, precision=forced_precision, quiet=True),
                            finetuning.training_arguments(output_dir=str(out), per_device_train_batch_size=16,
                                                          eval_steps=1))
    assert (out / "model" / "model.safetensors").read_bytes() == saved  # nothing was overwritten by the refusals
    assert sorted(p.name for p in out.glob("checkpoint-*")) == checkpoints
    from kbalbert import data as kd

    # Issue 31: the same splits handed over already loaded are the same run (resumed); another draw of 32 is not
    made = kd.nsmc_splits(kd.load_nsmc(), 16, 42, 32, 16)
    other_draw = kd.nsmc_splits(kd.load_nsmc(), 16, 7, 32, 16)
    config = finetuning.FinetuneConfig(model_path=str(pretrained), precision=forced_precision, quiet=True)
    arguments = finetuning.training_arguments(output_dir=str(out), per_device_train_batch_size=16, eval_steps=1)
    with pytest.raises(ValueError, match="splits: "):
        finetuning.finetune(config, arguments, other_draw)
    with pytest.raises(ValueError, match="missing: test"):
        finetuning.finetune(config, arguments, {"train": made["train"], "validation": made["validation"]})
    again = finetuning.finetune(config, arguments, made)  # same settings: resumes the finished run
    assert again["steps"] == 2 and again["validation_accuracy"] == first["validation_accuracy"]


def test_a_model_folder_without_its_tokenizer_is_refused_before_training(tmp_path, monkeypatch):
    """Issue 32: AutoTokenizer would build a 5-token tokenizer from such a folder and training would go on on [UNK]s."""
    import shutil

    from kbalbert import finetuning

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(REPO / "assets" / "albert-movie-wp-small" / name, bare / name)
    with pytest.raises(FileNotFoundError, match="no tokenizer files"):
        finetuning.finetune(finetuning.FinetuneConfig(model_path=str(bare)),
                            finetuning.training_arguments(output_dir=str(tmp_path / "run")))
    assert not (tmp_path / "run").exists()


def test_teacher_predictions_follow_the_device_rule(monkeypatch):
    """Issue 30: the distillation teacher's predictions run on the GPU when there is one, at precision.py's rule
    (simulated: T4 -> fp16, H200 -> bf16), on the CPU in fp32; the autocast path gives the fp32 answers."""
    import numpy as np

    from kbalbert import inference

    assert inference.inference_plan("cpu", None) == ("cpu", "fp32")
    assert inference.inference_plan("cuda", (7, 5)) == ("cuda", "fp16")
    assert inference.inference_plan("cuda", (9, 0)) == ("cuda", "bf16")
    # an explicit choice is kept (review finding: the requested precision was ignored), fp16 on a CPU refused
    assert inference.inference_plan("cuda", (9, 0), "fp32") == ("cuda", "fp32")
    assert inference.inference_plan("cpu", None, "bf16") == ("cpu", "bf16")
    with pytest.raises(ValueError, match="fp16"):
        inference.inference_plan("cpu", None, "fp16")
    classifier = REPO / "assets" / "albert-movie-wp-small-nsmc"
    texts = ["정말 재밌다", "최악이다 진짜", "배우 연기 최고", "시간 아깝다", ""]
    fp32 = inference.predict_proba(classifier, texts)
    bf16 = inference.predict_proba(classifier, texts, precision_name="bf16")
    assert fp32.shape == (5, 2) and np.allclose(fp32.sum(1), 1, atol=1e-5)
    assert np.abs(fp32 - bf16).max() < 0.05 and (fp32.argmax(1) == bf16.argmax(1)).all()


def test_kb_albert_format_folders_get_their_char_tokenizer_and_records_match(tmp_path, monkeypatch):
    """Review findings: a folder with vocab.txt but no tokenizer.json (KB-ALBERT's distributed format) is tokenized by
    the char tokenizer, not a 5-token AutoTokenizer; a dict of overrides and a TrainingArguments give one record; a
    record left alone by a refused run is rewritten, one beside work is not."""
    import tokenization_kbalbert
    from kbalbert import finetuning, inference, runs

    folder = tmp_path / "kb-albert"
    tokenizer = tokenization_kbalbert.KbAlbertCharTokenizerFast(vocab=tokenization_kbalbert.build_char_vocab(["영화 재밌다"]))
    tokenizer.save_pretrained(str(folder))
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        (folder / name).unlink(missing_ok=True)
    assert (folder / "vocab.txt").is_file()
    loaded = inference.load_tokenizer(folder)
    assert isinstance(loaded, tokenization_kbalbert.KbAlbertCharTokenizerFast) and len(loaded) > 5

    from kbalbert import data as kd

    config = finetuning.FinetuneConfig()
    splits = kd.nsmc_splits(kd.load_nsmc(), 16, 42, 32, 16)
    from_dict = finetuning.run_settings(config, {**finetuning.RECIPE}, splits)
    import dataclasses
    from_args = finetuning.run_settings(config, dataclasses.asdict(finetuning.training_arguments()), splits)
    assert from_dict == from_args and from_dict["lr_scheduler_type"] == "linear"

    record = tmp_path / "run" / "finetune_run.json"
    runs.check_same_run(record, {"train_size": 0}, "fine-tuning")
    runs.check_same_run(record, {"train_size": 2000}, "fine-tuning")  # nothing else there: rewritten
    (record.parent / "checkpoint-1").mkdir()
    with pytest.raises(ValueError, match="train_size: 2000 before, 3000 now"):
        runs.check_same_run(record, {"train_size": 3000}, "fine-tuning")


def test_log_evaluations_only_prints_one_line_per_evaluation_and_keeps_jupyters_table(capsys):
    """Issue 33: the Trainer's log dicts give way to one line per evaluation; with the progress bar off (PrinterCallback)
    only the lines remain; in interactive Jupyter (NotebookProgressCallback: one table row per evaluation) nothing is
    added beside the table (review finding: table and lines were both shown)."""
    from types import SimpleNamespace

    from transformers.trainer_callback import CallbackHandler, PrinterCallback, ProgressCallback, TrainerState
    from transformers.utils.notebook import NotebookProgressCallback

    from kbalbert import finetuning

    class FakeTrainer:  # the two Trainer methods log_evaluations_only uses, over a real CallbackHandler
        def __init__(self, callback):
            self.callback_handler = CallbackHandler([callback], None, None, None, None)

        def add_callback(self, callback):
            self.callback_handler.add_callback(callback)

        def remove_callback(self, callback):
            self.callback_handler.remove_callback(callback)

    def names(trainer):
        return [type(c).__name__ for c in trainer.callback_handler.callbacks]

    state = TrainerState(global_step=500, max_steps=2266, log_history=[{"loss": 0.41, "step": 490}])
    metrics = {"eval_loss": 0.33, "eval_accuracy": 0.8642}
    for first, expected in ((ProgressCallback, ["BarOnly", "EvaluationLine"]), (PrinterCallback, ["EvaluationLine"]),
                            (NotebookProgressCallback, ["NotebookProgressCallback"])):
        trainer = FakeTrainer(first)
        finetuning.log_evaluations_only(trainer)
        assert names(trainer) == expected, first
        if expected[-1] == "EvaluationLine":
            control = SimpleNamespace()
            trainer.callback_handler.on_log(SimpleNamespace(), state, control, logs={"loss": "0.41"})
            trainer.callback_handler.callbacks[-1].on_evaluate(None, state, control, metrics=metrics)
    printed = capsys.readouterr().out.splitlines()
    assert printed == ["스텝 500/2,266, 학습 손실 0.4100, 검증 손실 0.3300, 검증 정확도 0.8642"] * 2


def test_ensemble_teacher_loads_the_albert_once_and_mixes_as_it_says(monkeypatch):
    """Issue 31: the teacher's ALBERT reads its folder once (validation and unlabelled reviews in one pass); the
    probabilities it returns are w * TF-IDF + (1 - w) * ALBERT with the w it reports, chosen on validation."""
    import numpy as np

    from kbalbert import baselines, distillation, inference
    from kbalbert import data as kd

    splits = kd.nsmc_splits(kd.load_nsmc(), 64, 42, 400, 10)
    texts = ["정말 재밌다", "최악이다 진짜", "배우 연기 최고", "시간 아깝다"]
    classifier = REPO / "assets" / "albert-movie-wp-small-nsmc"
    calls = []
    real = inference.predict_proba
    monkeypatch.setattr(distillation, "predict_proba", lambda *a, **k: calls.append(a) or real(*a, **k))
    probs, accuracy = distillation.ensemble_teacher(splits["train"], splits["validation"], classifier, texts)
    assert len(calls) == 1
    (chosen,) = [k for k in accuracy if k.startswith("ensemble")]
    w = float(chosen.split("=")[1].rstrip(")"))
    tfidf = baselines.tfidf_teacher().fit(splits["train"]["document"], splits["train"]["label"]).predict_proba(texts)
    assert np.allclose(probs, w * tfidf + (1 - w) * real(classifier, texts), atol=1e-5)
    assert accuracy[chosen] == max(accuracy.values())


def test_distillation_refuses_a_folder_labelled_for_other_settings(tmp_path, nsmc, monkeypatch):
    """A distillation folder keeps its teacher's labels, checkpoints and results for one run: rerun with another
    number of unlabelled reviews (or another teacher), it stops before labelling or training and says what differs;
    the same settings read the finished run back."""
    import numpy as np

    from kbalbert import data as kd
    from kbalbert import distillation

    calls = []

    def teacher(train, validation, classifier_dir, texts, **kwargs):
        calls.append(("teacher", len(texts)))
        return np.tile([0.3, 0.7], (len(texts), 1)), {"tfidf_lr": 0.5, "albert": 0.5}

    def finetune(config, args, splits):
        calls.append(("finetune", args.learning_rate))
        (Path(args.output_dir) / "metrics.json").write_text(json.dumps({"test_accuracy": 0.5}))
        return {"test_accuracy": 0.5}

    monkeypatch.setattr(distillation, "ensemble_teacher", teacher)
    monkeypatch.setattr(distillation, "finetune", finetune)
    classifier = tmp_path / "classifier"
    classifier.mkdir()
    (classifier / "config.json").write_text('{"hidden_size": 8}')
    splits = kd.nsmc_splits(nsmc, 20, 42, 40, 20)
    corpus = [f"리뷰 {i}" for i in range(50)]
    out = tmp_path / "distilled"
    settings = distillation.DistillSettings(unlabeled=10)
    first = distillation.distill(classifier, corpus, out, settings, splits=splits)
    assert first["unlabeled"] == 10 and calls == [("teacher", 10), ("finetune", 1e-4)]
    assert distillation.distill(classifier, corpus, out, settings, splits=splits) == first  # read back
    assert len(calls) == 2
    for change in ({"unlabeled": 20}, {"learning_rate": 5e-5}):
        with pytest.raises(ValueError, match=f"other settings \\({next(iter(change))}"):
            distillation.distill(classifier, corpus, out, distillation.DistillSettings(**{"unlabeled": 10, **change}),
                               splits=splits)
    (classifier / "config.json").write_text('{"hidden_size": 16}')  # another teacher under the same name
    with pytest.raises(ValueError, match="teacher"):
        distillation.distill(classifier, corpus, out, settings, splits=splits)
    assert len(calls) == 2, "nothing was labelled or trained by a refused run"

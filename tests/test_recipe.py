"""scripts/build_default_model.py: the shipped model's recipe runs end to end at toy size, writes its model cards,
resumes without redoing a finished stage, and exports only where it is told to."""

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_recipe_runs_every_stage_resumes_and_exports(tmp_path, forced_precision, monkeypatch):
    import os

    import build_default_model as recipe
    from huggingface_hub import ModelCard
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    config = recipe.RecipeConfig(
        corpus_path=os.environ["CORPUS_PATH"], work_dir=str(tmp_path / "work"), export_to=str(tmp_path / "export"),
        max_docs=2600, vocab_size=600, limit_alphabet=250, w2v_epochs=1, hidden_size=64, num_layers=2, train_size=96, test_size=48,
        batch_size=32, mlm_steps=3, mlm_corpus_epochs=0, mlm_batch_size=16, distill_unlabeled=32,
        precision=forced_precision)
    log = recipe.run(config)
    assert [s for s in ("tokenizer", "word2vec", "start", "mlm", "finetune", "distill") if s in log] == [
        "tokenizer", "word2vec", "start", "mlm", "finetune", "distill"]
    assert log["mlm"]["steps"] == 3 and log["mlm"]["eval_history"], "the MLM stage trains and reports its held-out loss"
    assert log["distill"]["unlabeled"] == 32 and log["distill"]["steps"] == 4  # (96 gold + 32 teacher-labelled) / 32
    teacher = log["distill"]["teacher_validation_accuracy"]
    assert {"tfidf_lr", "albert"} <= set(teacher) and all(0 <= v <= 1 for v in teacher.values())

    # The pretrained model shipped is the MLM stage's output: its MLM head predicts tokens, not a fresh init.
    work = tmp_path / "work"
    exported = tmp_path / "export" / recipe.PRETRAINED_NAME
    assert (exported / "model.safetensors").read_bytes() == (work / "mlm" / "model" / "model.safetensors").read_bytes()
    assert AutoModelForMaskedLM.from_pretrained(str(exported)) is not None and AutoTokenizer.from_pretrained(str(exported))
    from safetensors import safe_open

    with safe_open(str(exported / "model.safetensors"), "np") as f:  # keras_hub's converter needs the pooler
        assert "albert.pooler.weight" in f.keys() and "predictions.dense.weight" in f.keys()
    classifier = tmp_path / "export" / recipe.CLASSIFIER_NAME
    assert (classifier / "model.safetensors").read_bytes() == (work / "distilled" / "model" / "model.safetensors").read_bytes()
    card = ModelCard.load(classifier / "README.md")
    accuracy = next(r.metric_value for r in card.data.eval_results if r.metric_type == "accuracy")
    assert accuracy == round(log["distill"]["test_accuracy"], 4)
    assert "Distillation" in card.text and "Pretraining" in card.text and "--mlm-steps 3 --mlm-corpus-epochs 0" in card.text

    # Run again: every stage is found finished, nothing is retrained (the log's stage entries are unchanged).
    before = json.loads((work / "recipe_log.json").read_text())
    again = recipe.run(recipe.RecipeConfig(**{**config.__dict__, "export_to": None}))
    assert {k: again[k] for k in before if k not in ("config",)} == {k: before[k] for k in before if k != "config"}

    # Another number of unlabelled reviews: the distillation folder's own record refuses it (naming the setting); once
    # that folder is deleted, only the distillation runs again, on the same pretraining and fine-tuning.
    import shutil

    changed = recipe.RecipeConfig(**{**config.__dict__, "export_to": None, "distill_unlabeled": 16})
    with pytest.raises(ValueError, match=r"distilled holds a distillation run with other settings \(unlabeled: 32 before, 16 now"):
        recipe.run(changed)
    shutil.rmtree(work / "distilled")
    redone = recipe.run(changed)
    assert redone["distill"]["unlabeled"] == 16 and redone["distill"]["steps"] == 4  # (96 + 16) / 32, rounded up
    assert {k: redone[k] for k in ("tokenizer", "word2vec", "start", "mlm", "finetune")} == {
        k: before[k] for k in ("tokenizer", "word2vec", "start", "mlm", "finetune")}


@pytest.mark.parametrize("change, message", [
    ({"precision": "fp8"}, "not one of"), ({"max_docs": -5}, "--max-docs must be positive"),
    ({"train_size": -5}, "--train-size must be positive"), ({"test_size": -1}, "--test-size must be positive"),
    ({"vocab_size": 0}, "--vocab-size must be positive"), ({"mlm_corpus_epochs": -1.0}, "--mlm-corpus-epochs must be 0"),
    ({"hidden_size": 200}, "split evenly"), ({"epochs": 0.0}, "must be positive"), ({"corpus_path": "no/such/reviews.txt"}, "Corpus not found"),
])
def test_recipe_refuses_bad_settings_before_any_stage(tmp_path, change, message):
    import os

    import build_default_model as recipe

    config = recipe.RecipeConfig(**{"corpus_path": os.environ["CORPUS_PATH"], "work_dir": str(tmp_path / "work"), **change})
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        recipe.run(config)
    assert not (tmp_path / "work").exists()  # nothing was started


def test_recipe_names_the_gpu_it_trained_on(monkeypatch):
    import build_default_model as recipe

    from kbalbert import precision

    monkeypatch.setattr(precision, "torch_accelerator", lambda: ("cuda", (9, 0), "NVIDIA H200"))
    assert recipe.machine().startswith("NVIDIA H200 (CUDA compute capability 9.0)")
    monkeypatch.setattr(precision, "torch_accelerator", lambda: ("cpu", None, "x86_64, 2 CPU cores"))
    assert "CPU cores" in recipe.machine() and "CUDA" not in recipe.machine()


def test_recipe_refuses_a_work_folder_made_with_other_settings(tmp_path, monkeypatch):
    """The same work folder with another vocabulary or model size must not quietly reuse the finished stages."""
    import os

    import build_default_model as recipe

    from kbalbert import pretraining

    config = recipe.RecipeConfig(corpus_path=os.environ["CORPUS_PATH"], work_dir=str(tmp_path / "work"), vocab_size=2000)
    monkeypatch.setattr(pretraining, "train_wordpiece", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("stage 1 ran")))
    with pytest.raises(RuntimeError, match="stage 1 ran"):  # the first run records its settings, then starts stage 1
        recipe.run(config)
    other = recipe.RecipeConfig(**{**config.__dict__, "vocab_size": 3000, "hidden_size": 128})
    (tmp_path / "work" / "tokenizer").mkdir()  # as an interrupted stage 1 leaves it: work to protect
    with pytest.raises(ValueError, match=r"other settings.*vocab_size: 2000 before, 3000 now.*hidden_size"):
        recipe.run(other)
    # what does not change the models may change: precision, where to export
    again = recipe.RecipeConfig(**{**config.__dict__, "precision": "fp32", "export_to": str(tmp_path / "x")})
    with pytest.raises(RuntimeError, match="stage 1 ran"):
        recipe.run(again)
    # the fine-tuning and distillation settings are checked by those stages' own records, not by the pretraining's
    later = recipe.RecipeConfig(**{**config.__dict__, "learning_rate": 1e-4, "distill_unlabeled": 5, "epochs": 2.0})
    with pytest.raises(RuntimeError, match="stage 1 ran"):
        recipe.run(later)
    # a record with nothing beside it (the run stopped before any stage wrote) is rewritten, not held against a rerun
    (tmp_path / "work" / "tokenizer").rmdir()
    with pytest.raises(RuntimeError, match="stage 1 ran"):
        recipe.run(other)


@pytest.mark.slow
def test_recipe_from_a_given_pretrained_model_with_a_teacher_of_two_seeds(tmp_path, forced_precision, monkeypatch):
    """Issue 44: `--pretrained-model` runs stages 5-6 only, from a pretrained ALBERT that has its own card, and exports
    only the classifier; `--distill-teachers 2` fine-tunes one more seed on the same split and averages the two
    ALBERTs in the teacher (each scored on validation in the record and the card)."""
    import os

    import build_default_model as recipe
    from huggingface_hub import ModelCard

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    pretrained = REPO / "assets" / "albert-movie-wp-small"
    config = recipe.RecipeConfig(
        corpus_path=os.environ["CORPUS_PATH"], work_dir=str(tmp_path / "work"), export_to=str(tmp_path / "export"),
        pretrained_model=str(pretrained), max_docs=3000, train_size=96, test_size=48, batch_size=32,
        distill_unlabeled=32, distill_teachers=2, precision=forced_precision)
    log = recipe.run(config)
    assert not {"tokenizer", "word2vec", "start", "mlm"} & set(log) and {"finetune", "distill"} <= set(log)
    from kbalbert import runs

    assert log["pretrained_from"]["fingerprint"] == runs.fingerprint(pretrained)
    work = tmp_path / "work"
    assert (work / "distilled" / "teacher-seed43" / "model" / "model.safetensors").is_file()
    assert json.loads((work / "distilled" / "teacher-seed43" / "finetune_run.json").read_text())["splits"] == \
        json.loads((work / "nsmc" / "finetune_run.json").read_text())["splits"]  # the same validation reviews
    teacher = log["distill"]["teacher_validation_accuracy"]
    assert {"tfidf_lr", "albert_1", "albert_2", "albert"} <= set(teacher)
    assert [p.name for p in (tmp_path / "export").iterdir()] == [recipe.CLASSIFIER_NAME]
    card = ModelCard.load(tmp_path / "export" / recipe.CLASSIFIER_NAME / "README.md")
    assert card.data.base_model == "albert-movie-wp-small" and "average of 2 ALBERTs" in card.text
    assert "--distill-teachers 2 --pretrained-model" in card.text
    # another number of teachers is another distillation: refused by that stage's record, naming the setting
    with pytest.raises(ValueError, match=r"teachers: 2 before, 3 now"):
        recipe.run(recipe.RecipeConfig(**{**config.__dict__, "export_to": None, "distill_teachers": 3}))


def test_export_never_replaces_existing_folders_without_the_flag(tmp_path):
    import os

    import build_default_model as recipe

    export = tmp_path / "assets"
    (export / recipe.PRETRAINED_NAME).mkdir(parents=True)
    (export / recipe.PRETRAINED_NAME / "model.safetensors").write_bytes(b"a user's model")
    config = recipe.RecipeConfig(corpus_path=os.environ["CORPUS_PATH"], work_dir=str(tmp_path / "work"),
                                 export_to=str(export))
    with pytest.raises(FileExistsError, match="--overwrite-export true"):
        recipe.run(config)
    assert (export / recipe.PRETRAINED_NAME / "model.safetensors").read_bytes() == b"a user's model"
    assert not (tmp_path / "work").exists()  # refused before any stage


def test_one_recipe_defined_once_and_shown_by_notebook_00():
    """Issue 31: the recipe's defaults are the stages' own settings (not copies that can drift), and the values
    notebook 00's parameter cells show (with FULL_RUN the recipe's sizes) are those settings."""
    import ast

    import build_default_model as recipe
    import nbformat

    from kbalbert import distillation, finetuning, pretraining

    config, mlm, distill = recipe.RecipeConfig(), pretraining.MlmSettings(), distillation.DistillSettings()
    recipe = finetuning.RECIPE
    assert (config.learning_rate, config.batch_size, config.epochs, config.seed) == (
        recipe["learning_rate"], recipe["per_device_train_batch_size"], recipe["num_train_epochs"], recipe["seed"])
    assert (config.mlm_steps, config.mlm_batch_size, config.mlm_learning_rate) == (
        mlm.max_steps, mlm.batch_size, mlm.learning_rate)
    assert (config.distill_unlabeled, config.distill_learning_rate) == (distill.unlabeled, distill.learning_rate)
    assert (distill.batch_size, distill.epochs, distill.seed) == (config.batch_size, config.epochs, config.seed)
    size = pretraining.AlbertSize()
    assert (config.w2v_dim, config.hidden_size, config.num_layers, config.dropout) == (
        size.embedding_size, size.hidden_size, size.num_layers, size.dropout)

    notebook = nbformat.read(REPO / "00-Building-a-domain-ALBERT.ipynb", as_version=4)
    shown = {}
    for cell in notebook.cells[:8]:  # the parameter cell and the FULL_RUN cell below it
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                try:
                    shown[node.targets[0].id] = ast.literal_eval(node.value)
                except ValueError:
                    pass
            elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Tuple):  # MLM_STEPS, ... = 3000, ...
                for target, value in zip(node.targets[0].elts, node.value.elts):
                    shown["FULL_RUN:" + target.id] = ast.literal_eval(value)
    expected = {
        "VOCAB_SIZE": config.vocab_size, "MIN_FREQUENCY": config.min_frequency, "W2V_DIM": config.w2v_dim,
        "W2V_WINDOW": config.w2v_window, "W2V_EPOCHS": config.w2v_epochs, "HIDDEN_SIZE": config.hidden_size,
        "NUM_LAYERS": config.num_layers, "DROPOUT": config.dropout, "MLM_BATCH_SIZE": config.mlm_batch_size,
        "MLM_LEARNING_RATE": config.mlm_learning_rate, "EPOCHS": config.epochs, "BATCH_SIZE": config.batch_size,
        "LEARNING_RATE": config.learning_rate, "DISTILL_LEARNING_RATE": config.distill_learning_rate,
        "SEED": config.seed, "FULL_RUN:MLM_CORPUS_EPOCHS": config.mlm_corpus_epochs, "FULL_RUN:MLM_HELD_OUT": mlm.held_out,
        "FULL_RUN:DISTILL_UNLABELED": config.distill_unlabeled,
    }
    assert {name: shown.get(name) for name in expected} == expected


# The classifier card's snippet on a review longer than the model: tests/test_cards.py (from a folder without the
# repository, as a Hub user runs it).


def test_cards_estimate_a_resumed_mlm_stage_from_its_last_runs_pace(tmp_path):
    """Issue 30: a long MLM stage resumed after an interruption timed only its last run; the card says so and gives
    the whole stage at that run's pace instead of passing the last run off as the stage."""
    import build_default_model as recipe

    log = {"tokenizer": {"seconds": 60, "documents": 1000, "vocab_size": 32000}, "word2vec": {"seconds": 120, "tokens": 5000},
           "start": {"seconds": 6, "parameters": 5_000_000},
           "mlm": {"seconds": 3700, "steps": 4000, "corpus_epochs": 5.0, "precision": "bf16", "final_eval_loss": 4.9,
                   "final_eval_perplexity": 134.0, "unigram_loss": 7.5, "resumed_from": "w/mlm/checkpoint-1000",
                   "train_minutes_this_run": 60.0},
           "finetune": {"seconds": 420, "precision": "bf16", "steps": 2266, "train_minutes": 5.3,
                        "train_reviews_per_second": 460, "validation_accuracy": 0.89, "test_accuracy": 0.88,
                        "test_f1": 0.88, "test_reviews": 50000},
           "config": {**recipe.asdict(recipe.RecipeConfig(corpus_path="c.txt", mlm_corpus_epochs=5.0)),
                      "distill_unlabeled": 0},
           "machine": "a test CPU"}
    (tmp_path / "p").mkdir(), (tmp_path / "c").mkdir()
    recipe.write_cards(log, tmp_path / "p", tmp_path / "c")
    card = (tmp_path / "c" / "README.md").read_text(encoding="utf-8")
    # 60 min for 3,000 steps -> 1.20 s/step -> 80 min for 4,000; in all 1 + 2 + 0.1 + 80 + 7 = 90 minutes
    assert "mlm about 80 min (resumed at step 1,000" in card and "1.20 s/step" in card
    assert "about 90 minutes in all on a test CPU" in card


def test_the_cards_command_names_settings_not_this_machines_paths():
    """A model card's rebuild command carries what changes the models, not the work folder or data paths of the
    machine that built them."""
    import build_default_model as recipe

    config = recipe.RecipeConfig(corpus_path="/home/me/reviews.txt", work_dir="/tmp/work", export_to="assets",
                                 overwrite_export=True, mlm_corpus_epochs=5.0)
    assert recipe.command(config) == "python scripts/build_default_model.py"  # the shipped recipe: all defaults
    shorter = recipe.RecipeConfig(**{**config.__dict__, "mlm_corpus_epochs": 2.0})
    assert recipe.command(shorter) == "python scripts/build_default_model.py --mlm-corpus-epochs 2.0"

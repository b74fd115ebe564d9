"""Issue 41: the steps the notebooks teach are written in their own cells; the package keeps the same steps for the
recipe and the scripts. These tests run the lesson cells (tagged `lesson:*`) and the package's functions on the same
data and check that they agree, so lesson and library cannot drift apart."""

from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from kbalbert import data as kd
from kbalbert import finetuning

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "assets" / "albert-movie-wp-small"
PYTORCH, KERAS, TPU = ("02-Fine-tuning-ALBERT-in-PyTorch.ipynb", "03-Fine-tuning-ALBERT-in-TensorFlow.ipynb",
                       "04-Fine-tuning-ALBERT-with-TPU.ipynb")


def lesson_cells(name: str, tag: str) -> list[str]:
    notebook = nbformat.read(REPO / name, as_version=4)
    cells = [c.source for c in notebook.cells if c.cell_type == "code" and tag in c.metadata.get("tags", [])]
    assert cells, f"{name} has no cell tagged {tag}"
    return cells


def run_cells(name: str, tag: str, **names) -> dict:
    namespace = {"np": np, "pd": pd, "kd": kd, **names}
    for source in lesson_cells(name, tag):
        exec(compile(source, f"{name}:{tag}", "exec"), namespace)
    return namespace


SIZES = dict(VALIDATION_SIZE=64, SEED=42, TRAIN_SIZE=300, TEST_SIZE=80)


@pytest.mark.parametrize("name", [PYTORCH, KERAS, TPU])
def test_the_split_cell_makes_the_packages_split(name, nsmc):
    names = run_cells(name, "lesson:split", nsmc=nsmc, NSMC_DIR=None, **SIZES)
    expected = kd.nsmc_splits(nsmc, SIZES["VALIDATION_SIZE"], SIZES["SEED"], SIZES["TRAIN_SIZE"], SIZES["TEST_SIZE"])
    assert kd.splits_digest(names["splits"]) == kd.splits_digest(expected)
    assert {k: v.num_rows for k, v in names["splits"].items()} == {"train": 300, "validation": 64, "test": 80}


@pytest.fixture(scope="module")
def small_splits(nsmc):
    return kd.nsmc_splits(nsmc, 64, 42, 300, 80)


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(MODEL))


@pytest.mark.parametrize("name", [PYTORCH, KERAS, TPU])
def test_the_tokenize_cells_match_the_recipes_tokenization(name, small_splits, tokenizer):
    import time

    from kbalbert import inference

    names = run_cells(name, "lesson:tokenize", splits=small_splits, tokenizer=tokenizer, MAX_LENGTH=32, time=time,
                      MODEL_PATH=str(MODEL), inference=inference)
    expected = finetuning.tokenize_splits(small_splits, tokenizer, 32, keep_text=True)
    for split in expected:
        assert names["data"][split].column_names == expected[split].column_names
        assert names["data"][split].to_dict() == expected[split].to_dict()


def keras_lesson(name, tokenizer, data):
    import tensorflow as tf

    return run_cells(name, "lesson:tf-data", tokenizer=tokenizer, data=data, tf=tf, PAD_TO_MULTIPLE_OF=16,
                     MAX_LENGTH=32, SEED=42)


def batches(dataset, n):
    return [({k: v.numpy() for k, v in inputs.items()}, labels.numpy()) for inputs, labels in dataset.take(n)]


def same_batches(a, b):
    assert len(a) == len(b)
    for (inputs_a, labels_a), (inputs_b, labels_b) in zip(a, b):
        assert sorted(inputs_a) == sorted(inputs_b)
        for key in inputs_a:
            np.testing.assert_array_equal(inputs_a[key], inputs_b[key])
        np.testing.assert_array_equal(labels_a, labels_b)


@pytest.mark.parametrize("name", [KERAS, TPU])
def test_the_tf_data_cells_give_the_packages_batches(name, small_splits, tokenizer):
    """The lesson's `make_dataset` (training: shuffled, bucketed by length; evaluation: in order, padded to a multiple)
    gives batch for batch what `kbalbert.keras_albert.make_dataset` gives the recipe and the tests."""
    from kbalbert import keras_albert as kn

    data = finetuning.tokenize_splits(small_splits, tokenizer, 32, keep_text=True)
    lesson = keras_lesson(name, tokenizer, data)
    train = lesson["make_dataset"](data["train"], 16, training=True)
    expected = kn.make_dataset(data["train"], 16, tokenizer.pad_token_id, bucket_by_length=True, pad_to_multiple_of=16,
                               shuffle=True, seed=42, drop_remainder=True, repeat=True)
    same_batches(batches(train, 12), batches(expected, 12))
    ordered = data["validation"].sort("length")
    same_batches(batches(lesson["make_dataset"](ordered, 32), 10),
                 batches(kn.make_dataset(ordered, 32, tokenizer.pad_token_id, pad_to_multiple_of=16), 10))


def test_the_keras_lessons_define_the_same_pipeline_model_and_schedule():
    """d2l-style: notebooks 03 and 04 teach the same Keras code, so a reader can diff them."""
    for tag in ("lesson:tf-data", "lesson:split"):
        assert lesson_cells(KERAS, tag) == lesson_cells(TPU, tag) or tag == "lesson:split"
    keras_schedule = "".join(lesson_cells(KERAS, "lesson:schedule"))
    tpu_schedule = "".join(lesson_cells(TPU, "lesson:schedule"))
    start = "class LinearWarmupDecay"
    assert keras_schedule[keras_schedule.index(start):] in tpu_schedule


@pytest.mark.parametrize("name", [KERAS, TPU])
def test_the_schedule_cell_matches_the_packages_schedule(name):
    import keras

    from kbalbert import keras_albert as kn

    namespace = {"keras": keras, "math": __import__("math"), "keras_hub": None, "MODEL_PATH": str(MODEL)}
    for source in lesson_cells(name, "lesson:schedule"):
        exec(compile(source, name, "exec"), namespace)
    lesson = namespace["LinearWarmupDecay"](1.5e-4, 313, 19)
    library = kn.linear_warmup_decay(1.5e-4, 313, 0.06)
    assert library.warmup_steps == 19
    for step in (0, 1, 10, 19, 20, 200, 313, 400):
        assert float(lesson(step)) == pytest.approx(float(library(step)), abs=1e-12)


DOMAIN = "00-Building-a-domain-ALBERT.ipynb"


@pytest.fixture(scope="module")
def tiny_corpus(nsmc):
    return [t for t in nsmc["train"].select(range(3000))["document"] if t.strip()]


def test_notebook_00s_vocabulary_word2vec_and_model_are_the_recipes(tiny_corpus):
    """Issue 41: notebook 00 trains the WordPiece vocabulary with `tokenizers`, the word2vec vectors with gensim and
    builds the AlbertConfig in its own cells; `scripts/build_default_model.py` does the same through
    `kbalbert.pretraining`. On the same tiny corpus and seed: the same vocabulary, the same vectors, the same weights."""
    import time

    import torch
    import transformers

    from kbalbert import pretraining

    settings = dict(VOCAB_SIZE=600, MIN_FREQUENCY=2, W2V_DIM=32, W2V_WINDOW=3, W2V_EPOCHS=1, HIDDEN_SIZE=64,
                    NUM_LAYERS=2, DROPOUT=0.1, SEED=7)
    names = run_cells(DOMAIN, "lesson:wordpiece", texts=tiny_corpus, time=time, **settings)
    lesson_tokenizer = names["tokenizer"]
    library_tokenizer = pretraining.train_wordpiece(tiny_corpus, vocab_size=600, min_frequency=2)
    # the same tokens (ids of pieces with equal counts may be assigned in another order: the trainer's own choice,
    # which differs between two runs of the library function too)
    assert set(lesson_tokenizer.get_vocab()) == set(library_tokenizer.get_vocab()) and len(lesson_tokenizer) > 300
    for text in tiny_corpus[:50]:
        assert lesson_tokenizer.tokenize(text) == library_tokenizer.tokenize(text)

    names = run_cells(DOMAIN, "lesson:word2vec", texts=tiny_corpus, time=time, tokenizer=lesson_tokenizer, **settings)
    vectors, report = pretraining.word2vec_vectors(lesson_tokenizer, tiny_corpus, dim=32, window=3, epochs=1, seed=7,
                                                   workers=1)
    np.testing.assert_array_equal(names["vectors"], vectors)
    assert {k: v for k, v in names["w2v_report"].items() if k != "seconds"} == {
        k: v for k, v in report.items() if k != "seconds"}

    names = run_cells(DOMAIN, "lesson:albert", torch=torch, transformers=transformers, tokenizer=lesson_tokenizer,
                      vectors=names["vectors"], **settings)
    size = pretraining.AlbertSize(embedding_size=32, hidden_size=64, num_layers=2, num_heads=1, intermediate_size=256)
    library_model = pretraining.build_albert(lesson_tokenizer, size, embeddings=vectors, seed=7)
    lesson_state, library_state = names["model"].state_dict(), library_model.state_dict()
    assert lesson_state.keys() == library_state.keys()
    for key in lesson_state:
        assert torch.equal(lesson_state[key], library_state[key]), key


def test_notebook_00s_mlm_cells_give_the_recipes_loss(tmp_path, tiny_corpus):
    """Notebook 00's masked-language-model cells (collator, TrainingArguments, Trainer) and the recipe's
    `kbalbert.pretraining.train_mlm`, on the same tiny corpus, start model and seed: the same held-out losses."""
    import json
    import time

    import datasets
    import torch
    import transformers

    import tokenization_kbalbert as tk
    from kbalbert import precision, pretraining

    tokenizer = pretraining.train_wordpiece(tiny_corpus, vocab_size=600, min_frequency=2)
    size = pretraining.AlbertSize(embedding_size=32, hidden_size=64, num_layers=2, num_heads=1, intermediate_size=256)
    start = tmp_path / "start"
    pretraining.build_albert(tokenizer, size, seed=7).save_pretrained(start)
    tk.save_tokenizer(tokenizer, start)
    corpus = datasets.Dataset.from_dict({"text": tiny_corpus[:400]})
    settings = dict(MLM_STEPS=4, MLM_CORPUS_EPOCHS=0, MLM_BATCH_SIZE=8, MLM_LEARNING_RATE=5e-4, MLM_HELD_OUT=32,
                    PRECISION="fp32", SEED=7)
    names = run_cells(DOMAIN, "lesson:mlm", corpus=corpus, tokenizer=tokenizer, export_dir=start, out=tmp_path / "lesson",
                      da=pretraining, tk=tk, precision=precision, json=json, Path=Path, time=time, torch=torch,
                      transformers=transformers, **settings)
    report = pretraining.train_mlm(start, corpus, tmp_path / "library", pretraining.MlmSettings(
        max_steps=4, batch_size=8, learning_rate=5e-4, held_out=32, eval_steps=1, precision="fp32", seed=7, quiet=True))
    lesson = names["mlm_report"]
    assert lesson["steps"] == report["steps"] == 4
    assert lesson["unigram_loss"] == report["unigram_loss"]
    assert lesson["eval_history"] == report["eval_history"]
    assert (tmp_path / "lesson" / "mlm" / "model" / "model.safetensors").is_file()

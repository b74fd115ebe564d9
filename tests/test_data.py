import shutil

import pytest
import torch

import tokenization_kbalbert as tk
from kbalbert import data as kd
from kbalbert import sop as sop


def test_nsmc_loads_with_empty_reviews_kept(nsmc):
    assert nsmc["train"].num_rows == 150_000 and nsmc["test"].num_rows == 50_000
    assert sum(t == "" for t in nsmc["train"]["document"]) == 5
    assert sum(t == "" for t in nsmc["test"]["document"]) == 3
    assert set(nsmc["test"]["label"]) == {0, 1}
    assert nsmc["train"].features["label"].names == ["부정", "긍정"]


def test_corrupt_or_missing_nsmc_gives_clear_errors(tmp_path, monkeypatch):
    source = kd.nsmc_files()["train"].parent
    for name in ("ratings_train.txt", "ratings_test.txt"):
        shutil.copy(source / name, tmp_path / name)
    with open(tmp_path / "ratings_test.txt", "ab") as handle:
        handle.write(b"extra line\n")
    with pytest.raises(kd.DataError, match=r"sha256.*Delete it and download it again"):
        kd.nsmc_files(tmp_path)
    (tmp_path / "ratings_test.txt").unlink()
    with pytest.raises(kd.DataError, match="ratings_test.txt"):
        kd.nsmc_files(tmp_path)
    # no folder given and no internet: the download fails with advice to set NSMC_DIR, and leaves no partial file
    monkeypatch.delenv("NSMC_DIR", raising=False)
    monkeypatch.setattr(kd, "NSMC_URL", "http://127.0.0.1:9/{filename}")
    with pytest.raises(kd.DataError, match="NSMC_DIR"):
        kd.nsmc_files(cache_dir=tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("*"))


def test_corpus_errors(tmp_path):
    with pytest.raises(kd.DataError, match="not found"):
        kd.load_corpus(tmp_path / "nope.txt")
    with pytest.raises(kd.DataError, match="No .txt files"):
        kd.load_corpus(tmp_path)
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(kd.DataError, match="empty"):  # datasets alone fails with "DatasetGenerationError"
        kd.load_corpus(tmp_path / "empty.txt")
    with pytest.raises(kd.DataError, match="empty"):
        kd.load_corpus(tmp_path)
    (tmp_path / "blank.txt").write_text("\n  \n")
    with pytest.raises(kd.DataError, match="no line"):
        kd.load_corpus(tmp_path / "blank.txt")
    (tmp_path / "a.txt").write_text("영화 좋다\n\n  \n재밌다\n", encoding="utf-8")
    assert kd.load_corpus(tmp_path)["text"] == ["영화 좋다", "재밌다"]  # the empty and blank files add nothing


@pytest.fixture(scope="module")
def tokenizer():
    texts = ["영화가 정말 재밌다", "최악의 영화", "배우 연기 좋다 굿굿", "완전꿀잼"]
    return tk.KbAlbertCharTokenizerFast(vocab=tk.build_char_vocab(texts))


def encode(tokenizer, text):
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    return enc["input_ids"], enc["offset_mapping"]


def test_split_for_sop(tokenizer):
    ids, offsets = encode(tokenizer, "영화가 정말 재밌다")  # 3 + 2 + 3 tokens: the boundary nearest the middle is 3
    assert sop.split_for_sop(ids, offsets) == 3
    ids, offsets = encode(tokenizer, "완전꿀잼")  # one word: cut in its middle
    assert sop.split_for_sop(ids, offsets) == 2
    with pytest.raises(ValueError):
        sop.split_for_sop(*encode(tokenizer, "영"))


def test_sop_collator(tokenizer):
    texts = ["영화가 정말 재밌다", "최악의 영화", "배우 연기 좋다 굿굿", "완전꿀잼"] * 16
    examples = []
    for text in texts:
        ids, offsets = encode(tokenizer, text)
        examples.append({"input_ids": ids, "offset_mapping": offsets, "sop_split": sop.split_for_sop(ids, offsets)})
    collator = sop.DataCollatorForAlbertPretraining(tokenizer, mlm_probability=0.3, seed=0, pad_to_multiple_of=8)
    batch = collator(examples)
    assert batch["input_ids"].shape[1] % 8 == 0
    labels = batch["sentence_order_label"].tolist()
    assert 0 < sum(labels) < len(labels)  # both orders occur
    cls, sep, mask = tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.mask_token_id
    for i, example in enumerate(examples):
        n = int(batch["attention_mask"][i].sum())
        # undo the masking with the MLM labels, then check the pair against the review
        restored = torch.where(batch["labels"][i] != -100, batch["labels"][i], batch["input_ids"][i])[:n].tolist()
        assert restored[0] == cls and restored[-1] == sep and restored.count(sep) == 2
        middle = restored.index(sep)
        first, second = restored[1:middle], restored[middle + 1 : -1]
        cut = example["sop_split"]
        a, b = example["input_ids"][:cut], example["input_ids"][cut:]
        assert (first, second) == ((b, a) if labels[i] else (a, b))  # the label says whether A and B were swapped
        assert sorted(first + second) == sorted(example["input_ids"])  # no token lost
        types = batch["token_type_ids"][i][:n].tolist()
        assert types == [0] * (middle + 1) + [1] * (n - middle - 1)
        assert (batch["labels"][i][[0, middle, n - 1]] == -100).all()  # special tokens are never masked
        assert (batch["input_ids"][i][n:] == tokenizer.pad_token_id).all()
    masked = batch["labels"] != -100
    assert masked.any() and (batch["input_ids"][masked] == mask).all()  # whole-word masking uses [MASK]


def test_sop_collator_character_masking(tokenizer):
    """With whole_word_mask=False single characters are masked (80% [MASK], 10% random, 10% kept)."""
    texts = ["영화가 정말 재밌다 배우 연기 좋다"] * 64
    examples = []
    for text in texts:
        ids, offsets = encode(tokenizer, text)
        examples.append({"input_ids": ids, "offset_mapping": offsets, "sop_split": sop.split_for_sop(ids, offsets)})
    collator = sop.DataCollatorForAlbertPretraining(tokenizer, mlm_probability=0.15, whole_word_mask=False, seed=1)
    batch = collator(examples)
    masked = batch["labels"] != -100
    rate = masked.sum().item() / (batch["attention_mask"].sum().item() - 3 * len(texts))
    assert 0.08 < rate < 0.25
    replaced = (batch["input_ids"][masked] == tokenizer.mask_token_id).float().mean().item()
    assert 0.6 < replaced < 0.95  # not all [MASK]: BERT's 80/10/10 rule


def test_nsmc_splits_are_disjoint_stratified_and_repeatable(nsmc):
    from kbalbert import data as kd

    splits = kd.nsmc_splits(nsmc, validation_size=2000, seed=7)
    assert {k: v.num_rows for k, v in splits.items()} == {"train": 148_000, "validation": 2000, "test": 50_000}
    assert not set(splits["train"]["id"]) & set(splits["validation"]["id"])
    positive = sum(splits["validation"]["label"]) / 2000
    assert abs(positive - sum(nsmc["train"]["label"]) / 150_000) < 0.005
    again = kd.nsmc_splits(nsmc, validation_size=2000, seed=7, train_size=100, test_size=50)
    assert again["validation"]["id"] == splits["validation"]["id"]
    assert again["train"].num_rows == 100 and again["test"].num_rows == 50
    assert set(again["train"]["id"]) <= set(splits["train"]["id"])
    with pytest.raises(ValueError, match="validation_size"):
        kd.nsmc_splits(nsmc, validation_size=0)
    # Issue 32: these used to train and then fail on an empty test set (or silently use 0 reviews).
    for bad in ({"train_size": -5}, {"test_size": -1}, {"train_size": 0}, {"test_size": 2.5}, {"train_size": True}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            kd.nsmc_splits(nsmc, **bad)
    # a size read from a DataFrame or a numpy array is a numpy integer: accepted
    import numpy as np

    assert kd.nsmc_splits(nsmc, validation_size=2000, seed=7, train_size=np.int64(100))["train"].num_rows == 100


def test_pretraining_trainer_groups_by_a_list_of_lengths(tokenizer, tmp_path):
    """Notebook 00's Trainer setup (remove_unused_columns=False, no `length` column): the length-grouped sampler gets
    a plain list measured from input_ids. A `length` column would reach it as a lazy datasets Column, read row by row
    (bench/length_grouping.py: minutes per epoch start on the full corpus)."""
    import datasets
    from transformers import AlbertConfig, AlbertForPreTraining, Trainer, TrainingArguments
    from transformers.trainer_pt_utils import LengthGroupedSampler

    texts = ["영화가 정말 재밌다 배우 연기 좋다" * (i % 5 + 1) for i in range(640)]
    enc = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True)
    cuts = [sop.split_for_sop(ids, offs) for ids, offs in zip(enc["input_ids"], enc["offset_mapping"])]
    data = datasets.Dataset.from_dict({"input_ids": enc["input_ids"], "offset_mapping": enc["offset_mapping"], "sop_split": cuts})
    args = TrainingArguments(
        output_dir=str(tmp_path), per_device_train_batch_size=64, use_cpu=True, report_to="none",
        train_sampling_strategy="group_by_length", remove_unused_columns=False,
        label_names=["labels", "sentence_order_label"],
    )
    config = AlbertConfig(vocab_size=len(tokenizer), embedding_size=8, hidden_size=16, num_hidden_layers=1,
                          num_attention_heads=1, intermediate_size=16)
    trainer = Trainer(model=AlbertForPreTraining(config), args=args, train_dataset=data,
                      data_collator=sop.DataCollatorForAlbertPretraining(tokenizer, seed=0))
    loader = trainer.get_train_dataloader()
    sampler = loader.batch_sampler.sampler  # accelerate wraps the sampler in a BatchSampler
    assert isinstance(sampler, LengthGroupedSampler)
    assert isinstance(sampler.lengths, list) and sampler.lengths == [len(ids) for ids in enc["input_ids"]]
    batch = next(iter(loader))  # the SOP collator still gets the columns it needs
    assert batch["input_ids"].shape[0] == 64 and batch["sentence_order_label"].shape == (64,)


def test_confident_errors_ranks_wrong_answers_by_margin():
    import numpy as np

    from kbalbert.evaluation import confident_errors

    texts = ["a", "b", "c", "d"]
    labels = [0, 1, 0, 1]
    logits = np.array([[0.0, 9.0], [5.0, 0.0], [2.0, 0.0], [0.0, 1.0]])  # a and b wrong; c and d right
    table = confident_errors(texts, labels, logits, top=5)
    assert list(table["review"]) == ["a", "b"]
    assert list(table["predicted"]) == ["긍정", "부정"]
    assert np.allclose(table["logit_margin"], [9.0, 5.0])
    assert table["confidence"].iloc[0] > 0.999


def test_plot_confusion_counts_and_saves(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from kbalbert.evaluation import plot_confusion

    fig = plot_confusion([0, 0, 1, 1, 1], [0, 1, 1, 1, 0], tmp_path / "cm.png")
    texts = sorted(t.get_text() for t in fig.axes[0].texts)
    assert texts == ["1", "1", "1", "2"]
    assert (tmp_path / "cm.png").stat().st_size > 1000

"""domain_albert: the WordPiece vocabulary, the word2vec starting embeddings and the ALBERT they make."""

import json
import unicodedata

import numpy as np
import pytest

from kbalbert import pretraining as da

REVIEWS = [
    "이 영화 정말 재밌다!!", "진짜 재밌다 강추", "배우들 연기가 최고", "최악의 영화 시간 아깝다", "너무 지루하다 최악",
    "스토리가 지루하다", "연기가 최고 재밌다", "시간 아깝다 진짜", "꿀잼 꿀잼 ㅋㅋㅋ", "노잼 ㅡㅡ 최악",
] * 30


@pytest.fixture(scope="module")
def tokenizer():
    return da.train_wordpiece(REVIEWS, vocab_size=120, min_frequency=2, limit_alphabet=6000)


def test_wordpiece_special_tokens_keep_the_char_vocab_ids(tokenizer):
    assert [tokenizer.convert_tokens_to_ids(t) for t in da.SPECIAL_TOKENS] == [0, 1, 2, 3, 4]
    assert len(tokenizer) <= 120
    encoded = tokenizer("재밌다", "최악")
    assert encoded["input_ids"][0] == tokenizer.cls_token_id and encoded["input_ids"][-1] == tokenizer.sep_token_id
    assert set(encoded["token_type_ids"]) == {0, 1}  # sentence pairs get segment ids, as ALBERT expects


def test_wordpiece_splits_on_whitespace_only_and_normalises_to_nfc(tokenizer):
    tokens = tokenizer.tokenize("재밌다!!")
    assert tokens[0] != "[UNK]" and all(t.startswith("##") for t in tokens[1:])  # "!!" stays inside the word
    decomposed = unicodedata.normalize("NFD", "재밌다")
    assert decomposed != "재밌다" and tokenizer(decomposed)["input_ids"] == tokenizer("재밌다")["input_ids"]


def test_a_rare_syllable_is_not_lost_with_a_large_alphabet():
    texts = REVIEWS + ["뷁"] * 2  # one rare syllable
    small = da.train_wordpiece(texts, vocab_size=120, min_frequency=2, limit_alphabet=10)
    large = da.train_wordpiece(texts, vocab_size=120, min_frequency=2, limit_alphabet=6000)
    assert large.tokenize("뷁") == ["뷁"]
    assert small.tokenize("뷁") == ["[UNK]"]


def test_saved_wordpiece_folder_loads_offline_with_autotokenizer(tokenizer, tmp_path, monkeypatch):
    from transformers import AutoTokenizer

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tokenizer.save_pretrained(tmp_path)
    assert (tmp_path / "tokenizer.json").is_file()
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    assert reloaded("배우들 연기가 최고")["input_ids"] == tokenizer("배우들 연기가 최고")["input_ids"]
    assert reloaded.mask_token == "[MASK]" and reloaded.model_max_length == 128


def test_vocabulary_stats_counts_unknown_tokens(tokenizer):
    stats = da.vocabulary_stats(tokenizer, ["재밌다", "뷁뷁"])
    assert stats["texts_with_unk"] == 0.5 and 0 < stats["unk_rate"] < 1 and stats["vocab_size"] == len(tokenizer)


def test_word2vec_vectors_cover_the_corpus_tokens_at_the_asked_scale(tokenizer):
    vectors, report = da.word2vec_vectors(tokenizer, REVIEWS, dim=16, window=2, epochs=2, std=0.05, workers=1)
    assert vectors.shape == (len(tokenizer), 16) and vectors.dtype == np.float32
    seen = {i for row in tokenizer(REVIEWS, add_special_tokens=False)["input_ids"] for i in row}
    assert report["covered"] == pytest.approx(len(seen) / len(tokenizer))
    assert report["tokens"] == sum(len(r) for r in tokenizer(REVIEWS, add_special_tokens=False)["input_ids"])
    assert np.allclose(vectors[sorted(seen)].std(axis=1), 0.05, rtol=1e-3)  # every learned row rescaled


def test_word2vec_shows_a_bar_per_epoch_only_when_asked(tokenizer, capsys):
    """Issue 43: the recipe's word2vec stage (minutes over the corpus) shows its progress with a time estimate."""
    da.word2vec_vectors(tokenizer, REVIEWS, dim=8, window=2, epochs=3, workers=1, show_progress=True)
    shown = capsys.readouterr().err
    assert "word2vec: 100%" in shown and "3/3" in shown
    da.word2vec_vectors(tokenizer, REVIEWS, dim=8, window=2, epochs=3, workers=1)
    assert "word2vec" not in capsys.readouterr().err  # a notebook's output keeps it out


def test_build_albert_puts_the_vectors_in_the_word_embeddings_and_nothing_else_changes(tokenizer):
    size = da.AlbertSize(embedding_size=16, hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64)
    vectors = np.random.default_rng(0).normal(size=(len(tokenizer), 16)).astype(np.float32)
    plain = da.build_albert(tokenizer, size, seed=1)
    started = da.build_albert(tokenizer, size, embeddings=vectors, seed=1)
    assert np.allclose(started.albert.embeddings.word_embeddings.weight.detach().numpy(), vectors)
    # tied: the MLM output layer reads the same matrix
    assert started.predictions.decoder.weight.data_ptr() == started.albert.embeddings.word_embeddings.weight.data_ptr()
    a, b = plain.state_dict(), started.state_dict()
    changed = {k for k in a if not np.array_equal(a[k].numpy(), b[k].numpy())}
    assert changed == {"albert.embeddings.word_embeddings.weight", "predictions.decoder.weight"}
    with pytest.raises(ValueError, match="vocab_size x embedding_size"):
        da.build_albert(tokenizer, size, embeddings=vectors[:, :8])


def test_the_shipped_size_stays_under_ten_million_parameters():
    from transformers import AlbertConfig, AlbertModel

    size = da.AlbertSize()
    config = AlbertConfig(vocab_size=32000, embedding_size=size.embedding_size, hidden_size=size.hidden_size,
                          num_hidden_layers=size.num_layers, num_attention_heads=size.num_heads,
                          intermediate_size=size.intermediate_size, max_position_embeddings=size.max_length)
    assert 4e6 < da.count_parameters(AlbertModel(config)) < 10e6


# --- the MLM stage: masked-only head, resume, refusal of another run's folder, device choice ----------------------------

@pytest.fixture(scope="module")
def tiny_start(tokenizer, tmp_path_factory):
    """A tiny ALBERT folder with its tokenizer, as `build_albert` + `save_tokenizer` write it."""
    import tokenization_kbalbert

    folder = tmp_path_factory.mktemp("start")
    size = da.AlbertSize(embedding_size=16, hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64)
    da.build_albert(tokenizer, size, seed=0).save_pretrained(folder)
    tokenization_kbalbert.save_tokenizer(tokenizer, folder)
    return folder


@pytest.fixture(scope="module")
def corpus():
    from datasets import Dataset

    return Dataset.from_dict({"text": [f"{r} {i}" for i, r in enumerate(REVIEWS * 2)]})


def mlm_batch(tokenizer, seed=0):
    import torch
    from transformers import DataCollatorForLanguageModeling

    rows = [dict(tokenizer(t, return_special_tokens_mask=True)) for t in REVIEWS[:16]]
    torch.manual_seed(seed)
    return DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.3)(rows)


def test_masked_only_head_gives_the_full_heads_loss_and_gradients(tiny_start, tokenizer):
    from transformers import AlbertForMaskedLM

    batch = mlm_batch(tokenizer)
    assert 0 < (batch["labels"] != -100).sum() < batch["labels"].numel() / 2  # some positions masked, most not
    full = AlbertForMaskedLM.from_pretrained(tiny_start).eval()
    fast = da.masked_positions_model_class().from_pretrained(tiny_start).eval()
    full_loss, fast_loss = full(**batch).loss, fast(**batch)
    fast_loss.loss.backward()
    full_loss.backward()
    assert fast_loss.loss.item() == pytest.approx(full_loss.item(), rel=1e-5)
    assert fast_loss.logits.shape == ((batch["labels"] != -100).sum().item(), len(tokenizer))  # masked rows only
    for (name, a), b in zip(full.named_parameters(), fast.parameters()):
        assert np.allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-6), name
    without_labels = {k: v for k, v in batch.items() if k != "labels"}
    assert fast(**without_labels).logits.shape == full(**without_labels).logits.shape  # inference: every position


def tiny_mlm(**changes):
    values = dict(max_steps=6, batch_size=16, held_out=8, eval_steps=3, save_steps=2, save_total_limit=None,
                  precision="fp32", quiet=True)
    return da.MlmSettings(**{**values, **changes})


def test_mlm_resumes_an_interrupted_run_and_refuses_another_runs_folder(tiny_start, corpus, tmp_path):
    from transformers import TrainerCallback

    class Interrupt(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 3:
                raise KeyboardInterrupt  # as a closed laptop or a killed job

    out = tmp_path / "mlm"
    with pytest.raises(KeyboardInterrupt):
        da.train_mlm(tiny_start, corpus, out, tiny_mlm(), callbacks=[Interrupt()])
    assert (out / "checkpoint-2").is_dir() and not (out / "model").exists()
    report = da.train_mlm(tiny_start, corpus, out, tiny_mlm(eval_steps=2))  # evaluation settings may change
    assert report["resumed_from"].endswith("checkpoint-2") and report["steps"] == 6
    assert (out / "model" / "model.safetensors").is_file() and (out / "model" / "tokenizer.json").is_file()
    for other in (tiny_mlm(learning_rate=1e-3), tiny_mlm(max_steps=8)):
        with pytest.raises(ValueError, match="other settings.*learning_rate|other settings.*max_steps"):
            da.train_mlm(tiny_start, corpus, out, other)


def test_pack_reviews_keeps_every_review_whole_and_in_order():
    """Issue 44: the GPU layout. Each row is [CLS] r1 [SEP] r2 [SEP] ... within max_length; every review appears once,
    whole, in its order; a review never straddles two rows."""
    import random

    rng = random.Random(0)
    reviews = [[2, *(rng.randrange(5, 99) for _ in range(rng.randrange(1, 20))), 3] for _ in range(300)]
    reviews.append([2, *range(5, 5 + 30), 3])  # as long as a row (max_length 32)
    rows = da.pack_reviews(reviews, max_length=32, cls_id=2, sep_id=3)
    assert all(row[0] == 2 and row[-1] == 3 and len(row) <= 32 for row in rows)
    unpacked = [[2, *part, 3] for row in rows for part in _split(row[1:-1], 3)]
    assert unpacked == reviews
    assert len(rows) < len(reviews) / 2  # fuller rows: the point of packing
    assert sum(map(len, rows)) / len(rows) > 24


def _split(ids, sep):
    parts, part = [], []
    for i in ids:
        if i == sep:
            parts.append(part)
            part = []
        else:
            part.append(i)
    return [*parts, part]


def test_packed_mlm_trains_on_fewer_fuller_rows_and_is_scored_per_review(tiny_start, corpus, tmp_path):
    """`MlmSettings(pack=True)` (the recipe's GPU layout) trains on packed rows, counts corpus epochs in reviews, and
    measures the held-out loss one review per row, as the CPU layout does."""
    report = da.train_mlm(tiny_start, corpus, tmp_path / "packed", tiny_mlm(pack=True, max_length=32, max_steps=0,
                                                                             corpus_epochs=1.0, batch_size=4))
    assert report["rows_per_epoch"] < report["reviews_per_epoch"] / 2
    assert report["steps"] == -(-report["rows_per_epoch"] // 4) and report["corpus_epochs"] >= 1.0
    assert report["eval_history"] and report["final_eval_loss"] > 0
    assert json.loads((tmp_path / "packed" / "mlm_run.json").read_text())["pack"] is True


def test_mlm_refuses_bad_settings_and_a_folder_without_tokenizer(tiny_start, corpus, tmp_path):
    with pytest.raises(ValueError, match="max_steps > 0 or corpus_epochs > 0"):
        da.train_mlm(tiny_start, corpus, tmp_path / "a", tiny_mlm(max_steps=0))
    with pytest.raises(ValueError, match="not one of"):
        da.train_mlm(tiny_start, corpus, tmp_path / "b", tiny_mlm(precision="fp8"))
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "config.json").write_text((tiny_start / "config.json").read_text())
    with pytest.raises(FileNotFoundError, match="with its tokenizer"):
        da.train_mlm(bare, corpus, tmp_path / "c", tiny_mlm())
    assert not any((tmp_path / n).exists() for n in ("a", "b", "c"))  # refused before anything was written


def test_corpus_epochs_set_the_number_of_steps(tiny_start, corpus, tmp_path):
    rows = corpus.num_rows - 8  # minus held_out
    report = da.train_mlm(tiny_start, corpus, tmp_path / "e", tiny_mlm(max_steps=0, corpus_epochs=0.5))
    assert report["steps"] == int(np.ceil(0.5 * rows / 16)) and report["corpus_epochs"] == pytest.approx(0.5, abs=0.05)


class StopHere(Exception):
    pass


@pytest.mark.parametrize("gpu, capability, expected", [("Tesla T4", (7, 5), "fp16"), ("NVIDIA H200", (9, 0), "bf16")])
def test_mlm_trains_on_the_gpu_it_finds_at_the_rules_precision(tiny_start, corpus, tmp_path, monkeypatch, gpu,
                                                               capability, expected):
    """A GPU simulated as tests/test_precision.py does: the stage asks for the GPU (use_cpu False) at the rule's
    precision without timing anything on the CPU."""
    import transformers

    from kbalbert import precision

    seen = {}

    def fake_arguments(**kwargs):
        seen.update(kwargs)
        raise StopHere

    monkeypatch.setattr(precision, "torch_accelerator", lambda: ("cuda", capability, gpu))
    monkeypatch.setattr(precision, "measure_cpu", lambda *a, **k: pytest.fail("a GPU's precision is not measured"))
    monkeypatch.setattr(transformers, "TrainingArguments", fake_arguments)
    with pytest.raises(StopHere):
        da.train_mlm(tiny_start, corpus, tmp_path / "gpu", tiny_mlm(precision="auto"))
    assert seen["use_cpu"] is False and seen[expected] is True and seen["bf16" if expected == "fp16" else "fp16"] is False
    assert seen["dataloader_num_workers"] > 0

"""domain_albert: the WordPiece vocabulary, the word2vec starting embeddings and the ALBERT they make."""

import unicodedata

import numpy as np
import pytest

import domain_albert as da

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

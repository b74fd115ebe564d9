import json
import sys

import pytest
from tokenizers import Tokenizer
from transformers import AutoTokenizer

import tokenization_kbalbert as tk
from tokenization_kbalbert import KbAlbertCharTokenizer, KbAlbertCharTokenizerFast

SMALL_VOCAB = list(tk.SPECIAL_TOKENS) + ["영", "##화", "##가", "좋", "##다", "#", "###", "##좋", "!", "##!", "정", "##말"]


@pytest.fixture(scope="module")
def pair(train_vocab):
    return KbAlbertCharTokenizer(vocab=train_vocab), KbAlbertCharTokenizerFast(vocab=train_vocab)


@pytest.fixture(scope="module")
def reviews(nsmc):
    return list(nsmc["train"]["document"]) + list(nsmc["test"]["document"])


@pytest.mark.slow
def test_parity_on_all_nsmc_reviews(pair, reviews):
    slow, fast = pair
    assert len(reviews) == 200_000
    a, b = slow(reviews), fast(reviews)
    for key in ("input_ids", "token_type_ids", "attention_mask"):
        mismatches = [i for i, (x, y) in enumerate(zip(a[key], b[key])) if x != y]
        assert not mismatches, f"{key} differs on {len(mismatches)} reviews, e.g. {reviews[mismatches[0]]!r}"
    unk = slow.unk_token_id
    test_ids = b["input_ids"][150_000:]
    # the vocab comes from train only, so some test reviews must hit the per-character [UNK] path ...
    assert sum(unk in ids for ids in test_ids) > 50
    # ... but ordinary Korean text must not be mapped to [UNK] (the BertTokenizerFast(vocab_file=...) trap)
    n_tokens = sum(len(ids) - 2 for ids in test_ids)
    n_unk = sum(ids.count(unk) for ids in test_ids)
    assert n_unk / n_tokens < 0.002


def test_char_semantics():
    fast = KbAlbertCharTokenizerFast(vocab=SMALL_VOCAB)
    slow = KbAlbertCharTokenizer(vocab=SMALL_VOCAB)
    cases = {
        "영화가 좋다": ["영", "##화", "##가", "좋", "##다"],
        "영X화": ["영", "[UNK]", "##화"],  # only the unknown character becomes [UNK]
        "좋다!!  정말": ["좋", "##다", "##!", "##!", "정", "##말"],  # no punctuation split, spaces folded
        "#좋다 ##": ["#", "##좋", "##다", "#", "###"],  # a literal '#' is an ordinary character
        "Ab": ["[UNK]", "[UNK]"],  # no lowercasing
        "": [],
    }
    for text, tokens in cases.items():
        assert slow.tokenize(text) == tokens, text
        assert fast.tokenize(text) == tokens, text
        assert slow(text)["input_ids"] == fast(text)["input_ids"] == slow.convert_tokens_to_ids(["[CLS]", *tokens, "[SEP]"])


def test_pairs_truncation_padding(pair, reviews):
    slow, fast = pair
    firsts, seconds = reviews[1000:1600], reviews[5000:5600]
    settings = [
        dict(),
        dict(truncation=True, max_length=8),
        dict(truncation=True, max_length=9),
        dict(truncation="longest_first", max_length=17, truncation_side="left"),
        dict(truncation=True, max_length=24),
        dict(truncation=True, max_length=32, padding="max_length"),
        dict(padding="longest"),
    ]
    for kwargs in settings:
        a, b = slow(firsts, seconds, **kwargs), fast(firsts, seconds, **kwargs)
        for key in ("input_ids", "token_type_ids", "attention_mask"):
            assert a[key] == b[key], (kwargs, key)
        if "max_length" in kwargs:
            assert max(len(ids) for ids in b["input_ids"]) <= kwargs["max_length"]
    # only_second: the first text must fit (tokenizers raises, transformers' Python code only logs, otherwise)
    short_firsts = [t[:10] for t in firsts]
    a = slow(short_firsts, seconds, truncation="only_second", max_length=20)
    b = fast(short_firsts, seconds, truncation="only_second", max_length=20)
    assert a["input_ids"] == b["input_ids"] and a["token_type_ids"] == b["token_type_ids"]
    single = slow(reviews[:500], truncation=True, max_length=16), fast(reviews[:500], truncation=True, max_length=16)
    assert single[0]["input_ids"] == single[1]["input_ids"]
    encoded = fast("영화", "좋다")
    assert encoded["token_type_ids"] == [0, 0, 0, 0, 1, 1, 1]
    assert fast.convert_ids_to_tokens(encoded["input_ids"])[0] == "[CLS]"


def test_offsets_point_at_one_character(pair, reviews):
    _, fast = pair
    texts = reviews[:300]
    encoded = fast(texts, return_offsets_mapping=True)
    for text, ids, offsets in zip(texts, encoded["input_ids"], encoded["offset_mapping"]):
        tokens = fast.convert_ids_to_tokens(ids)
        for token, (start, end) in zip(tokens[1:-1], offsets[1:-1]):
            assert end - start == 1
            if token != "[UNK]":
                assert text[start:end] == token.removeprefix("##")


def test_decode_gives_text_back(pair, reviews):
    slow, fast = pair
    texts = [t for t in reviews[:2000] if slow.unk_token_id not in slow(t)["input_ids"]]
    assert len(texts) > 1500
    for tokenizer in (slow, fast):
        ids = tokenizer(texts)["input_ids"]
        decoded = tokenizer.batch_decode(ids, skip_special_tokens=True)
        assert decoded == [" ".join(t.split()) for t in texts]


@pytest.mark.parametrize("cls", [KbAlbertCharTokenizer, KbAlbertCharTokenizerFast])
def test_save_and_reload(tmp_path, train_vocab, cls, reviews):
    tokenizer = cls(vocab=train_vocab, model_max_length=128)
    tokenizer.save_pretrained(tmp_path)
    assert (tmp_path / "vocab.txt").read_text(encoding="utf-8").splitlines() == train_vocab
    expected = tokenizer(reviews[:200])["input_ids"]
    auto = AutoTokenizer.from_pretrained(tmp_path)
    assert isinstance(auto, KbAlbertCharTokenizerFast)  # transformers 5: AutoTokenizer always gives the fast class
    assert auto(reviews[:200])["input_ids"] == expected
    assert auto.model_max_length == 128
    for other in (KbAlbertCharTokenizer, KbAlbertCharTokenizerFast):
        assert other.from_pretrained(tmp_path)(reviews[:200])["input_ids"] == expected
    if cls is KbAlbertCharTokenizerFast:
        # tokenizer.json works on its own, without this module
        raw = Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
        assert [e.ids for e in raw.encode_batch(reviews[:200])] == expected


def test_kb_albert_release_layout(tmp_path, reviews):
    """A folder like KB-ALBERT-CHAR-v1's: vocab.txt + tokenizer_config.json (+ an ALBERT config.json)."""
    vocab = tk.build_char_vocab(reviews[:5000], vocab_file=tmp_path / "vocab.txt")
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": False, "max_len": 512}))
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "albert", "vocab_size": len(vocab)}))
    expected = KbAlbertCharTokenizer(vocab_file=str(tmp_path / "vocab.txt"))(reviews[:100])["input_ids"]
    assert KbAlbertCharTokenizer.from_pretrained(tmp_path)(reviews[:100])["input_ids"] == expected
    assert KbAlbertCharTokenizerFast.from_pretrained(tmp_path)(reviews[:100])["input_ids"] == expected
    # with the class named in tokenizer_config.json, AutoTokenizer finds it too
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "KbAlbertCharTokenizer"}))
    assert AutoTokenizer.from_pretrained(tmp_path)(reviews[:100])["input_ids"] == expected


@pytest.mark.parametrize("cls", [KbAlbertCharTokenizer, KbAlbertCharTokenizerFast])
def test_bad_inputs(cls, tmp_path):
    tokenizer = cls(vocab=SMALL_VOCAB)
    for bad in (None, 3.5, [None, "영화"], {"text": "영화"}):
        with pytest.raises(TypeError, match=type(bad).__name__):
            tokenizer(bad)
    with pytest.raises(TypeError, match=r"item 1 is NoneType"):
        tokenizer(["영화", None])
    with pytest.raises(TypeError, match="text_pair.*int"):
        tokenizer("영화", 7)
    with pytest.raises(TypeError):
        tokenizer.tokenize(None)
    assert tokenizer("")["input_ids"] == [tokenizer.cls_token_id, tokenizer.sep_token_id]
    assert tokenizer("   ")["input_ids"] == [tokenizer.cls_token_id, tokenizer.sep_token_id]
    with pytest.raises(OSError, match="vocab.txt"):
        cls.from_pretrained(tmp_path)  # an empty folder
    with pytest.raises(ValueError, match=r"\[UNK\]"):
        cls(vocab=["[PAD]", "[CLS]", "[SEP]", "[MASK]", "영"])


def test_whitespace_class_matches_str_split():
    fast = KbAlbertCharTokenizerFast(vocab=SMALL_VOCAB + ["a", "##a"])
    spaces = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    for space in spaces:
        assert fast.tokenize(f"a{space}a") == ["a", "a"], hex(ord(space))
    for not_space in ("\u200b", "\ufeff", "\x00"):
        assert fast.tokenize(f"a{not_space}a") == ["a", "[UNK]", "##a"]


def test_vocab_file_with_windows_line_endings(tmp_path):
    (tmp_path / "vocab.txt").write_bytes("\r\n".join(SMALL_VOCAB).encode("utf-8") + b"\r\n")
    tokenizer = KbAlbertCharTokenizer.from_pretrained(tmp_path)
    assert tokenizer.tokenize("영화가") == ["영", "##화", "##가"]


def test_build_char_vocab(tmp_path):
    texts = ["영화 영화", "영화가", None, "", "좋다"]
    vocab = tk.build_char_vocab(texts, vocab_file=tmp_path / "v.txt")
    assert vocab[:5] == list(tk.SPECIAL_TOKENS)
    assert vocab[5:8] == ["##화", "영", "##가"]  # by frequency (3, 3, 1 ...), ties by token
    assert set(vocab[5:]) == {"영", "##화", "##가", "좋", "##다"}
    assert (tmp_path / "v.txt").read_text(encoding="utf-8").split("\n")[:-1] == vocab
    assert tk.build_char_vocab(texts, min_frequency=2)[5:] == ["##화", "영"]
    assert len(tk.build_char_vocab(texts, max_size=6)) == 6
    with pytest.raises(ValueError):
        tk.build_char_vocab(texts, max_size=5)


def test_saved_folder_keeps_no_runtime_state(tmp_path):
    """A tokenizer called with truncation and loaded offline saves only what describes it (and so do the shipped ones)."""
    import json
    from pathlib import Path

    from transformers import AutoTokenizer

    repo = Path(__file__).resolve().parents[1]
    tokenizer = AutoTokenizer.from_pretrained(repo / "assets" / "albert-movie-char-small", local_files_only=True)
    tokenizer(["영화 재밌다", "별로"], truncation=True, max_length=5, padding=True)
    tokenizer.save_pretrained(tmp_path)
    for folder in [tmp_path, *[p for p in (repo / "assets").iterdir() if (p / "tokenizer.json").is_file()]]:
        config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
        backend = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
        assert not set(config) & {"local_files_only", "is_local", "max_length", "stride", "truncation_strategy"}, folder
        assert backend["truncation"] is None and backend["padding"] is None, folder
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    assert reloaded("영화 재밌다 " * 100)["input_ids"] == tokenizer("영화 재밌다 " * 100)["input_ids"]  # no silent truncation

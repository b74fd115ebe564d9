"""Tokenization classes for KB-ALBERT's character-level (음절 단위) Korean vocabulary.

The scheme is the one of KB-ALBERT-CHAR-v1:

- the text is split on whitespace only (no lowercasing, no accent stripping, no punctuation splitting);
- inside each word the first character is a token as it is, every following character is `"##"` + that character;
- a character that is not in the vocabulary becomes `[UNK]` on its own (the rest of the word is kept);
- BERT-style special tokens: `[CLS] A [SEP]` and `[CLS] A [SEP] B [SEP]` with `token_type_ids` 0 and 1.

Two classes implement it with identical `input_ids`, `token_type_ids` and `attention_mask`:
[`KbAlbertCharTokenizer`] (pure Python) and [`KbAlbertCharTokenizerFast`] (backed by 🤗 Tokenizers, serialised to a
portable `tokenizer.json`). Importing this module registers both with [`~transformers.AutoTokenizer`], so a folder
saved with `save_pretrained` loads offline with `AutoTokenizer.from_pretrained(folder)` (the fast class: transformers
5 always returns fast tokenizers from `AutoTokenizer`; use `KbAlbertCharTokenizer.from_pretrained(folder)` for the
Python one).
"""

# Copyright 2026 The KB-ALBERT tutorial authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.


from __future__ import annotations

import collections
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import WordLevel
from transformers import AutoTokenizer, PretrainedConfig, PreTrainedTokenizer, PreTrainedTokenizerFast
from transformers.tokenization_utils_base import TruncationStrategy
from transformers.utils import logging

logger = logging.get_logger(__name__)

VOCAB_FILES_NAMES = {"vocab_file": "vocab.txt", "tokenizer_file": "tokenizer.json"}

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
"""KB-ALBERT's special tokens, in the order `build_char_vocab` writes them (ids 0-4)."""

CONTINUATION_PREFIX = "##"

# Exactly the characters for which Python's `str.isspace()` is true, i.e. what `str.split()` splits on. Rust's
# `char::is_whitespace` (used by `tokenizers.pre_tokenizers.WhitespaceSplit`) lacks U+001C-U+001F, so the fast
# tokenizer spells the class out instead of relying on either notion of "whitespace".
_WHITESPACE_CLASS = "\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


def load_vocab(vocab_file: str | os.PathLike) -> dict[str, int]:
    """Loads a `vocab.txt` file (one token per line, the line number is the id) into an ordered dictionary."""
    vocab: dict[str, int] = collections.OrderedDict()
    with open(vocab_file, encoding="utf-8") as reader:
        for index, line in enumerate(reader):
            token = line.rstrip("\r\n")
            if token in vocab:
                raise ValueError(f"{vocab_file}: token {token!r} appears twice (lines {vocab[token] + 1} and {index + 1}).")
            vocab[token] = index
    return vocab


def _check_vocab(vocab: dict[str, int], source: str, special_tokens: Iterable[str]) -> None:
    missing = [token for token in special_tokens if token not in vocab]
    if missing:
        raise ValueError(
            f"The vocabulary from {source} has no {', '.join(missing)}. A KB-ALBERT char vocab starts with the special "
            f"tokens {' '.join(SPECIAL_TOKENS)}; build one with `tokenization_kbalbert.build_char_vocab(texts)`, or pass "
            "the names your vocab uses (e.g. `unk_token='<unk>'`)."
        )
    if sorted(vocab.values()) != list(range(len(vocab))):
        raise ValueError(f"The vocabulary from {source} does not have consecutive ids 0..{len(vocab) - 1}.")


def _check_text(value: Any, argument: str) -> None:
    """Raises a `TypeError` naming what was passed when `value` is not text (a string or a list of strings)."""
    if isinstance(value, str):
        return
    if isinstance(value, (list, tuple)) and value and all(isinstance(item, str) for item in value):
        return
    if isinstance(value, (list, tuple)) and value and all(
        isinstance(item, (list, tuple)) and all(isinstance(x, str) for x in item) for item in value
    ):
        return  # pre-tokenized batches (`is_split_into_words=True`)
    if isinstance(value, (list, tuple)) and value and all(isinstance(item, int) for item in value):
        return  # already encoded ids (slow tokenizer API)
    if isinstance(value, (list, tuple)) and not value:
        return  # an empty batch
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    where = ""
    if isinstance(value, (list, tuple)):
        index, item = next((i, x) for i, x in enumerate(value) if not isinstance(x, str))
        where = f" (item {index} is {type(item).__name__})"
    raise TypeError(
        f"KB-ALBERT char tokenizer: `{argument}` must be a string or a list of strings, got "
        f"{type(value).__name__} {shown}{where}. Convert missing values first, e.g. `df['document'].fillna('')`."
    )


def build_char_vocab(
    texts: Iterable[str],
    min_frequency: int = 1,
    max_size: int | None = None,
    special_tokens: Iterable[str] = SPECIAL_TOKENS,
    vocab_file: str | os.PathLike | None = None,
) -> list[str]:
    """
    Builds a KB-ALBERT-style character vocabulary from raw texts.

    The vocabulary lists the special tokens first, then every character with its word-initial form (`"영"`) and its
    continuation form (`"##영"`), most frequent first. A character is counted in the form it takes in the text, so a
    character seen only word-initially gets no `"##"` entry and vice versa.

    Args:
        texts (`Iterable[str]`):
            The corpus, one document per item. `None` and empty items are skipped.
        min_frequency (`int`, *optional*, defaults to 1):
            Keep only forms seen at least this many times.
        max_size (`int`, *optional*):
            Keep at most this many entries in all, special tokens included.
        special_tokens (`Iterable[str]`, *optional*, defaults to `SPECIAL_TOKENS`):
            The special tokens to put first, in this order.
        vocab_file (`str` or `os.PathLike`, *optional*):
            If given, the vocabulary is also written there, one token per line (`vocab.txt`).

    Returns:
        `list[str]`: the tokens, in id order.
    """
    if min_frequency < 1:
        raise ValueError(f"min_frequency must be >= 1, got {min_frequency}.")
    counts: collections.Counter[str] = collections.Counter()
    for text in texts:
        if not text:
            continue
        for word in text.split():
            counts[word[0]] += 1
            counts.update(CONTINUATION_PREFIX + char for char in word[1:])
    specials = list(dict.fromkeys(special_tokens))
    for token in specials:
        counts.pop(token, None)
    # most frequent first; ties broken by the token itself so the result does not depend on the corpus order
    tokens = [token for token, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if count >= min_frequency]
    vocab = specials + tokens
    if max_size is not None:
        if max_size <= len(specials):
            raise ValueError(f"max_size={max_size} leaves no room beside the {len(specials)} special tokens.")
        vocab = vocab[:max_size]
    if vocab_file is not None:
        with open(vocab_file, "w", encoding="utf-8") as writer:
            writer.write("".join(token + "\n" for token in vocab))
    return vocab


def _vocab_from_argument(
    vocab: str | os.PathLike | dict[str, int] | list[str] | None, vocab_file: str | os.PathLike | None
) -> tuple[dict[str, int], str]:
    if vocab is None:
        vocab = vocab_file
    if vocab is None:
        raise OSError(
            "KB-ALBERT char tokenizer: no vocabulary. A tokenizer folder needs `vocab.txt` (one token per line) "
            "or `tokenizer.json`; build one with `tokenization_kbalbert.build_char_vocab(texts, vocab_file=...)`."
        )
    if isinstance(vocab, (str, os.PathLike)):
        if not os.path.isfile(vocab):
            raise OSError(f"KB-ALBERT char tokenizer: vocabulary file not found: {os.fspath(vocab)!r} (expected vocab.txt).")
        return load_vocab(vocab), os.fspath(vocab)
    if isinstance(vocab, (list, tuple)):
        return {token: index for index, token in enumerate(vocab)}, "the given token list"
    return dict(vocab), "the given dictionary"


def _write_vocab(vocab: dict[str, int], save_directory: str, filename_prefix: str | None) -> tuple[str]:
    if not os.path.isdir(save_directory):
        raise OSError(f"Vocabulary path ({save_directory}) should be a directory.")
    vocab_file = os.path.join(save_directory, (filename_prefix + "-" if filename_prefix else "") + "vocab.txt")
    with open(vocab_file, "w", encoding="utf-8") as writer:
        for token, _ in sorted(vocab.items(), key=lambda kv: kv[1]):
            writer.write(token + "\n")
    return (vocab_file,)


# Keys that `from_pretrained` and a call with `truncation=True, max_length=...` leave in a tokenizer's saved files.
# They describe how the tokenizer was loaded or last called, not the tokenizer: a copied folder must not inherit them.
RUNTIME_CONFIG_KEYS = ("local_files_only", "is_local", "max_length", "stride", "truncation_strategy", "truncation_side",
                       "padding_strategy", "pad_to_multiple_of", "cache_dir", "force_download", "token", "revision")


def save_tokenizer(tokenizer, save_directory: str | os.PathLike):
    """`tokenizer.save_pretrained(save_directory)` for any tokenizer (WordPiece, this char tokenizer, a Hub one), then
    `strip_runtime_state`: the folder keeps the vocabulary and special tokens, not how this session loaded or called it."""
    files = tokenizer.save_pretrained(str(save_directory))
    strip_runtime_state(save_directory)
    return files


def strip_runtime_state(save_directory: str | os.PathLike) -> None:
    """Removes load- and call-time state from a saved tokenizer folder (any tokenizer, not only this one):
    `RUNTIME_CONFIG_KEYS` from `tokenizer_config.json`, and the truncation/padding settings from `tokenizer.json`."""
    folder = Path(save_directory)
    config_file, backend_file = folder / "tokenizer_config.json", folder / "tokenizer.json"
    if config_file.is_file():
        config = json.loads(config_file.read_text(encoding="utf-8"))
        config = {k: v for k, v in config.items() if k not in RUNTIME_CONFIG_KEYS}
        config_file.write_text(json.dumps(config, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    if backend_file.is_file():
        backend = json.loads(backend_file.read_text(encoding="utf-8"))
        if backend.get("truncation") is not None or backend.get("padding") is not None:
            backend["truncation"] = backend["padding"] = None
            backend_file.write_text(json.dumps(backend, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


class _TextInputCheck:
    """Gives both tokenizer classes a `TypeError` that names what was passed instead of text, a loading error
    that names the missing file, and saved folders without run-time state (`strip_runtime_state`)."""

    def save_pretrained(self, save_directory, *args, **kwargs):
        files = super().save_pretrained(save_directory, *args, **kwargs)
        strip_runtime_state(save_directory)
        return files

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *args, **kwargs):
        folder = os.path.join(os.fspath(pretrained_model_name_or_path), kwargs.get("subfolder") or "")
        if os.path.isdir(folder) and not any(os.path.isfile(os.path.join(folder, f)) for f in VOCAB_FILES_NAMES.values()):
            raise OSError(
                f"{folder} has no vocab.txt (nor tokenizer.json): it is not a KB-ALBERT char tokenizer folder. Point to "
                "the folder written by `save_pretrained`, or build a vocab with "
                "`tokenization_kbalbert.build_char_vocab(texts, vocab_file=folder + '/vocab.txt')`."
            )
        return super().from_pretrained(pretrained_model_name_or_path, *args, **kwargs)

    def __call__(self, text=None, text_pair=None, *args, **kwargs):
        if text is not None or kwargs.get("text_target") is None:
            _check_text(text, "text")
        if text_pair is not None:
            _check_text(text_pair, "text_pair")
        return super().__call__(text, text_pair, *args, **kwargs)

    def _encode_plus(self, text, text_pair=None, *args, **kwargs):
        _check_text(text, "text")
        if text_pair is not None:
            _check_text(text_pair, "text_pair")
        return super()._encode_plus(text, text_pair, *args, **kwargs)

    def tokenize(self, text, *args, **kwargs) -> list[str]:
        _check_text(text, "text")
        return super().tokenize(text, *args, **kwargs)


class KbAlbertCharTokenizer(_TextInputCheck, PreTrainedTokenizer):
    r"""
    Construct a KB-ALBERT character-level tokenizer (pure Python).

    Splits on whitespace; inside each word the first character is kept as it is and every following character gets
    the `"##"` prefix; a character missing from the vocabulary becomes `unk_token` on its own. No lowercasing, accent
    stripping or punctuation splitting.

    This tokenizer inherits from [`PreTrainedTokenizer`] which contains most of the main methods. Users should refer
    to this superclass for more information regarding those methods.

    Args:
        vocab_file (`str`):
            File containing the vocabulary, one token per line (`vocab.txt`).
        unk_token (`str`, *optional*, defaults to `"[UNK]"`):
            The unknown token.
        sep_token (`str`, *optional*, defaults to `"[SEP]"`):
            The separator token, which ends every sequence and separates the two sequences of a pair.
        pad_token (`str`, *optional*, defaults to `"[PAD]"`):
            The token used for padding.
        cls_token (`str`, *optional*, defaults to `"[CLS]"`):
            The classifier token, first token of every sequence.
        mask_token (`str`, *optional*, defaults to `"[MASK]"`):
            The token used for masking values in masked language modeling.
        vocab (`dict[str, int]` or `list[str]`, *optional*):
            The vocabulary itself, instead of `vocab_file`.

    Example:

    ```python
    >>> from tokenization_kbalbert import KbAlbertCharTokenizer
    >>> tokenizer = KbAlbertCharTokenizer(vocab=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "영", "##화"])
    >>> tokenizer.tokenize("영화 영X화")
    ['영', '##화', '영', '[UNK]', '##화']
    ```
    """

    vocab_files_names = VOCAB_FILES_NAMES
    model_input_names = ["input_ids", "token_type_ids", "attention_mask"]

    def __init__(
        self,
        vocab_file: str | None = None,
        unk_token: str = "[UNK]",
        sep_token: str = "[SEP]",
        pad_token: str = "[PAD]",
        cls_token: str = "[CLS]",
        mask_token: str = "[MASK]",
        vocab: dict[str, int] | list[str] | None = None,
        **kwargs,
    ):
        # The vocabulary must exist before `super().__init__`, which looks special tokens up in it.
        self.vocab, source = _vocab_from_argument(vocab, vocab_file)
        _check_vocab(self.vocab, source, [str(t) for t in (pad_token, unk_token, cls_token, sep_token, mask_token)])
        self.ids_to_tokens = {index: token for token, index in self.vocab.items()}
        kwargs.pop("tokenizer_file", None)
        kwargs.setdefault("clean_up_tokenization_spaces", False)
        super().__init__(
            unk_token=unk_token,
            sep_token=sep_token,
            pad_token=pad_token,
            cls_token=cls_token,
            mask_token=mask_token,
            **kwargs,
        )

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def get_vocab(self) -> dict[str, int]:
        return dict(self.vocab, **self.added_tokens_encoder)

    def _tokenize(self, text: str, **kwargs) -> list[str]:
        vocab, unk = self.vocab, str(self.unk_token)
        tokens = []
        for word in text.split():
            tokens.append(word[0] if word[0] in vocab else unk)
            for char in word[1:]:
                piece = CONTINUATION_PREFIX + char
                tokens.append(piece if piece in vocab else unk)
        return tokens

    def _convert_token_to_id(self, token: str) -> int:
        return self.vocab.get(token, self.vocab[str(self.unk_token)])

    def _convert_id_to_token(self, index: int) -> str:
        return self.ids_to_tokens.get(index, str(self.unk_token))

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        """Joins tokens back into text: `"##"` pieces attach to the previous token, words are separated by a space."""
        return " ".join(tokens).replace(" " + CONTINUATION_PREFIX, "").strip()

    def build_inputs_with_special_tokens(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None
    ) -> list[int]:
        """`[CLS] A [SEP]` for one sequence, `[CLS] A [SEP] B [SEP]` for a pair."""
        if token_ids_1 is None:
            return [self.cls_token_id] + token_ids_0 + [self.sep_token_id]
        return [self.cls_token_id] + token_ids_0 + [self.sep_token_id] + token_ids_1 + [self.sep_token_id]

    def create_token_type_ids_from_sequences(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None
    ) -> list[int]:
        """0 for `[CLS] A [SEP]`, 1 for `B [SEP]`."""
        first = [0] * (len(token_ids_0) + 2)
        if token_ids_1 is None:
            return first
        return first + [1] * (len(token_ids_1) + 1)

    def get_special_tokens_mask(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None, already_has_special_tokens: bool = False
    ) -> list[int]:
        if already_has_special_tokens:
            return super().get_special_tokens_mask(
                token_ids_0=token_ids_0, token_ids_1=token_ids_1, already_has_special_tokens=True
            )
        if token_ids_1 is None:
            return [1] + [0] * len(token_ids_0) + [1]
        return [1] + [0] * len(token_ids_0) + [1] + [0] * len(token_ids_1) + [1]

    def truncate_sequences(
        self,
        ids: list[int],
        pair_ids: list[int] | None = None,
        num_tokens_to_remove: int = 0,
        truncation_strategy: str | TruncationStrategy = "longest_first",
        stride: int = 0,
    ) -> tuple[list[int], list[int], list[int]]:
        """
        Truncates like the fast tokenizer. For a pair with `"longest_first"`, *tokenizers* gives the shorter sequence
        `budget // 2` and the longer one the rest (the second sequence on a tie), where transformers' Python code
        would favour the first sequence on a tie; the rule of *tokenizers* is used so both classes agree.
        """
        if (
            num_tokens_to_remove <= 0
            or pair_ids is None
            or TruncationStrategy(truncation_strategy) != TruncationStrategy.LONGEST_FIRST
        ):
            return super().truncate_sequences(ids, pair_ids, num_tokens_to_remove, truncation_strategy, stride)
        budget = len(ids) + len(pair_ids) - num_tokens_to_remove
        short, long = sorted((len(ids), len(pair_ids)))
        long = short if short > budget else max(short, budget - short)
        if short + long > budget:
            short, long = budget // 2, budget // 2 + budget % 2
        keep_ids, keep_pair = (long, short) if len(ids) > len(pair_ids) else (short, long)
        if self.truncation_side == "left":
            return ids[len(ids) - keep_ids :], pair_ids[len(pair_ids) - keep_pair :], []
        return ids[:keep_ids], pair_ids[:keep_pair], []

    def save_vocabulary(self, save_directory: str, filename_prefix: str | None = None) -> tuple[str]:
        return _write_vocab(self.vocab, save_directory, filename_prefix)


class KbAlbertCharTokenizerFast(_TextInputCheck, PreTrainedTokenizerFast):
    r"""
    Construct a "fast" KB-ALBERT character-level tokenizer, backed by HuggingFace's *tokenizers* library.

    Gives the same `input_ids`, `token_type_ids` and `attention_mask` as [`KbAlbertCharTokenizer`]. The whole
    pipeline is made of serialisable *tokenizers* components (no Python callbacks), so the saved `tokenizer.json`
    works on its own (Rust, Node, `tokenizers.Tokenizer.from_file`):

    - normalizer: inserts `"##"` before every character that follows another non-space character;
    - pre-tokenizer: removes whitespace, then cuts each word into `"c"` / `"##c"` pieces (one character each);
    - model: `WordLevel` lookup, so an unknown character becomes `[UNK]` on its own;
    - post-processor: `[CLS] A [SEP]` / `[CLS] A [SEP] B [SEP]`; decoder: WordPiece.

    Offsets (`return_offsets_mapping=True`) point at the one character each token stands for. Because each character
    is its own pre-token, `word_ids()` counts characters, not whitespace-separated words.

    `save_pretrained` always writes `vocab.txt` (KB-ALBERT's layout, read by the Python tokenizer and by keras_hub)
    beside `tokenizer.json`.

    Args:
        vocab (`str`, `dict[str, int]` or `list[str]`, *optional*):
            The vocabulary: a path to `vocab.txt`, a token-to-id dictionary or a token list in id order.
        vocab_file (`str`, *optional*):
            Path to `vocab.txt`, used when `vocab` is not given.
        unk_token, sep_token, pad_token, cls_token, mask_token (`str`, *optional*):
            The special tokens, as in [`KbAlbertCharTokenizer`].
    """

    vocab_files_names = VOCAB_FILES_NAMES
    model_input_names = ["input_ids", "token_type_ids", "attention_mask"]
    model = WordLevel
    slow_tokenizer_class = KbAlbertCharTokenizer

    def __init__(
        self,
        vocab: str | dict[str, int] | list[str] | None = None,
        vocab_file: str | None = None,
        unk_token: str = "[UNK]",
        sep_token: str = "[SEP]",
        pad_token: str = "[PAD]",
        cls_token: str = "[CLS]",
        mask_token: str = "[MASK]",
        **kwargs,
    ):
        vocab_dict, source = _vocab_from_argument(vocab, vocab_file)
        _check_vocab(vocab_dict, source, [str(t) for t in (pad_token, unk_token, cls_token, sep_token, mask_token)])
        self._vocab = vocab_dict
        self._tokenizer = self._build_backend(vocab_dict, str(unk_token), str(cls_token), str(sep_token))
        kwargs.pop("tokenizer_object", None)
        kwargs.pop("post_processor", None)  # ours is rebuilt from the special tokens above
        kwargs.setdefault("clean_up_tokenization_spaces", False)
        super().__init__(
            unk_token=unk_token,
            sep_token=sep_token,
            pad_token=pad_token,
            cls_token=cls_token,
            mask_token=mask_token,
            **kwargs,
        )
        if isinstance(vocab_file, str) and os.path.isfile(vocab_file):
            self.vocab_file = vocab_file

    @staticmethod
    def _build_backend(vocab: dict[str, int], unk_token: str, cls_token: str, sep_token: str) -> Tokenizer:
        ws = _WHITESPACE_CLASS
        tokenizer = Tokenizer(WordLevel(vocab, unk_token=unk_token))
        tokenizer.normalizer = normalizers.Replace(Regex(f"(?<=[^{ws}])(?=[^{ws}])"), CONTINUATION_PREFIX)
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(Regex(f"[{ws}]+"), behavior="removed"),
                pre_tokenizers.Split(Regex(rf"\A.|{CONTINUATION_PREFIX}."), behavior="isolated"),
            ]
        )
        tokenizer.post_processor = processors.TemplateProcessing(
            single=f"{cls_token}:0 $A:0 {sep_token}:0",
            pair=f"{cls_token}:0 $A:0 {sep_token}:0 $B:1 {sep_token}:1",
            special_tokens=[(cls_token, vocab[cls_token]), (sep_token, vocab[sep_token])],
        )
        tokenizer.decoder = decoders.WordPiece(prefix=CONTINUATION_PREFIX, cleanup=False)
        return tokenizer

    def _convert_encoding(self, encoding, *args, **kwargs):
        encoding_dict, encodings = super()._convert_encoding(encoding, *args, **kwargs)
        if "offset_mapping" in encoding_dict:
            # The "##" inserted by the normalizer is aligned with the previous character; every non-special token
            # stands for exactly one character, which ends at `end`.
            encoding_dict["offset_mapping"] = [
                [(end - 1, end) if end - start > 1 else (start, end) for start, end in offsets]
                for offsets in encoding_dict["offset_mapping"]
            ]
        return encoding_dict, encodings

    def save_vocabulary(self, save_directory: str, filename_prefix: str | None = None) -> tuple[str]:
        return _write_vocab(self._tokenizer.get_vocab(with_added_tokens=False), save_directory, filename_prefix)

    def _save_pretrained(self, save_directory, file_names, legacy_format=None, filename_prefix=None):
        file_names = super()._save_pretrained(save_directory, file_names, legacy_format, filename_prefix)
        return file_names + self.save_vocabulary(str(save_directory), filename_prefix)


class KbAlbertCharTokenizerConfig(PretrainedConfig):
    """Key under which the two tokenizer classes are registered with `AutoTokenizer` (not a model config)."""

    model_type = "kbalbert-char-tokenizer"


# Registers the class names, so that a saved folder (whose tokenizer_config.json says
# "tokenizer_class": "KbAlbertCharTokenizer") loads with AutoTokenizer, without `trust_remote_code`.
AutoTokenizer.register(
    KbAlbertCharTokenizerConfig,
    slow_tokenizer_class=KbAlbertCharTokenizer,
    fast_tokenizer_class=KbAlbertCharTokenizerFast,
    exist_ok=True,
)

__all__ = ["KbAlbertCharTokenizer", "KbAlbertCharTokenizerFast", "build_char_vocab", "load_vocab", "SPECIAL_TOKENS"]

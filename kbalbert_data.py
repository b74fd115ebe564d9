"""Data access shared by the notebooks: NSMC (labelled) and an unlabelled in-domain corpus.

NSMC (Naver Sentiment Movie Corpus v1.0, CC0 1.0, github.com/e9t/nsmc) is read from a local folder when one is given
(the `data_dir` argument, else the `NSMC_DIR` environment variable); otherwise the two files are downloaded once from
the canonical URLs into a cache folder. Either way their sha256 is checked against the public release before use.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from pathlib import Path

NSMC_URL = "https://raw.githubusercontent.com/e9t/nsmc/master/{filename}"
NSMC_FILES = {
    "train": ("ratings_train.txt", "e03b7d14e9e41be8d464a28057cd25d7396c53e67aa7fd5f7e552c59b0ee2940"),
    "test": ("ratings_test.txt", "8ac9f64052f11dbf6ae0acb5e038f03d90a76f0eda7820cfb3a92d02edfcebda"),
}
NSMC_SIZES = {"train": 150_000, "test": 50_000}
LABEL_NAMES = ["부정", "긍정"]  # label 0 = negative, 1 = positive
DEFAULT_CACHE = Path(os.environ.get("KBALBERT_CACHE", Path.home() / ".cache" / "kbalbert"))


class DataError(RuntimeError):
    """Missing or corrupt data, with a message that says what to do."""


def sha256sum(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(path: Path, expected: str) -> None:
    actual = sha256sum(path)
    if actual != expected:
        raise DataError(
            f"{path} is not the NSMC v1.0 file: sha256 {actual}, expected {expected}. "
            "It may be truncated or edited. Delete it and download it again "
            f"({NSMC_URL.format(filename=path.name)}), or point NSMC_DIR at an unmodified copy."
        )


def _download(url: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(partial, "wb") as out:
            while block := response.read(1 << 20):
                out.write(block)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise DataError(
            f"Could not download {url} ({error}). Without internet, download ratings_train.txt and ratings_test.txt "
            "elsewhere and set NSMC_DIR (or the notebook's NSMC_DIR parameter) to the folder that holds them."
        ) from error
    partial.replace(target)


def nsmc_files(data_dir: str | os.PathLike | None = None, cache_dir: str | os.PathLike | None = None) -> dict[str, Path]:
    """
    Returns the verified paths of NSMC's train and test files.

    Args:
        data_dir: a folder that holds `ratings_train.txt` and `ratings_test.txt`. Defaults to the `NSMC_DIR`
            environment variable. When neither is set, the files are downloaded into `cache_dir`.
        cache_dir: where downloads go (default `~/.cache/kbalbert/nsmc`, or `$KBALBERT_CACHE/nsmc`).

    Raises:
        DataError: a file is missing, cannot be downloaded, or its sha256 differs from the public release.
    """
    data_dir = data_dir or os.environ.get("NSMC_DIR") or None
    paths = {}
    if data_dir is not None:
        folder = Path(data_dir).expanduser()
        for split, (filename, expected) in NSMC_FILES.items():
            path = folder / filename
            if not path.is_file():
                raise DataError(
                    f"NSMC {split} file not found: {path}. The folder given by NSMC_DIR / data_dir must hold "
                    f"{' and '.join(name for name, _ in NSMC_FILES.values())} (from github.com/e9t/nsmc); fix the "
                    "path, or unset NSMC_DIR to download them."
                )
            _verify(path, expected)
            paths[split] = path
        return paths
    folder = Path(cache_dir).expanduser() if cache_dir else DEFAULT_CACHE / "nsmc"
    for split, (filename, expected) in NSMC_FILES.items():
        path = folder / filename
        if not path.is_file():
            _download(NSMC_URL.format(filename=filename), path)
        _verify(path, expected)
        paths[split] = path
    return paths


def load_nsmc(data_dir: str | os.PathLike | None = None, cache_dir: str | os.PathLike | None = None):
    """
    Loads NSMC as a `datasets.DatasetDict` with `train` (150,000) and `test` (50,000) splits and columns
    `id`, `document`, `label`.

    Empty reviews (5 in train, 3 in test) are kept as empty strings, not dropped and not NaN: the test set stays the
    50,000 reviews every published number uses, and the tokenizers encode "" as `[CLS] [SEP]`.
    """
    from datasets import ClassLabel, Features, Value, load_dataset

    paths = nsmc_files(data_dir, cache_dir)
    features = Features({"id": Value("string"), "document": Value("string"), "label": ClassLabel(names=LABEL_NAMES)})
    dataset = load_dataset(
        "csv",
        data_files={split: str(path) for split, path in paths.items()},
        sep="\t",
        quoting=3,  # csv.QUOTE_NONE: reviews contain unbalanced quotes
        keep_default_na=False,  # an empty review is "", and reviews such as "NA" or "null" stay text
        features=features,
    )
    for split, size in NSMC_SIZES.items():
        if dataset[split].num_rows != size:
            raise DataError(f"NSMC {split} has {dataset[split].num_rows} rows, expected {size}: the file did not parse.")
    return dataset


def nsmc_splits(
    nsmc,
    validation_size: int = 5000,
    seed: int = 42,
    train_size: int | None = None,
    test_size: int | None = None,
):
    """
    The fine-tuning splits every notebook uses (so PyTorch, Keras and TPU numbers are comparable): `validation` is
    carved out of NSMC train (stratified by label) for model selection, `train` is the rest, and `test` is NSMC test,
    to be scored once at the end.

    Args:
        nsmc: the `DatasetDict` from `load_nsmc`.
        validation_size: reviews held out from train.
        seed: the seed of the split and of the subsets below, so the same arguments give the same reviews.
        train_size: keep only this many training reviews (smoke runs); `None` keeps all.
        test_size: score on this many test reviews (smoke runs); `None` keeps all 50,000.
    """
    from datasets import DatasetDict

    if not 0 < validation_size < nsmc["train"].num_rows:
        raise ValueError(f"validation_size must be between 1 and {nsmc['train'].num_rows - 1}, got {validation_size}.")
    for name, size in (("train_size", train_size), ("test_size", test_size)):
        if size is not None and (not isinstance(size, int) or size <= 0):
            raise ValueError(f"{name} must be a positive number of reviews or None (all of them), got {size!r}.")
    carved = nsmc["train"].train_test_split(test_size=validation_size, seed=seed, stratify_by_column="label")
    train, test = carved["train"], nsmc["test"]
    if train_size is not None:
        train = train.shuffle(seed=seed).select(range(min(train_size, train.num_rows)))
    if test_size is not None:
        test = test.shuffle(seed=seed).select(range(min(test_size, test.num_rows)))
    return DatasetDict(train=train, validation=carved["test"], test=test)


def load_corpus(path: str | os.PathLike, min_chars: int = 1):
    """
    Loads an unlabelled corpus, one document per line, as a `datasets.Dataset` with a `text` column.

    Args:
        path: a `.txt` file, or a folder whose `*.txt` files (recursively) are all read.
        min_chars: drop lines shorter than this (after stripping spaces).
    """
    from datasets import load_dataset

    path = Path(path).expanduser()
    if path.is_dir():
        files = sorted(str(p) for p in path.rglob("*.txt"))
        if not files:
            raise DataError(f"No .txt files under {path}. Put your documents there, one per line.")
    elif path.is_file():
        files = [str(path)]
    else:
        raise DataError(
            f"Corpus not found: {path}. Give a .txt file (one document per line) or a folder of them; the movie-review "
            "corpus is rebuilt from the raw/ folder of a clone of github.com/e9t/nsmc with "
            "`python scripts/build_corpus.py nsmc/raw reviews.txt`."
        )
    empty = [f for f in files if Path(f).stat().st_size == 0]
    if len(empty) == len(files):  # datasets cannot even infer a schema from empty files ("DatasetGenerationError")
        raise DataError(f"{path} is empty ({len(files)} file(s) of 0 bytes). Put documents there, one per line.")
    corpus = load_dataset("text", data_files=[f for f in files if f not in empty], split="train")
    corpus = corpus.filter(lambda batch: [len(t.strip()) >= min_chars for t in batch["text"]], batched=True)
    if corpus.num_rows == 0:
        raise DataError(f"{path} holds no line of at least {min_chars} characters.")
    return corpus


def split_for_sop(input_ids: list[int], offsets: list[tuple[int, int]]) -> int:
    """
    Where to cut a review's tokens into segments A and B for sentence-order prediction: at the word boundary
    nearest the middle (a token whose start is not the previous token's end), else in the middle of the one word.
    Needs at least 2 tokens; returns an index in 1..len-1.
    """
    n = len(input_ids)
    if n < 2:
        raise ValueError("A review needs at least 2 tokens to be cut into two segments.")
    boundaries = [i for i in range(1, n) if offsets[i][0] != offsets[i - 1][1]]
    if not boundaries:
        return n // 2
    return min(boundaries, key=lambda i: (abs(2 * i - n), i))


class DataCollatorForAlbertPretraining:
    """
    Builds ALBERT pretraining batches: sentence-order prediction (SOP) plus masked language modelling.

    Each example holds one review's `input_ids` (no special tokens), their `offset_mapping`, and `sop_split` (see
    `split_for_sop`). Segment A is `input_ids[:sop_split]`, B the rest; with probability `swap_probability` they are
    swapped and `sentence_order_label` is 1 (0 = original order, as `AlbertForPreTraining` expects). The pair becomes
    `[CLS] A [SEP] B [SEP]` with token_type_ids 0/1, and masking is delegated to transformers'
    `DataCollatorForLanguageModeling` (whole-word masking uses the offsets: a word is a run of touching tokens).
    """

    def __init__(
        self,
        tokenizer,
        mlm_probability: float = 0.15,
        whole_word_mask: bool = True,
        swap_probability: float = 0.5,
        pad_to_multiple_of: int | None = 8,
        seed: int | None = None,
    ):
        import random
        import warnings

        from transformers import DataCollatorForLanguageModeling

        self.tokenizer = tokenizer
        self.swap_probability = swap_probability
        self.pad_to_multiple_of = pad_to_multiple_of
        self.rng = random.Random(seed)
        with warnings.catch_warnings():  # whole-word masking always uses [MASK] (no random tokens): it says so
            warnings.simplefilter("ignore")
            self.mlm = DataCollatorForLanguageModeling(
                tokenizer, mlm_probability=mlm_probability, whole_word_mask=whole_word_mask, seed=seed
            )

    def __call__(self, examples: list[dict]) -> dict:
        import torch

        cls_id, sep_id, pad_id = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id, self.tokenizer.pad_token_id
        rows = []
        for example in examples:
            ids, offsets, cut = example["input_ids"], example["offset_mapping"], example["sop_split"]
            a, b = (ids[:cut], offsets[:cut]), (ids[cut:], offsets[cut:])
            swapped = self.rng.random() < self.swap_probability
            if swapped:
                a, b = b, a
            input_ids = [cls_id, *a[0], sep_id, *b[0], sep_id]
            token_type_ids = [0] * (len(a[0]) + 2) + [1] * (len(b[0]) + 1)
            special = [1] + [0] * len(a[0]) + [1] + [0] * len(b[0]) + [1]
            spans = [(0, 0), *map(tuple, a[1]), (0, 0), *map(tuple, b[1]), (0, 0)]
            rows.append((input_ids, token_type_ids, special, spans, int(swapped)))
        length = max(len(row[0]) for row in rows)
        if self.pad_to_multiple_of:
            length = -(-length // self.pad_to_multiple_of) * self.pad_to_multiple_of
        batch_size = len(rows)
        input_ids = torch.full((batch_size, length), pad_id, dtype=torch.long)
        token_type_ids = torch.zeros((batch_size, length), dtype=torch.long)
        attention_mask = torch.zeros((batch_size, length), dtype=torch.long)
        special = torch.ones((batch_size, length), dtype=torch.long)
        spans = torch.zeros((batch_size, length, 2), dtype=torch.long)
        for i, (ids, types, spec, offs, _) in enumerate(rows):
            n = len(ids)
            input_ids[i, :n] = torch.tensor(ids)
            token_type_ids[i, :n] = torch.tensor(types)
            attention_mask[i, :n] = 1
            special[i, :n] = torch.tensor(spec)
            spans[i, :n] = torch.tensor(offs)
        masked, labels = self.mlm.torch_mask_tokens(input_ids, special_tokens_mask=special, offset_mapping=spans)
        return {
            "input_ids": masked,
            "token_type_ids": token_type_ids,
            "attention_mask": attention_mask,
            "labels": labels,
            "sentence_order_label": torch.tensor([row[4] for row in rows], dtype=torch.long),
        }



def peak_memory_gb() -> float | None:
    """This process's peak resident memory in GB, or None where the standard library cannot tell (Windows)."""
    try:
        import resource
    except ImportError:  # Windows has no `resource` module
        return None
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return round(peak / (2**30 if sys.platform == "darwin" else 2**20), 2)


def confident_errors(texts, labels, logits, top: int = 12):
    """The test reviews a classifier got wrong, most confident first (notebooks 02 and 03), as a pandas DataFrame.

    A small model's probabilities saturate (many errors print as 0.990), so they are ranked by the logit margin, the
    predicted class's logit minus the other's, which keeps its order where the rounded probabilities tie."""
    import numpy as np
    import pandas as pd
    from scipy.special import softmax

    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels)
    predicted = logits.argmax(-1)
    ordered = np.sort(logits, axis=-1)
    table = pd.DataFrame({
        "review": list(texts),
        "label": [LABEL_NAMES[i] for i in labels],
        "predicted": [LABEL_NAMES[i] for i in predicted],
        "confidence": softmax(logits, axis=-1).max(-1),
        "logit_margin": ordered[:, -1] - ordered[:, -2],
    })
    wrong = table[labels != predicted]
    return wrong.sort_values("logit_margin", ascending=False, kind="stable").head(top)


def plot_confusion(labels, predicted, path=None):
    """The confusion matrix of NSMC predictions with Korean class names (notebooks 02-04); saved to `path` if given.
    The Korean labels render with the NanumGothic font that koreanize-matplotlib bundles (offline, also on Colab)."""
    import koreanize_matplotlib  # noqa: F401
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, ax = plt.subplots(figsize=(4, 3.5))
    ConfusionMatrixDisplay.from_predictions(labels, predicted, display_labels=LABEL_NAMES, values_format=",", ax=ax,
                                            colorbar=False)
    ax.set_title(f"NSMC 테스트 ({len(labels):,}건)")
    ax.set_xlabel("예측")
    ax.set_ylabel("정답")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig

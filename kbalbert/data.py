"""Data access shared by the notebooks: NSMC (labelled) and an unlabelled in-domain corpus.

NSMC (Naver Sentiment Movie Corpus v1.0, CC0 1.0, github.com/e9t/nsmc) is read from a local folder when one is given
(the `data_dir` argument, else the `NSMC_DIR` environment variable); otherwise the two files are downloaded once from
the canonical URLs into a cache folder. Either way their sha256 is checked against the public release before use.
"""

from __future__ import annotations

import hashlib
import numbers
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
from kbalbert.settings import DATA


def quiet_known_warnings() -> None:
    """Silences a warning that is not ours to fix: pyarrow 25 deprecates an option (null_placement) that datasets'
    `sort` still passes, and every length-grouped sampler and precision probe sorts."""
    import warnings

    warnings.filterwarnings("ignore", message="Specifying null_placement", category=FutureWarning)


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
    validation_size: int = DATA.validation_size,
    seed: int = DATA.seed,
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
        # numpy integers count (np.int64 from a DataFrame); True/False do not, though Python counts them as ints
        if size is not None and (isinstance(size, bool) or not isinstance(size, numbers.Integral) or size <= 0):
            raise ValueError(f"{name} must be a positive number of reviews or None (all of them), got {size!r}.")
    carved = nsmc["train"].train_test_split(test_size=validation_size, seed=seed, stratify_by_column="label")
    train, test = carved["train"], nsmc["test"]
    if train_size is not None:
        train = train.shuffle(seed=seed).select(range(min(train_size, train.num_rows)))
    if test_size is not None:
        test = test.shuffle(seed=seed).select(range(min(test_size, test.num_rows)))
    return DatasetDict(train=train, validation=carved["test"], test=test)


def check_splits(splits) -> None:
    """Refuses anything but `nsmc_splits`' shape before training starts: train, validation and test, each with
    `document` and `label`, none empty."""
    missing = [name for name in ("train", "validation", "test") if name not in getattr(splits, "keys", lambda: ())()]
    if missing:
        raise ValueError(f"splits must be a DatasetDict with train, validation and test (as nsmc_splits makes); "
                         f"missing: {', '.join(missing)}.")
    for name in ("train", "validation", "test"):
        columns = splits[name].column_names
        if not {"document", "label"} <= set(columns) or splits[name].num_rows == 0:
            raise ValueError(f"splits[{name!r}] needs rows with 'document' and 'label' columns; it has "
                             f"{splits[name].num_rows} rows and columns {columns}.")


def splits_digest(splits) -> str:
    """A short sha256 of which reviews are in train and validation, in order (their NSMC ids, or their text where
    there are no ids): a run record's way to tell one split from another."""
    digest = hashlib.sha256()
    for name in ("train", "validation"):
        column = "id" if "id" in splits[name].column_names else "document"
        digest.update(f"{name}:".encode() + "\n".join(map(str, splits[name][column])).encode("utf-8"))
    return digest.hexdigest()[:16]


def check_utf8(path) -> None:
    """Refuses a text file that is not UTF-8 (say cp949, as Windows' Korean editors save it), naming its first
    undecodable line."""
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as error:
                raise DataError(f"{path}, line {number}: not UTF-8 ({error.reason} at byte {error.start}). Save the file "
                                f"as UTF-8, e.g. `iconv -f cp949 -t utf-8 {Path(path).name} > utf8.txt`.") from None


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
    try:
        corpus = load_dataset("text", data_files=[f for f in files if f not in empty], split="train")
    except Exception as error:  # datasets wraps a decoding error in DatasetGenerationError: name the file and line
        for f in files:
            check_utf8(f)
        raise DataError(f"{path} could not be read as text, one document per line: {error}") from error
    corpus = corpus.filter(lambda batch: [len(t.strip()) >= min_chars for t in batch["text"]], batched=True)
    if corpus.num_rows == 0:
        raise DataError(f"{path} holds no line of at least {min_chars} characters.")
    return corpus

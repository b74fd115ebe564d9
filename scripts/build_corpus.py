"""Rebuilds the unlabelled movie-review corpus that notebook 00 pretrains on, from the public NSMC repository.

    git clone --depth 1 https://github.com/e9t/nsmc.git
    python scripts/build_corpus.py nsmc/raw reviews.txt     # then CORPUS_PATH=reviews.txt

NSMC's `raw/` folder holds one JSON file per movie: a list of {"review", "rating", "review_id", "movie_id", ...}
(CC0 1.0; NSMC itself was sampled from it). This script keeps the review texts, folds every run of whitespace to one
space, drops empty lines and repeated texts (first occurrence kept, files in name order), and removes every review
of the NSMC **test** split, by id and by text, so that a model pretrained on the result has never seen a test
review. The NSMC test file is read through `kd.load_nsmc` (NSMC_DIR or a download; sha256-checked).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path

WHITESPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    return WHITESPACE.sub(" ", text).strip()


class CorpusError(ValueError):
    """A raw file this script cannot read: printed as one `error:` line naming the file (and the line)."""


def read_records(path: Path) -> list[dict]:
    """One raw file's reviews: a JSON list of objects, UTF-8. Anything else is refused naming the file and, for broken
    JSON, the line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise CorpusError(f"{path}: not UTF-8 (byte {error.start}); NSMC's raw files are UTF-8 (convert the file, e.g. "
                          f"`iconv -f cp949 -t utf-8`)") from None
    try:
        records = json.loads(text)
    except json.JSONDecodeError as error:
        raise CorpusError(f"{path}, line {error.lineno}, column {error.colno}: not valid JSON ({error.msg})") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise CorpusError(f"{path}: expected a JSON list of reviews ({{\"review\": ...}} objects), got "
                          f"{type(records).__name__}")
    return records


def build_corpus(raw_dir: str | Path, test_ids: Iterable[str], test_texts: Iterable[str]) -> tuple[list[str], dict]:
    """The corpus lines and counts of what was dropped. `test_ids`/`test_texts`: the held-out reviews to leave out."""
    files = sorted(Path(raw_dir).glob("*.json"))
    if not files:
        raise SystemExit(f"No *.json files in {raw_dir}: give the raw/ folder of a clone of github.com/e9t/nsmc.")
    test_ids = {str(i) for i in test_ids}
    test_texts = {normalise(t) for t in test_texts} - {""}
    seen, lines = set(), []
    counts = {"files": len(files), "reviews": 0, "empty": 0, "repeated": 0, "test_by_id": 0, "test_by_text": 0}
    for path in files:
        for record in read_records(path):
            counts["reviews"] += 1
            text = normalise(record.get("review") or "")
            if not text:
                counts["empty"] += 1
            elif str(record.get("review_id")) in test_ids:
                counts["test_by_id"] += 1
            elif text in test_texts:
                counts["test_by_text"] += 1
            elif text in seen:
                counts["repeated"] += 1
            else:
                seen.add(text)
                lines.append(text)
    counts["kept"] = len(lines)
    if not lines:
        raise SystemExit(f"{raw_dir}: {counts['files']} files, {counts['reviews']} reviews, none left to keep ({counts}). "
                         "Give the raw/ folder of a clone of github.com/e9t/nsmc (lists of {\"review\": ...} per movie).")
    return lines, counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("raw_dir", help="the raw/ folder of a clone of github.com/e9t/nsmc")
    parser.add_argument("output", help="the corpus file to write (one review per line)")
    parser.add_argument("--nsmc-dir", help="folder with ratings_test.txt (default: NSMC_DIR, else download)")
    args = parser.parse_args(argv)
    from kbalbert import data as kd
    from kbalbert import runs

    output = Path(args.output)
    if output.exists():  # checked first: nothing is read or built for a run that could not write its result
        raise SystemExit(f"{output} exists: give a new file name (nothing is overwritten).")
    try:
        test = kd.load_nsmc(args.nsmc_dir)["test"]
        lines, counts = build_corpus(args.raw_dir, test["id"], test["document"])
    except (CorpusError, kd.DataError) as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    runs.write_bytes(output, ("\n".join(lines) + "\n").encode("utf-8"))  # atomic: never a half-written corpus
    print(json.dumps({**counts, "output": str(output)}, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""scripts/build_corpus.py on a tiny raw/ folder laid out like github.com/e9t/nsmc's, against the real NSMC test split."""

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
import build_corpus  # noqa: E402


def test_rebuilds_without_test_reviews_repeats_or_blanks(tmp_path, nsmc, capsys):
    test = nsmc["test"]
    test_id, test_text = str(test[0]["id"]), test[1]["document"]
    raw = tmp_path / "raw"
    raw.mkdir()
    movie = lambda movie_id, reviews: [  # noqa: E731
        {"review": text, "rating": "10", "review_id": review_id, "movie_id": movie_id, "date": "15.08.25"}
        for review_id, text in reviews
    ]
    (raw / "10001.json").write_text(json.dumps(movie("10001", [
        ("1", "배우들 연기가  정말\t좋았다 "), ("2", ""), (test_id, "아이디가 테스트 리뷰와 같은 글"),
    ]), ensure_ascii=False), encoding="utf-8")
    (raw / "10002.json").write_text(json.dumps(movie("10002", [
        ("3", "배우들 연기가 정말 좋았다"), ("4", "  " + test_text + " "), ("5", "돈이 아까운 영화"),
    ]), ensure_ascii=False), encoding="utf-8")

    output = tmp_path / "reviews.txt"
    build_corpus.main([str(raw), str(output)])
    assert output.read_text(encoding="utf-8").splitlines() == ["배우들 연기가 정말 좋았다", "돈이 아까운 영화"]
    counts = json.loads(capsys.readouterr().out)
    assert (counts["reviews"], counts["empty"], counts["repeated"], counts["test_by_id"], counts["test_by_text"],
            counts["kept"]) == (6, 1, 1, 1, 1, 2)

    with pytest.raises(SystemExit, match="exists"):  # a user's file is never overwritten
        build_corpus.main([str(raw), str(output)])
    with pytest.raises(SystemExit, match="raw/ folder"):
        build_corpus.main([str(tmp_path / "empty"), str(tmp_path / "other.txt")])

    (tmp_path / "holds-nothing").mkdir()
    (tmp_path / "holds-nothing" / "1.json").write_text("[]")
    with pytest.raises(SystemExit, match="none left to keep"):  # not a 1-byte corpus written with exit 0
        build_corpus.main([str(tmp_path / "holds-nothing"), str(tmp_path / "third.txt")])
    assert not (tmp_path / "third.txt").exists()

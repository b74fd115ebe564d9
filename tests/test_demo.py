"""The sentiment demo (sentiment_demo.py, scripts/demo.py): its answers on awkward input, and the page itself driven in
headless Chromium (Debian's chromium package, through Playwright; nothing is downloaded)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kbalbert import demo as sentiment_demo

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
POSITIVE = "배우들 연기가 정말 좋았고 마지막 장면에서 울었어요. 또 보고 싶네요"
NEGATIVE = "시간 아깝다. 스토리도 엉성하고 연기도 어색해서 끝까지 보기 힘들었음"


@pytest.fixture(scope="module")
def classifier():
    return sentiment_demo.SentimentClassifier()


def test_clear_reviews_get_their_labels_and_the_shading_covers_the_text(classifier):
    for text, expected in ((POSITIVE, "긍정"), (NEGATIVE, "부정")):
        probabilities, note, spans = sentiment_demo.analyse(classifier, text)
        assert max(probabilities, key=probabilities.get) == expected
        assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        assert "".join(piece for piece, _ in spans) == text  # the shading shows the review as typed
        scores = [score for _, score in spans if score is not None]
        assert len(scores) >= 5 and max(abs(s) for s in scores) == pytest.approx(1.0)
        # words are shaded whole: every shaded piece is one whitespace-separated word of the review
        assert [piece for piece, score in spans if score is not None] == text.split()
        assert "앞부분만" not in note


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_an_empty_box_gets_a_message_not_an_exception(classifier, text):
    assert sentiment_demo.analyse(classifier, text) == (None, sentiment_demo.EMPTY_MESSAGE, None)
    with pytest.raises(ValueError, match="리뷰를 입력"):
        classifier.predict(text)


@pytest.mark.parametrize("text", ["😀😀👍🔥", "this movie 진짜 최고 ㅋㅋ!! 10/10", "ㅋ" * 5000,
                                  "정말 재미있는 영화였다 " * 200])
def test_odd_and_long_input_is_answered(classifier, text):
    probabilities, note, spans = sentiment_demo.analyse(classifier, text)
    assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    prediction = classifier.predict(text, explain=False)
    assert prediction.tokens <= sentiment_demo.MAX_LENGTH
    if text.startswith("정말"):  # 800 words; "ㅋ" * 5000 is one word, hence one [UNK] token
        assert prediction.truncated and prediction.tokens == sentiment_demo.MAX_LENGTH and "앞부분만" in note


def test_a_review_the_model_cannot_read_says_so(classifier):
    """Issue 43: emoji-only input was one [UNK] painted full red with 57% and no word that the answer is a guess."""
    probabilities, note, spans = sentiment_demo.analyse(classifier, "😀😀👍🔥")
    assert "모르는 글자" in note and "추측" in note
    _, note, _ = sentiment_demo.analyse(classifier, POSITIVE)
    assert "모르는 글자" not in note


def test_a_long_review_says_it_was_cut_and_no_length_warning_is_printed(classifier, capfd):
    text = "처음엔 지루했지만 " * 300 + "결말이 최고였다"
    _, note, _ = sentiment_demo.analyse(classifier, text)
    assert f"{classifier.max_length}토큰보다 길어 앞부분만" in note
    assert "Token indices sequence length" not in capfd.readouterr().err


def test_the_length_comes_from_the_classifiers_tokenizer_and_the_summary_from_its_card(classifier):
    assert classifier.max_length == 128 == classifier.tokenizer.model_max_length
    assert "NSMC 테스트 정확도 88.6%" in classifier.summary and "README.md" in classifier.summary


def test_non_text_input_is_refused(classifier):
    import gradio as gr

    for value in (123, True, None):
        with pytest.raises(gr.Error, match="글"):
            sentiment_demo.analyse(classifier, value)


def test_a_pretrained_folder_without_a_trained_head_is_refused():
    """`scripts/demo.py --model assets/albert-movie-wp-small` used to serve LABEL_1 from a random head."""
    with pytest.raises(ValueError, match="no trained classification head"):
        sentiment_demo.check_model_folder(REPO / "assets" / "albert-movie-wp-small")
    result = subprocess.run([sys.executable, "scripts/demo.py", "--model", "assets/albert-movie-wp-small"], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stderr.strip().startswith("error:") and len(result.stderr.splitlines()) == 1


def test_a_kb_albert_vocab_txt_folder_is_served_with_the_char_tokenizer(tmp_path):
    """KB-ALBERT's distributed format has vocab.txt and no tokenizer.json; AutoTokenizer alone asks for sentencepiece."""
    import tokenization_kbalbert as tk
    from transformers import AlbertConfig, AlbertForSequenceClassification

    vocab = tk.build_char_vocab(["영화 정말 재밌다", "최악의 영화"])
    folder = tmp_path / "kb-albert-like"
    tokenizer = tk.KbAlbertCharTokenizerFast(vocab=vocab)
    config = AlbertConfig(vocab_size=len(tokenizer), embedding_size=16, hidden_size=32, num_hidden_layers=1,
                          num_attention_heads=1, intermediate_size=64, max_position_embeddings=64,
                          id2label={0: "부정", 1: "긍정"}, label2id={"부정": 0, "긍정": 1})
    AlbertForSequenceClassification(config).save_pretrained(folder)
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    served = sentiment_demo.SentimentClassifier(folder)
    assert type(served.tokenizer).__name__ == "KbAlbertCharTokenizerFast" and served.max_length == 64
    probabilities, _, _ = sentiment_demo.analyse(served, "영화 정말 재밌다")
    assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-5)


def test_a_folder_without_its_tokenizer_is_refused(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    with pytest.raises(FileNotFoundError, match="config.json"):
        sentiment_demo.check_model_folder(model)
    shutil.copy(sentiment_demo.DEFAULT_MODEL / "config.json", model)
    with pytest.raises(FileNotFoundError, match="no tokenizer files"):
        sentiment_demo.check_model_folder(model)
    result = subprocess.run([sys.executable, "scripts/demo.py", "--model", str(model)], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "no tokenizer files" in result.stderr


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_the_page_in_headless_chromium(tmp_path):
    """Starts scripts/demo.py on a free port, types reviews into the page, and reads the labels the page shows."""
    if CHROMIUM is None:
        message = ("the demo's browser test needs Debian's Chromium: apt-get install chromium fonts-nanum "
                   "(fonts-nanum: Korean glyphs in the screenshot)")
        if os.environ.get("DEMO_BROWSER_REQUIRED") == "1":  # set by .ci/run, which installs it
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    server = subprocess.Popen([sys.executable, "scripts/demo.py", "--port", "0"], cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        deadline, url, seen = time.time() + 180, None, []
        while url is None and time.time() < deadline:
            line = server.stdout.readline()
            if not line and server.poll() is not None:
                break
            seen.append(line)
            url = (re.search(r"at (http://127\.0\.0\.1:\d+/)", line) or [None, None])[1]
        assert url, "the demo did not print its address:\n" + "".join(seen)
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                      "--disable-background-networking", "--disable-component-update"])
            page = browser.new_page(viewport={"width": 1200, "height": 560}, locale="ko-KR")
            page.goto(url)
            review, result, note = page.locator("#review textarea"), page.locator("#result"), page.locator("#note")
            for text, expected, other in ((NEGATIVE, "부정", "긍정"), (POSITIVE, "긍정", "부정")):
                review.fill(text)
                page.locator("#classify").click()
                # gr.Label's heading is the predicted label; both labels are listed below it with their shares
                expect(result.locator("h2, .output-class").first).to_have_text(expected, timeout=60_000)
                expect(result).to_contain_text(other)
                expect(note).to_contain_text("토큰")
                expect(page.locator("#tokens")).to_contain_text(text.split()[0])
            expect(page.locator("#about")).to_contain_text("NSMC 테스트 정확도")  # from the model card
            for text, expected_note in (("😀😀👍🔥", "추측"), ("처음엔 지루했지만 " * 200 + "결말이 최고였다", "앞부분만")):
                review.fill(text)
                page.locator("#classify").click()
                expect(note).to_contain_text(expected_note, timeout=60_000)
            review.fill(POSITIVE)
            page.locator("#classify").click()
            expect(result.locator("h2, .output-class").first).to_have_text("긍정", timeout=60_000)
            screenshot = REPO / "outputs" / "demo" / "demo.png"
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
            review.fill("")
            page.locator("#classify").click()
            expect(note).to_contain_text("리뷰를 입력해 주세요", timeout=60_000)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        server.stdout.close()
    assert server.returncode is not None and not _port_open(port)  # stopped cleanly, nothing left listening

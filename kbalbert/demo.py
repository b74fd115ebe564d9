"""영화 리뷰 감성 분류 데모 페이지(Gradio): 미세조정한 ALBERT 분류기 하나를 브라우저에서 써 보는 앱.

    python scripts/demo.py                      # 동봉된 분류기(assets/albert-movie-wp-small-nsmc), http://127.0.0.1:7860
    python scripts/demo.py --model outputs/02-pytorch/model --port 7861   # 직접 미세조정한 폴더

노트북 02의 마지막 절은 같은 `build_demo`를 노트북 안에 띄웁니다. 페이지는 리뷰 한 칸, 두 라벨의 확률, 그리고 어떤
토큰이 판단을 밀었는지(가림 분석: 토큰 하나씩 빼고 다시 예측했을 때 긍정 확률이 얼마나 바뀌는지)를 보여 줍니다.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kbalbert.inference import TOKENIZER_FILES  # the files that make a folder's tokenizer (one list)
from kbalbert.settings import DATA

# Gradio's usage statistics would try to reach the internet at every start; the demo runs offline.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = REPO / "assets" / "albert-movie-wp-small-nsmc"
MAX_LENGTH = DATA.max_length  # when a folder's tokenizer does not say its model_max_length
EXAMPLES = [
    "배우들 연기가 정말 좋았고 마지막 장면에서 울었어요. 또 보고 싶네요",
    "시간 아깝다. 스토리도 엉성하고 연기도 어색해서 끝까지 보기 힘들었음",
    "기대 안 하고 봤는데 생각보다 괜찮네 ㅋㅋ",
    "CG는 화려한데 내용이 너무 뻔해서 지루했다",
]
EMPTY_MESSAGE = "리뷰를 입력해 주세요. 빈 칸은 분류하지 않습니다."


def check_model_folder(model_dir: str | os.PathLike) -> Path:
    """A saved classifier folder with its tokenizer, or a clear error before anything loads.

    (Without its tokenizer files AutoTokenizer would quietly build a tokenizer of 5 special tokens, every word would be
    [UNK] and the page would answer the same probabilities for any review.)"""
    folder = Path(model_dir)
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"{folder} is not a saved model folder (no config.json). Give a fine-tuned classifier "
                                f"folder, e.g. {DEFAULT_MODEL.relative_to(REPO)} or notebook 02's outputs/.../model.")
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise FileNotFoundError(f"{folder} has no tokenizer files ({', '.join(TOKENIZER_FILES)}): save the tokenizer "
                                "next to the model (tokenizer.save_pretrained(folder)) before serving it.")
    return folder


@dataclass
class Prediction:
    probabilities: dict[str, float]  # label name -> probability, in the model's label order
    tokens: int  # tokens the model saw, [CLS] and [SEP] included
    truncated: bool  # the review was longer than MAX_LENGTH tokens and only its beginning was read
    spans: list[tuple[str, float | None]]  # the review in pieces; per token its push towards the positive label in [-1, 1]


class SentimentClassifier:
    """A fine-tuned sequence classifier and its tokenizer, loaded once, on the CPU (a demo answers one review at a time)."""

    def __init__(self, model_dir: str | os.PathLike = DEFAULT_MODEL, max_length: int = MAX_LENGTH):
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        folder = check_model_folder(model_dir)
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
        self.model = AutoModelForSequenceClassification.from_pretrained(str(folder)).eval()
        self.labels = [self.model.config.id2label[i] for i in range(self.model.config.num_labels)]
        # The label whose probability the token shading follows: the last one (긍정 for NSMC's 0 = 부정, 1 = 긍정).
        self.positive = len(self.labels) - 1
        self.max_length = max_length
        self.torch = torch

    def _probabilities(self, rows: list[list[int]]):
        batch = self.tokenizer.pad({"input_ids": rows}, return_tensors="pt")
        with self.torch.inference_mode():
            return self.torch.softmax(self.model(**batch).logits.float(), dim=-1).numpy()

    def predict(self, text: str, explain: bool = True) -> Prediction:
        """Probabilities for one review. With `explain`, also each token's occlusion score: the positive log-odds of the
        whole review minus those with the token left out (all variants in one batch), divided by the largest such
        change, so +1 is the token that pushed most towards the positive label and -1 most towards the negative."""
        if not text or not text.strip():
            raise ValueError(EMPTY_MESSAGE)
        full = self.tokenizer(text, truncation=False, return_offsets_mapping=True, add_special_tokens=True)
        encoded = self.tokenizer(text, truncation=True, max_length=self.max_length, return_offsets_mapping=True)
        ids, offsets = encoded["input_ids"], encoded["offset_mapping"]
        positions = [i for i, (start, end) in enumerate(offsets) if end > start]  # the review's tokens, not [CLS]/[SEP]
        rows = [ids] + ([ids[:i] + ids[i + 1:] for i in positions] if explain else [])
        probs = self._probabilities(rows)
        probabilities = {label: float(p) for label, p in zip(self.labels, probs[0])}
        scores = [None] * len(positions)
        if explain and positions:
            # Log-odds rather than probabilities: at 0.99 a token that matters still moves the probability very little.
            log_odds = np.log(probs[:, self.positive] + 1e-9) - np.log(1 - probs[:, self.positive] + 1e-9)
            pushes = log_odds[0] - log_odds[1:]  # > 0: without this token the review reads less positive
            scores = pushes / max(np.abs(pushes).max(), 1e-9)  # the strongest token gets the full colour
        spans, cursor = [], 0
        for i, score in zip(positions, scores):
            start, end = offsets[i]
            if start > cursor:
                spans.append((text[cursor:start], None))
            spans.append((text[start:end], None if score is None else round(float(score), 4)))
            cursor = end
        if cursor < len(text):
            spans.append((text[cursor:], None))
        return Prediction(probabilities, len(ids), len(full["input_ids"]) > self.max_length, spans)


def describe(prediction: Prediction, max_length: int = MAX_LENGTH) -> str:
    """The page's one-line note under the label (Korean, as the page is)."""
    note = f"모델이 읽은 토큰 {prediction.tokens}개([CLS]·[SEP] 포함)."
    if prediction.truncated:
        note += f" 리뷰가 {max_length}토큰보다 길어 앞부분만 읽었습니다(미세조정 때와 같은 길이)."
    return note


def analyse(classifier: SentimentClassifier, text: str):
    """What the page shows for `text`: (label probabilities or None, note, token shading or None). Never raises on
    user text: an empty box gets a message instead of a result."""
    if not text or not text.strip():
        return None, EMPTY_MESSAGE, None
    prediction = classifier.predict(text)
    return prediction.probabilities, describe(prediction, classifier.max_length), prediction.spans


def theme():
    """Gradio's default look with a Korean font first and no web fonts fetched (the page must work offline)."""
    import gradio as gr

    return gr.themes.Default(font=["NanumGothic", "Noto Sans CJK KR", "Malgun Gothic", "sans-serif"],
                             font_mono=["NanumGothicCoding", "monospace"])


def build_demo(classifier: SentimentClassifier | None = None):
    """The page as a `gr.Blocks`: launch it with `demo.launch(theme=theme())` (a server) or inline in a notebook."""
    import gradio as gr

    classifier = classifier or SentimentClassifier()
    with gr.Blocks(title="영화 리뷰 감성 분류 (ALBERT)") as demo:
        gr.Markdown("## 영화 리뷰 감성 분류\nNSMC로 미세조정한 작은 한국어 ALBERT가 리뷰가 긍정인지 부정인지 판단합니다.")
        with gr.Row():
            with gr.Column():
                review = gr.Textbox(label="리뷰", lines=4, placeholder="영화 리뷰를 입력하세요", elem_id="review")
                button = gr.Button("분류하기", variant="primary", elem_id="classify")
                gr.Examples(EXAMPLES, inputs=review, label="예시 리뷰 (눌러서 넣기)")
            with gr.Column():
                label = gr.Label(num_top_classes=len(classifier.labels), label="예측", elem_id="result")
                note = gr.Markdown(elem_id="note")
                shading = gr.HighlightedText(label="토큰별 영향 (빼고 다시 예측한 차이): "
                                                   "빨강은 긍정 쪽, 파랑은 부정 쪽, 진할수록 크게", elem_id="tokens", show_legend=False)
        gr.on([button.click, review.submit], lambda text: analyse(classifier, text), inputs=review,
              outputs=[label, note, shading], api_name="classify")
    return demo

"""영화 리뷰 감성 분류 데모 페이지(Gradio): 미세조정한 ALBERT 분류기 하나를 브라우저에서 써 보는 앱.

    python scripts/demo.py                      # 동봉된 분류기(assets/albert-movie-wp-small-nsmc), http://127.0.0.1:7860
    python scripts/demo.py --model outputs/02-pytorch/model --port 7861   # 직접 미세조정한 폴더

노트북 02의 마지막 절은 같은 `build_demo`를 노트북 안에 띄웁니다. 페이지는 리뷰 한 칸, 두 라벨의 확률, 그리고 어떤
단어가 판단을 밀었는지(가림 분석: 단어 하나씩 빼고 다시 예측했을 때 긍정 쪽 로그 오즈가 얼마나 바뀌는지)를 보여 줍니다.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kbalbert.inference import TOKENIZER_FILES, load_tokenizer  # the files that make a folder's tokenizer (one list)
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
    """A saved, fine-tuned classifier folder with its tokenizer, or a clear error before anything loads.

    (Without its tokenizer files AutoTokenizer would quietly build a tokenizer of 5 special tokens, every word would be
    [UNK] and the page would answer the same probabilities for any review. A pretrained folder without a trained
    classification head would be given a random head and answer "LABEL_1" at random.)"""
    folder = Path(model_dir)
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"{folder} is not a saved model folder (no config.json). Give a fine-tuned classifier "
                                f"folder, e.g. {DEFAULT_MODEL.relative_to(REPO)} or notebook 02's outputs/.../model.")
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise FileNotFoundError(f"{folder} has no tokenizer files ({', '.join(TOKENIZER_FILES)}): save the tokenizer "
                                "next to the model (tokenizer.save_pretrained(folder)) before serving it.")
    architectures = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("architectures") or []
    weights = folder / "model.safetensors"
    trained_head = any(a.endswith("ForSequenceClassification") for a in architectures)
    if trained_head and weights.is_file():
        from safetensors import safe_open

        with safe_open(str(weights), "np") as f:
            trained_head = any(k.startswith("classifier.") for k in f.keys())
    if not trained_head:
        raise ValueError(f"{folder} has no trained classification head ({', '.join(architectures) or 'no architecture'}): "
                         "it is a pretrained model, not a classifier. Fine-tune it first (notebook 02, "
                         f"scripts/train_nsmc.py) and serve that folder, e.g. {DEFAULT_MODEL.relative_to(REPO)}.")
    return folder


def model_summary(folder: Path) -> str:
    """One line on what the model is and how good, read from its model card (README.md), or "" without a card."""
    card_file = folder / "README.md"
    if not card_file.is_file():
        return ""
    from huggingface_hub import ModelCard

    card = ModelCard.load(card_file)
    accuracy = next((r.metric_value for r in card.data.eval_results or [] if r.metric_type == "accuracy"), None)
    where = card_file.relative_to(REPO) if card_file.is_relative_to(REPO) else card_file
    score = f", NSMC 테스트 정확도 {100 * accuracy:.1f}%" if accuracy is not None else ""
    return (f"한국어 **영화 리뷰**의 긍정·부정을 가리는 작은 ALBERT입니다({folder.name}{score}). 다른 분야의 글에서는 "
            f"그만큼 맞히리라는 보장이 없습니다. 모델 카드: `{where}`")


@dataclass
class Prediction:
    probabilities: dict[str, float]  # label name -> probability, in the model's label order
    tokens: int  # tokens the model saw, [CLS] and [SEP] included
    unknown_share: float  # share of the review's tokens the vocabulary does not know ([UNK]): emoji, other scripts
    truncated: bool  # the review was longer than MAX_LENGTH tokens and only its beginning was read
    spans: list[tuple[str, float | None]]  # the review in pieces; per word its push towards the positive label in [-1, 1]


class SentimentClassifier:
    """A fine-tuned sequence classifier and its tokenizer, loaded once, on the CPU (a demo answers one review at a time)."""

    def __init__(self, model_dir: str | os.PathLike = DEFAULT_MODEL, max_length: int | None = None):
        import torch
        from transformers import AutoModelForSequenceClassification

        folder = check_model_folder(model_dir)
        self.tokenizer = load_tokenizer(folder)  # KB-ALBERT's vocab.txt folders get the char tokenizer
        self.model = AutoModelForSequenceClassification.from_pretrained(str(folder)).eval()
        self.labels = [self.model.config.id2label[i] for i in range(self.model.config.num_labels)]
        # The label whose probability the token shading follows: the last one (긍정 for NSMC's 0 = 부정, 1 = 긍정).
        self.positive = len(self.labels) - 1
        # The length the classifier was fine-tuned at, as its tokenizer records it (model_max_length), within the model's
        # positions; a tokenizer without one (a huge placeholder) falls back to the project's default.
        positions = getattr(self.model.config, "max_position_embeddings", MAX_LENGTH)
        recorded = self.tokenizer.model_max_length if self.tokenizer.model_max_length < 100_000 else MAX_LENGTH
        self.max_length = min(max_length or recorded, positions)
        self.summary = model_summary(folder)
        self.torch = torch

    def _probabilities(self, rows: list[list[int]]):
        batch = self.tokenizer.pad({"input_ids": rows}, return_tensors="pt")
        with self.torch.inference_mode():
            return self.torch.softmax(self.model(**batch).logits.float(), dim=-1).numpy()

    def predict(self, text: str, explain: bool = True) -> Prediction:
        """Probabilities for one review. With `explain`, also each word's occlusion score: the positive log-odds of the
        whole review minus those with the word (all its subword pieces) left out, all variants in one batch, divided by
        the largest such change, so +1 is the word that pushed most towards the positive label and -1 most towards the
        negative. Words are the review's whitespace-separated pieces, shaded whole."""
        if not isinstance(text, str):
            raise TypeError(f"a review is text, not {type(text).__name__}")
        if not text.strip():
            raise ValueError(EMPTY_MESSAGE)
        # verbose=False: the full length is only counted (to say the review was cut), never given to the model
        full = self.tokenizer(text, truncation=False, add_special_tokens=True, verbose=False)
        encoded = self.tokenizer(text, truncation=True, max_length=self.max_length, return_offsets_mapping=True)
        ids, offsets = encoded["input_ids"], encoded["offset_mapping"]
        positions = [i for i, (start, end) in enumerate(offsets) if end > start]  # the review's tokens, not [CLS]/[SEP]
        words: list[list[int]] = []  # token positions per word: a piece that starts where the last one ended joins it
        for i in positions:
            if words and offsets[words[-1][-1]][1] == offsets[i][0]:
                words[-1].append(i)
            else:
                words.append([i])
        rows = [ids] + ([[t for j, t in enumerate(ids) if j not in set(word)] for word in words] if explain else [])
        probs = self._probabilities(rows)
        probabilities = {label: float(p) for label, p in zip(self.labels, probs[0])}
        scores = [None] * len(words)
        if explain and words:
            # Log-odds rather than probabilities: at 0.99 a word that matters still moves the probability very little.
            log_odds = np.log(probs[:, self.positive] + 1e-9) - np.log(1 - probs[:, self.positive] + 1e-9)
            pushes = log_odds[0] - log_odds[1:]  # > 0: without this word the review reads less positive
            scores = pushes / max(np.abs(pushes).max(), 1e-9)  # the strongest word gets the full colour
        spans, cursor = [], 0
        for word, score in zip(words, scores):
            start, end = offsets[word[0]][0], offsets[word[-1]][1]
            if start > cursor:
                spans.append((text[cursor:start], None))
            spans.append((text[start:end], None if score is None else round(float(score), 4)))
            cursor = end
        if cursor < len(text):
            spans.append((text[cursor:], None))
        unknown = sum(ids[i] == self.tokenizer.unk_token_id for i in positions) / max(1, len(positions))
        return Prediction(probabilities, len(ids), unknown, len(full["input_ids"]) > self.max_length, spans)


def describe(prediction: Prediction, max_length: int = MAX_LENGTH) -> str:
    """The page's note under the label (Korean, as the page is): what the model read, and when its answer is weak."""
    note = f"모델이 읽은 토큰 {prediction.tokens}개([CLS]·[SEP] 포함)."
    if prediction.truncated:
        note += (f"\n\n**리뷰가 {max_length}토큰보다 길어 앞부분만 읽었습니다**(미세조정 때와 같은 길이). 뒤쪽에 쓴 판단은 "
                 "반영되지 않았습니다.")
    if prediction.unknown_share >= 0.5:
        note += (f"\n\n**리뷰의 {prediction.unknown_share:.0%}가 모델이 모르는 글자([UNK]: 이모지, 다른 문자 등)입니다.** "
                 "읽을 단어가 거의 없으니 위의 답은 추측입니다.")
    return note


def analyse(classifier: SentimentClassifier, text):
    """What the page shows for `text`: (label probabilities or None, note, word shading or None). An empty box gets a
    message instead of a result; anything but text (through the API) is refused with a message."""
    if not isinstance(text, str):
        import gradio as gr

        raise gr.Error(f"리뷰는 글(문자열)이어야 합니다. 받은 값: {type(text).__name__}")
    if not text.strip():
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
        gr.Markdown("## 영화 리뷰 감성 분류\n" + (classifier.summary or "NSMC로 미세조정한 작은 한국어 ALBERT가 리뷰가 긍정인지 부정인지 판단합니다."),
                    elem_id="about")
        with gr.Row():
            with gr.Column():
                review = gr.Textbox(label="리뷰", lines=4, placeholder="영화 리뷰를 입력하세요", elem_id="review")
                button = gr.Button("분류하기", variant="primary", elem_id="classify")
                gr.Examples(EXAMPLES, inputs=review, label="예시 리뷰 (눌러서 넣기)")
            with gr.Column():
                label = gr.Label(num_top_classes=len(classifier.labels), label="예측", elem_id="result")
                note = gr.Markdown(elem_id="note")
                shading = gr.HighlightedText(label="단어별 영향 (그 단어를 빼고 다시 예측한 차이): "
                                                   "빨강은 긍정 쪽, 보라는 부정 쪽, 진할수록 크게", elem_id="tokens", show_legend=False)
        gr.on([button.click, review.submit], lambda text: analyse(classifier, text), inputs=review,
              outputs=[label, note, shading], api_name="classify")
    return demo

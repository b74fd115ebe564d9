"""Using a saved classifier: its tokenizer (`load_tokenizer`, including KB-ALBERT's `vocab.txt` format), a check that a
model path can be loaded (`check_model_path`), and class probabilities for many texts (`predict_proba`) at the
precision `inference_plan` picks."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import AutoModelForSequenceClassification, AutoTokenizer

import tokenization_kbalbert
from kbalbert import precision
from kbalbert.settings import DATA, FINETUNE

# A model folder needs one of these to be tokenized as it was trained (vocab.txt: KB-ALBERT's distributed format).
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "spiece.model", "sentencepiece.bpe.model")


def inference_plan(accelerator: str, capability: tuple[int, int] | None, requested: str = "auto") -> tuple[str, str]:
    """(device, precision) for predicting with a classifier. `requested` as for training ("auto", "fp32", "bf16",
    "fp16"): on a GPU, "auto" follows `precision.py`'s rule (bf16 from compute capability 8.0, fp16 below); on the CPU,
    "auto" means fp32 (teacher probabilities are cheap there next to training, and fp32 keeps them free of bf16
    rounding). An explicit choice is kept, or refused where the rule refuses it (fp16 on a CPU)."""

    if accelerator == "cpu" and precision.check(requested) == "auto":
        return "cpu", "fp32"
    chosen = precision.rule(requested, accelerator, capability)
    return accelerator, chosen.precision


def predict_proba(model_dir, texts, batch_size: int = FINETUNE.eval_batch_size, max_length: int = DATA.max_length,
                  precision_name: str = "auto", progress: bool = False) -> np.ndarray:
    """Class probabilities of a saved sequence classifier for `texts`, in their order (batched by length), on the
    accelerator PyTorch finds, at `inference_plan`'s precision for `precision_name`."""


    device, chosen = inference_plan(*precision.torch_accelerator()[:2], precision_name)
    tokenizer = load_tokenizer(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(str(model_dir)).eval().to(device)
    encoded = tokenizer(list(texts), truncation=True, max_length=max_length)
    order = np.argsort([len(ids) for ids in encoded["input_ids"]], kind="stable")
    probs = np.zeros((len(order), model.config.num_labels), dtype=np.float32)
    with torch.inference_mode(), precision.autocast(chosen, device):
        for start in tqdm(range(0, len(order), batch_size), desc="predicting", unit="batch", disable=not progress):
            rows = order[start:start + batch_size]
            batch = tokenizer.pad({k: [encoded[k][i] for i in rows] for k in encoded.keys()}, return_tensors="pt")
            logits = model(**batch.to(device)).logits.float()
            probs[rows] = torch.softmax(logits, dim=-1).cpu().numpy()
    return probs


def load_tokenizer(model_path):
    """The tokenizer a model was trained with: `AutoTokenizer` for a Hub name or a folder with `tokenizer.json`, the
    char tokenizer for KB-ALBERT's distributed format (`vocab.txt` without `tokenizer.json`; AutoTokenizer would build
    a 5-token tokenizer from it), as notebook 02 loads it. Refuses a tokenizer that knows only special tokens."""


    folder = Path(model_path)
    if folder.is_dir() and (folder / "vocab.txt").is_file() and not (folder / "tokenizer.json").is_file():
        tokenizer = tokenization_kbalbert.KbAlbertCharTokenizerFast.from_pretrained(str(folder))
    else:
        tokenizer = AutoTokenizer.from_pretrained(str(model_path))
    if len(tokenizer) <= 5:
        raise ValueError(f"The tokenizer of {model_path} knows only {len(tokenizer)} tokens (its special tokens): every "
                         "word would be [UNK]. Save the tokenizer the model was trained with beside it.")
    return tokenizer


def check_model_path(model_path: str) -> None:
    """Fails early, saying what to do, when `model_path` is neither a local folder nor reachable on the Hub."""

    offline = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")
    if Path(model_path).is_dir():
        # Without its tokenizer files AutoTokenizer quietly builds a tokenizer of 5 special tokens: every word becomes
        # [UNK], and training goes on, learning nothing from the text.
        if not any((Path(model_path) / name).is_file() for name in TOKENIZER_FILES):
            raise FileNotFoundError(
                f"{model_path} has no tokenizer files ({', '.join(TOKENIZER_FILES)}). Save the tokenizer beside the "
                "model (tokenizer.save_pretrained(folder)), or give the folder it was saved with.")
        return
    if not offline:
        return
    raise FileNotFoundError(
        f"Model {model_path!r} is not a folder here and the Hub is offline (HF_HUB_OFFLINE). Give the folder of a saved "
        "model, e.g. assets/albert-movie-wp-small (config.json + model.safetensors + tokenizer files), or unset "
        "HF_HUB_OFFLINE to download a Hub model such as bert-base-multilingual-cased."
    )

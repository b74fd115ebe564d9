"""Tiny randomly initialised local stand-ins for the Hub models notebook 01 uses online.

Offline, notebook 01 skips its Hub cells (NER, question answering, summarisation, translation, generation, mBERT's
tokenizer). The tests pass these folders through the notebook's parameters cell instead, so the same code runs. Their
outputs are noise; only that the code runs end to end is checked. All of them use the project's char tokenizer.
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import (
    AlbertConfig,
    AlbertForQuestionAnswering,
    AlbertForTokenClassification,
    AutoTokenizer,
    BartConfig,
    BartForConditionalGeneration,
    GPT2Config,
    GPT2LMHeadModel,
)

import tokenization_kbalbert  # noqa: F401  (registers the char tokenizer with AutoTokenizer)

NER_LABELS = ["O", "B-PS", "I-PS", "B-LC", "I-LC", "B-OG", "I-OG"]


def make_tiny_hub_models(root: str | Path, tokenizer_path: str | Path) -> dict[str, str]:
    """Writes tiny models to `root` and returns notebook 01's parameters that point at them."""
    torch.manual_seed(0)
    root = Path(root)
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_path))
    ids = dict(pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.cls_token_id, eos_token_id=tokenizer.sep_token_id)
    albert = dict(
        vocab_size=len(tokenizer), embedding_size=16, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id,
    )
    models = {
        "NER_MODEL": AlbertForTokenClassification(
            AlbertConfig(**albert, id2label=dict(enumerate(NER_LABELS)), label2id={n: i for i, n in enumerate(NER_LABELS)})
        ),
        "QA_MODEL": AlbertForQuestionAnswering(AlbertConfig(**albert)),
        "SUMMARIZATION_MODEL": BartForConditionalGeneration(
            BartConfig(
                vocab_size=len(tokenizer), d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=512,
                decoder_start_token_id=tokenizer.cls_token_id, forced_eos_token_id=tokenizer.sep_token_id, **ids,
            )
        ),
        "GENERATION_MODEL": GPT2LMHeadModel(
            GPT2Config(vocab_size=len(tokenizer), n_embd=32, n_layer=2, n_head=2, n_positions=256, **ids)
        ),
    }
    paths = {}
    for name, model in models.items():
        folder = root / name.lower()
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        paths[name] = str(folder)
    paths["TRANSLATION_MODEL"] = paths["SUMMARIZATION_MODEL"]  # any encoder-decoder model runs the same code
    paths["MBERT_MODEL"] = str(tokenizer_path)  # the notebook only reads its tokenizer
    return paths


def make_tiny_hub_cache(cache: str | Path, tokenizer_path: str | Path, repo_ids: dict[str, str]) -> Path:
    """Lays the tiny models out as a Hugging Face Hub cache (`models--org--name/snapshots/<commit>/`, `refs/main`),
    under the Hub names the notebook's parameters cell uses (`repo_ids`: parameter -> Hub id). With HF_HUB_CACHE set to
    `cache` and HF_HUB_OFFLINE=1, `from_pretrained("org/name")` resolves them as it would a model downloaded earlier, so
    the notebook runs its Hub cells with its own default names."""
    import shutil

    cache = Path(cache)
    folders = make_tiny_hub_models(cache.parent / "tiny-staging", tokenizer_path)
    commit = "0" * 40
    for parameter, repo_id in repo_ids.items():
        repo = cache / f"models--{repo_id.replace('/', '--')}"
        shutil.copytree(folders[parameter], repo / "snapshots" / commit, dirs_exist_ok=True)
        (repo / "refs").mkdir(parents=True, exist_ok=True)
        (repo / "refs" / "main").write_text(commit)
    return cache

"""Un-shares ALBERT's layers: copies the one shared layer group of a pretrained ALBERT into one group per layer.

ALBERT reuses a single transformer layer `num_hidden_layers` times. Giving each layer its own copy of the pretrained
weights (`num_hidden_groups = num_hidden_layers`) keeps the network's function exactly (same logits before
fine-tuning) and its compute, but multiplies the encoder's trainable parameters. Fine-tuning the result answers one
question about the accuracy bar: is the small model limited by too few parameters to fine-tune, or by what
pretraining put into them?

    python bench/untie_layers.py --output-dir /work/runs/untied/model
    python train_nsmc.py --model-path /work/runs/untied/model --output-dir /work/runs/ft-untied-1ep --quiet
"""

from __future__ import annotations

import argparse
import re

import torch

from transformers import AlbertConfig, AlbertForPreTraining, AutoTokenizer  # noqa: E402

import tokenization_kbalbert  # noqa: E402,F401  (registers the tokenizer with AutoTokenizer)


def untie(model: AlbertForPreTraining) -> AlbertForPreTraining:
    """Returns a copy of `model` with one layer group per layer, each starting from the shared group's weights."""
    config = AlbertConfig.from_dict(model.config.to_dict())
    if config.num_hidden_groups != 1:
        raise ValueError(f"expected an ALBERT with shared layers (num_hidden_groups=1), got {config.num_hidden_groups}")
    config.num_hidden_groups = config.num_hidden_layers
    untied = AlbertForPreTraining(config)
    shared = model.state_dict()
    group = re.compile(r"\.albert_layer_groups\.\d+\.")
    untied.load_state_dict(
        {key: shared[group.sub(".albert_layer_groups.0.", key)] for key in untied.state_dict()}, strict=True
    )
    return untied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-path", default="assets/albert-movie-char-small")
    parser.add_argument("--output-dir", required=True)
    args = parser.parse_args()

    model = AlbertForPreTraining.from_pretrained(args.model_path).eval()
    untied = untie(model).eval()
    tokenizer = AutoTokenizer.from_pretrained(args.model_path)
    batch = tokenizer(["이 영화 진짜 꿀잼ㅋㅋ", "시간 아까운 영화"], padding=True, return_tensors="pt")
    with torch.no_grad():
        difference = (model(**batch).prediction_logits - untied(**batch).prediction_logits).abs().max().item()
    if difference > 1e-5:
        raise SystemExit(f"untied model differs from the shared one (max logit difference {difference})")
    untied.save_pretrained(args.output_dir)
    tokenizer.save_pretrained(args.output_dir)
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    print(f"parameters: shared {count(model):,} -> untied {count(untied):,}; max logit difference {difference:.1e}")
    print(f"saved to {args.output_dir}")


if __name__ == "__main__":
    main()

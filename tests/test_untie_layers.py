"""bench/untie_layers.py: un-sharing ALBERT's layers keeps the function and multiplies the encoder parameters."""

from __future__ import annotations


import bench_script
import pytest
import torch
from transformers import AlbertConfig, AlbertForPreTraining


def load_script():
    return bench_script.load("untie_layers")


def tiny_albert() -> AlbertForPreTraining:
    torch.manual_seed(0)
    config = AlbertConfig(
        vocab_size=50, embedding_size=8, hidden_size=16, num_hidden_layers=3, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=32,
    )
    return AlbertForPreTraining(config).eval()


def test_untied_layers_start_equal_and_train_apart():
    untie = load_script().untie
    model = tiny_albert()
    untied = untie(model).eval()
    ids = torch.tensor([[2, 7, 9, 11, 3]])
    with torch.no_grad():
        assert torch.allclose(model(ids).prediction_logits, untied(ids).prediction_logits, atol=1e-6)
    groups = untied.albert.encoder.albert_layer_groups
    assert len(groups) == 3 and untied.config.num_hidden_groups == 3
    layer_params = sum(p.numel() for p in model.albert.encoder.albert_layer_groups.parameters())
    total = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert total(untied) == total(model) + 2 * layer_params
    # the copies are independent tensors, not the same storage under three names
    assert groups[0].state_dict()["albert_layers.0.ffn.weight"].data_ptr() != groups[1].state_dict()[
        "albert_layers.0.ffn.weight"
    ].data_ptr()
    with pytest.raises(ValueError, match="shared layers"):
        untie(untied)

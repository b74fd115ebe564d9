"""bench/deeper_albert.py: more passes through ALBERT's shared layer keep every parameter, change only the depth."""

from __future__ import annotations

import json

import bench_script
import pytest
import torch
from transformers import AlbertConfig, AlbertForPreTraining, AlbertModel


def load_script():
    return bench_script.load("deeper_albert")


@pytest.fixture
def tiny_start(tmp_path):
    torch.manual_seed(0)
    config = AlbertConfig(vocab_size=50, embedding_size=8, hidden_size=16, num_hidden_layers=4, num_attention_heads=2,
                          intermediate_size=32, max_position_embeddings=32)
    AlbertForPreTraining(config).save_pretrained(tmp_path / "start")
    (tmp_path / "start" / "tokenizer.json").write_text("{}")
    return tmp_path / "start"


def test_deeper_start_same_weights_more_passes(tiny_start, tmp_path):
    deeper = load_script().deeper_start(tiny_start, tmp_path / "deep", 8)
    assert json.loads((deeper / "config.json").read_text())["num_hidden_layers"] == 8
    assert (deeper / "tokenizer.json").is_file() and not (tmp_path / "deep.partial").exists()
    shallow, deep = AlbertModel.from_pretrained(tiny_start).eval(), AlbertModel.from_pretrained(deeper).eval()
    assert sum(p.numel() for p in deep.parameters()) == sum(p.numel() for p in shallow.parameters())
    for (name, a), (_, b) in zip(shallow.state_dict().items(), deep.state_dict().items()):
        assert torch.equal(a, b), name
    ids = torch.tensor([[2, 5, 7, 9, 3]])
    assert not torch.allclose(shallow(ids).last_hidden_state, deep(ids).last_hidden_state)  # 8 passes, not 4


def test_deeper_start_kept_on_rerun(tiny_start, tmp_path):
    script = load_script()
    deeper = script.deeper_start(tiny_start, tmp_path / "deep", 8)
    stamp = (deeper / "model.safetensors").stat().st_mtime_ns
    assert script.deeper_start(tiny_start, tmp_path / "deep", 8) == deeper  # a rerun resumes on the same start
    assert (deeper / "model.safetensors").stat().st_mtime_ns == stamp
    with pytest.raises(ValueError, match="made with 8 passes, not 6"):  # another depth in the same folder: refused
        script.deeper_start(tiny_start, tmp_path / "deep", 6)
    assert json.loads((deeper / "config.json").read_text())["num_hidden_layers"] == 8


def test_bad_arguments_refused_before_work(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        load_script().main(["--start-model", str(tmp_path / "missing"), "--work-dir", str(tmp_path / "w")])
    assert exit_.value.code == 2 and "is not a model folder" in capsys.readouterr().err
    assert not (tmp_path / "w").exists()

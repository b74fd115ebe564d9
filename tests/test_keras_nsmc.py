"""The Keras pieces shared by notebooks 03 and 04: tf.data batches, the learning-rate schedule, PyTorch <-> Keras."""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PRETRAINED = REPO / "assets" / "albert-movie-wp-small"
FINETUNED = REPO / "assets" / "albert-movie-wp-small-nsmc"
REVIEWS = ["배우들 연기가 정말 좋았고 마지막 장면에서 울었다", "돈이 아까운 영화", "ㅋㅋ", "", "처음엔 지루했지만 " * 30]


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    import tokenization_kbalbert  # noqa: F401

    return AutoTokenizer.from_pretrained(PRETRAINED)


@pytest.fixture(scope="module")
def tokenised(tokenizer):
    from datasets import Dataset

    texts = [f"{'재밌다 ' * (i % 23)}영화 {i}" for i in range(200)]
    encoded = tokenizer(texts, truncation=True, max_length=64)
    return Dataset.from_dict({**encoded, "label": [i % 2 for i in range(200)]})


def test_ordered_batches_keep_order_pad_and_mask(tokenised):
    from kbalbert import keras_albert as kn

    batches = list(kn.make_dataset(tokenised, 32, pad_token_id=0))
    ids = [row for inputs, _ in batches for row in inputs["token_ids"].numpy()]
    masks = [row for inputs, _ in batches for row in inputs["padding_mask"].numpy()]
    labels = np.concatenate([label.numpy() for _, label in batches])
    assert labels.tolist() == tokenised["label"]
    for row, mask, expected in zip(ids, masks, tokenised["input_ids"]):
        assert row[: len(expected)].tolist() == expected and mask.sum() == len(expected)
        assert not row[len(expected):].any() and not mask[len(expected):].any()
    assert [tuple(i["token_ids"].shape) for i, _ in batches][-1][0] == 200 - 6 * 32


def test_bucketed_static_batches(tokenised):
    from kbalbert import keras_albert as kn

    dataset = kn.make_dataset(tokenised, 16, bucket_by_length=True, pad_to_multiple_of=16, shuffle=True, drop_remainder=True)
    seen = 0
    for inputs, labels in dataset:
        batch, length = inputs["token_ids"].shape
        assert batch == 16 and length % 16 == 0
        real = inputs["padding_mask"].numpy().sum(1)
        assert real.max() > length - 16  # the bucket is the smallest multiple of 16 that fits
        seen += batch
    assert 200 - 16 * 5 <= seen <= 200  # only incomplete batches of each bucket are dropped


def test_linear_warmup_decay_matches_transformers():
    import torch
    from transformers import get_linear_schedule_with_warmup

    from kbalbert import keras_albert as kn

    schedule = kn.linear_warmup_decay(5e-4, 100, 0.06)
    assert schedule.warmup_steps == 6
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=5e-4)
    reference = get_linear_schedule_with_warmup(optimizer, 6, 100)
    for step in range(100):
        assert float(schedule(step)) == pytest.approx(reference.get_last_lr()[0], abs=1e-9), step
        optimizer.step()
        reference.step()


def test_pytorch_and_keras_give_the_same_hidden_states_and_logits(tokenizer):
    import keras_hub
    import torch
    from transformers import AutoModel, AutoModelForSequenceClassification

    from kbalbert import keras_albert as kn

    inputs = kn.keras_inputs(tokenizer, REVIEWS, 128)
    torch_inputs = dict(input_ids=torch.tensor(inputs["token_ids"]), attention_mask=torch.tensor(inputs["padding_mask"].astype("int64")))
    backbone = keras_hub.models.AlbertBackbone.from_preset(str(PRETRAINED))
    with torch.no_grad():
        expected = AutoModel.from_pretrained(PRETRAINED).eval()(**torch_inputs)
    outputs = backbone(inputs)
    mask = inputs["padding_mask"]
    assert np.abs(np.asarray(outputs["sequence_output"])[mask] - expected.last_hidden_state.numpy()[mask]).max() <= 1e-4
    assert np.abs(np.asarray(outputs["pooled_output"]) - expected.pooler_output.numpy()).max() <= 1e-4

    classifier = kn.build_classifier(FINETUNED, copy_head=True)
    with torch.no_grad():
        torch_logits = AutoModelForSequenceClassification.from_pretrained(FINETUNED).eval()(**torch_inputs).logits.numpy()
    assert np.abs(np.asarray(classifier.predict_on_batch(inputs)) - torch_logits).max() <= 1e-4


def test_keras_to_transformers_round_trip(tmp_path, tokenizer):
    from safetensors.numpy import load_file
    from transformers import pipeline

    from kbalbert import keras_albert as kn

    classifier = kn.build_classifier(FINETUNED, copy_head=True)
    original = load_file(str(FINETUNED / "model.safetensors"))
    converted = kn.hf_state_dict(classifier)
    assert set(converted) == set(original)
    for name, value in converted.items():
        assert value.shape == original[name].shape and np.array_equal(value, original[name]), name

    folder = kn.save_as_transformers(classifier, PRETRAINED, tmp_path / "hf", tokenizer)
    config = json.loads((folder / "config.json").read_text())
    assert config["id2label"] == {"0": "부정", "1": "긍정"} and config["architectures"] == ["AlbertForSequenceClassification"]
    scores = pipeline("text-classification", model=str(folder))(REVIEWS, truncation=True, max_length=128)
    probabilities = kn.softmax(classifier.predict_on_batch(kn.keras_inputs(tokenizer, REVIEWS, 128)))
    assert [s["label"] for s in scores] == [kn.LABEL_NAMES[i] for i in probabilities.argmax(-1)]
    assert max(abs(s["score"] - p.max()) for s, p in zip(scores, probabilities)) < 1e-5


def test_bad_inputs_say_what_to_do(tmp_path, tokenizer):
    from kbalbert import keras_albert as kn

    with pytest.raises(FileNotFoundError, match="config.json and model.safetensors"):
        kn.build_classifier(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(ValueError, match="not an ALBERT config"):
        kn.build_classifier(tmp_path)
    with pytest.raises(ValueError, match="no classifier head"):
        kn.build_classifier(PRETRAINED, copy_head=True)
    with pytest.raises(TypeError, match="list of texts"):
        kn.keras_inputs(tokenizer, "한 리뷰")


def test_best_so_far_reads_an_interrupted_log(tmp_path):
    from kbalbert import keras_albert as kn

    log = tmp_path / "history.csv"
    assert kn.best_so_far(log) is None
    log.write_text("epoch,accuracy,val_accuracy\n0,0.6,0.70\n1,0.7,0.74\n2,0.8,0.72\n")
    assert kn.best_so_far(log) == pytest.approx(0.74)


def test_no_tpu_is_detected_not_guessed():
    from kbalbert import keras_albert as kn

    strategy, why = kn.tensorflow_tpu_strategy()
    if any(os.path.exists(p) for p in ("/dev/accel0", "/dev/vfio/0")):  # a TPU VM: TensorFlow must find it
        assert strategy is not None, why
    else:  # no TPU: NotFoundError is caught and explained
        assert strategy is None and "NotFoundError" in why
        assert why.endswith("TPUs not found in the cluster)"), why  # the first sentence whole, not cut mid-word


def test_divisible_pads_with_copies(tokenised):
    from kbalbert import keras_albert as kn

    padded, extra = kn.divisible(tokenised.select(range(7)), 4)
    assert extra == 1 and padded.num_rows == 8 and padded[7]["input_ids"] == padded[0]["input_ids"]
    assert kn.divisible(tokenised.select(range(8)), 4)[1] == 0

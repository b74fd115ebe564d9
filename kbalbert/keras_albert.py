"""Keras 3 pieces for fine-tuning a Hugging Face-format ALBERT on NSMC, shared by notebooks 03 (TensorFlow) and 04 (TPU).

transformers 5 has no TensorFlow classes. `keras_hub.models.AlbertBackbone.from_preset(folder)` reads the same folder
notebook 00 saves (config.json with `model_type: albert` + model.safetensors) through keras_hub's transformers
converter. Token ids still come from our tokenizer (`tokenization_kbalbert`): keras_hub's ALBERT tokenizer wants a
SentencePiece model.

Set `KERAS_BACKEND` before importing this module. Everything here works on any Keras backend (TensorFlow on CPU/GPU in notebook 03, JAX on TPU in notebook 04); `tf.data`
is the input pipeline in both.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path

# TensorFlow 2.20-2.21 wheels load their library with RTLD_GLOBAL, which puts their LLVM in the process's global
# symbols: a later `import triton` (PyTorch's CUDA build; transformers imports it) then crashes the process
# (tensorflow/tensorflow#124205). Without this module TensorFlow loads with RTLD_LOCAL, as the fixed wheels do.
# It must run before TensorFlow is first imported (tests/test_tensorflow_with_torch.py checks that it does).
sys.modules.setdefault("tensorflow.python.pywrap_dlopen_global_flags", None)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from kbalbert.data import LABEL_NAMES  # 0 = 부정 (negative), 1 = 긍정 (positive), as in notebook 02
from kbalbert.settings import DATA, FINETUNE

KERAS_INPUTS = ("token_ids", "segment_ids", "padding_mask")


def ragged_columns(split) -> dict[str, np.ndarray]:
    """Flattens a tokenised `datasets` split (input_ids, token_type_ids, label) into numpy arrays plus row lengths."""
    lengths = np.fromiter((len(ids) for ids in split["input_ids"]), dtype=np.int64, count=split.num_rows)
    if split.num_rows and lengths.min() == 0:
        raise ValueError("A tokenised review has no tokens; tokenise with special tokens ([CLS] ... [SEP]).")
    flat = lambda column: np.fromiter((t for ids in split[column] for t in ids), dtype=np.int32, count=int(lengths.sum()))
    segments = flat("token_type_ids") if "token_type_ids" in split.column_names else np.zeros(int(lengths.sum()), np.int32)
    return {"token_ids": flat("input_ids"), "segment_ids": segments, "lengths": lengths,
            "labels": np.asarray(split["label"], dtype=np.int32)}


def make_dataset(
    split,
    batch_size: int,
    pad_token_id: int = 0,
    *,
    bucket_by_length: bool = False,
    pad_to_multiple_of: int | None = None,
    shuffle: bool = False,
    seed: int = DATA.seed,
    drop_remainder: bool = False,
    repeat: bool = False,
):
    """Builds a `tf.data.Dataset` of ({token_ids, segment_ids, padding_mask}, label) batches from a tokenised split.

    Args:
        split: a `datasets.Dataset` with `input_ids` (not padded), optional `token_type_ids`, and `label`.
        batch_size: reviews per batch.
        pad_token_id: id used to pad `token_ids` (the tokenizer's `pad_token_id`).
        bucket_by_length: group reviews of similar length into a batch (`bucket_by_sequence_length`), so a batch is
            padded only to its own longest review: the `group_by_length` of notebook 02. The order of the reviews
            changes. Without it, batches keep the split's order: sort the split by length first for little padding
            and a known order (evaluation, prediction).
        pad_to_multiple_of: pad every batch to a multiple of this many tokens, so only a few shapes ever occur:
            what XLA (`jit_compile=True`) and TPUs want. With `bucket_by_length`, the buckets are these multiples.
        shuffle: reshuffle the reviews every pass (training).
        drop_remainder: drop the last incomplete batch (of each bucket), giving a static batch size.
        repeat: repeat forever (training with `steps_per_epoch`).

    Returns:
        A prefetching `tf.data.Dataset`.
    """
    import tensorflow as tf

    columns = ragged_columns(split)
    longest = int(columns["lengths"].max(initial=1))
    token_ids = tf.RaggedTensor.from_row_lengths(columns["token_ids"], columns["lengths"])
    segment_ids = tf.RaggedTensor.from_row_lengths(columns["segment_ids"], columns["lengths"])
    dataset = tf.data.Dataset.from_tensor_slices(((token_ids, segment_ids), columns["labels"]))
    if repeat:
        dataset = dataset.repeat()
    if shuffle:
        dataset = dataset.shuffle(min(max(split.num_rows, 1), 200_000), seed=seed, reshuffle_each_iteration=True)

    def to_inputs(ids_and_segments, label):
        ids, segments = ids_and_segments
        return {"token_ids": ids, "segment_ids": segments, "padding_mask": tf.ones_like(ids, dtype=tf.bool)}, label

    dataset = dataset.map(to_inputs, num_parallel_calls=tf.data.AUTOTUNE)
    padding_values = ({"token_ids": pad_token_id, "segment_ids": 0, "padding_mask": False}, 0)
    if bucket_by_length:
        if pad_to_multiple_of:  # buckets (0, m], (m, 2m], ...: `pad_to_bucket_boundary` pads to boundary - 1
            boundaries = list(range(pad_to_multiple_of + 1, longest + pad_to_multiple_of, pad_to_multiple_of))
        else:
            boundaries = [b for b in (8, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96) if b <= longest] + [longest + 1]
        dataset = dataset.bucket_by_sequence_length(
            element_length_func=lambda inputs, label: tf.shape(inputs["token_ids"])[0],
            bucket_boundaries=boundaries,
            bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
            padding_values=padding_values,
            pad_to_bucket_boundary=bool(pad_to_multiple_of),
            drop_remainder=drop_remainder,
        )
    else:
        dataset = dataset.padded_batch(batch_size, padding_values=padding_values, drop_remainder=drop_remainder)
        if pad_to_multiple_of:

            def pad_up(inputs, label):
                length = tf.shape(inputs["token_ids"])[1]
                extra = (-length) % pad_to_multiple_of
                padded = {name: tf.pad(inputs[name], [[0, 0], [0, extra]], constant_values=padding_values[0][name])
                          for name in KERAS_INPUTS}
                return padded, label

            dataset = dataset.map(pad_up, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def keras_inputs(tokenizer, texts: list[str], max_length: int = DATA.max_length, pad_to_multiple_of: int | None = None) -> dict[str, np.ndarray]:
    """Raw texts -> the Keras ALBERT's input dict (padded to the longest text, or up to a multiple of
    `pad_to_multiple_of` tokens, and truncated at `max_length`)."""
    if isinstance(texts, str):
        raise TypeError("keras_inputs takes a list of texts; wrap a single text in a list.")
    encoded = tokenizer(list(texts), truncation=True, max_length=max_length, padding=True,
                        pad_to_multiple_of=pad_to_multiple_of, return_tensors="np")
    segments = encoded.get("token_type_ids", np.zeros_like(encoded["input_ids"]))
    return {"token_ids": encoded["input_ids"].astype("int32"), "segment_ids": segments.astype("int32"),
            "padding_mask": encoded["attention_mask"].astype(bool)}


def softmax(logits: np.ndarray) -> np.ndarray:
    """Class probabilities from logits (any float dtype, bf16 included), computed in float64."""
    from scipy.special import softmax as scipy_softmax

    return scipy_softmax(np.asarray(logits, dtype=np.float64), axis=-1)


@keras.saving.register_keras_serializable(package="kbalbert")
class LinearWarmupDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from 0 to `peak` over `warmup_steps`, then linear decay to 0 at `total` steps.

    The same schedule as transformers' `get_linear_schedule_with_warmup` (the Trainer's default), so notebooks 02, 03
    and 04 train with the same learning rates.
    """

    def __init__(self, peak: float, total: int, warmup_steps: int):
        self.peak, self.total, self.warmup_steps = float(peak), int(total), int(warmup_steps)

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        rising = step / max(1, self.warmup_steps)
        falling = (self.total - step) / max(1, self.total - self.warmup_steps)
        return self.peak * keras.ops.maximum(0.0, keras.ops.minimum(rising, falling))

    def get_config(self):
        return {"peak": self.peak, "total": self.total, "warmup_steps": self.warmup_steps}


def linear_warmup_decay(peak_learning_rate: float, total_steps: int, warmup: float | int) -> LinearWarmupDecay:
    """`LinearWarmupDecay` with `warmup` given as in `TrainingArguments(warmup_steps=...)`: < 1 is a fraction of
    `total_steps` (rounded up), otherwise a number of steps."""
    warmup_steps = math.ceil(warmup * total_steps) if warmup < 1 else int(warmup)
    return LinearWarmupDecay(peak_learning_rate, total_steps, warmup_steps)


def adamw(schedule, weight_decay: float = FINETUNE.weight_decay, clipnorm: float = FINETUNE.max_grad_norm):
    """AdamW as the Trainer sets it up: betas (0.9, 0.999), eps 1e-8, global gradient-norm clipping at 1.0, and no
    weight decay on biases and LayerNorm weights (Keras names them bias, gamma, beta)."""
    optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=weight_decay, beta_1=0.9, beta_2=0.999,
                                       epsilon=1e-8, global_clipnorm=clipnorm)
    optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    return optimizer


def build_classifier(model_path: str | Path, num_classes: int = 2, dropout: float = 0.1, copy_head: bool = False):
    """An `AlbertTextClassifier` (pooled [CLS] output -> dropout -> Dense logits) on the backbone read from a Hugging
    Face-format ALBERT folder.

    Args:
        model_path: folder with config.json (`model_type: albert`) and model.safetensors.
        num_classes: number of labels.
        dropout: dropout before the logits (transformers' `classifier_dropout_prob`).
        copy_head: also copy `classifier.weight`/`classifier.bias` of a fine-tuned `AlbertForSequenceClassification`
            into the Dense layer, so the Keras model gives the PyTorch model's logits.
    """
    import keras_hub

    folder = Path(model_path)
    config_file, weights_file = folder / "config.json", folder / "model.safetensors"
    if not config_file.is_file() or not weights_file.is_file():
        raise FileNotFoundError(f"{folder} needs config.json and model.safetensors (a Hugging Face ALBERT folder, "
                                "e.g. assets/albert-movie-wp-small, or one saved by save_pretrained).")
    if json.loads(config_file.read_text()).get("model_type") != "albert":
        raise ValueError(f"{config_file} is not an ALBERT config (model_type must be 'albert').")
    backbone = keras_hub.models.AlbertBackbone.from_preset(str(folder))
    classifier = keras_hub.models.AlbertTextClassifier(backbone=backbone, num_classes=num_classes, preprocessor=None,
                                                       activation=None, dropout=dropout)
    if copy_head:
        from safetensors.numpy import load_file

        weights = load_file(str(weights_file))
        if "classifier.weight" not in weights:
            raise ValueError(f"{weights_file} has no classifier head (not a fine-tuned sequence classifier).")
        classifier.get_layer("logits").set_weights([weights["classifier.weight"].T, weights["classifier.bias"]])
    return classifier


def hf_state_dict(classifier) -> dict[str, np.ndarray]:
    """The inverse of keras_hub's ALBERT converter: Keras `AlbertTextClassifier` weights under the parameter names of
    transformers' `AlbertForSequenceClassification`, ready for `safetensors.numpy.save_file`."""
    backbone = classifier.backbone
    w = lambda variable: np.asarray(variable.numpy() if hasattr(variable, "numpy") else variable, dtype=np.float32)
    state = {
        "albert.embeddings.word_embeddings.weight": w(backbone.token_embedding.embeddings),
        "albert.embeddings.position_embeddings.weight": w(backbone.position_embedding.position_embeddings),
        "albert.embeddings.token_type_embeddings.weight": w(backbone.segment_embedding.embeddings),
        "albert.embeddings.LayerNorm.weight": w(backbone.embeddings_layer_norm.gamma),
        "albert.embeddings.LayerNorm.bias": w(backbone.embeddings_layer_norm.beta),
        "albert.encoder.embedding_hidden_mapping_in.weight": w(backbone.embeddings_projection.kernel).T,
        "albert.encoder.embedding_hidden_mapping_in.bias": w(backbone.embeddings_projection.bias),
        "albert.pooler.weight": w(backbone.pooled_dense.kernel).T,
        "albert.pooler.bias": w(backbone.pooled_dense.bias),
        "classifier.weight": w(classifier.get_layer("logits").kernel).T,
        "classifier.bias": w(classifier.get_layer("logits").bias),
    }
    for group in range(backbone.num_groups):
        for inner in range(backbone.num_inner_repetitions):
            layer = backbone.get_layer(f"group_{group}_inner_layer_{inner}")
            attention = layer._self_attention_layer
            prefix = f"albert.encoder.albert_layer_groups.{group}.albert_layers.{inner}."
            for name, dense in (("query", attention.query_dense), ("key", attention.key_dense),
                                ("value", attention.value_dense)):
                kernel = w(dense.kernel)  # (hidden, heads, head_dim)
                state[prefix + f"attention.{name}.weight"] = kernel.reshape(kernel.shape[0], -1).T
                state[prefix + f"attention.{name}.bias"] = w(dense.bias).reshape(-1)
            kernel = w(attention.output_dense.kernel)  # (heads, head_dim, hidden)
            state[prefix + "attention.dense.weight"] = kernel.reshape(-1, kernel.shape[-1]).T
            state[prefix + "attention.dense.bias"] = w(attention.output_dense.bias)
            state[prefix + "attention.LayerNorm.weight"] = w(layer._self_attention_layer_norm.gamma)
            state[prefix + "attention.LayerNorm.bias"] = w(layer._self_attention_layer_norm.beta)
            state[prefix + "ffn.weight"] = w(layer._feedforward_intermediate_dense.kernel).T
            state[prefix + "ffn.bias"] = w(layer._feedforward_intermediate_dense.bias)
            state[prefix + "ffn_output.weight"] = w(layer._feedforward_output_dense.kernel).T
            state[prefix + "ffn_output.bias"] = w(layer._feedforward_output_dense.bias)
            state[prefix + "full_layer_layer_norm.weight"] = w(layer._feedforward_layer_norm.gamma)
            state[prefix + "full_layer_layer_norm.bias"] = w(layer._feedforward_layer_norm.beta)
    return {name: np.ascontiguousarray(value) for name, value in state.items()}


def export_for_serving(model, tokenizer, export_dir: str | Path, max_length: int = DATA.max_length) -> Path:
    """A folder that classifies reviews with TensorFlow alone: `saved_model/` (the Keras model as a TF SavedModel),
    `tokenizer/`, the char tokenizer's module, `serving.json` (label names, max_length) and `serve.py`
    (serve_savedmodel.py beside this module: `python serve.py "리뷰"`). `model` should be float32 (serving needs no mixed policy)."""
    import shutil

    import tokenization_kbalbert

    export_dir = Path(export_dir)
    model.export(str(export_dir / "saved_model"), format="tf_saved_model", verbose=False)
    tokenization_kbalbert.save_tokenizer(tokenizer, export_dir / "tokenizer")
    shutil.copy(tokenization_kbalbert.__file__, export_dir)  # what a char tokenizer folder needs to load
    (export_dir / "serving.json").write_text(json.dumps({"labels": LABEL_NAMES, "max_length": max_length},
                                                        ensure_ascii=False), encoding="utf-8")
    shutil.copy(Path(__file__).resolve().parent / "serve_savedmodel.py", export_dir / "serve.py")
    return export_dir


def save_as_transformers(classifier, source_model_path: str | Path, output_dir: str | Path, tokenizer=None) -> Path:
    """Saves a Keras-fine-tuned classifier as a transformers `AlbertForSequenceClassification` folder (config.json with
    the label names, model.safetensors, and the tokenizer files when `tokenizer` is given)."""
    from safetensors.numpy import save_file
    from transformers import AlbertConfig

    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    config = AlbertConfig.from_pretrained(str(source_model_path), num_labels=classifier.num_classes,
                                          id2label=dict(enumerate(LABEL_NAMES[: classifier.num_classes])),
                                          label2id={n: i for i, n in enumerate(LABEL_NAMES[: classifier.num_classes])})
    config.architectures = ["AlbertForSequenceClassification"]
    config.save_pretrained(str(output))
    save_file(hf_state_dict(classifier), str(output / "model.safetensors"), metadata={"format": "pt"})
    if tokenizer is not None:
        from tokenization_kbalbert import save_tokenizer

        save_tokenizer(tokenizer, output)
    return output


def best_so_far(csv_log: str | Path, monitor: str = "val_accuracy") -> float | None:
    """Best value of `monitor` in a `CSVLogger` file from an earlier (interrupted) run, or None: lets `ModelCheckpoint`
    keep the best checkpoint across a resume (`initial_value_threshold`)."""
    path = Path(csv_log)
    if not path.is_file():
        return None
    with path.open() as f:
        values = [float(row[monitor]) for row in csv.DictReader(f) if row.get(monitor)]
    return max(values) if values else None


def tensorflow_tpu_strategy():
    """The TensorFlow route to a TPU: `(TPUStrategy, description)` on a machine with a TPU, else `(None, why)`.

    Without a TPU, `TPUClusterResolver(tpu="local")` succeeds but `initialize_tpu_system` raises `NotFoundError`, and
    `TPUClusterResolver()` (no name, not on a TPU VM) raises `ValueError`: exactly those two are caught, so any other
    failure (a broken TPU runtime) is still reported.
    """
    import logging

    import tensorflow as tf

    logger = tf.get_logger()
    level = logger.level
    logger.setLevel(logging.ERROR)  # no "INFO:tensorflow:Initializing the TPU system" lines in the notebook
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu="local")
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, tf.errors.NotFoundError) as error:
        first_sentence = str(error).splitlines()[0].split(". ")[0].rstrip(".")  # whole words, not a cut at 120 chars
        return None, f"TensorFlow가 쓸 TPU가 없습니다 ({type(error).__name__}: {first_sentence})"
    finally:
        logger.setLevel(level)
    strategy = tf.distribute.TPUStrategy(resolver)
    return strategy, f"TPUStrategy, 복제본 {strategy.num_replicas_in_sync}개"


def jax_accelerator() -> tuple[str, list]:
    """`(platform, devices)` as JAX sees them: platform is "tpu", "gpu" or "cpu" (JAX picks the best one present)."""
    import jax

    devices = jax.devices()
    return devices[0].platform, devices


def divisible(split, multiple: int):
    """Appends copies of the first row until the split's size is a multiple of `multiple` (every batch of a
    data-parallel evaluation must split evenly over the devices). Returns `(split, rows_added)`: drop that many
    predictions from the end."""
    extra = (-split.num_rows) % multiple
    if extra == 0:
        return split, 0
    return split.select(list(range(split.num_rows)) + [0] * extra), extra


def precision_train_step(model_path: str | Path, batch, jit_compile: bool = True):
    """A `make_step` for `precision.choose` in Keras: the classifier built at that precision's dtype policy, trained
    on one fixed `(inputs, labels)` batch. The global policy is float32 again when this returns."""
    from kbalbert import precision

    def make_step(precision_name: str):
        keras.mixed_precision.set_global_policy(precision.keras_policy(precision_name))
        try:  # a layer takes its dtype policy when it is built
            model = build_classifier(model_path)
            model.compile(optimizer=adamw(1e-5), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                          jit_compile=jit_compile)
        finally:
            keras.mixed_precision.set_global_policy("float32")
        return lambda: model.train_on_batch(*batch)

    return make_step


def jax_gpu_capability(device) -> tuple[int, int] | None:
    """The compute capability of a JAX GPU device ("8.0" -> (8, 0)), None for other devices."""
    from kbalbert import precision

    return precision.cuda_capability_from_string(getattr(device, "compute_capability", None))

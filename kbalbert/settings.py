"""Every default the lessons and the recipe share, defined once, as dataclasses whose fields carry `help` (printed by
`--help` of the CLIs that read them with `HfArgumentParser`). The notebooks' parameter cells show the same values
(tests/test_notebooks.py ties each one to this module), the stage dataclasses (`finetuning.FinetuneConfig` and
`RECIPE`, `pretraining.AlbertSize` and `MlmSettings`, `distillation.DistillSettings`) take their defaults from here,
and the recipe (`scripts/build_default_model.py`) composes those.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def setting(default, help: str):
    """A dataclass field with its `help` (what `HfArgumentParser` prints for `--help`)."""
    return field(default=default, metadata={"help": help})


def help_of(settings_class, name: str) -> str:
    """The `help` a field of one of these dataclasses carries, for an option elsewhere that takes its default."""
    return settings_class.__dataclass_fields__[name].metadata["help"]


@dataclass(frozen=True)
class DataDefaults:
    """How NSMC is read and split, for every notebook and script."""

    validation_size: int = setting(5000, "NSMC train reviews held out for validation (model selection); test is scored once")
    max_length: int = setting(128, "tokens per review (the model has 128 positions); longer reviews are cut")
    seed: int = setting(42, "seed of the validation split, the initialisation and the data order")


@dataclass(frozen=True)
class FinetuneDefaults:
    """Notebook 02's fine-tuning recipe (PyTorch `Trainer`; notebooks 03 and 04 repeat it in Keras)."""

    epochs: float = setting(1.0, "passes over the training reviews")
    batch_size: int = setting(64, "reviews per optimiser step (per process)")
    eval_batch_size: int = setting(256, "reviews per evaluation batch")
    # a small ALBERT takes a larger rate than big models (2e-5 to 5e-5); on the 5-epoch model, validation accuracy
    # peaked here: 7.5e-5 0.8894, 1.5e-4 0.8952, 3e-4 0.8946, 6e-4 0.8868 (bench/README.md, "미세조정 학습률")
    learning_rate: float = setting(1.5e-4, "peak learning rate of AdamW (the validation peak of a 4-point sweep)")
    warmup: float = setting(0.06, "share of the steps during which the learning rate rises from 0 to its peak")
    weight_decay: float = setting(0.01, "AdamW weight decay (not on biases and LayerNorm weights)")
    max_grad_norm: float = setting(1.0, "gradients are clipped to this norm")
    eval_steps: int = setting(500, "validation accuracy (and a checkpoint) every this many steps")


@dataclass(frozen=True)
class ModelDefaults:
    """The shipped ALBERT's size and vocabulary (`pretraining.AlbertSize`): 4 passes through one shared layer,
    E128/H256, 4.9M parameters with a 32k vocabulary. The size rule: heads = hidden // 64, feed-forward = 4 x hidden."""

    vocab_size: int = setting(32_000, "WordPiece vocabulary size")
    embedding_size: int = setting(128, "ALBERT's factorised embedding size E (= the word2vec dimension)")
    hidden_size: int = setting(256, "Transformer width H")
    num_layers: int = setting(4, "passes through the one shared Transformer layer")
    dropout: float = setting(0.1, "hidden and attention dropout")


@dataclass(frozen=True)
class MlmDefaults:
    """The masked-language-model stage on top of the word2vec start."""

    corpus_epochs: float = setting(5.0, "passes over the review corpus (the shipped model's)")
    batch_size: int = setting(128, "reviews per step (one review per row)")
    learning_rate: float = setting(5e-4, "peak learning rate")
    mask_probability: float = setting(0.15, "share of the tokens masked")
    # review on every device: after 3 epochs of 100k reviews, packed rows (3.6x fewer steps) held out 8.38 at lr 1e-3
    # and 8.28 at 2e-3 against 7.31 for one review per row (bench/mlm_layout.py, bench/README.md).
    layout: str = setting("review", "review: one review per row, batch_size reviews per step (the recipe on a CPU and "
                                    "a GPU); packed: several whole reviews per 128-token row, separated by [SEP] (fewer, "
                                    "fuller steps; behind per corpus epoch where measured); auto: packed when PyTorch "
                                    "finds a GPU, else review")
    packed_batch_size: int = setting(64, "rows per step when packed: 64 x 128 tokens, about 550 reviews")
    # 128 reviews of about 15 tokens (with [CLS]/[SEP]) are about 1,900 tokens a step; 64 packed rows about 8,000: 4.3x.
    # The square-root rule (Krizhevsky 2014; Hoffer et al. 2017) scales the rate by sqrt(4.3) = 2.1: 5e-4 -> 1e-3.
    packed_learning_rate: float = setting(1e-3, "peak learning rate when packed (5e-4 scaled by the square root of "
                                                "the tokens per step)")


# The special tokens of both vocabularies (WordPiece and KB-ALBERT's char vocabulary), in id order: [PAD] is 0.
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")

DATA = DataDefaults()
FINETUNE = FinetuneDefaults()
MODEL = ModelDefaults()
MLM = MlmDefaults()

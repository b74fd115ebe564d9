"""The plumbing of notebook 00's domain ALBERT: a WordPiece vocabulary trained on the domain corpus, word2vec vectors
for its tokens as the starting embeddings, and a small ALBERT saved as a Hugging Face folder.

    tokenizer = train_wordpiece(texts, vocab_size=32000)             # tokenizers' WordPieceTrainer, saved as tokenizer.json
    vectors = word2vec_vectors(tokenizer, texts, dim=128)              # gensim skip-gram over the WordPiece tokens
    model = build_albert(tokenizer, AlbertSize(), embeddings=vectors)  # AlbertForPreTraining with those embeddings

The folder that `save_pretrained` writes loads offline with `AutoTokenizer`/`AutoModel...from_pretrained(folder)`:
no custom tokenizer class is needed for WordPiece (unlike the char tokenizer in `tokenization_kbalbert.py`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from kbalbert import runs
from kbalbert.settings import DATA, FINETUNE, MLM, MODEL, SPECIAL_TOKENS


def _batches(texts: Iterable[str], size: int = 10_000) -> Iterator[list[str]]:
    batch = []
    for text in texts:
        batch.append(text)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def train_wordpiece(
    texts: Iterable[str],
    vocab_size: int = 32_000,
    min_frequency: int = 3,
    limit_alphabet: int = 6_000,
    max_length: int = DATA.max_length,
    show_progress: bool = False,
):
    """
    Trains a WordPiece vocabulary with 🤗 Tokenizers and wraps it as a transformers fast tokenizer.

    Words are split on whitespace only (`WhitespaceSplit`): "재밌다!!" stays one word, whose pieces WordPiece learns, as
    review punctuation (!!, ..., ㅋㅋ) carries sentiment. Text is NFC-normalised first, so that a syllable typed as
    separate jamo and the precomposed syllable are the same token.

    Args:
        texts: the domain corpus, one document per item (any iterable; read once).
        vocab_size: size of the vocabulary, special tokens included.
        min_frequency: a merge must be seen this often to enter the vocabulary.
        limit_alphabet: how many distinct characters the initial alphabet keeps. Korean needs thousands (NSMC train has
            3,004 distinct characters); at the library default (1,000) every word with a rarer syllable becomes [UNK].
        max_length: the tokenizer's `model_max_length`.
        show_progress: 🤗 Tokenizers' progress bars (the recipe shows them; a notebook's output keeps them out).
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    if vocab_size <= len(SPECIAL_TOKENS):
        raise ValueError(f"vocab_size must be larger than the {len(SPECIAL_TOKENS)} special tokens, got {vocab_size}.")
    backend = Tokenizer(models.WordPiece(unk_token="[UNK]", continuing_subword_prefix="##"))
    backend.normalizer = normalizers.NFC()
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    backend.decoder = decoders.WordPiece(prefix="##")
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, limit_alphabet=limit_alphabet,
        special_tokens=list(SPECIAL_TOKENS), continuing_subword_prefix="##", show_progress=show_progress,
    )
    backend.train_from_iterator(_batches(texts), trainer=trainer)
    cls, sep = backend.token_to_id("[CLS]"), backend.token_to_id("[SEP]")
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, model_max_length=max_length, pad_token="[PAD]", unk_token="[UNK]",
        cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
        model_input_names=["input_ids", "token_type_ids", "attention_mask"],
    )


def vocabulary_stats(tokenizer, texts: Sequence[str]) -> dict[str, float]:
    """Tokens per text and the share of [UNK] tokens, for comparing vocabularies on the same texts."""
    # verbose=False: whole reviews are counted, untruncated, so the "longer than the maximum length" warning is moot
    ids = tokenizer(list(texts), add_special_tokens=False, verbose=False)["input_ids"]
    tokens = sum(len(row) for row in ids)
    unk = tokenizer.unk_token_id
    return {
        "vocab_size": len(tokenizer),
        "tokens_per_text": tokens / max(1, len(ids)),
        "unk_rate": sum(row.count(unk) for row in ids) / max(1, tokens),
        "texts_with_unk": sum(unk in row for row in ids) / max(1, len(ids)),
    }


def word2vec_vectors(
    tokenizer,
    texts: Sequence[str],
    dim: int = MODEL.embedding_size,
    window: int = 5,
    epochs: int = 3,
    std: float = 0.05,
    seed: int = DATA.seed,
    workers: int = 2,
    show_progress: bool = False,
) -> tuple[np.ndarray, dict[str, float]]:
    """
    Skip-gram word2vec (gensim) over the texts as WordPiece tokens: one vector per vocabulary entry, as a
    (vocab_size, dim) float32 matrix ready to be the ALBERT's word embeddings.

    Tokens that never occur in `texts` (special tokens, rare pieces) keep a random normal vector. Every row is
    rescaled to standard deviation `std`, the scale of a freshly initialised embedding (0.02) rather than word2vec's
    own (whose norms grow with frequency), so the first fine-tuning steps are not dominated by a few large vectors.

    `show_progress`: a progress bar per word2vec epoch, with its time estimate (the recipe shows it).

    Returns the matrix and a small report: tokens seen, vocabulary covered, seconds.
    """
    from gensim.models import Word2Vec
    from gensim.models.callbacks import CallbackAny2Vec
    from tqdm.auto import tqdm

    class EpochBar(CallbackAny2Vec):  # gensim reports epochs through callbacks, not a bar
        def __init__(self):
            self.bar = tqdm(total=epochs, desc="word2vec", unit="epoch", disable=not show_progress)

        def on_epoch_end(self, model):
            self.bar.update(1)

        def on_train_end(self, model):
            self.bar.close()

    start = time.perf_counter()
    # verbose=False: whole reviews are counted, untruncated, so the "longer than the maximum length" warning is moot
    ids = tokenizer(list(texts), add_special_tokens=False, verbose=False)["input_ids"]
    sentences = [[str(i) for i in row] for row in ids if row]
    w2v = Word2Vec(sentences=sentences, vector_size=dim, window=window, min_count=1, sg=1, epochs=epochs,
                   workers=workers, seed=seed, callbacks=[EpochBar()])
    rng = np.random.default_rng(seed)
    matrix = rng.normal(0.0, std, size=(len(tokenizer), dim)).astype(np.float32)
    covered = 0
    for token_id in range(len(tokenizer)):
        key = str(token_id)
        if key in w2v.wv.key_to_index:
            vector = w2v.wv[key]
            matrix[token_id] = (vector - vector.mean()) / (vector.std() + 1e-8) * std
            covered += 1
    report = {"tokens": int(sum(len(s) for s in sentences)), "covered": covered / len(tokenizer),
              "seconds": round(time.perf_counter() - start, 1)}
    return matrix, report


@dataclass
class AlbertSize:
    """The shipped size: 4 passes through one shared layer, E128/H256 (4.9M parameters with a 32k vocabulary)."""

    embedding_size: int = MODEL.embedding_size
    hidden_size: int = MODEL.hidden_size
    num_layers: int = MODEL.num_layers
    num_heads: int = 4
    intermediate_size: int = 1024
    max_length: int = DATA.max_length
    dropout: float = MODEL.dropout  # hidden and attention dropout: this model is fine-tuned mostly from scratch


def build_albert(tokenizer, size: AlbertSize = AlbertSize(), embeddings: np.ndarray | None = None, seed: int = DATA.seed):
    """An `AlbertForPreTraining` sized by `size`, with `embeddings` (vocab_size x embedding_size) as its word
    embeddings (tied with the MLM output layer) when given; everything else is freshly initialised."""
    import torch
    from transformers import AlbertConfig, AlbertForPreTraining, set_seed

    config = AlbertConfig(
        vocab_size=len(tokenizer), embedding_size=size.embedding_size, hidden_size=size.hidden_size,
        num_hidden_layers=size.num_layers, num_attention_heads=size.num_heads, intermediate_size=size.intermediate_size,
        max_position_embeddings=size.max_length, hidden_dropout_prob=size.dropout,
        attention_probs_dropout_prob=size.dropout, pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.cls_token_id, eos_token_id=tokenizer.sep_token_id,
    )
    set_seed(seed)
    model = AlbertForPreTraining(config)
    if embeddings is not None:
        expected = (config.vocab_size, config.embedding_size)
        if tuple(embeddings.shape) != expected:
            raise ValueError(f"embeddings have shape {tuple(embeddings.shape)}, the model needs {expected} "
                             "(vocab_size x embedding_size): build them with the same tokenizer and size.")
        with torch.no_grad():
            model.albert.embeddings.word_embeddings.weight.copy_(torch.from_numpy(np.asarray(embeddings)))
    return model


def count_parameters(model) -> int:
    """Parameters stored once (ALBERT's shared layer and tied embeddings count once)."""
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


def masked_positions_model_class():
    """`AlbertForMaskedLM` whose loss runs the MLM head only at the masked positions.

    The head (dense 256 -> 128, LayerNorm, then a 128 x 32,000 output projection and softmax) is what dominates an MLM
    step of this small model: at 15% masking, computing it at every position wastes 85% of that work. Masked-only
    gives the same loss (a mean over the masked tokens, as `AlbertForMaskedLM`'s `CrossEntropyLoss` with -100 labels)
    and the same gradients; its `logits` then hold only the masked rows (n_masked x vocab). Weights, config and
    checkpoints are `AlbertForMaskedLM`'s, so any ALBERT folder loads into it and back.
    """
    import torch
    from transformers import AlbertForMaskedLM
    from transformers.modeling_outputs import MaskedLMOutput

    class AlbertForMaskedPositionsLM(AlbertForMaskedLM):
        def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None,
                    inputs_embeds=None, labels=None, **kwargs):
            if labels is None:  # inference: every position, as the parent class
                return super().forward(input_ids=input_ids, attention_mask=attention_mask,
                                       token_type_ids=token_type_ids, position_ids=position_ids,
                                       inputs_embeds=inputs_embeds, **kwargs)
            kwargs.pop("num_items_in_batch", None)  # the Trainer's loss argument: the loss here is a mean, as the parent's
            hidden = self.albert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                                 position_ids=position_ids, inputs_embeds=inputs_embeds, return_dict=True,
                                 **kwargs).last_hidden_state
            masked = labels != -100
            logits = self.predictions(hidden[masked])
            loss = torch.nn.functional.cross_entropy(logits.float(), labels[masked])
            return MaskedLMOutput(loss=loss, logits=logits)

    return AlbertForMaskedPositionsLM


@dataclass
class MlmSettings:
    """The masked-language-model stage on top of the word2vec start (the shipped recipe's settings)."""

    max_steps: int = 3000
    corpus_epochs: float = 0.0  # > 0: train for this many passes over the corpus instead (max_steps is then derived)
    batch_size: int = MLM.batch_size
    learning_rate: float = MLM.learning_rate
    warmup: float = FINETUNE.warmup  # share of the steps
    mask_probability: float = MLM.mask_probability
    max_length: int = DATA.max_length
    held_out: int = 2000  # corpus reviews kept out of training for the evaluation loss
    eval_steps: int = 500
    save_steps: int = 250  # checkpoints to resume from
    save_total_limit: int | None = 1  # checkpoints kept (None: all)
    pack: bool = False  # several whole reviews per max_length row (`pack_reviews`), for a GPU; held-out stays one per row
    precision: str = "auto"
    seed: int = DATA.seed
    quiet: bool = False  # True: no Trainer log lines (a notebook shows the report instead)

    # What does not change the trained weights: a rerun may change these and still resume the same run.
    NOT_RUN_DEFINING = ("eval_steps", "save_steps", "save_total_limit", "quiet")

    def check(self) -> None:
        """Refuses settings that cannot train, before any work starts."""
        from kbalbert import precision

        if self.max_steps <= 0 and self.corpus_epochs <= 0:
            raise ValueError(f"MLM needs max_steps > 0 or corpus_epochs > 0 (got {self.max_steps}, {self.corpus_epochs}).")
        for name in ("batch_size", "max_length", "eval_steps", "save_steps"):
            if getattr(self, name) <= 0:
                raise ValueError(f"MlmSettings.{name} must be positive, got {getattr(self, name)}.")
        if not 0 < self.mask_probability < 1 or not 0 <= self.warmup < 1 or self.learning_rate <= 0:
            raise ValueError("MlmSettings: mask_probability must be in (0, 1), warmup in [0, 1), learning_rate > 0.")
        if self.held_out < 1:
            raise ValueError(f"MlmSettings.held_out must be at least 1 review, got {self.held_out}.")
        self.precision = precision.check(self.precision)


def pack_reviews(encoded: list[list[int]], max_length: int, cls_id: int, sep_id: int) -> list[list[int]]:
    """Packs tokenised reviews (each `[CLS] ... [SEP]`, at most `max_length` ids) into rows of at most `max_length`
    ids: `[CLS] review1 [SEP] review2 [SEP] ...`, reviews whole and in their order, a new row when the next one does not
    fit. Fewer, fuller rows: a GPU's step costs about the same whether a row holds 15 tokens or 128 (RoBERTa packs its
    rows the same way, across documents)."""
    rows, row = [], [cls_id]
    for ids in encoded:
        body = [i for i in ids if i != cls_id]  # the review and its [SEP]
        if body[-1:] != [sep_id]:
            body.append(sep_id)
        if len(row) + len(body) > max_length and len(row) > 1:
            rows.append(row)
            row = [cls_id]
        row.extend(body[:max_length - 1])
    if len(row) > 1:
        rows.append(row)
    return rows


def train_mlm(model_dir, corpus, output_dir, settings: MlmSettings = MlmSettings(), callbacks=()) -> dict:
    """
    Trains `model_dir` (an ALBERT folder, e.g. `build_albert`'s with word2vec embeddings) as a masked language model
    on `corpus` (a `datasets.Dataset` with a `text` column, e.g. `kd.load_corpus`) and saves it to
    `<output_dir>/model`. Resumes from the last checkpoint in `output_dir` when that folder was started with the same
    settings, start model and corpus (recorded in `mlm_run.json`); refuses to go on when they differ.

    Each training row is ONE review (batches grouped by length), or with `settings.pack` several whole reviews per
    `max_length` row (`pack_reviews`; for a GPU, whose step time hardly depends on the row length: the rows mix
    unrelated reviews, which a CPU, paying per token, gains nothing from). 15% of the tokens are masked by
    transformers' `DataCollatorForLanguageModeling`, and the MLM head runs only at the masked positions
    (`masked_positions_model_class`). The held-out loss is measured one review per row in both layouts, so the two are
    compared on the same reviews. From the word2vec start this loss falls well
    below the unigram plateau within a few hundred steps; from random embeddings it does not (bench/README.md).

    The device is the one PyTorch finds (a CUDA GPU when there is one, else the CPU); the precision follows
    `precision.py`'s rule there (bf16 on a GPU >= 8.0, fp16 below, measured on a CPU). `callbacks` are extra
    `TrainerCallback`s (e.g. to export snapshots).

    Returns a report: device, precision, steps, minutes, the held-out loss history and `unigram_loss` (the loss of
    always answering the token frequencies, the plateau to get below).
    """
    import hashlib
    import math
    from collections import Counter
    from dataclasses import asdict
    from pathlib import Path

    from transformers import AutoTokenizer, DataCollatorForLanguageModeling, Trainer, TrainingArguments
    from transformers.trainer_callback import PrinterCallback
    from transformers.utils import logging as hf_logging

    import tokenization_kbalbert
    from kbalbert import precision

    s, out = settings, Path(output_dir)
    s.check()
    if not (Path(model_dir) / "tokenizer.json").is_file() or not (Path(model_dir) / "config.json").is_file():
        raise FileNotFoundError(f"{model_dir} is not a model folder with its tokenizer (config.json, tokenizer.json): "
                                "give the folder that build_albert/save_pretrained and save_tokenizer wrote.")
    from kbalbert import data as kd

    kd.quiet_known_warnings()
    corpus = corpus.filter(lambda batch: [len(t.strip()) >= 2 for t in batch["text"]], batched=True)  # no 1-char rows
    if corpus.num_rows <= s.held_out + s.batch_size:
        raise ValueError(f"The corpus has {corpus.num_rows} documents; the MLM stage needs more than held_out + "
                         f"batch_size = {s.held_out + s.batch_size}. Use a larger corpus or smaller settings.")
    run = {k: v for k, v in asdict(s).items() if k not in MlmSettings.NOT_RUN_DEFINING}
    run.update(start_model=runs.fingerprint(model_dir), corpus_documents=corpus.num_rows,
               corpus_sha256=hashlib.sha256("\n".join(corpus["text"]).encode("utf-8")).hexdigest()[:16])
    runs.check_same_run(out / "mlm_run.json", run, "masked-language-model")
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))

    def encode(batch):
        encoded = tokenizer(batch["text"], truncation=True, max_length=s.max_length, return_special_tokens_mask=True)
        encoded["length"] = [len(ids) for ids in encoded["input_ids"]]
        return encoded

    corpus = corpus.shuffle(seed=s.seed)
    held_out = corpus.select(range(s.held_out)).map(encode, batched=True, remove_columns=["text"])
    train = corpus.select(range(s.held_out, corpus.num_rows)).map(encode, batched=True, remove_columns=["text"])
    reviews = train.num_rows
    if s.pack:
        def pack(batch):
            rows = pack_reviews(batch["input_ids"], s.max_length, tokenizer.cls_token_id, tokenizer.sep_token_id)
            special = {tokenizer.cls_token_id, tokenizer.sep_token_id}
            return {"input_ids": rows, "token_type_ids": [[0] * len(r) for r in rows],
                    "attention_mask": [[1] * len(r) for r in rows],
                    "special_tokens_mask": [[int(i in special) for i in r] for r in rows], "length": [len(r) for r in rows]}

        train = train.map(pack, batched=True, batch_size=10_000, remove_columns=train.column_names)
    # corpus epochs count reviews: packed, an epoch is fewer (fuller) rows
    max_steps = math.ceil(s.corpus_epochs * train.num_rows / s.batch_size) if s.corpus_epochs > 0 else s.max_steps

    counts = Counter()  # the plateau: predicting every masked token by its frequency
    sample = train.select(range(min(100_000, train.num_rows)))
    for ids, special in zip(sample["input_ids"], sample["special_tokens_mask"]):
        counts.update(i for i, flag in zip(ids, special) if not flag)
    freq = np.array(list(counts.values()), dtype=float) / sum(counts.values())
    unigram_loss = float(-(freq * np.log(freq)).sum())

    model_class = masked_positions_model_class()

    def load_model():  # the start folder's SOP head and pooler have no place in a masked-LM model: not worth a report
        level = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()
        try:
            return model_class.from_pretrained(str(model_dir))
        finally:
            hf_logging.set_verbosity(level)

    collate = DataCollatorForLanguageModeling(tokenizer, mlm_probability=s.mask_probability)
    middle = train.sort("length").select(range(train.num_rows // 2 - s.batch_size // 2, train.num_rows // 2 + s.batch_size // 2))
    batch = collate(middle.select_columns(["input_ids", "token_type_ids", "attention_mask"]).to_list())
    accelerator, capability, device_name = precision.torch_accelerator()
    chosen = precision.choose(s.precision, accelerator, capability,  # a resumed run keeps its first run's measurement
                              precision.torch_train_step(load_model, batch, accelerator), record=out / "precision.json")
    args = TrainingArguments(
        output_dir=str(out), max_steps=max_steps, per_device_train_batch_size=s.batch_size,
        per_device_eval_batch_size=128, learning_rate=s.learning_rate, warmup_steps=s.warmup, weight_decay=FINETUNE.weight_decay,
        lr_scheduler_type="linear", length_column_name="length",
        train_sampling_strategy="random" if s.pack else "group_by_length",  # packed rows are all about max_length
        eval_strategy="steps", eval_steps=s.eval_steps, save_strategy="steps", save_steps=s.save_steps,
        save_total_limit=s.save_total_limit, logging_steps=50, report_to="none", seed=s.seed,
        prediction_loss_only=True, disable_tqdm=s.quiet,  # a progress bar with its time estimate unless quiet
        **mlm_device_arguments(accelerator, chosen.precision),
    )
    trainer = Trainer(model=load_model(), args=args, train_dataset=train,
                      eval_dataset=held_out, data_collator=collate, callbacks=list(callbacks))
    if s.quiet:
        trainer.remove_callback(PrinterCallback)
    else:  # the bar, and one line per held-out evaluation instead of a dict every 50 steps
        from kbalbert.finetuning import log_evaluations_only

        log_evaluations_only(trainer)
    last = runs.last_complete_checkpoint(out)  # a checkpoint cut short by a crash is skipped
    result = trainer.train(resume_from_checkpoint=last)
    history = [{"step": e["step"], "eval_loss": round(e["eval_loss"], 4)}
               for e in trainer.state.log_history if "eval_loss" in e]
    if not history or history[-1]["step"] != trainer.state.global_step:
        # The held-out loss at the last step, evaluated once: the collator masks at random, so evaluating the same
        # model again gives another number, and the report and the history would disagree.
        last_loss = trainer.evaluate()["eval_loss"]
        history.append({"step": trainer.state.global_step, "eval_loss": round(last_loss, 4)})
    final = {"eval_loss": history[-1]["eval_loss"]}
    save_with_start_heads(trainer.model, model_dir, out / "model")
    tokenization_kbalbert.save_tokenizer(tokenizer, out / "model")
    return {"device": device_name, "precision": chosen.precision, "precision_reason": chosen.reason,
            "steps": trainer.state.global_step, "corpus_epochs": round(trainer.state.global_step * s.batch_size / train.num_rows, 3),
            "rows_per_epoch": train.num_rows, "reviews_per_epoch": reviews,
            "resumed_from": last, "train_minutes_this_run": round(result.metrics["train_runtime"] / 60, 1),
            "unigram_loss": round(unigram_loss, 3), "final_eval_loss": round(final["eval_loss"], 4),
            "final_eval_perplexity": round(math.exp(final["eval_loss"]), 1), "eval_history": history}


def mlm_device_arguments(accelerator: str, chosen_precision: str) -> dict:
    """The `TrainingArguments` that put the MLM stage on `accelerator` ("cuda" or "cpu", `precision.torch_accelerator`)
    at the chosen precision: on a CPU `use_cpu=True` (bf16 autocast on a CPU needs it), on a GPU the Trainer's own
    device and a few data-loading workers so that the GPU is not left waiting on the collator."""
    from kbalbert import precision

    flags = precision.trainer_flags(chosen_precision)
    if accelerator == "cpu":
        return {"use_cpu": True, **flags}
    return {"use_cpu": False, "dataloader_num_workers": 2, "dataloader_pin_memory": True, **flags}


def save_with_start_heads(masked_lm, start_dir, output_dir) -> None:
    """Saves a trained `AlbertForMaskedLM` as the `AlbertForPreTraining` folder it started from: the trained encoder
    and MLM head, plus the start folder's pooler and SOP head (untrained; MLM does not use them). Every consumer then
    finds the usual ALBERT checkpoint: keras_hub's converter needs `albert.pooler.*`, and sequence classifiers load the
    same pooler in PyTorch and in Keras instead of each drawing its own."""
    from transformers import AlbertForPreTraining

    full = AlbertForPreTraining.from_pretrained(str(start_dir))
    missing, unexpected = full.load_state_dict(masked_lm.state_dict(), strict=False)
    kept = {"albert.pooler.weight", "albert.pooler.bias", "sop_classifier.classifier.weight",
            "sop_classifier.classifier.bias"}
    if unexpected or set(missing) - kept:
        raise ValueError(f"{start_dir} does not match the trained model: missing {sorted(set(missing) - kept)}, "
                         f"unexpected {sorted(unexpected)}")
    full.save_pretrained(str(output_dir))

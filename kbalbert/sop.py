"""ALBERT's original pretraining objective on short reviews: sentence-order prediction (SOP) plus masked language
modelling, as KB-ALBERT was pretrained. The shipped models use MLM alone (kbalbert.pretraining.train_mlm); this collator is
what bench/pretraining_plateau.py measured SOP with, kept with its tests so that comparison can be repeated."""

from __future__ import annotations


def split_for_sop(input_ids: list[int], offsets: list[tuple[int, int]]) -> int:
    """
    Where to cut a review's tokens into segments A and B for sentence-order prediction: at the word boundary
    nearest the middle (a token whose start is not the previous token's end), else in the middle of the one word.
    Needs at least 2 tokens; returns an index in 1..len-1.
    """
    n = len(input_ids)
    if n < 2:
        raise ValueError("A review needs at least 2 tokens to be cut into two segments.")
    boundaries = [i for i in range(1, n) if offsets[i][0] != offsets[i - 1][1]]
    if not boundaries:
        return n // 2
    return min(boundaries, key=lambda i: (abs(2 * i - n), i))


class DataCollatorForAlbertPretraining:
    """
    Builds ALBERT pretraining batches: sentence-order prediction (SOP) plus masked language modelling.

    Each example holds one review's `input_ids` (no special tokens), their `offset_mapping`, and `sop_split` (see
    `split_for_sop`). Segment A is `input_ids[:sop_split]`, B the rest; with probability `swap_probability` they are
    swapped and `sentence_order_label` is 1 (0 = original order, as `AlbertForPreTraining` expects). The pair becomes
    `[CLS] A [SEP] B [SEP]` with token_type_ids 0/1, and masking is delegated to transformers'
    `DataCollatorForLanguageModeling` (whole-word masking uses the offsets: a word is a run of touching tokens).
    """

    def __init__(
        self,
        tokenizer,
        mlm_probability: float = 0.15,
        whole_word_mask: bool = True,
        swap_probability: float = 0.5,
        pad_to_multiple_of: int | None = 8,
        seed: int | None = None,
    ):
        import random
        import warnings

        from transformers import DataCollatorForLanguageModeling

        self.tokenizer = tokenizer
        self.swap_probability = swap_probability
        self.pad_to_multiple_of = pad_to_multiple_of
        self.rng = random.Random(seed)
        with warnings.catch_warnings():  # whole-word masking always uses [MASK] (no random tokens): it says so
            warnings.simplefilter("ignore")
            self.mlm = DataCollatorForLanguageModeling(
                tokenizer, mlm_probability=mlm_probability, whole_word_mask=whole_word_mask, seed=seed
            )

    def __call__(self, examples: list[dict]) -> dict:
        import torch

        cls_id, sep_id, pad_id = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id, self.tokenizer.pad_token_id
        rows = []
        for example in examples:
            ids, offsets, cut = example["input_ids"], example["offset_mapping"], example["sop_split"]
            a, b = (ids[:cut], offsets[:cut]), (ids[cut:], offsets[cut:])
            swapped = self.rng.random() < self.swap_probability
            if swapped:
                a, b = b, a
            input_ids = [cls_id, *a[0], sep_id, *b[0], sep_id]
            token_type_ids = [0] * (len(a[0]) + 2) + [1] * (len(b[0]) + 1)
            special = [1] + [0] * len(a[0]) + [1] + [0] * len(b[0]) + [1]
            spans = [(0, 0), *map(tuple, a[1]), (0, 0), *map(tuple, b[1]), (0, 0)]
            rows.append((input_ids, token_type_ids, special, spans, int(swapped)))
        length = max(len(row[0]) for row in rows)
        if self.pad_to_multiple_of:
            length = -(-length // self.pad_to_multiple_of) * self.pad_to_multiple_of
        batch_size = len(rows)
        input_ids = torch.full((batch_size, length), pad_id, dtype=torch.long)
        token_type_ids = torch.zeros((batch_size, length), dtype=torch.long)
        attention_mask = torch.zeros((batch_size, length), dtype=torch.long)
        special = torch.ones((batch_size, length), dtype=torch.long)
        spans = torch.zeros((batch_size, length, 2), dtype=torch.long)
        for i, (ids, types, spec, offs, _) in enumerate(rows):
            n = len(ids)
            input_ids[i, :n] = torch.tensor(ids)
            token_type_ids[i, :n] = torch.tensor(types)
            attention_mask[i, :n] = 1
            special[i, :n] = torch.tensor(spec)
            spans[i, :n] = torch.tensor(offs)
        masked, labels = self.mlm.torch_mask_tokens(input_ids, special_tokens_mask=special, offset_mapping=spans)
        return {
            "input_ids": masked,
            "token_type_ids": token_type_ids,
            "attention_mask": attention_mask,
            "labels": labels,
            "sentence_order_label": torch.tensor([row[4] for row in rows], dtype=torch.long),
        }

"""Replaced-token detection (ELECTRA's objective, Clark et al. 2020) continued from a pretrained ALBERT: does the
objective lift what more MLM epochs stopped lifting? (issue 44 (b))

    python bench/rtd.py --start-model assets/albert-movie-wp-small --work-dir /work/runs/rtd --corpus-epochs 2
    python scripts/train_nsmc.py --model-path /work/runs/rtd/model --output_dir /work/runs/rtd/nsmc

The second command is the recipe's stage 5 (the same split, seed and settings) whose validation accuracy on the
shipped pretrained model is 0.8952 (bench/results/default_model_recipe.json): the number to beat.

How it trains. 15% of each review's tokens are masked; a *generator* fills them in by sampling from its MLM head; the
*discriminator* (the ALBERT being trained, started from `--start-model`, with a small new head) reads the filled-in
review and says, for every token, whether it was replaced. Unlike MLM it learns from every token, not from the 15%.
The generator here is the start model itself, frozen (ELECTRA's "two-stage" variant: no generator to train, so a
step costs about one MLM step plus a forward pass without gradients); a sampled token equal to the original counts as
original, as in ELECTRA. Rows are one review each, batches grouped by length, as the CPU MLM recipe.

After every corpus epoch and at the end, the discriminator is saved as an ALBERT folder (`epoch-<k>/`, `model/`) with
the start folder's tokenizer, pooler and heads (MLM does not train those either), so any ALBERT consumer loads it.
Resumes from its last checkpoint (a rerun with other settings is refused). Writes `rtd_report.json`.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path


def rtd_model_class():
    import torch
    from torch import nn
    from transformers.modeling_outputs import MaskedLMOutput

    class ReplacedTokenDetection(nn.Module):
        """`discriminator` (an `AlbertModel`) with a per-token head; `generator` (an `AlbertForMaskedLM` whose
        `predictions` run on the masked rows only) is frozen and kept out of `state_dict`, so checkpoints hold the
        discriminator alone."""

        def __init__(self, generator, discriminator, temperature: float = 1.0):
            super().__init__()
            generator.requires_grad_(False).eval()
            self.__dict__["generator"] = generator  # not a submodule: not trained, not saved
            self.albert = discriminator
            hidden = discriminator.config.hidden_size
            self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, 1))
            self.temperature = temperature

        def corrupt(self, input_ids, attention_mask, labels):
            """Masked positions filled with the generator's samples; returns the ids and the replaced-token labels."""
            masked = labels != -100
            generator = self.generator.to(input_ids.device).eval()
            with torch.no_grad():
                hidden = generator.albert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
                logits = generator.predictions(hidden[masked]).float() / self.temperature
                sampled = torch.multinomial(torch.softmax(logits, dim=-1), 1).squeeze(-1)
            corrupted = input_ids.clone()
            corrupted[masked] = sampled
            original = torch.where(masked, labels, input_ids)
            return corrupted, (corrupted != original).float()

        def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, labels=None, **kwargs):
            corrupted, replaced = self.corrupt(input_ids, attention_mask, labels)
            hidden = self.albert(input_ids=corrupted, attention_mask=attention_mask,
                                 token_type_ids=token_type_ids).last_hidden_state
            scores = self.head(hidden).squeeze(-1).float()
            active = attention_mask.bool()
            loss = nn.functional.binary_cross_entropy_with_logits(scores[active], replaced[active])
            return MaskedLMOutput(loss=loss, logits=scores)

    return ReplacedTokenDetection


def save_discriminator(model, start_dir: Path, folder: Path) -> None:
    """The discriminator's encoder in the start folder's `AlbertForPreTraining` (its pooler and heads kept)."""
    import tokenization_kbalbert
    from transformers import AlbertForPreTraining, AutoTokenizer

    full = AlbertForPreTraining.from_pretrained(str(start_dir))
    encoder = {f"albert.{k}": v for k, v in model.albert.state_dict().items() if not k.startswith("pooler.")}
    missing, unexpected = full.load_state_dict(encoder, strict=False)
    if unexpected or any(k.startswith("albert.") and not k.startswith("albert.pooler.") for k in missing):
        raise ValueError(f"the discriminator does not fit {start_dir}: missing {missing}, unexpected {unexpected}")
    partial = folder.with_name(f".{folder.name}.partial")
    full.save_pretrained(str(partial))
    tokenization_kbalbert.save_tokenizer(AutoTokenizer.from_pretrained(str(start_dir)), partial)
    if folder.exists():
        import shutil

        shutil.rmtree(folder)
    partial.rename(folder)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--start-model", default="assets/albert-movie-wp-small", help="pretrained ALBERT folder (the discriminator's start and the frozen generator)")
    parser.add_argument("--corpus", default="../shared/data/movie-reviews/reviews.txt", help="unlabelled reviews, one per line")
    parser.add_argument("--work-dir", required=True, help="checkpoints, snapshots and the report")
    parser.add_argument("--corpus-epochs", type=float, default=2.0, help="passes over the corpus")
    parser.add_argument("--max-docs", type=int, default=None, help="use the first N corpus reviews (a toy run)")
    parser.add_argument("--batch-size", type=int, default=128, help="reviews per step")
    parser.add_argument("--learning-rate", type=float, default=3e-4, help="peak rate (linear warm-up 6%%, linear decay)")
    parser.add_argument("--mask-probability", type=float, default=0.15)
    parser.add_argument("--temperature", type=float, default=1.0, help="generator sampling temperature")
    parser.add_argument("--held-out", type=int, default=2000, help="corpus reviews kept out for the held-out loss")
    parser.add_argument("--eval-steps", type=int, default=1000)
    parser.add_argument("--save-steps", type=int, default=250)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--seed", type=int, default=42)
    a = parser.parse_args(argv)
    start_dir, out = Path(a.start_model), Path(a.work_dir)
    if not (start_dir / "config.json").is_file():
        parser.error(f"--start-model {start_dir} is not a model folder")
    if a.corpus_epochs <= 0 or a.batch_size <= 0 or a.learning_rate <= 0 or not 0 < a.mask_probability < 1:
        parser.error("--corpus-epochs, --batch-size and --learning-rate must be positive, --mask-probability in (0, 1)")

    import torch
    from transformers import (AlbertModel, AutoTokenizer, DataCollatorForLanguageModeling, Trainer, TrainerCallback,
                              TrainingArguments)
    from transformers.utils import logging as hf_logging

    from kbalbert import data as kd
    from kbalbert import precision, pretraining, runs
    from kbalbert.finetuning import log_evaluations_only

    kd.quiet_known_warnings()
    run = {k: v for k, v in vars(a).items() if k not in ("eval_steps", "save_steps", "work_dir")}
    run["start_model"] = runs.fingerprint(start_dir)
    runs.check_same_run(out / "rtd_run.json", run, "replaced-token detection")

    corpus = kd.load_corpus(a.corpus)
    if a.max_docs:
        corpus = corpus.select(range(min(a.max_docs, corpus.num_rows)))
    corpus = corpus.filter(lambda b: [len(t.strip()) >= 2 for t in b["text"]], batched=True).shuffle(seed=a.seed)
    tokenizer = AutoTokenizer.from_pretrained(str(start_dir))

    def encode(batch):
        encoded = tokenizer(batch["text"], truncation=True, max_length=128, return_special_tokens_mask=True)
        encoded["length"] = [len(ids) for ids in encoded["input_ids"]]
        return encoded

    held_out = corpus.select(range(a.held_out)).map(encode, batched=True, remove_columns=["text"])
    train = corpus.select(range(a.held_out, corpus.num_rows)).map(encode, batched=True, remove_columns=["text"])
    steps_per_epoch = math.ceil(train.num_rows / a.batch_size)
    max_steps = math.ceil(a.corpus_epochs * steps_per_epoch)

    generator_class, model_class = pretraining.masked_positions_model_class(), rtd_model_class()

    def build():
        level = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()  # the start folder's heads have no place in these classes
        try:
            torch.manual_seed(a.seed)
            return model_class(generator_class.from_pretrained(str(start_dir)),
                               AlbertModel.from_pretrained(str(start_dir), add_pooling_layer=False), a.temperature)
        finally:
            hf_logging.set_verbosity(level)

    # every masked token is [MASK] for the generator (no 10% random / 10% kept: those are MLM's tricks)
    collate = DataCollatorForLanguageModeling(tokenizer, mlm_probability=a.mask_probability, mask_replace_prob=1.0,
                                              random_replace_prob=0.0)
    middle = train.sort("length").select(range(train.num_rows // 2 - a.batch_size // 2, train.num_rows // 2 + a.batch_size // 2))
    batch = collate(middle.select_columns(["input_ids", "token_type_ids", "attention_mask"]).to_list())
    accelerator, capability, device_name = precision.torch_accelerator()
    chosen = precision.choose(a.precision, accelerator, capability, precision.torch_train_step(build, batch, accelerator))
    print(f"precision: {chosen.precision} ({chosen.reason}); {max_steps} steps, {steps_per_epoch} per corpus epoch", flush=True)
    probe = build()  # how often a sampled token differs from the original: the loss of always answering that share
    torch.manual_seed(a.seed)
    _, replaced = probe.corrupt(batch["input_ids"], batch["attention_mask"], batch["labels"])
    share = float(replaced[batch["attention_mask"].bool()].mean())
    constant_loss = -(share * math.log(share) + (1 - share) * math.log(1 - share))
    print(f"replaced tokens: {share:.3f} of all tokens; always answering that share: loss {constant_loss:.4f}", flush=True)

    class Snapshots(TrainerCallback):  # the discriminator after each whole corpus epoch
        def on_step_end(self, args, state, control, model=None, **kwargs):
            if state.global_step % steps_per_epoch == 0 and state.global_step < max_steps:
                save_discriminator(model, start_dir, out / f"epoch-{state.global_step // steps_per_epoch}")

    args = TrainingArguments(
        output_dir=str(out), max_steps=max_steps, per_device_train_batch_size=a.batch_size, per_device_eval_batch_size=128,
        learning_rate=a.learning_rate, warmup_steps=0.06, weight_decay=0.01, lr_scheduler_type="linear",
        length_column_name="length", train_sampling_strategy="group_by_length", eval_strategy="steps",
        eval_steps=a.eval_steps, save_strategy="steps", save_steps=a.save_steps, save_total_limit=1, logging_steps=50,
        report_to="none", seed=a.seed, prediction_loss_only=True,
        **pretraining.mlm_device_arguments(accelerator, chosen.precision),
    )
    started = time.perf_counter()
    with runs.locked(out, "replaced-token detection run"):
        trainer = Trainer(model=build(), args=args, train_dataset=train, eval_dataset=held_out, data_collator=collate,
                          callbacks=[Snapshots()])
        log_evaluations_only(trainer)
        last = runs.last_complete_checkpoint(out)
        result = trainer.train(resume_from_checkpoint=last)
        save_discriminator(trainer.model, start_dir, out / "model")
    history = [{"step": e["step"], "eval_loss": round(e["eval_loss"], 4)} for e in trainer.state.log_history if "eval_loss" in e]
    if not history or history[-1]["step"] != trainer.state.global_step:  # evaluated once at the end (masking is random)
        history.append({"step": trainer.state.global_step, "eval_loss": round(trainer.evaluate()["eval_loss"], 4)})
    report = {"command": "python bench/rtd.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "device": device_name, "cpu": precision.cpu_flags(), "precision": chosen.precision,
              "steps": trainer.state.global_step, "steps_per_corpus_epoch": steps_per_epoch, "resumed_from": last,
              "train_minutes_this_run": round(result.metrics["train_runtime"] / 60, 1),
              "seconds_this_run": round(time.perf_counter() - started, 1),
              "replaced_share": round(share, 4), "constant_loss": round(constant_loss, 4),
              "final_eval_loss": history[-1]["eval_loss"], "eval_history": history}
    runs.write_json(out / "rtd_report.json", report)
    print(json.dumps(report, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

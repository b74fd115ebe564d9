"""The recipe of the shipped default model, as one command that resumes where it stopped:

    python scripts/build_default_model.py                  # everything under outputs/default-model/ (about 3.1 h on 2 CPU
                                                           # cores with AVX-512-BF16, bf16; about 6-6.5 h estimated on
                                                           # AVX2-only, fp32; bench/README.md has the stage times)
    python scripts/build_default_model.py --export-to assets --overwrite-export true   # the same, then replaces the
                                                           # two folders in assets/ (without the flag it refuses)

Stages (each is skipped when its output already exists, and the training stages resume from their last checkpoint, so
an interrupted run picks up where it was). Each stage records the settings it was made with: a rerun with other
settings stops before that stage and says which differ and which folder to delete. Pretraining settings are recorded
for the whole work folder (recipe_settings.json); fine-tuning and distillation in their own folders, so changing only,
say, `--distill-unlabeled` reuses stages 1-5 once `distilled/` is deleted:
  1. tokenizer/      WordPiece vocabulary trained on the unlabelled review corpus (pretraining.train_wordpiece)
  2. word2vec.npy    skip-gram vectors of the WordPiece tokens over the same corpus (pretraining.word2vec_vectors)
  3. start/          a small ALBERT whose word embeddings are those vectors (pretraining.build_albert)
  4. mlm/model/      masked-language-model training of that ALBERT on the corpus, one review per row (`--mlm-layout
                     packed` puts several whole reviews in each 128-token row, with its own `--mlm-packed-batch-size`
                     and `--mlm-packed-learning-rate`: fewer steps, but a higher held-out loss per corpus epoch)
                     (pretraining.train_mlm; `--mlm-corpus-epochs N` for N passes over the corpus instead of
                     `--mlm-steps`; `--mlm-steps 0` skips it): the pretrained model that is shipped

Every training stage (MLM, fine-tuning, distillation) runs on the GPU when PyTorch finds one, at the precision of
`precision.py`'s rule; the vocabulary and word2vec stay on the CPU. The model cards name the hardware.
  5. nsmc/           fine-tuned on NSMC train minus a 5,000-review validation split (finetuning.finetune), the best
                     validation checkpoint scored once on NSMC test
  6. distilled/      born-again distillation (distillation.distill): the classifier trains once more on NSMC train plus
                     unlabelled corpus reviews labelled by a teacher (TF-IDF + the classifier of stage 5, both trained on
                     NSMC train only); `--distill-unlabeled 0` skips it. The shipped classifier is this student.

Only the corpus and NSMC train are read before the test evaluations (one per classifier). Decisions (the teacher's
weight, the best checkpoint) are made on the validation split. The corpus holds no NSMC test review.
"""

from __future__ import annotations

import io
import json
import os
import platform
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

from kbalbert.distillation import DistillSettings
from kbalbert.finetuning import RECIPE  # noqa: E402
from kbalbert.pretraining import AlbertSize, MlmSettings  # noqa: E402
from kbalbert.settings import MLM, MODEL, FinetuneDefaults, MlmDefaults, ModelDefaults, help_of, setting  # noqa: E402


@dataclass
class RecipeConfig:
    """The recipe's options. Every default that a stage shares with the lessons comes from `kbalbert.settings` (or the
    stage's own dataclass, which takes it from there): defined once."""

    corpus_path: str = setting(os.environ.get("CORPUS_PATH", str(REPO.parent / "shared" / "data" / "movie-reviews" / "reviews.txt")),
                               "unlabelled reviews: a .txt file with one review per line, or a folder of them (CORPUS_PATH)")
    nsmc_dir: str | None = setting(os.environ.get("NSMC_DIR"), "NSMC folder (NSMC_DIR); default: a sha256-checked download")
    work_dir: str = setting("outputs/default-model", "where each stage keeps its result; a rerun resumes from it")
    export_to: str | None = setting(None, "e.g. assets: writes <export_to>/albert-movie-wp-small and ...-nsmc at the end")
    overwrite_export: bool = setting(False, "replace those two folders if they exist (else the run refuses at the start)")
    max_docs: int | None = setting(None, "corpus reviews to use (default: all)")
    vocab_size: int = setting(MODEL.vocab_size, help_of(ModelDefaults, "vocab_size"))
    min_frequency: int = setting(3, "WordPiece pieces rarer than this are left out")
    limit_alphabet: int = setting(6_000, "at most this many distinct characters in the vocabulary")
    w2v_dim: int = setting(AlbertSize.embedding_size, help_of(ModelDefaults, "embedding_size"))
    w2v_window: int = setting(5, "word2vec context window (tokens on each side)")
    w2v_epochs: int = setting(3, "word2vec passes over the corpus")
    hidden_size: int = setting(AlbertSize.hidden_size, help_of(ModelDefaults, "hidden_size"))
    num_layers: int = setting(AlbertSize.num_layers, help_of(ModelDefaults, "num_layers"))
    dropout: float = setting(AlbertSize.dropout, help_of(ModelDefaults, "dropout"))
    train_size: int | None = setting(None, "NSMC training reviews (default: all of NSMC train minus validation)")
    test_size: int | None = setting(None, "NSMC test reviews (default: all 50,000)")
    epochs: float = setting(RECIPE["num_train_epochs"], help_of(FinetuneDefaults, "epochs") + " (fine-tuning and distillation)")
    batch_size: int = setting(RECIPE["per_device_train_batch_size"], help_of(FinetuneDefaults, "batch_size"))
    learning_rate: float = setting(RECIPE["learning_rate"], help_of(FinetuneDefaults, "learning_rate"))
    mlm_steps: int = setting(MlmSettings.max_steps, "MLM steps when --mlm-corpus-epochs is 0 (0 and 0: no MLM stage)")
    mlm_corpus_epochs: float = setting(MLM.corpus_epochs, help_of(MlmDefaults, "corpus_epochs") + "; 0: --mlm-steps instead")
    mlm_batch_size: int = setting(MlmSettings.batch_size, "MLM " + help_of(MlmDefaults, "batch_size"))
    mlm_learning_rate: float = setting(MlmSettings.learning_rate, "MLM " + help_of(MlmDefaults, "learning_rate"))
    mlm_layout: str = setting(MLM.layout, "MLM " + help_of(MlmDefaults, "layout"))
    mlm_packed_batch_size: int = setting(MLM.packed_batch_size, "MLM " + help_of(MlmDefaults, "packed_batch_size"))
    mlm_packed_learning_rate: float = setting(MLM.packed_learning_rate,
                                              "MLM " + help_of(MlmDefaults, "packed_learning_rate"))
    distill_unlabeled: int | None = setting(DistillSettings.unlabeled, "unlabelled reviews the teacher labels (default: "
                                            "every corpus review not in NSMC train or validation; 0: no distillation stage)")
    distill_learning_rate: float = setting(DistillSettings.learning_rate, "the student's learning rate")
    # 3 (not DistillSettings' 1): the shipped classifier's teacher; validation 0.8998 against 0.8992 with one ALBERT
    # (bench/README.md, "교사를 시드 3개로")
    distill_teachers: int = setting(3, "fine-tuned ALBERTs averaged in the teacher: the stage-5 classifier and N - 1 "
                                       "more fine-tuned with seeds seed + 1, ... on the same split")
    pretrained_model: str | None = setting(None, "start stages 5-6 from this pretrained ALBERT folder (e.g. assets/"
                                                 "albert-movie-wp-small) instead of building one: stages 1-4 are "
                                                 "skipped and --export-to writes only the classifier")
    precision: str = setting("auto", "auto | fp32 | bf16 | fp16 (kbalbert.precision's rule)")
    seed: int = setting(RECIPE["seed"], "seed of every stage")
    cards_from: str | None = setting(None, "only rewrite the model cards (README.md) of --export-to's two folders from "
                                           "this recipe log (e.g. bench/results/default_model_recipe.json): no training")


PRETRAINED_NAME, CLASSIFIER_NAME = "albert-movie-wp-small", "albert-movie-wp-small-nsmc"
# The settings that define the pretraining stages (1-4), recorded in <work_dir>/recipe_settings.json. The fine-tuning
# and distillation stages keep their own records in their folders (nsmc/finetune_run.json, distilled/distill_run.json),
# so a rerun that changes only a later stage's settings (say --distill-unlabeled) reuses the pretraining and is told
# which stage folder to delete; where NSMC lies, the precision and the export do not define any stage.
PRETRAINING = ("corpus_path", "max_docs", "vocab_size", "min_frequency", "limit_alphabet", "w2v_dim", "w2v_window",
               "w2v_epochs", "hidden_size", "num_layers", "dropout", "mlm_steps", "mlm_corpus_epochs", "mlm_batch_size",
               "mlm_learning_rate", "mlm_layout", "mlm_packed_batch_size", "mlm_packed_learning_rate", "seed")


def exported_names(config: RecipeConfig) -> tuple[str, ...]:
    """The folders --export-to writes: the pretrained ALBERT and the classifier, or only the classifier when the
    pretrained ALBERT was given (--pretrained-model)."""
    return (CLASSIFIER_NAME,) if config.pretrained_model else (PRETRAINED_NAME, CLASSIFIER_NAME)


def machine() -> str:
    """The hardware the training stages ran on: the GPU when PyTorch finds one, else the CPU and its flags."""
    from kbalbert import precision

    accelerator, capability, name = precision.torch_accelerator()
    if accelerator == "cuda":
        return f"{name} (CUDA compute capability {capability[0]}.{capability[1]}) with {precision.cpu_description()}, {platform.system()}"
    return f"{precision.cpu_description()} ({precision.cpu_flags()}), {platform.system()}"


def check(config: RecipeConfig) -> None:
    """Refuses settings that cannot work, before the first stage runs (each message says what to give instead)."""
    from kbalbert import precision

    config.precision = precision.check(config.precision)
    positive = ("vocab_size", "w2v_dim", "w2v_window", "w2v_epochs", "hidden_size", "num_layers", "batch_size",
                "mlm_batch_size", "mlm_packed_batch_size")
    for name in positive:
        if getattr(config, name) <= 0:
            raise ValueError(f"--{name.replace('_', '-')} must be positive, got {getattr(config, name)}.")
    for name in ("max_docs", "train_size", "test_size"):
        if getattr(config, name) is not None and getattr(config, name) <= 0:
            raise ValueError(f"--{name.replace('_', '-')} must be positive (or left out for all), got {getattr(config, name)}.")
    for name in ("mlm_steps", "mlm_corpus_epochs", "distill_unlabeled"):
        if getattr(config, name) is not None and getattr(config, name) < 0:
            raise ValueError(f"--{name.replace('_', '-')} must be 0 (skip the stage) or positive, got {getattr(config, name)}.")
    if config.distill_teachers < 1:
        raise ValueError(f"--distill-teachers must be 1 or more (the fine-tuned classifier itself is one), got "
                         f"{config.distill_teachers}.")
    if config.pretrained_model and not (Path(config.pretrained_model) / "config.json").is_file():
        raise FileNotFoundError(f"--pretrained-model {config.pretrained_model} is not a model folder (no config.json).")
    if config.mlm_layout not in ("auto", "review", "packed"):
        raise ValueError(f"--mlm-layout must be auto, review or packed, got {config.mlm_layout!r}.")
    if (config.epochs <= 0 or config.learning_rate <= 0 or config.mlm_learning_rate <= 0
            or config.mlm_packed_learning_rate <= 0 or config.distill_learning_rate <= 0):
        raise ValueError("--epochs and every learning rate must be positive.")
    if config.hidden_size % max(1, config.hidden_size // 64):
        raise ValueError(f"--hidden-size {config.hidden_size} must split evenly into hidden_size // 64 attention heads "
                         "(e.g. 128, 256, 384).")
    if config.export_to and not config.overwrite_export:
        existing = [str(Path(config.export_to) / n) for n in exported_names(config) if (Path(config.export_to) / n).exists()]
        if existing:
            raise FileExistsError(f"{' and '.join(existing)} exist: --export-to does not replace them unless you add "
                                  "--overwrite-export true (or give another --export-to folder).")
    if not Path(config.corpus_path).expanduser().exists():
        raise FileNotFoundError(f"Corpus not found: {config.corpus_path}. Set --corpus-path (or CORPUS_PATH) to a .txt "
                                "file with one review per line, or a folder of them.")


def command(config: RecipeConfig) -> str:
    """The command line that repeats this run (only the settings that differ from the defaults and change what is
    made: not where the data, the work folder or the export lie, which are this machine's paths)."""
    defaults = asdict(RecipeConfig())
    changed = [f"--{k.replace('_', '-')} {v}" for k, v in asdict(config).items()
               if v != defaults[k] and k not in ("corpus_path", "nsmc_dir", "export_to", "overwrite_export", "work_dir")]
    return " ".join(["python scripts/build_default_model.py", *changed])


def write_cards(log: dict, pretrained: Path, classifier: Path) -> None:
    """README.md model cards for both folders, from the recipe log (what ran, where, how long, what it scored)."""
    from kbalbert.cards import model_card

    config = {**asdict(RecipeConfig()), **log["config"]}  # a log written before an option existed has its default
    stages = [s for s in ("tokenizer", "word2vec", "start", "mlm", "finetune", "distill") if s in log]
    stage_minutes = {s: log[s]["seconds"] / 60 for s in stages}
    shown = {s: f"{s} {m:.1f} min" for s, m in stage_minutes.items()}
    about = ""
    if "mlm" in log and log["mlm"].get("resumed_from"):
        # A resumed MLM stage timed only its last run: estimate the whole stage from that run's pace per step.
        mlm = log["mlm"]
        first_step = int(Path(mlm["resumed_from"]).name.rsplit("-", 1)[1])
        pace = mlm["train_minutes_this_run"] / max(1, mlm["steps"] - first_step)
        stage_minutes["mlm"] = pace * mlm["steps"]
        shown["mlm"] = (f"mlm about {stage_minutes['mlm']:.0f} min (resumed at step {first_step:,} after an "
                        f"interruption; its last run took {mlm['train_minutes_this_run']:.1f} min for "
                        f"{mlm['steps'] - first_step:,} steps, {60 * pace:.2f} s/step, and the whole stage is "
                        "estimated at that pace)")
        about = "about "
    minutes = sum(stage_minutes.values())
    recipe = (f"`{command(RecipeConfig(**config))}` (scripts/build_default_model.py; {about}{minutes:.0f} minutes in "
              f"all on {log['machine']}; stages: " + ", ".join(shown.values()) + ")")
    if config.get("pretrained_model"):  # stages 5-6 only, from a pretrained ALBERT that has its own card
        base = Path(config["pretrained_model"]).name
        shared = {"Recipe": recipe, "Pretrained model": f"`{base}` (stages 1-4 of this recipe, given with "
                  f"--pretrained-model; its own card says how it was built), fingerprint {log['pretrained_from']['fingerprint']}"}
    else:
        base = PRETRAINED_NAME
        shared = pretraining_facts(log, config, recipe)
        usage_base = ("from transformers import pipeline\n"
                      f"fill = pipeline(\"fill-mask\", model=\"{PRETRAINED_NAME}\")  # a folder with this name, or its Hub id\n"
                      "print(fill(\"이 영화 정말 [MASK]\"))\n"
                      "# Fine-tuning starts from the same folder: AutoModelForSequenceClassification.from_pretrained(...)")
        model_card(PRETRAINED_NAME, "A small Korean ALBERT for movie reviews: a domain WordPiece vocabulary, word2vec "
                   "word embeddings and a short masked-language-model training on the review corpus, the starting point "
                   "that this repository fine-tunes on NSMC.",
                   shared, usage=usage_base, pipeline_tag="fill-mask" if "mlm" in log else "feature-extraction",
                   tags=["albert", "korean", "wordpiece", "word2vec"]).save(pretrained / "README.md")  # its start: word2vec
    write_classifier_card(log, config, shared, base, classifier)


def pretraining_facts(log: dict, config: dict, recipe: str) -> dict:
    """The pretrained ALBERT's card facts (stages 1-4), from the recipe log."""
    shared = {
        "Recipe": recipe,
        "Corpus": f"{log['tokenizer']['documents']:,} unlabelled movie reviews (NSMC's raw crawl minus every NSMC test "
                  "review; `scripts/build_corpus.py`)",
        "Vocabulary": f"WordPiece, {log['tokenizer']['vocab_size']:,} tokens (🤗 Tokenizers WordPieceTrainer: NFC, "
                      f"whitespace split, min_frequency {config['min_frequency']}, limit_alphabet "
                      f"{config['limit_alphabet']}), {log['tokenizer']['seconds']:.0f} s",
        "Word embeddings": f"initialised from word2vec skip-gram (gensim) over the corpus as WordPiece tokens: dim "
                           f"{config['w2v_dim']}, window {config['w2v_window']}, {config['w2v_epochs']} epochs, "
                           f"{log['word2vec']['tokens']:,} tokens, {log['word2vec']['seconds']:.0f} s; each vector "
                           "rescaled to std 0.05",
        "Model": f"ALBERT, embedding 128, hidden {config['hidden_size']}, {config['num_layers']} passes through one "
                 f"shared layer, dropout {config['dropout']}; {log['start']['parameters']:,} parameters",
    }
    if "mlm" in log:
        mlm = log["mlm"]
        shared["Pretraining"] = (
            f"masked language model on the corpus from the word2vec start: {mlm['steps']:,} steps of "
            + (f"{config['mlm_packed_batch_size']} rows of up to 128 tokens" if mlm.get("layout") == "packed" else
               f"{config['mlm_batch_size']} reviews")
            + (f" ({mlm['corpus_epochs']:g} corpus epochs)" if "corpus_epochs" in mlm else "")
            + (" (several whole reviews per row, separated by [SEP]" if mlm.get("layout") == "packed" else
               " (one review per row")
            + ", 15% of tokens masked, MLM head at the masked positions), lr "
            f"{mlm.get('learning_rate', config['mlm_learning_rate'])}, precision {mlm['precision']}; held-out loss {mlm['final_eval_loss']:.2f} "
            f"(perplexity {mlm['final_eval_perplexity']:.0f}) against {mlm['unigram_loss']:.2f} for token frequencies "
            "alone")
    else:
        shared["Pretraining"] = ("none: only the word embeddings are learned from the corpus, the rest is freshly "
                                 "initialised (seed 42) and learned during fine-tuning")
    return shared


def write_classifier_card(log: dict, config: dict, shared: dict, base: str, classifier: Path) -> None:
    """The NSMC classifier's card: the pretraining facts, its fine-tuning and distillation, its test score."""
    from kbalbert.cards import model_card

    def training(name: str, what: str) -> str:
        stage = log[name]
        return (f"{what}, {config['epochs']:g} epoch, batch {config['batch_size']}, lr "
                f"{config['learning_rate'] if name == 'finetune' else config['distill_learning_rate']}, "
                f"{stage['steps']:,} steps, precision {stage['precision']}, {stage['train_minutes']:.1f} minutes of "
                f"training ({stage['train_reviews_per_second']:.0f} reviews/s); best checkpoint by validation "
                f"accuracy ({stage['validation_accuracy']:.4f}); NSMC test {stage['test_accuracy']:.4f}")

    facts = dict(shared)
    facts["Fine-tuning"] = training("finetune", "NSMC train minus 5,000 validation reviews")
    final = log["finetune"]
    if "distill" in log:
        final = log["distill"]
        teacher = ", ".join(f"{k} {v:.4f}" for k, v in final["teacher_validation_accuracy"].items())
        n = config["distill_teachers"]
        albert = ("the fine-tuned classifier above" if n == 1 else
                  f"the average of {n} ALBERTs fine-tuned as above (the classifier and seeds "
                  f"{', '.join(str(config['seed'] + k) for k in range(1, n))})")
        facts["Distillation"] = training(
            "distill", f"born-again: the fine-tuned classifier trained again on NSMC train (gold labels) plus "
            f"{final['unlabeled']:,} unlabelled corpus reviews (not in NSMC) labelled by a teacher, the probability "
            f"average of TF-IDF char 2-5-grams + logistic regression and {albert}, all trained "
            f"on NSMC train only, weight chosen on validation (validation accuracy: {teacher})")
    facts["NSMC test"] = (f"{final['test_reviews']:,} reviews: accuracy {final['test_accuracy']:.4f}, macro F1 "
                          f"{final['test_f1']:.4f}")
    facts["Labels"] = "0 = 부정 (negative), 1 = 긍정 (positive)"
    facts["At inference"] = "the ALBERT alone (no other model in the loop; the TF-IDF model only labelled training data)"
    usage = ("from transformers import pipeline\n"
             f"classifier = pipeline(\"text-classification\", model=\"{CLASSIFIER_NAME}\", truncation=True)\n"
             "# truncation=True: a review longer than the 128 tokens the model was trained at is read from its start\n"
             "print(classifier([\"배우들 연기가 정말 좋았다\", \"시간 아깝다\"]))")
    model_card(CLASSIFIER_NAME, f"`{base}` fine-tuned on NSMC (Korean movie-review sentiment).", facts,
               usage=usage, accuracy=final["test_accuracy"], f1=final["test_f1"], base_model=base,
               tags=["albert", "korean", "wordpiece", "sentiment-analysis", "nsmc"]).save(classifier / "README.md")


def pretrain(config: RecipeConfig, work: Path, texts, corpus_dataset, stage) -> Path:
    """Stages 1-4 (vocabulary, word2vec, start, MLM), each skipped when its output exists; returns the pretrained
    model's folder. `texts()` / `corpus_dataset()` load the corpus on first use; `stage` records a finished stage."""
    import numpy as np
    from transformers import AutoTokenizer

    import tokenization_kbalbert
    from kbalbert import pretraining, runs

    tok_dir = work / "tokenizer"
    if not (tok_dir / "tokenizer.json").exists():
        start = time.perf_counter()
        tokenizer = pretraining.train_wordpiece(texts(), config.vocab_size, config.min_frequency, config.limit_alphabet,
                                                 show_progress=True)
        if len(tokenizer) > config.vocab_size:  # WordPiece keeps the whole alphabet, whatever the size asked for
            raise ValueError(f"--vocab-size {config.vocab_size} is smaller than this corpus's alphabet: the vocabulary "
                             f"has {len(tokenizer):,} tokens with --limit-alphabet {config.limit_alphabet}. Give "
                             f"--vocab-size {len(tokenizer)} or more, or a smaller --limit-alphabet")
        partial = work / ".tokenizer.partial"  # saved whole, then renamed: never a half-written tokenizer folder
        shutil.rmtree(partial, ignore_errors=True)
        tokenization_kbalbert.save_tokenizer(tokenizer, partial)
        shutil.rmtree(tok_dir, ignore_errors=True)
        partial.rename(tok_dir)
        stage("tokenizer", time.perf_counter() - start, vocab_size=len(tokenizer), documents=len(texts()))
    tokenizer = AutoTokenizer.from_pretrained(str(tok_dir))
    vectors_file = work / "word2vec.npy"
    vectors = None
    if vectors_file.exists():
        try:
            vectors = np.load(vectors_file)
        except (ValueError, OSError, EOFError) as error:  # cut short by a crash or a full disk: made again
            print(f"note: {vectors_file} cannot be read ({error}); computing the word2vec vectors again", flush=True)
    if vectors is None or vectors.shape != (len(tokenizer), config.w2v_dim):
        vectors, report = pretraining.word2vec_vectors(tokenizer, texts(), config.w2v_dim, config.w2v_window,
                                                         config.w2v_epochs, seed=config.seed, show_progress=True)
        buffer = io.BytesIO()
        np.save(buffer, vectors)
        runs.write_bytes(vectors_file, buffer.getvalue())  # atomic: a temporary file, then renamed
        stage("word2vec", report["seconds"], tokens=report["tokens"], vocabulary_covered=round(report["covered"], 4))

    start_dir = work / "start"
    if not (start_dir / "model.safetensors").exists():
        start = time.perf_counter()
        size = pretraining.AlbertSize(embedding_size=config.w2v_dim, hidden_size=config.hidden_size,
                                        num_layers=config.num_layers, num_heads=max(1, config.hidden_size // 64),
                                        intermediate_size=4 * config.hidden_size, dropout=config.dropout)
        model = pretraining.build_albert(tokenizer, size, embeddings=vectors, seed=config.seed)
        model.save_pretrained(str(start_dir))
        tokenization_kbalbert.save_tokenizer(tokenizer, start_dir)
        stage("start", time.perf_counter() - start, parameters=pretraining.count_parameters(model))

    pretrained = start_dir
    if config.mlm_steps or config.mlm_corpus_epochs:
        pretrained = work / "mlm" / "model"
        if not (pretrained / "model.safetensors").exists():
            start = time.perf_counter()
            packed = mlm_layout(config) == "packed"
            report = pretraining.train_mlm(start_dir, corpus_dataset(),
                                             work / "mlm", pretraining.MlmSettings(
                                                 max_steps=config.mlm_steps, corpus_epochs=config.mlm_corpus_epochs,
                                                 batch_size=config.mlm_packed_batch_size if packed else config.mlm_batch_size,
                                                 learning_rate=config.mlm_packed_learning_rate if packed
                                                 else config.mlm_learning_rate, pack=packed, precision=config.precision,
                                                 seed=config.seed))
            stage("mlm", time.perf_counter() - start, layout=mlm_layout(config), learning_rate=config.mlm_packed_learning_rate
                  if packed else config.mlm_learning_rate, **report)
    return pretrained


def mlm_layout(config: RecipeConfig) -> str:
    """The MLM stage's rows: `--mlm-layout` (review by default), where auto means packed on a GPU, else review."""
    if config.mlm_layout != "auto":
        return config.mlm_layout
    import torch

    return "packed" if torch.cuda.is_available() else "review"


def run(config: RecipeConfig) -> dict:

    from kbalbert import runs

    check(config)
    with runs.locked(config.work_dir, "recipe run"):  # one run per work folder at a time
        return _run(config)


def _run(config: RecipeConfig) -> dict:
    from kbalbert import data as kd
    from kbalbert import distillation, finetuning, runs

    work = Path(config.work_dir)
    # A work folder's pretraining belongs to one set of settings: finished stages are reused only by a rerun with the
    # same ones (the later stages check their own records below).
    defining = {k: getattr(config, k) for k in PRETRAINING}
    defining["corpus_path"] = str(Path(config.corpus_path).expanduser().resolve())
    defining["mlm_layout"] = mlm_layout(config)  # auto, resolved: the same folder on another machine is another run
    if config.pretrained_model:  # stages 1-4 are not run: the given model (by content) defines what follows
        defining = {"pretrained_model": runs.fingerprint(config.pretrained_model), "corpus_path": defining["corpus_path"],
                    "max_docs": config.max_docs, "seed": config.seed}
    runs.check_same_run(work / "recipe_settings.json", defining, "recipe (pretraining)")
    log_file = work / "recipe_log.json"
    log = json.loads(log_file.read_text()) if log_file.exists() else {}

    def stage(name, seconds, **extra):
        log[name] = {"seconds": round(seconds, 1), **extra}
        runs.write_json(log_file, log)
        print(f"[{name}] {log[name]}", flush=True)

    corpus = None

    def texts():
        nonlocal corpus
        if corpus is None:
            corpus = kd.load_corpus(config.corpus_path)
            if config.max_docs:
                corpus = corpus.select(range(min(config.max_docs, corpus.num_rows)))
        return corpus["text"]

    def corpus_dataset():
        texts()
        return corpus

    if config.pretrained_model:
        pretrained = Path(config.pretrained_model)
        log["pretrained_from"] = {"path": config.pretrained_model, "fingerprint": runs.fingerprint(pretrained)}
    else:
        pretrained = pretrain(config, work, texts, corpus_dataset, stage)

    nsmc = None

    def splits():  # the NSMC splits, loaded once for the fine-tuning and distillation stages
        nonlocal nsmc
        if nsmc is None:
            nsmc = kd.nsmc_splits(kd.load_nsmc(config.nsmc_dir),
                                             finetuning.FinetuneConfig.validation_size, config.seed, config.train_size,
                                             config.test_size)
        return nsmc

    summary = ("precision", "steps", "train_minutes", "train_reviews_per_second", "validation_accuracy",
               "test_accuracy", "test_f1", "test_reviews")
    classifier = work / "nsmc" / "model"
    finetune_config = finetuning.FinetuneConfig(model_path=str(pretrained), nsmc_dir=config.nsmc_dir,
                                                train_size=config.train_size, test_size=config.test_size,
                                                precision=config.precision)  # progress bar + a line per evaluation
    finetune_args = finetuning.training_arguments(output_dir=str(work / "nsmc"), num_train_epochs=config.epochs,
                                                  per_device_train_batch_size=config.batch_size,
                                                  learning_rate=config.learning_rate, seed=config.seed)
    if (work / "nsmc" / "metrics.json").exists():  # finished: reused only if it was made with these settings
        runs.check_same_run(work / "nsmc" / "finetune_run.json",
                            finetuning.run_settings(finetune_config, asdict(finetune_args), splits()), "fine-tuning")
    else:
        start = time.perf_counter()
        metrics = finetuning.finetune(finetune_config, finetune_args, splits())
        stage("finetune", time.perf_counter() - start, **{k: metrics[k] for k in summary})

    if config.distill_unlabeled != 0:  # None: all the unlabelled reviews
        finished = (work / "distilled" / "metrics.json").exists()
        start = time.perf_counter()
        # Called even when finished: `distill` checks its run record (the same teacher, reviews and settings) first.
        metrics = distillation.distill(
            classifier, texts(), work / "distilled",
            distillation.DistillSettings(unlabeled=config.distill_unlabeled, learning_rate=config.distill_learning_rate,
                                       epochs=config.epochs, batch_size=config.batch_size, seed=config.seed,
                                       teachers=config.distill_teachers),
            finetuning.FinetuneConfig(nsmc_dir=config.nsmc_dir, train_size=config.train_size,
                                      test_size=config.test_size, precision=config.precision),
            splits=splits(), pretrained=pretrained,
            finetune_args={"num_train_epochs": config.epochs, "per_device_train_batch_size": config.batch_size,
                           "learning_rate": config.learning_rate})
        if not finished:
            stage("distill", time.perf_counter() - start, unlabeled=metrics["unlabeled"],
                  teacher_validation_accuracy=metrics["teacher_validation_accuracy"],
                  **{k: metrics[k] for k in summary})
        classifier = work / "distilled" / "model"

    recorded = asdict(config)
    for key in ("corpus_path", "nsmc_dir", "pretrained_model"):  # where the data was, relative to the repository (no machine paths)
        if recorded[key]:
            recorded[key] = os.path.relpath(recorded[key], REPO)
    log["config"], log["machine"] = recorded, machine()
    runs.write_json(log_file, log)
    write_cards(log, pretrained, classifier)

    if config.export_to:
        target = Path(config.export_to)
        sources = {PRETRAINED_NAME: pretrained, CLASSIFIER_NAME: classifier}
        for name in exported_names(config):
            source = sources[name]
            partial = target / f".{name}.partial"  # copied whole first, then swapped in: never a half-written folder
            shutil.rmtree(partial, ignore_errors=True)
            shutil.copytree(source, partial)
            if (target / name).exists():  # only with overwrite_export (checked before the first stage)
                shutil.rmtree(target / name)
            partial.rename(target / name)
        print("exported to " + " and ".join(str(target / name) for name in exported_names(config)))
    return log


if __name__ == "__main__":
    from transformers import HfArgumentParser

    from kbalbert.data import DataError
    from kbalbert.runs import RunError

    parser = HfArgumentParser(RecipeConfig, description=__doc__)
    (config,) = parser.parse_args_into_dataclasses()
    if config.cards_from:  # the shipped models' cards, refreshed from the run that made them (weights untouched)
        if not config.export_to:
            parser.error("--cards-from needs --export-to (the folder that holds the two model folders, e.g. assets)")
        write_cards(json.loads(Path(config.cards_from).read_text()), Path(config.export_to) / PRETRAINED_NAME,
                    Path(config.export_to) / CLASSIFIER_NAME)
        print(f"rewrote {Path(config.export_to) / PRETRAINED_NAME / 'README.md'} and {Path(config.export_to) / CLASSIFIER_NAME / 'README.md'}")
        raise SystemExit(0)
    try:
        check(config)  # bad settings: one line, before any stage
    except (ValueError, FileNotFoundError, FileExistsError) as error:
        parser.error(str(error))
    try:
        print(json.dumps(run(config), indent=2, ensure_ascii=False))
    except (ValueError, FileNotFoundError, FileExistsError, RunError, DataError) as error:
        if os.environ.get("KBALBERT_DEBUG") == "1":  # the whole traceback, for a bug report
            raise
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None

"""Issue 42: no lost work, no silent wrong run. Each test simulates one failure mode a user met (a crash while saving,
two runs into one folder, a finished run rerun, impossible settings, a tokenizer that does not fit its model) with tiny
sizes, and checks the refusal or the recovery. Refusals are one line on the command line."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kbalbert import finetuning, runs

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "assets" / "albert-movie-wp-small"


def tiny_config(**changes):
    return finetuning.FinetuneConfig(**{"model_path": str(MODEL), "train_size": 32, "validation_size": 16,
                                        "test_size": 16, "max_length": 32, "precision": "fp32", "quiet": True, **changes})


def tiny_args(out, **changes):
    return {"output_dir": str(out), "per_device_train_batch_size": 16, "eval_steps": 1, **changes}


def test_atomic_writes_leave_the_old_file_or_the_new_one(tmp_path, monkeypatch):
    target = tmp_path / "metrics.json"
    runs.write_json(target, {"run": 1})

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        runs.write_json(target, {"run": 2})
    assert json.loads(target.read_text()) == {"run": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]  # no temporary file left behind


def test_an_incomplete_checkpoint_is_skipped_with_one_line(tmp_path, capsys):
    for step in (1, 2, 3):
        (tmp_path / f"checkpoint-{step}").mkdir()
    for step in (1, 2):
        shutil.copy(MODEL / "model.safetensors", tmp_path / f"checkpoint-{step}")
        (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text("{}")
    (tmp_path / "checkpoint-2" / "model.safetensors").write_bytes(b"\x00" * 100)  # cut short while saving
    # checkpoint-3: the crash came before trainer_state.json
    shutil.copy(MODEL / "model.safetensors", tmp_path / "checkpoint-3")
    assert runs.last_complete_checkpoint(tmp_path) == str(tmp_path / "checkpoint-1")
    notes = capsys.readouterr().err.splitlines()
    assert len(notes) == 2 and all("incomplete" in line for line in notes)


def test_a_half_written_checkpoint_does_not_block_the_rerun(tmp_path, nsmc):
    """The same command after a crash during a save resumes from the last complete checkpoint and finishes."""
    out = tmp_path / "run"
    first = finetuning.finetune(tiny_config(), tiny_args(out))
    assert first["steps"] == 2
    # as a crash while saving checkpoint-2 leaves the folder: no final model, no metrics, checkpoint-2 half-written
    shutil.rmtree(out / "model")
    (out / "metrics.json").unlink()
    (out / "checkpoint-2" / "trainer_state.json").unlink()
    again = finetuning.finetune(tiny_config(), tiny_args(out))
    assert again["steps"] == 2 and (out / "model" / "model.safetensors").is_file()


def test_a_finished_run_rerun_reports_its_stored_result(tmp_path, nsmc):
    out = tmp_path / "run"
    first = finetuning.finetune(tiny_config(), tiny_args(out))
    stored = (out / "metrics.json").read_bytes()
    again = finetuning.finetune(tiny_config(), tiny_args(out))
    assert (out / "metrics.json").read_bytes() == stored  # used to be rewritten with train_loss 0.0 and 0 minutes
    assert again["test_accuracy"] == first["test_accuracy"] and again["train_loss"] == first["train_loss"]


def test_a_second_run_into_a_locked_folder_is_refused_and_a_stale_lock_taken_over(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / ".lock").write_text(f"{holder.pid} 2026-12-07 08:00:00\n")
        with pytest.raises(runs.RunError, match=f"in use by another fine-tuning \\(process {holder.pid}\\)"):
            finetuning.finetune(tiny_config(nsmc_dir=str(tmp_path / "no-data")), tiny_args(out))
    finally:
        holder.kill()
        holder.wait()
    # the holder is gone: its lock is stale and the next run takes it over (then fails here only for the missing data)
    with pytest.raises(Exception, match="no-data"):
        finetuning.finetune(tiny_config(nsmc_dir=str(tmp_path / "no-data")), tiny_args(out))
    assert "taking over" in capsys.readouterr().err and not (out / ".lock").exists()


@pytest.mark.parametrize("config, args, message", [
    ({}, {"per_device_train_batch_size": 0}, "per_device_train_batch_size must be a whole number of at least 1"),
    ({}, {"num_train_epochs": 0}, "num_train_epochs must be positive"),
    ({"max_length": 0}, {}, "max_length must be between 1 and the model's 128 positions"),
    ({"max_length": 2000}, {}, "max_length must be between 1 and the model's 128 positions"),
    ({"train_size": 10}, {}, "train_size 10 is smaller than one batch \\(16 reviews\\)"),
    ({"test_size": 0}, {}, "test_size must be a positive number"),
    ({}, {"learning_rate": -1.0}, "learning_rate must be positive"),
])
def test_impossible_settings_are_refused_before_any_data_loads(tmp_path, config, args, message):
    # nsmc_dir points nowhere: a refusal that came after loading the data would name the missing files instead
    with pytest.raises(ValueError, match=message):
        finetuning.finetune(tiny_config(nsmc_dir=str(tmp_path / "no-data"), **config), tiny_args(tmp_path / "run", **args))
    assert not (tmp_path / "run").exists()


def test_a_tokenizer_that_does_not_fit_the_model_is_refused():
    from transformers import AutoTokenizer

    char_tokenizer = AutoTokenizer.from_pretrained(str(REPO / "assets" / "albert-movie-char-small"))
    with pytest.raises(ValueError, match=r"has [\d,]+ tokens but the model's embeddings have 32,000"):
        finetuning.check_vocabulary(MODEL, char_tokenizer)
    finetuning.check_vocabulary(MODEL, AutoTokenizer.from_pretrained(str(MODEL)))  # its own tokenizer fits


def test_the_command_line_prints_one_error_line_for_a_users_mistake(tmp_path):
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "train_nsmc.py"), "--output_dir", str(tmp_path / "x"),
                             "--per_device_train_batch_size", "0"], capture_output=True, text=True, timeout=300,
                            cwd=REPO, env={**os.environ, "KBALBERT_DEBUG": "0"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: per_device_train_batch_size must be")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("content, message", [
    (b'[{"review": "\xec\xa2\x8b\xec\x95\x84", "review_id": 1}', r"bad\.json, line 1, column \d+: not valid JSON"),
    (b'{"review": "x"}', r"bad\.json: expected a JSON list of reviews"),
    ('[{"review": "좋아요"}]'.encode("cp949"), r"bad\.json: not UTF-8"),
])
def test_build_corpus_names_the_file_it_cannot_read(tmp_path, content, message):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "good.json").write_text('[{"review": "재밌다", "review_id": 7}]', encoding="utf-8")
    (raw / "bad.json").write_bytes(content)
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "build_corpus.py"), str(raw), str(tmp_path / "out.txt")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    import re

    assert re.search(message, result.stderr.strip().splitlines()[-1]), result.stderr
    assert not (tmp_path / "out.txt").exists()


@pytest.mark.parametrize("name", ["02-Fine-tuning-ALBERT-in-PyTorch.ipynb", "03-Fine-tuning-ALBERT-in-TensorFlow.ipynb",
                                  "04-Fine-tuning-ALBERT-with-TPU.ipynb"])
def test_a_train_size_below_one_batch_is_refused_before_any_work(name):
    """Notebook 02 with TRAIN_SIZE 100 used to stop with `IndexError: Index 113 out of range`; notebooks 02-04 now
    refuse a size below one batch at their settings check, naming the minimum (the check's own lines, run as the
    notebook runs them), and 02's batch probes stay inside a small training set."""
    import nbformat

    notebook = nbformat.read(REPO / name, as_version=4)
    source = next(c.source for c in notebook.cells if c.cell_type == "code" and "TRAIN_SIZE < BATCH_SIZE" in c.source)
    lines = source.splitlines()
    start = next(i for i, line in enumerate(lines) if "TRAIN_SIZE < BATCH_SIZE" in line)
    check = "\n".join(lines[start:start + 2])
    with pytest.raises(ValueError, match="64 이상을 주세요"):
        exec(check, {"TRAIN_SIZE": 10, "BATCH_SIZE": 64})
    exec(check, {"TRAIN_SIZE": 64, "BATCH_SIZE": 64})  # one batch is enough
    exec(check, {"TRAIN_SIZE": 100, "BATCH_SIZE": 64})  # the size that used to end in an IndexError
    exec(check, {"TRAIN_SIZE": None, "BATCH_SIZE": 64})  # all reviews
    if name.startswith("02"):  # the length-sorted batch that measures padding and precision: never past the end
        assert "min(middle + BATCH_SIZE, by_length.num_rows)" in "".join(c.source for c in notebook.cells)


def test_a_corpus_that_is_not_utf8_is_refused_naming_the_file_and_line(tmp_path):
    """The recipe on a cp949 corpus used to stop with datasets' DatasetGenerationError; `load_corpus` (the recipe,
    notebook 00, the MLM scripts) now names the file and the first line that is not UTF-8, and says how to convert."""
    from kbalbert import data as kd

    corpus = tmp_path / "reviews.txt"
    corpus.write_bytes("재밌다\n".encode("utf-8") * 3 + "최악이다\n".encode("cp949") + "좋아요\n".encode("utf-8"))
    with pytest.raises(kd.DataError, match=r"reviews\.txt, line 4: not UTF-8 .*iconv -f cp949 -t utf-8"):
        kd.load_corpus(corpus)
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "build_default_model.py"), "--corpus-path",
                             str(corpus), "--work-dir", str(tmp_path / "work")], capture_output=True, text=True,
                            timeout=300, cwd=REPO, env={**os.environ, "KBALBERT_DEBUG": "0"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: ") and "line 4: not UTF-8" in result.stderr


@pytest.mark.parametrize("line, message", [
    ('{"document": "재밌다", "probs": [0.2, 0.8]', "line 2: not JSON"),
    ('{"document": "재밌다"}', "line 2: .* is not a teacher label"),
    ('{"document": "재밌다", "probs": [0.2, 0.3, 0.5]}', "line 2: .* is not a teacher label"),
    ('{"document": "재밌다", "probs": [0.6, 0.6]}', "summing to 1"),
    ('["재밌다", [0.2, 0.8]]', "line 2: .* is not a teacher label"),
])
def test_a_malformed_soft_targets_file_is_refused_before_any_data_loads(tmp_path, line, message, monkeypatch):
    """A malformed soft-targets file used to end in a TypeError deep inside datasets; it is now refused by the
    argument check, naming the file and the line, before NSMC loads."""
    targets = tmp_path / "soft_targets.jsonl"
    targets.write_text('{"document": "좋아요", "probs": [0.1, 0.9]}\n' + line + "\n", encoding="utf-8")
    monkeypatch.setattr(finetuning.kd, "load_nsmc", lambda *a, **k: pytest.fail("NSMC loaded before the check"))
    with pytest.raises(ValueError, match=message):
        finetuning.finetune(tiny_config(soft_targets=str(targets)), tiny_args(tmp_path / "out"))
    with pytest.raises(FileNotFoundError, match="soft_targets .* not found"):
        finetuning.finetune(tiny_config(soft_targets=str(tmp_path / "missing.jsonl")), tiny_args(tmp_path / "out"))


def test_a_killed_notebook_run_leaves_the_notebook_as_it_was_and_the_rerun_finishes(tmp_path):
    """A notebook run stopped by SIGTERM (a closed terminal, a CI timeout): the notebook keeps its bytes, the
    half-run copy is kept under outputs/failed/ to read, no hidden file stays behind, and the same command run again
    finishes and writes the notebook."""
    import signal
    import time

    import nbformat

    name = f"killed-run-test-{os.getpid()}.ipynb"
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("SLEEP = 60", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(f"import pathlib, time\npathlib.Path({str(tmp_path / 'started')!r}).touch()\n"
                                  "time.sleep(SLEEP)\nprint('finished')"),
    ])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / name
    nbformat.write(notebook, path)
    before = path.read_bytes()
    failed = REPO / "outputs" / "failed" / name
    command = [sys.executable, str(REPO / "tools" / "run_notebooks.py"), str(path)]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 120
        while not (tmp_path / "started").exists():
            assert process.poll() is None and time.time() < deadline, "the notebook did not start"
            time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=120)
        assert process.returncode != 0
        assert path.read_bytes() == before, "the killed run changed the notebook"
        assert failed.is_file() and "the failed run is in" in output
        assert not list(tmp_path.glob(".*running*")), "a hidden half-written notebook stayed behind"
        # The same command, this time to the end (the sleep shortened through its parameter):
        again = subprocess.run(command + ["-p", "SLEEP", "0"], cwd=REPO, capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "finished" in json.dumps(nbformat.read(path, as_version=4).cells[1].outputs)
    finally:
        if process.poll() is None:
            process.kill()
        failed.unlink(missing_ok=True)


@pytest.mark.parametrize("name", ["03-Fine-tuning-ALBERT-in-TensorFlow.ipynb", "04-Fine-tuning-ALBERT-with-TPU.ipynb"])
def test_keras_notebooks_do_not_resume_a_run_made_with_other_settings(name, tmp_path):
    """Notebooks 03 and 04 resume from Keras' BackupAndRestore: rerun with another TRAIN_SIZE into the same OUTPUT_DIR,
    they used to go on training the old run. Their settings check (run as the notebook runs it) now refuses, naming
    the setting, and the same settings go on."""
    import nbformat

    notebook = nbformat.read(REPO / name, as_version=4)
    parameters = next(c.source for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    source = next(c.source for c in notebook.cells if c.cell_type == "code" and "runs.check_same_run" in c.source)
    lines = source.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("out = Path(OUTPUT_DIR)"))
    end = next(i for i, line in enumerate(lines) if i > start and line.rstrip().endswith('"fine-tuning")'))
    check = "\n".join(lines[start:end + 1])

    def run(**changes):
        namespace = {"os": os}
        exec(parameters, namespace)
        namespace.update(OUTPUT_DIR=str(tmp_path / "out"), **changes)
        exec("from pathlib import Path\nfrom kbalbert import runs\n" + check, namespace)

    run(TRAIN_SIZE=20000)
    (tmp_path / "out" / "backup").mkdir()  # a Keras backup: the first run's work
    (tmp_path / "out" / "best.weights.h5").write_bytes(b"weights")
    run(TRAIN_SIZE=20000)  # the same settings resume
    with pytest.raises(ValueError, match=r"train_size: 20000 before, None now"):
        run(TRAIN_SIZE=None)

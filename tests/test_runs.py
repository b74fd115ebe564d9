"""Run records (runs.py): what identifies the data and the start model of a run, and the refusal to mix two runs."""

import json

import pytest


def test_content_digest_follows_bytes_not_location(tmp_path):
    from kbalbert import runs

    a = tmp_path / "a" / "reviews.txt"
    a.parent.mkdir()
    a.write_text("재밌다\n별로\n", encoding="utf-8")
    moved = tmp_path / "elsewhere.txt"
    moved.write_bytes(a.read_bytes())
    assert runs.content_digest(a) == runs.content_digest(moved)  # same reviews, other place: the same corpus
    moved.write_text("재밌다\n별로다\n", encoding="utf-8")
    assert runs.content_digest(a) != runs.content_digest(moved)  # one review changed: another corpus
    folder = runs.content_digest(a.parent)
    (a.parent / "more.txt").write_text("최고\n", encoding="utf-8")
    assert runs.content_digest(a.parent) != folder  # a file added to a corpus folder
    with pytest.raises(FileNotFoundError):
        runs.content_digest(tmp_path / "missing.txt")


def test_check_same_run_resumes_the_same_settings_and_refuses_others(tmp_path):
    from kbalbert import runs

    record = tmp_path / "run" / "run.json"
    runs.check_same_run(record, {"lr": 3e-4, "sizes": (20000, 5000)}, "fine-tuning")
    (record.parent / "checkpoint-500").mkdir()  # work beside the record
    runs.check_same_run(record, {"lr": 3e-4, "sizes": (20000, 5000)}, "fine-tuning")  # same: resumes
    with pytest.raises(ValueError, match=r"lr: 0.0003 before, 0.0005 now"):
        runs.check_same_run(record, {"lr": 5e-4, "sizes": (20000, 5000)}, "fine-tuning")
    assert json.loads(record.read_text())["lr"] == 3e-4  # the refused run did not overwrite the record


def test_results_without_a_record_are_not_adopted(tmp_path):
    """Review finding (issue 32): a folder holding results but no run record (made before records were kept) was
    adopted as if its settings matched; now it is refused before any work. Files a stage writes before training
    (the distillation teacher's soft targets) do not count as results."""
    from kbalbert import runs

    old = tmp_path / "00-domain-albert"
    (old / "finetune").mkdir(parents=True)
    (old / "metrics.json").write_text("{}")
    with pytest.raises(ValueError, match="no record of the settings"):
        runs.check_same_run(old / "run.json", {"seed": 42}, "notebook 00")
    assert not (old / "run.json").exists()
    distill = tmp_path / "distilled"
    distill.mkdir()
    (distill / "soft_targets.jsonl").write_text("")
    (distill / "teacher.json").write_text("{}")
    runs.check_same_run(distill / "finetune_run.json", {"seed": 42}, "fine-tuning")
    assert (distill / "finetune_run.json").exists()

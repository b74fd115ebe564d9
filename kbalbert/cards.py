"""Model cards (the README.md of a model folder) written with huggingface_hub's ModelCard: YAML metadata the Hub reads
(language, license, datasets, metrics, the NSMC accuracy as an eval result) above a short Markdown body.

    card = model_card("albert-movie-wp-small-nsmc", "...what it is...", facts={"Command": "...", ...},
                      accuracy=0.8666, pipeline_tag="text-classification")
    card.save(folder / "README.md")
"""

from __future__ import annotations

from huggingface_hub import EvalResult, ModelCard, ModelCardData

NSMC = "e9t/nsmc"


WIDGET_REVIEWS = ["배우들 연기가 정말 좋았고 마지막 장면에서 울었다", "시간 아깝다. 스토리도 엉성하고 연기도 어색함"]
WIDGET_MASKED = ["이 영화 정말 [MASK]", "배우들 연기가 [MASK]"]


def model_card(
    name: str,
    summary: str,
    facts: dict[str, str],
    usage: str = "",
    accuracy: float | None = None,
    f1: float | None = None,
    pipeline_tag: str = "text-classification",
    tags: list[str] | None = None,
    base_model: str | None = None,
) -> ModelCard:
    """
    Args:
        name: the model's name (the card's title and the eval result's model name).
        summary: one paragraph: what the model is and how it was made.
        facts: ordered "label: value" lines (command, hardware, data, training, results).
        usage: a Python snippet shown under "Usage"; it must run as written with transformers alone (no module of this
            repository), from the folder that holds the model folder (tests/test_cards.py runs it).
        accuracy, f1: NSMC test scores (accuracy, macro F1), written into the metadata as eval results when given.
        base_model: the model it was fine-tuned from (the Hub's `base_model`).
    """
    eval_results = None
    if accuracy is not None:
        common = dict(task_type="text-classification", task_name="Sentiment classification", dataset_type=NSMC,
                      dataset_name="NSMC", dataset_split="test")
        eval_results = [EvalResult(metric_type="accuracy", metric_name="Accuracy (50,000 test reviews)",
                                   metric_value=round(float(accuracy), 4), **common)]
        if f1 is not None:
            eval_results.append(EvalResult(metric_type="f1", metric_name="Macro F1 (50,000 test reviews)",
                                           metric_value=round(float(f1), 4), metric_config="macro", **common))
    widget = None
    if pipeline_tag == "text-classification":
        widget = [{"text": text} for text in WIDGET_REVIEWS]
    elif pipeline_tag == "fill-mask":
        widget = [{"text": text} for text in WIDGET_MASKED]
    data = ModelCardData(
        language="ko", license="cc0-1.0", library_name="transformers", pipeline_tag=pipeline_tag,
        tags=tags or ["albert", "korean"], datasets=[NSMC], metrics=["accuracy", "f1"] if accuracy is not None else None,
        base_model=base_model, model_name=name, eval_results=eval_results, widget=widget,
    )
    lines = [f"# {name}", "", summary, ""]
    lines += [f"- {label}: {value}" for label, value in facts.items()]
    if usage:
        lines += ["", "## Usage", "", "```python", usage.strip(), "```"]
    lines += ["", "## License", "", "CC0 1.0: the model, like the data it was trained on (NSMC and the review corpus drawn "
              "from NSMC's raw crawl, both CC0 1.0). The code that built it is Apache-2.0 (the repository's LICENSE)."]
    return ModelCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(lines) + "\n")

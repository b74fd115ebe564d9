"""Model cards (the README.md of a model folder) written with huggingface_hub's ModelCard: YAML metadata the Hub reads
(language, license, datasets, metrics, the NSMC accuracy as an eval result) above a short Markdown body.

    card = model_card("albert-movie-wp-small-nsmc", "...what it is...", facts={"Command": "...", ...},
                      accuracy=0.8666, pipeline_tag="text-classification")
    card.save(folder / "README.md")
"""

from __future__ import annotations

from huggingface_hub import EvalResult, ModelCard, ModelCardData

NSMC = "e9t/nsmc"


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
        usage: a Python snippet shown under "Usage".
        accuracy, f1: NSMC test scores, written into the metadata as an eval result when given.
        base_model: the folder or Hub name it was fine-tuned from.
    """
    eval_results = None
    if accuracy is not None:
        eval_results = [EvalResult(task_type="text-classification", dataset_type=NSMC, dataset_name="NSMC (test, 50,000 reviews)",
                                   metric_type="accuracy", metric_value=round(float(accuracy), 4))]
        if f1 is not None:
            eval_results.append(EvalResult(task_type="text-classification", dataset_type=NSMC,
                                           dataset_name="NSMC (test, 50,000 reviews)", metric_type="f1",
                                           metric_value=round(float(f1), 4)))
    data = ModelCardData(
        language="ko", license="cc0-1.0", library_name="transformers", pipeline_tag=pipeline_tag,
        tags=tags or ["albert", "korean"], datasets=[NSMC], metrics=["accuracy"] if accuracy is not None else None,
        base_model=base_model, model_name=name, eval_results=eval_results,
    )
    lines = [f"# {name}", "", summary, ""]
    lines += [f"- {label}: {value}" for label, value in facts.items()]
    if usage:
        lines += ["", "## Usage", "", "```python", usage.strip(), "```"]
    return ModelCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(lines) + "\n")

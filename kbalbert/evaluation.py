"""Looking at a fine-tuned NSMC classifier (notebooks 02-04): its most confident errors, its confusion matrix, and the
memory the run took."""

from __future__ import annotations

from kbalbert.data import LABEL_NAMES


def peak_memory_gb() -> float | None:
    """This process's peak resident memory in GB, or None where the standard library cannot tell (Windows)."""
    try:
        import resource
    except ImportError:  # Windows has no `resource` module
        return None
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return round(peak / (2**30 if sys.platform == "darwin" else 2**20), 2)


def confident_errors(texts, labels, logits, top: int = 12):
    """The test reviews a classifier got wrong, most confident first (notebooks 02 and 03), as a pandas DataFrame.

    A small model's probabilities saturate (many errors print as 0.990), so they are ranked by the logit margin, the
    predicted class's logit minus the other's, which keeps its order where the rounded probabilities tie."""
    import numpy as np
    import pandas as pd
    from scipy.special import softmax

    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels)
    predicted = logits.argmax(-1)
    ordered = np.sort(logits, axis=-1)
    table = pd.DataFrame({
        "review": list(texts),
        "label": [LABEL_NAMES[i] for i in labels],
        "predicted": [LABEL_NAMES[i] for i in predicted],
        "confidence": softmax(logits, axis=-1).max(-1),
        "logit_margin": ordered[:, -1] - ordered[:, -2],
    })
    wrong = table[labels != predicted]
    return wrong.sort_values("logit_margin", ascending=False, kind="stable").head(top)


def plot_confusion(labels, predicted, path=None):
    """The confusion matrix of NSMC predictions with Korean class names (notebooks 02-04); saved to `path` if given.
    The Korean labels render with the NanumGothic font that koreanize-matplotlib bundles (offline, also on Colab)."""
    import koreanize_matplotlib  # noqa: F401
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, ax = plt.subplots(figsize=(4, 3.5))
    ConfusionMatrixDisplay.from_predictions(labels, predicted, display_labels=LABEL_NAMES, values_format=",", ax=ax,
                                            colorbar=False)
    ax.set_title(f"NSMC 테스트 ({len(labels):,}건)")
    ax.set_xlabel("예측")
    ax.set_ylabel("정답")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig

"""Classical baseline for NSMC: TF-IDF over character 2-5-grams + a linear SVM, trained on all 150,000 training
reviews and scored once on the 50,000 test reviews.

    python bench/tfidf_baseline.py     # prints accuracy, writes bench/results/tfidf_baseline.json

The ALBERT models of this tutorial must beat this number to be worth their cost.
"""

import json
import os
import platform
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("NSMC_DIR", str(REPO.parent / "shared" / "data" / "nsmc"))

from sklearn.metrics import accuracy_score, f1_score  # noqa: E402

from kbalbert import (
    baselines,  # noqa: E402
    precision,  # noqa: E402
)
from kbalbert import data as kd  # noqa: E402


def main():
    nsmc = kd.load_nsmc()
    train, test = nsmc["train"], nsmc["test"]
    model = baselines.tfidf_baseline()  # the same pipeline notebooks 00 and 02 use
    model.fit(train["document"], train["label"])
    predictions = model.predict(test["document"])
    result = {
        "model": "TfidfVectorizer(analyzer='char', ngram_range=(2, 5), min_df=2, sublinear_tf=True) + LinearSVC(C=0.5)",
        "train_reviews": train.num_rows, "test_reviews": test.num_rows,
        "test_accuracy": round(float(accuracy_score(test["label"], predictions)), 4),
        "test_macro_f1": round(float(f1_score(test["label"], predictions, average="macro")), 4),
        "features": len(model[0].vocabulary_),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores ({precision.cpu_flags()})",
    }
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "tfidf_baseline.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

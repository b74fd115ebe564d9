"""Classifies Korean movie reviews with a model exported by notebook 03 (`kbalbert.keras_albert.export_for_serving`): TensorFlow
and the tokenizer only, no Keras, keras_hub or PyTorch. The export folder holds this file as serve.py:

    python serve.py "리뷰 하나" "리뷰 둘"      # or one review per line on stdin; prints a JSON list
    python serve.py -- "-_- 이게 뭐야"          # a review that starts with "-": put -- before the reviews
"""

import argparse
import functools
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


@functools.cache
def load():
    """The tokenizer, the SavedModel and the settings (labels, max_length), loaded once on first use (so that
    `--help` answers without starting TensorFlow)."""
    # TensorFlow 2.20-2.21 wheels load with RTLD_GLOBAL and then crash a later `import triton` (PyTorch's CUDA build):
    # load it with RTLD_LOCAL, as the fixed wheels do (tensorflow/tensorflow#124205).
    sys.modules.setdefault("tensorflow.python.pywrap_dlopen_global_flags", None)
    import tensorflow as tf
    from transformers import AutoTokenizer

    import tokenization_kbalbert  # noqa: F401  (registers the character tokenizer with AutoTokenizer)

    settings = json.loads((HERE / "serving.json").read_text(encoding="utf-8"))
    return AutoTokenizer.from_pretrained(HERE / "tokenizer"), tf.saved_model.load(str(HERE / "saved_model")), settings


def classify(texts):
    """A {"label", "score"} per text, in order; an empty (or blank) text gets label and score null: there is nothing
    to classify, and a model asked anyway answers with its bias."""
    import tensorflow as tf

    texts = list(texts)
    results = [{"label": None, "score": None} for _ in texts]
    filled = [i for i, text in enumerate(texts) if text.strip()]
    if not filled:
        return results
    tokenizer, model, settings = load()
    encoded = tokenizer([texts[i] for i in filled], truncation=True, max_length=settings["max_length"], padding=True,
                        return_tensors="np")
    inputs = {"token_ids": encoded["input_ids"].astype("int32"),
              "segment_ids": encoded["token_type_ids"].astype("int32"),
              "padding_mask": encoded["attention_mask"].astype(bool)}
    probabilities = tf.nn.softmax(tf.cast(model.serve(inputs), tf.float64)).numpy()
    for i, p in zip(filled, probabilities):
        results[i] = {"label": settings["labels"][int(p.argmax())], "score": float(p.max())}
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("reviews", nargs="*", help="reviews to classify (none: one review per line on stdin)")
    texts = parser.parse_args().reviews or [line.rstrip("\n") for line in sys.stdin]  # one result per line, in order
    missing = [name for name in ("serving.json", "saved_model", "tokenizer") if not (HERE / name).exists()]
    if missing:  # serve.py copied away from its export folder, or a partial copy
        parser.error(f"{HERE} lacks {', '.join(missing)}: run the serve.py inside the folder that "
                     "export_for_serving wrote")
    if not texts:
        parser.error("no reviews: give them as arguments, or one per line on stdin")
    print(json.dumps(classify(texts), ensure_ascii=False))

"""Classifies Korean movie reviews with a model exported by notebook 03 (`keras_nsmc.export_for_serving`): TensorFlow
and the tokenizer only, no Keras, keras_hub or PyTorch. The export folder holds this file as serve.py:

    python serve.py "리뷰 하나" "리뷰 둘"      # or one review per line on stdin; prints a JSON list
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import tensorflow as tf  # noqa: E402
import tokenization_kbalbert  # noqa: E402,F401  (registers the character tokenizer with AutoTokenizer)
from transformers import AutoTokenizer  # noqa: E402

SETTINGS = json.loads((HERE / "serving.json").read_text(encoding="utf-8"))  # labels, max_length
tokenizer = AutoTokenizer.from_pretrained(HERE / "tokenizer")
model = tf.saved_model.load(str(HERE / "saved_model"))


def classify(texts):
    encoded = tokenizer(list(texts), truncation=True, max_length=SETTINGS["max_length"], padding=True,
                        return_tensors="np")
    inputs = {"token_ids": encoded["input_ids"].astype("int32"),
              "segment_ids": encoded["token_type_ids"].astype("int32"),
              "padding_mask": encoded["attention_mask"].astype(bool)}
    probabilities = tf.nn.softmax(tf.cast(model.serve(inputs), tf.float64)).numpy()
    return [{"label": SETTINGS["labels"][int(p.argmax())], "score": float(p.max())} for p in probabilities]


if __name__ == "__main__":
    texts = sys.argv[1:] or [line.rstrip("\n") for line in sys.stdin]
    print(json.dumps(classify(texts), ensure_ascii=False))

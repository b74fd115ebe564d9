"""The plumbing and the full-scale recipe behind the notebooks (what a learner does not come for); the lessons
themselves are in the notebooks. One module per subject:

- `data`: NSMC download with checksum, the validation split, the review corpus
- `pretraining`: WordPiece vocabulary, word2vec start, the small ALBERT, masked-language-model training (`sop`: the
  sentence-order task of the earlier char model)
- `finetuning`: notebook 02's recipe as one function and its training arguments (`scripts/train_nsmc.py` is its CLI)
- `distillation`, `baselines` (TF-IDF), `inference` (tokenizer loading, probabilities)
- `keras_albert`: the same ALBERT in Keras 3 / keras_hub (notebooks 03, 04), `serve_savedmodel`: its serving script
- `precision`: the one precision rule; `runs`: run records and refusals; `cards`: model cards; `evaluation`: error
  analysis and plots; `demo`: the Gradio page
"""

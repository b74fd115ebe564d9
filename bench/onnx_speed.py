"""Inference speed of the fine-tuned classifier: eager PyTorch vs ONNX Runtime (float32 and dynamic int8), side by side.

    python bench/onnx_speed.py                     # writes bench/results/onnx_speed.json
    python bench/onnx_speed.py --reviews 500 --repeats 1    # quicker

The model (default `assets/albert-movie-wp-small-nsmc`; the recorded results are from the earlier character-level classifier) is exported the way notebook 01 does it
(`torch.onnx.export(dynamo=True)`, dynamic batch and length), then int8-quantised with `quantize_dynamic`. Each engine
classifies the first `--reviews` NSMC test reviews in file order (no length sorting: requests come as they come), at
batch 1 and batch 32, tokenisation included, with the same number of threads; after one warm-up pass, the median of
`--repeats` passes is kept. Label agreement with PyTorch on those reviews is recorded too. Run it alone: another
CPU-heavy process skews it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("NSMC_DIR", str(REPO.parent / "shared" / "data" / "nsmc"))

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402
from onnxruntime.quantization import QuantType, quant_pre_process, quantize_dynamic  # noqa: E402
from transformers import AutoModelForSequenceClassification, AutoTokenizer  # noqa: E402

import tokenization_kbalbert  # noqa: E402, F401
from kbalbert import data as kd  # noqa: E402

INPUTS = ["input_ids", "attention_mask", "token_type_ids"]


def export(model, tokenizer, folder: Path) -> tuple[Path, Path]:
    example = tokenizer(["이 영화 정말 재밌어요", "별로"], padding=True, return_tensors="pt")
    dims = {name: {0: torch.export.Dim("batch"), 1: torch.export.Dim("sequence")} for name in INPUTS}
    fp32, prepared, int8 = folder / "model.onnx", folder / "model.prep.onnx", folder / "model.int8.onnx"
    torch.onnx.export(model, kwargs={n: example[n] for n in INPUTS}, f=str(fp32), input_names=INPUTS,
                      output_names=["logits"], dynamic_shapes=dims, dynamo=True, external_data=False, verbose=False)
    quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
    quantize_dynamic(str(prepared), str(int8), weight_type=QuantType.QInt8)
    return fp32, int8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(REPO / "assets" / "albert-movie-wp-small-nsmc"))
    parser.add_argument("--reviews", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "onnx_speed.json")
    args = parser.parse_args()

    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForSequenceClassification.from_pretrained(args.model).eval()
    texts = kd.load_nsmc()["test"][: args.reviews]["document"]
    threads = torch.get_num_threads()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads

    def torch_run(batch):
        enc = tokenizer(batch, padding=True, truncation=True, max_length=128, return_tensors="pt")
        with torch.inference_mode():
            return model(**enc).logits.numpy()

    def ort_run(session):
        def run(batch):
            enc = tokenizer(batch, padding=True, truncation=True, max_length=128, return_tensors="np")
            return session.run(["logits"], {n: enc[n] for n in INPUTS})[0]
        return run

    with tempfile.TemporaryDirectory() as tmp:
        fp32, int8 = export(model, tokenizer, Path(tmp))
        sizes = {"onnx_float32_mb": round(fp32.stat().st_size / 1e6, 2), "onnx_int8_mb": round(int8.stat().st_size / 1e6, 2)}
        engines = {
            "pytorch": torch_run,
            "onnxruntime": ort_run(ort.InferenceSession(str(fp32), options, providers=["CPUExecutionProvider"])),
            "onnxruntime_int8": ort_run(ort.InferenceSession(str(int8), options, providers=["CPUExecutionProvider"])),
        }
        rows = []
        for batch_size in (1, 32):
            batches = [texts[i : i + batch_size] for i in range(0, len(texts), batch_size)]
            labels = {}
            for name, run in engines.items():
                labels[name] = np.concatenate([run(b) for b in batches]).argmax(1)  # warm-up pass, also gives the labels
                seconds = []
                for _ in range(args.repeats):
                    start = time.perf_counter()
                    for b in batches:
                        run(b)
                    seconds.append(time.perf_counter() - start)
                rows.append({"batch_size": batch_size, "engine": name, "reviews_per_second": round(len(texts) / statistics.median(seconds), 1),
                             "label_agreement_with_pytorch": float((labels[name] == labels["pytorch"]).mean())})
                print(rows[-1], flush=True)
            base = next(r["reviews_per_second"] for r in rows if r["batch_size"] == batch_size and r["engine"] == "pytorch")
            for r in rows:
                if r["batch_size"] == batch_size:
                    r["speedup_vs_pytorch"] = round(r["reviews_per_second"] / base, 2)

    result = {
        "command": " ".join(["python bench/onnx_speed.py", *sys.argv[1:]]),
        "model": os.path.relpath(args.model, REPO),
        "reviews": len(texts),
        "repeats": args.repeats,
        "threads": threads,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, {platform.processor() or platform.platform()}",
        "versions": {"torch": torch.__version__, "onnxruntime": ort.__version__},
        **sizes,
        "rows": rows,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    for r in rows:
        print(f"batch {r['batch_size']:>2}  {r['engine']:<17} {r['reviews_per_second']:>7.1f} reviews/s  x{r['speedup_vs_pytorch']:.2f}  agreement {r['label_agreement_with_pytorch']:.4f}")


if __name__ == "__main__":
    main()

"""Starts the Korean movie-review sentiment demo page (Gradio) on this machine and prints its address.

    python scripts/demo.py                                   # the shipped classifier, http://127.0.0.1:7860
    python scripts/demo.py --model outputs/02-pytorch/model  # any fine-tuned classifier folder (with its tokenizer)
    python scripts/demo.py --port 0                          # a free port, printed at start

It runs offline; Ctrl+C stops it. The page itself is built by kbalbert.demo.build_demo (notebook 02 shows it inline). A folder that is not a
fine-tuned classifier with its tokenizer is refused with one `error:` line before anything loads.
"""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

from kbalbert import demo as sentiment_demo  # noqa: E402  (sets GRADIO_ANALYTICS_ENABLED before gradio is imported)


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(sentiment_demo.DEFAULT_MODEL),
                        help="a fine-tuned classifier folder (default: the shipped one)")
    parser.add_argument("--port", type=int, default=7860, help="port to listen on (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: reachable from the network)")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be between 0 and 65535, got {args.port}")
    try:
        sentiment_demo.check_model_folder(args.model)  # a wrong folder fails here, before torch and gradio load
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None

    classifier = sentiment_demo.SentimentClassifier(args.model)
    demo = sentiment_demo.build_demo(classifier)
    port = args.port or free_port(args.host)
    demo.launch(server_name=args.host, server_port=port, share=False, inbrowser=False, quiet=True,
                theme=sentiment_demo.theme(), prevent_thread_lock=True)
    print(f"Demo of {args.model} at http://{args.host}:{port}/ (Ctrl+C stops it)", flush=True)
    try:
        demo.block_thread()
    finally:
        demo.close()


if __name__ == "__main__":
    main()

"""Fine-tunes an ALBERT (or any encoder with a sequence-classification head) on NSMC with notebook 02's recipe
(`kbalbert.finetuning.finetune`), in one process or data-parallel under `accelerate launch`:

    python scripts/train_nsmc.py --train-size 2000                                  # one process
    python scripts/train_nsmc.py --num_train_epochs 2 --learning_rate 1e-4          # any TrainingArguments option
    accelerate launch --multi_gpu --num_processes 2 scripts/train_nsmc.py --train-size 2000  # 2 processes (CPU: gloo)
    accelerate launch --multi_gpu --num_processes 8 scripts/train_nsmc.py           # 8 GPUs (nccl), bf16 or fp16 by GPU

(`--multi_gpu` means "several processes through torchrun": on a machine without a GPU they run on the CPU and talk
over gloo. `accelerate launch --cpu` alone starts one process; its multi-CPU mode needs MPI.)

Options: this project's (`--model-path`, `--train-size`, `--precision` ...: `kbalbert.finetuning.FinetuneConfig`) and
every `TrainingArguments` option, whose defaults are the recipe's (`kbalbert.finetuning.RECIPE`). The model goes to
`<output_dir>/model` with `metrics.json` beside it. A mistake in the settings or the data is one `error:` line
(exit code 2); KBALBERT_DEBUG=1 shows the whole traceback.
"""

import json
import os
import sys

from kbalbert.data import DataError
from kbalbert.finetuning import finetune, parse_args
from kbalbert.runs import RunError

if __name__ == "__main__":
    config, args = parse_args(description=__doc__)  # a mistyped option: argparse's one line, exit code 2
    try:
        print(json.dumps(finetune(config, args), indent=2))
    except (ValueError, FileNotFoundError, FileExistsError, RunError, DataError) as error:
        if os.environ.get("KBALBERT_DEBUG") == "1":  # the whole traceback, for a bug report
            raise
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None

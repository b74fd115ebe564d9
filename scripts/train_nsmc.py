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
`<output_dir>/model` with `metrics.json` beside it.
"""

import json

from kbalbert.finetuning import finetune, parse_args

if __name__ == "__main__":
    print(json.dumps(finetune(*parse_args(description=__doc__)), indent=2))

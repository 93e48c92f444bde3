"""Fix "Weights only load failed ... GLOBAL ...TrainingArguments": training_args.bin.

Every Trainer checkpoint folder holds a training_args.bin: a torch.save of the
TrainingArguments object, which torch.load refuses by default (weights_only=True).
The numbers you usually want are in trainer_state.json; for a file you trust, allow
the classes that the file names, for that load only.
"""

import argparse
import importlib
import json
import pickle
import tempfile
from pathlib import Path

import torch
from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments
from transformers.utils import logging as hf_logging


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    hf_logging.disable_progress_bar()
    torch.manual_seed(0)
    sizes = dict(n_layer=2, n_head=2, n_embd=32, n_positions=64, vocab_size=100)
    model = GPT2LMHeadModel(GPT2Config(**sizes, bos_token_id=0, eos_token_id=0))
    tokens = torch.randint(0, 100, (8, 8))
    dataset = [{"input_ids": t, "labels": t} for t in tokens]
    args = TrainingArguments(
        output_dir=out_dir / "run",
        max_steps=2,
        save_steps=2,
        per_device_train_batch_size=4,
        report_to="none",
        disable_tqdm=True,
        use_cpu=device == "cpu",
    )
    Trainer(model=model, args=args, train_dataset=dataset).train()
    checkpoint = out_dir / "run" / "checkpoint-2"

    try:
        torch.load(checkpoint / "training_args.bin", weights_only=True)
    except pickle.UnpicklingError as err:
        error = err
    else:
        raise AssertionError("weights_only=True loaded a TrainingArguments")
    print(f"{type(error).__name__}: {error}")
    assert "GLOBAL transformers.training_args.TrainingArguments" in str(error)

    # --8<-- [start:trainer_state]
    # Fix 1: the step, the epoch, the losses and the main settings are in JSON.
    state = json.loads((checkpoint / "trainer_state.json").read_text())
    settings = ["global_step", "max_steps", "save_steps", "train_batch_size"]
    print({key: state[key] for key in settings})
    # --8<-- [end:trainer_state]
    assert state["global_step"] == 2 and state["train_batch_size"] == 4

    # --8<-- [start:allow]
    # Fix 2, for a file you trust: allow the classes it names, for this load only.
    def find_class(name):  # "package.module.Class" -> the class
        module, _, attribute = name.rpartition(".")
        return getattr(importlib.import_module(module), attribute)

    path = checkpoint / "training_args.bin"
    names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    print(sorted(names))
    with torch.serialization.safe_globals([find_class(name) for name in names]):
        training_args = torch.load(path, weights_only=True)
    print(type(training_args).__name__, "max_steps:", training_args.max_steps)
    # --8<-- [end:allow]
    assert isinstance(training_args, TrainingArguments)
    assert training_args.max_steps == 2 and training_args.save_steps == 2
    assert TrainingArguments not in torch.serialization.get_safe_globals()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))

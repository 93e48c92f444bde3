"""Hugging Face Trainer checkpoints: what checkpoint-N/ holds, how each file loads,
resuming with trainer.train(resume_from_checkpoint=...), and the weights alone.

A tiny GPT-2 built from a config trains for 10 steps on random tokens and saves a
checkpoint every 5 steps. A second run resumes from checkpoint-5 and must end
with the same weights and losses as the run that was never interrupted.
"""

import argparse
import json
import pickle
import re
import tempfile
from pathlib import Path

import numpy as np
import torch
from accelerate.state import PartialState
from accelerate.utils import DistributedType
from safetensors.torch import load_file
from torch.utils.data import Dataset
from transformers import (
    GPT2Config,
    GPT2LMHeadModel,
    Trainer,
    TrainingArguments,
)
from transformers.trainer_pt_utils import AcceleratorConfig
from transformers.trainer_utils import (
    HubStrategy,
    IntervalStrategy,
    SaveStrategy,
    SchedulerType,
)
from transformers.training_args import OptimizerNames
from transformers.utils import logging as hf_logging


class RandomTokens(Dataset):
    """32 sequences of 8 token ids: a stand-in for a tokenized text dataset."""

    def __init__(self, size=32, length=8, vocab_size=100):
        generator = torch.Generator().manual_seed(0)
        self.tokens = torch.randint(0, vocab_size, (size, length), generator=generator)

    def __len__(self):
        return len(self.tokens)

    def __getitem__(self, i):
        return {"input_ids": self.tokens[i], "labels": self.tokens[i]}


def tiny_gpt2():
    torch.manual_seed(0)
    sizes = dict(n_layer=2, n_head=2, n_embd=32, n_positions=64, vocab_size=100)
    return GPT2LMHeadModel(GPT2Config(**sizes, bos_token_id=0, eos_token_id=0))


# --8<-- [start:trainer]
def make_trainer(output_dir, device="cpu"):
    args = TrainingArguments(
        output_dir=output_dir,
        max_steps=10,
        save_steps=5,  # checkpoint-5/ and checkpoint-10/
        per_device_train_batch_size=4,
        learning_rate=1e-3,
        logging_steps=1,  # every loss in trainer_state.json's log_history
        seed=0,
        report_to="none",  # no TensorBoard, no W&B
        disable_tqdm=True,
        use_cpu=device == "cpu",
    )
    return Trainer(model=tiny_gpt2(), args=args, train_dataset=RandomTokens())


# --8<-- [end:trainer]


def losses(trainer, after_step=0):
    """The losses of the steps after `after_step`, from the trainer's log history."""
    history = trainer.state.log_history
    return [h["loss"] for h in history if "loss" in h and h["step"] > after_step]


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    hf_logging.disable_progress_bar()  # they go to stderr; keep the terminal quiet

    # --8<-- [start:train]
    trainer = make_trainer(out_dir / "run", device)
    trainer.train()
    checkpoint = out_dir / "run" / "checkpoint-5"
    # --8<-- [end:train]
    folders = sorted(p.name for p in (out_dir / "run").iterdir())
    assert folders == ["checkpoint-10", "checkpoint-5"], folders

    # --8<-- [start:files]
    model_bytes = (checkpoint / "model.safetensors").stat().st_size
    for path in sorted(checkpoint.iterdir()):
        size = f"{path.stat().st_size:>7,} bytes"
        # torch.save's zip records, and the logged losses' digits, vary by release
        if path.suffix in (".pt", ".pth", ".bin") or path.name == "trainer_state.json":
            size = f"{path.stat().st_size / model_bytes:7.2f} x model.safetensors"
        print(f"{path.name:24} {size}")
    # AdamW keeps two tensors per weight: the optimizer file is twice the model.
    assert 2.0 < (checkpoint / "optimizer.pt").stat().st_size / model_bytes < 2.3
    # --8<-- [end:files]
    files = sorted(p.name for p in checkpoint.iterdir())
    assert files == [
        "config.json",
        "generation_config.json",
        "model.safetensors",
        "optimizer.pt",
        "rng_state.pth",
        "scheduler.pt",
        "trainer_state.json",
        "training_args.bin",
    ], files

    # --8<-- [start:weights_only]
    for name in ["optimizer.pt", "scheduler.pt", "rng_state.pth", "training_args.bin"]:
        try:
            torch.load(checkpoint / name, weights_only=True)
            print(f"{name:18} loads with weights_only=True")
        except pickle.UnpicklingError as err:
            unsupported = re.search(r"Unsupported global: (GLOBAL \S+)", str(err))[1]
            print(f"{name:18} UnpicklingError: {unsupported}")
    # --8<-- [end:weights_only]
    try:  # the whole message, quoted on the troubleshooting page
        torch.load(checkpoint / "training_args.bin", weights_only=True)
    except pickle.UnpicklingError as err:
        print(f"{type(err).__name__}: {err}")
    else:
        raise AssertionError("weights_only=True loaded a TrainingArguments")
    optimizer_state = torch.load(checkpoint / "optimizer.pt", weights_only=True)
    scheduler_state = torch.load(checkpoint / "scheduler.pt", weights_only=True)
    assert set(optimizer_state) == {"state", "param_groups"}
    assert scheduler_state["last_epoch"] == 5  # the schedule's step count

    # What blocks the two files: the classes that each pickle names.
    # --8<-- [start:unsafe_globals]
    rng_globals = torch.serialization.get_unsafe_globals_in_checkpoint(
        checkpoint / "rng_state.pth"
    )
    print(sorted(rng_globals))
    # --8<-- [end:unsafe_globals]
    assert sorted(rng_globals) == [
        "numpy._core.multiarray._reconstruct",
        "numpy.dtype",
        "numpy.ndarray",
    ]

    # --8<-- [start:rng_state]
    numpy_classes = [np._core.multiarray._reconstruct, np.ndarray, np.dtype]
    numpy_classes.append(type(np.dtype(np.uint32)))  # numpy.dtypes.UInt32DType
    with torch.serialization.safe_globals(numpy_classes):
        rng_state = torch.load(checkpoint / "rng_state.pth", weights_only=True)
    print(sorted(rng_state))
    # --8<-- [end:rng_state]
    assert {"python", "numpy", "cpu"} <= set(rng_state)

    # --8<-- [start:trainer_state]
    state = json.loads((checkpoint / "trainer_state.json").read_text())
    print("global_step:", state["global_step"], "| epoch:", state["epoch"])
    # The values change with the PyTorch release (its kernels' rounding): count them.
    print("losses logged:", sum("loss" in h for h in state["log_history"]))
    print({key: state[key] for key in ["max_steps", "save_steps", "train_batch_size"]})
    # --8<-- [end:trainer_state]
    assert state["global_step"] == 5 and len(state["log_history"]) == 5

    # --8<-- [start:training_args]
    # Only for a checkpoint you trust: each allowed class is rebuilt from the file.
    expected = [TrainingArguments, AcceleratorConfig, OptimizerNames, SchedulerType]
    expected += [IntervalStrategy, SaveStrategy, HubStrategy]
    expected += [PartialState, DistributedType]
    path = checkpoint / "training_args.bin"
    names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    print(sorted(names))
    allowed = {f"{c.__module__}.{c.__qualname__}" for c in expected}
    if not set(names) <= allowed:  # never allow what you did not expect
        raise ValueError(f"unexpected classes: {sorted(set(names) - allowed)}")
    with torch.serialization.safe_globals(expected):
        training_args = torch.load(path, weights_only=True)
    print(type(training_args).__name__, "max_steps:", training_args.max_steps)
    # --8<-- [end:training_args]
    assert isinstance(training_args, TrainingArguments)
    assert "transformers.training_args.TrainingArguments" in names
    assert TrainingArguments not in torch.serialization.get_safe_globals()
    assert set(names) == allowed  # the file names exactly the expected classes
    assert training_args.learning_rate == 1e-3

    # --8<-- [start:resume]
    resumed = make_trainer(out_dir / "resumed", device)  # a new model, from scratch
    resumed.train(resume_from_checkpoint=checkpoint)
    # --8<-- [end:resume]

    # --8<-- [start:compare]
    print("losses after step 5:", losses(trainer, 5) == losses(resumed, 5))
    final, final_resumed = trainer.model.state_dict(), resumed.model.state_dict()
    same = all(torch.equal(final[k], final_resumed[k]) for k in final)
    print("same final weights:", same)
    # --8<-- [end:compare]
    assert len(losses(trainer, 5)) == 5
    assert losses(trainer, 5) == losses(resumed, 5)
    assert same

    # --8<-- [start:weights]
    last = out_dir / "run" / "checkpoint-10"
    # With Transformers: the checkpoint folder is a save_pretrained folder.
    model = GPT2LMHeadModel.from_pretrained(last)
    # Without from_pretrained: build the model from config.json, load the tensors.
    plain = GPT2LMHeadModel(GPT2Config.from_pretrained(last))
    print(plain.load_state_dict(load_file(last / "model.safetensors"), strict=False))
    print("tied:", plain.lm_head.weight is plain.transformer.wte.weight)
    # --8<-- [end:weights]
    trained = {k: v.cpu() for k, v in trainer.model.state_dict().items()}
    assert all(torch.equal(model.state_dict()[k], trained[k]) for k in trained)
    assert all(torch.equal(plain.state_dict()[k], trained[k]) for k in trained)
    print("from_pretrained and load_file give the trained weights: True")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))

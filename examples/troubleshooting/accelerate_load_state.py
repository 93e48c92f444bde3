"""Fix two errors of Accelerate's save_state and load_state when you resume.

`load_state` refuses a folder whose number of `custom_checkpoint_N.pkl` files is not
the number of objects you registered with `register_for_checkpointing`: register
the same objects, in the same order, before you load. With
`automatic_checkpoint_naming`, a new Accelerator counts its saves from 0 again, so
its first `save_state` after a resume finds `checkpoint_0` there and refuses to
write: set `accelerator.project_configuration.iteration` after loading.
Then two more behaviours of `load_state`: a layer of another shape fails with
`size mismatch`, and a missing `random_states_N.pkl` is skipped with no error.
"""

import argparse
import logging
import os
import tempfile
from pathlib import Path

import torch
from accelerate import Accelerator
from accelerate.utils import ProjectConfiguration
from torch import nn


class Progress:
    """An object of yours for Accelerate to save: state_dict and load_state_dict."""

    def __init__(self):
        self.epoch = 0

    def state_dict(self):
        return {"epoch": self.epoch}

    def load_state_dict(self, state_dict):
        self.epoch = state_dict["epoch"]


def make(project_dir, device, out_features=5):
    accelerator = Accelerator(
        cpu=device == "cpu",
        project_config=ProjectConfiguration(
            project_dir=project_dir, automatic_checkpoint_naming=True
        ),
    )
    model = nn.Linear(10, out_features)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer = accelerator.prepare(model, optimizer)
    return accelerator, model, optimizer


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    project_dir = out_dir / "run"
    accelerator, model, optimizer = make(project_dir, device)
    progress = Progress()
    accelerator.register_for_checkpointing(progress)
    progress.epoch = 1
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    accelerator.save_state()  # project_dir/checkpoints/checkpoint_0
    folder = project_dir / "checkpoints" / "checkpoint_0"

    # The resumed run forgets to register its Progress.
    accelerator, model, optimizer = make(project_dir, device)
    try:
        accelerator.load_state()
    except RuntimeError as err:
        message = str(err).replace(str(folder), "checkpoints/checkpoint_0")
        print(f"{type(err).__name__}: {message}")
    else:
        raise AssertionError("load_state loaded a custom checkpoint with no object")
    assert message.startswith(
        "Number of custom checkpoints in folder checkpoints/checkpoint_0 does not"
        " match the number of registered objects:"
    )
    assert "Found checkpoints: 1" in message and "Registered objects: 0" in message
    # The model and optimizer were loaded before the count was checked.
    assert all(torch.equal(v, saved[k]) for k, v in model.state_dict().items())

    # --8<-- [start:register]
    accelerator, model, optimizer = make(project_dir, device)
    progress = Progress()
    accelerator.register_for_checkpointing(progress)  # as the saving run did
    accelerator.load_state()
    # --8<-- [end:register]
    assert progress.epoch == 1

    try:
        accelerator.save_state()  # the resumed run's first save
    except ValueError as err:
        message = str(err).replace(str(folder), "checkpoints/checkpoint_0")
        print(f"{type(err).__name__}: {message}")
    else:
        raise AssertionError("save_state wrote over checkpoint_0")
    assert message == (
        "Checkpoint directory checkpoints/checkpoint_0 (0) already exists. Please"
        " manually override `self.save_iteration` with what iteration to start with."
    )
    try:
        accelerator.save_iteration = 1
    except AttributeError as err:
        print(f"{type(err).__name__}: {err}")
        assert "has no setter" in str(err)  # a read-only property
    else:
        raise AssertionError("save_iteration could be set")

    # --8<-- [start:iteration]
    accelerator.load_state()  # the newest checkpoints/checkpoint_N
    names = os.listdir(project_dir / "checkpoints")  # ["checkpoint_0"]
    newest = max(int(name.split("_")[1]) for name in names)
    accelerator.project_configuration.iteration = newest + 1
    accelerator.save_state()  # checkpoints/checkpoint_1
    # --8<-- [end:iteration]
    print(sorted(os.listdir(project_dir / "checkpoints")))
    assert sorted(os.listdir(project_dir / "checkpoints")) == [
        "checkpoint_0",
        "checkpoint_1",
    ]

    # A layer of another shape: size mismatch, as with model.load_state_dict.
    accelerator, model, optimizer = make(project_dir, device, out_features=3)
    accelerator.register_for_checkpointing(Progress())
    try:
        accelerator.load_state()
    except RuntimeError as err:
        assert "size mismatch for weight" in str(err), err
    else:
        raise AssertionError("a (5, 10) weight loaded into a (3, 10) layer")

    # No random_states_0.pkl: load_state logs it at INFO level and goes on.
    (project_dir / "checkpoints" / "checkpoint_1" / "random_states_0.pkl").unlink()
    records = []
    handler = logging.Handler(logging.INFO)
    handler.emit = records.append
    logger = logging.getLogger("accelerate.checkpointing")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    accelerator, model, optimizer = make(project_dir, device)
    accelerator.register_for_checkpointing(Progress())
    accelerator.load_state()  # no error
    logger.removeHandler(handler)
    assert any("Could not load random states" in r.getMessage() for r in records)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))

"""Fix "Missing key in checkpoint state_dict": DCP asked for a key the checkpoint lacks.

torch.distributed.checkpoint (DCP) loads into the state_dict you give it, and
raises if the checkpoint has no entry for one of its keys: here the model gained
a layer (fc3) after the checkpoint was saved. The error comes wrapped in a
CheckpointException, which is a BaseException: `except Exception` does not catch it.
Runs in one process (no process group needed).
"""

import argparse
import tempfile
import warnings
from pathlib import Path

import torch
import torch.distributed.checkpoint as dcp
from torch import nn
from torch.distributed.checkpoint import DefaultLoadPlanner


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


class MyBiggerModel(MyModel):
    """The next version of the model: one more layer."""

    def __init__(self):
        super().__init__()
        self.fc3 = nn.Linear(1, 1)

    def forward(self, x):
        return self.fc3(super().forward(x))


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    # Without a process group DCP warns that it saves and loads in one process.
    warnings.filterwarnings("ignore", "torch.distributed is disabled")
    model = MyModel().to(device)
    dcp.save({"model": model.state_dict()}, checkpoint_id=out_dir / "checkpoint")

    new_model = MyBiggerModel().to(device)
    state_dict = {"model": new_model.state_dict()}
    try:
        dcp.load(state_dict, checkpoint_id=out_dir / "checkpoint")
    except dcp.CheckpointException as err:
        error = err
    else:
        raise AssertionError("dcp.load accepted a checkpoint without fc3")
    print(f"{type(error).__name__}: {error}")
    assert not isinstance(error, Exception)  # `except Exception` lets it through
    assert "Missing key in checkpoint state_dict: model.fc3.weight." in str(error)

    # --8<-- [start:fix]
    # Fix: let DCP load the keys that the checkpoint has, and leave the others.
    state_dict = {"model": new_model.state_dict()}
    dcp.load(
        state_dict,
        checkpoint_id=out_dir / "checkpoint",
        planner=DefaultLoadPlanner(allow_partial_load=True),
    )
    new_model.load_state_dict(state_dict["model"])
    # --8<-- [end:fix]
    loaded = [k for k, v in new_model.state_dict().items() if k in model.state_dict()]
    assert all(
        torch.equal(new_model.state_dict()[k], model.state_dict()[k]) for k in loaded
    )
    print("loaded from the checkpoint:", loaded)
    assert loaded == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))

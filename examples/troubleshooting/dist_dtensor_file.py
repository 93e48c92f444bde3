"""Fix "``torch.distributed.tensor`` must be imported to load DTensors": an FSDP2 file.

With FSDP2 (fully_shard), model.state_dict() holds DTensors: each rank's shard of
every parameter, with the layout of the whole group. torch.save of that dict makes
a file that a plain process cannot use. Save a full state dict instead.

The script shards the model over a group of one process, saves both ways, then
loads each file in a new Python process, as a reader of the file would.
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
)
from torch.distributed.fsdp import fully_shard

# What a new process that has never imported torch.distributed does with the file.
LOAD = """
import sys, torch
from torch import nn
try:
    state_dict = torch.load(sys.argv[1], weights_only=True)
except Exception as err:
    print(f"{type(err).__name__}: {err}")
    import torch.distributed.tensor  # as the message asks: now the file loads...
    state_dict = torch.load(sys.argv[1], weights_only=True)
    model = nn.ModuleDict({"fc1": nn.Linear(10, 5), "fc2": nn.Linear(5, 1)})
    try:
        model.load_state_dict(state_dict)  # ...but a plain model cannot take it
    except RuntimeError as err:
        print(f"{type(err).__name__}: {err}")
else:
    print("loaded:", sorted({type(v).__name__ for v in state_dict.values()}))
"""


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


def load_in_new_process(path):
    command = [sys.executable, "-c", LOAD, str(path)]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    try:
        model = MyModel()  # on the CPU: the group of one process is a gloo group
        # What the model computes, taken before sharding: PyTorch 2.6 cannot run
        # a forward pass of a model sharded with fully_shard on the CPU.
        with torch.no_grad():
            inputs = torch.randn(3, 10)
            outputs = model(inputs)
        fully_shard(model)
        torch.save(model.state_dict(), out_dir / "sharded_state_dict.pt")  # DTensors

        # --8<-- [start:fix]
        options = StateDictOptions(full_state_dict=True, cpu_offload=True)
        state_dict = get_model_state_dict(model, options=options)  # plain tensors
        if dist.get_rank() == 0:  # only rank 0 gets them with cpu_offload=True
            torch.save(state_dict, out_dir / "mymodel.pt")
        # --8<-- [end:fix]
    finally:
        dist.destroy_process_group()

    printed = load_in_new_process(out_dir / "sharded_state_dict.pt")
    print(printed, end="")
    assert printed.startswith("UnpicklingError: Weights only load failed.")
    assert "``torch.distributed.tensor`` must be imported to load DTensors" in printed
    assert "got mixed torch.Tensor and DTensor" in printed

    printed = load_in_new_process(out_dir / "mymodel.pt")
    print(printed, end="")
    assert printed == "loaded: ['Tensor']\n"
    new_model = MyModel().to(device)
    new_model.load_state_dict(
        torch.load(out_dir / "mymodel.pt", map_location=device, weights_only=True)
    )
    with torch.no_grad():
        same = torch.allclose(new_model(inputs.to(device)).cpu(), outputs, atol=1e-6)
    print("plain model, same outputs:", same)
    assert same


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))

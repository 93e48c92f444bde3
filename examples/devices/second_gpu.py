"""A file saved from the second GPU (cuda:1) needs a cuda:1, or a map_location.

torch.load puts each tensor back on the device its tag names, index included.
On a machine with two GPUs or more the script saves a real model from cuda:1.
Elsewhere it writes the same tags by registering, for the duration of the save,
a tagger with torch.serialization.register_package that names "cuda:1" for every
storage: the tags are all that differs between a file saved from cuda:1 and one
saved on a CPU. Then it loads the file with no map_location, which works only
where there is a cuda:1:

- without CUDA: "Attempting to deserialize object on a CUDA device but
  torch.cuda.is_available() is False. ...";
- with one GPU: "Attempting to deserialize object on CUDA device 1 but
  torch.cuda.device_count() is 1. ...";
- with two GPUs or more: it loads onto cuda:1.
"""

import argparse
import tempfile
from pathlib import Path

import torch
from torch import nn

# The message of _validate_device in torch/serialization.py (PyTorch 2.14.1).
TOO_FEW_GPUS = (
    "Attempting to deserialize object on CUDA device 1 but "
    "torch.cuda.device_count() is {count}. Please use torch.load with map_location "
    "to map your storages to an existing device."
)


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


def save_as_from_cuda1(obj, path):
    """torch.save(obj, path), with every storage tagged "cuda:1" as on a 2nd GPU."""
    registry = torch.serialization._package_registry
    registered = list(registry)
    # Priority -1 runs before the built-in taggers (cpu is 10, cuda 20).
    torch.serialization.register_package(-1, lambda s: "cuda:1", lambda s, loc: None)
    try:
        torch.save(obj, path)
    finally:
        registry[:] = registered  # unregister it again


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "mymodel_cuda1.pt"
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0

    trained = MyModel()
    trained_state = {k: v.clone() for k, v in trained.state_dict().items()}
    if gpus >= 2:
        # --8<-- [start:save]
        trained.to("cuda:1")  # the second GPU
        torch.save(trained.state_dict(), path)
        # --8<-- [end:save]
    else:
        save_as_from_cuda1(trained.state_dict(), path)

    locations = set()

    def record_location(storage, location):
        locations.add(location)
        return storage  # leave it on the CPU

    torch.load(path, map_location=record_location, weights_only=True)
    print("saved on:", sorted(locations))
    assert locations == {"cuda:1"}

    message = None
    # --8<-- [start:error]
    try:
        state_dict = torch.load(path, weights_only=True)  # no map_location
    except RuntimeError as err:
        message = f"{type(err).__name__}: {err}"
        print(message)
    # --8<-- [end:error]
    if gpus == 0:
        assert "torch.cuda.is_available() is False" in message
    elif gpus == 1:  # cuda:0 exists, cuda:1 does not
        assert message == "RuntimeError: " + TOO_FEW_GPUS.format(count=1)
    else:
        assert message is None
        assert all(t.device == torch.device("cuda:1") for t in state_dict.values())

    # --8<-- [start:fix]
    state_dict = torch.load(path, map_location=device, weights_only=True)
    model = MyModel().to(device)
    model.load_state_dict(state_dict)
    # --8<-- [end:fix]
    print("with map_location:", sorted({str(t.device) for t in state_dict.values()}))
    assert all(t.device.type == torch.device(device).type for t in state_dict.values())
    assert all(
        torch.equal(model.state_dict()[k].cpu(), v) for k, v in trained_state.items()
    )

    # A dict maps the tags it names: here cuda:1 to the first GPU, or to the CPU.
    target = "cuda:0" if gpus else "cpu"
    state_dict = torch.load(path, map_location={"cuda:1": target}, weights_only=True)
    assert all(t.device == torch.device(target) for t in state_dict.values())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))

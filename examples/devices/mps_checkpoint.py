"""A model saved on a Mac's GPU (MPS) loads elsewhere with map_location.

torch.save tags each tensor's storage with its device: "mps" for Apple's GPUs. On
a Mac with MPS the script saves a real MPS model. Elsewhere it writes the same
tags by registering, for the duration of the save, a tagger with
torch.serialization.register_package that names "mps" for every storage: the
tags are all that differs between a file saved on the GPU of a Mac and one saved
on a CPU.
"""

import argparse
import tempfile
from pathlib import Path

import torch
from torch import nn


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


def save_as_on_a_mac(obj, path):
    """torch.save(obj, path), with every storage tagged "mps" as on a Mac's GPU."""
    registry = torch.serialization._package_registry
    registered = list(registry)
    # Priority -1 runs before the built-in taggers (cpu is 10, mps 21).
    torch.serialization.register_package(-1, lambda storage: "mps", lambda s, loc: None)
    try:
        torch.save(obj, path)
    finally:
        registry[:] = registered  # unregister it again


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "mymodel_mps.pt"

    trained = MyModel()
    if torch.backends.mps.is_available():
        # --8<-- [start:save]
        trained.to("mps")
        torch.save(trained.state_dict(), path)
        # --8<-- [end:save]
    else:
        save_as_on_a_mac(trained.state_dict(), path)
    trained_state = {k: v.cpu() for k, v in trained.state_dict().items()}
    torch.save(trained_state, out_dir / "cpu.pt")  # a file saved on the CPU

    # --8<-- [start:tags]
    locations = set()

    def record_location(storage, location):
        locations.add(location)
        return storage  # leave it on the CPU

    torch.load(path, map_location=record_location, weights_only=True)
    print("saved on:", sorted(locations))
    # --8<-- [end:tags]
    assert locations == {"mps"}
    locations.clear()  # the tagger is gone: files saved since are tagged as usual
    torch.load(out_dir / "cpu.pt", map_location=record_location, weights_only=True)
    assert locations == {"cpu"}

    # --8<-- [start:error]
    if torch.backends.mps.is_available():
        state_dict = torch.load(path, weights_only=True)  # back onto the Mac's GPU
        assert all(t.device.type == "mps" for t in state_dict.values())
    else:
        try:
            torch.load(path, weights_only=True)
        except RuntimeError as err:
            print(f"{type(err).__name__}: {err}")
            if not torch.backends.mps.is_built():  # PyTorch for Linux or Windows
                assert "Storage device not recognized: mps" in str(err)
        else:
            raise AssertionError("a file saved on MPS loaded without MPS")
    # --8<-- [end:error]

    # --8<-- [start:fix]
    state_dict = torch.load(path, map_location="cpu", weights_only=True)
    model = MyModel()
    model.load_state_dict(state_dict)
    model.to(device)  # "cuda", "mps" or "cpu": wherever it will run
    # --8<-- [end:fix]
    print("loaded on:", sorted({str(t.device) for t in state_dict.values()}))
    assert all(t.device.type == "cpu" for t in state_dict.values())
    assert all(torch.equal(state_dict[k], v) for k, v in trained_state.items())
    assert all(p.device.type == torch.device(device).type for p in model.parameters())

    # map_location="mps" works only where MPS does, as "cuda" needs CUDA.
    if not torch.backends.mps.is_available():
        try:
            torch.load(out_dir / "cpu.pt", map_location="mps", weights_only=True)
        except RuntimeError as err:
            if not torch.backends.mps.is_built():
                assert "Storage device not recognized: mps" in str(err)
        else:
            raise AssertionError('map_location="mps" worked without MPS')

    inputs = torch.randn(3, 10)
    with torch.no_grad():
        expected = trained.cpu()(inputs)
        same = torch.allclose(model(inputs.to(device)).cpu(), expected, atol=1e-5)
    print("same outputs:", same)
    assert same


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, mps, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))

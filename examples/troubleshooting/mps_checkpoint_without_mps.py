"""Fix "Storage device not recognized: mps": a file saved on a Mac's GPU, elsewhere.

torch.load puts each tensor back on the device it was saved from. A file saved
from a model on Apple's GPU names "mps", which PyTorch for Linux or Windows does
not know. Tell torch.load where to put the tensors with `map_location`.

On a machine without MPS, the script writes the file a Mac would write: the same
torch.save, with a tagger registered for the duration of the save that tags every
storage "mps", as torch.save does for tensors on a Mac's GPU.
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
    torch.serialization.register_package(-1, lambda storage: "mps", lambda s, loc: None)
    try:
        torch.save(obj, path)
    finally:
        registry[:] = registered


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "mymodel_mps.pt"
    trained = MyModel()
    if torch.backends.mps.is_available():
        torch.save(trained.to("mps").state_dict(), path)  # a real MPS file
    else:
        save_as_on_a_mac(trained.state_dict(), path)
    trained.cpu()

    if not torch.backends.mps.is_available():
        try:
            torch.load(path, weights_only=True)
        except RuntimeError as err:
            error = err
        else:
            raise AssertionError("an MPS file loaded without MPS")
        print(f"{type(error).__name__}: {error}")
        if not torch.backends.mps.is_built():
            assert "Storage device not recognized: mps" in str(error)
    else:  # on a Mac with MPS, the file loads as it is, onto the GPU
        state_dict = torch.load(path, weights_only=True)
        assert state_dict["fc1.weight"].device.type == "mps"

    # --8<-- [start:fix]
    state_dict = torch.load(path, map_location=device, weights_only=True)
    model = MyModel().to(device)
    model.load_state_dict(state_dict)
    # --8<-- [end:fix]
    assert all(t.device.type == torch.device(device).type for t in state_dict.values())
    inputs = torch.randn(3, 10)
    with torch.no_grad():
        outputs = model(inputs.to(device)).cpu()
        assert torch.allclose(outputs, trained(inputs), atol=1e-5)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, mps, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))

"""Load on the CPU a model saved on a GPU, then move it back: map_location and .to()."""

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


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "mymodel.pt"

    # Trained and saved on `device`: run with --device cuda to save from a GPU.
    trained_model = MyModel().to(device)
    # ... train the model ...
    torch.save(trained_model.state_dict(), path)

    # --8<-- [start:to_cpu]
    state_dict = torch.load(path, map_location="cpu", weights_only=True)
    model = MyModel()
    model.load_state_dict(state_dict)
    model.eval()
    # --8<-- [end:to_cpu]
    print("loaded on:", {str(t.device) for t in model.state_dict().values()})
    assert all(t.device.type == "cpu" for t in model.state_dict().values())
    trained_state = trained_model.state_dict()
    assert all(torch.equal(t, trained_state[k].cpu()) for k, t in state_dict.items())

    # --8<-- [start:back]
    model.to(device)
    # --8<-- [end:back]
    assert all(p.device.type == torch.device(device).type for p in model.parameters())
    assert model.to(device) is model  # so `model = model.to(device)` works too
    # The same as loading straight onto the device with map_location=device:
    direct = torch.load(path, map_location=device, weights_only=True)
    assert all(torch.equal(direct[k], t) for k, t in model.state_dict().items())
    inputs = torch.randn(3, 10, device=device)
    with torch.no_grad():
        same = torch.equal(model(inputs), trained_model(inputs))
    print("back on the training device, same outputs:", same)
    assert same


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))

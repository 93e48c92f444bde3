"""Load a model without random initialisation: meta device, then assign=True."""

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
    trained = MyModel().to(device)
    path = out_dir / "mymodel.pt"
    torch.save(trained.state_dict(), path)

    # --8<-- [start:load]
    with torch.device("meta"):
        model = MyModel()  # shapes only: no memory, no random initialisation
    state_dict = torch.load(path, map_location=device, weights_only=True)
    model.load_state_dict(state_dict, assign=True)  # the model takes these tensors
    # --8<-- [end:load]

    assert all(p.device.type == torch.device(device).type for p in model.parameters())
    on_meta = [name for name, p in model.named_parameters() if p.is_meta]
    print("parameters left on meta:", on_meta)
    assert on_meta == []
    loaded, saved = model.state_dict(), trained.state_dict()
    weights_equal = list(loaded) == list(saved) and all(
        torch.equal(loaded[name], saved[name]) for name in saved
    )
    print("weights equal the saved ones:", weights_equal)
    assert weights_equal
    x = torch.randn(3, 10, device=device)
    assert torch.equal(model(x), trained(x))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))

"""huggingface_hub PyTorchModelHubMixin: save_pretrained, from_pretrained, offline."""

import argparse
import os
import sys
import tempfile
from pathlib import Path

# Offline mode, set before importing huggingface_hub: any request to the Hub fails.
os.environ["HF_HUB_OFFLINE"] = "1"

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn


# --8<-- [start:model]
class MyModel(nn.Module, PyTorchModelHubMixin):
    def __init__(self, in_features=10, hidden=5, out_features=1):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, out_features)

    def forward(self, x):
        return self.fc2(self.fc1(x))


# --8<-- [end:model]


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    # Record every attempt to reach a network address: there must be none.
    connections = []

    def record_connections(event, args):
        if event in ("socket.connect", "socket.getaddrinfo"):
            connections.append(args)

    sys.addaudithook(record_connections)

    # --8<-- [start:save]
    model = MyModel(hidden=32).to(device)  # the arguments are recorded
    # ... train the model ...
    folder = out_dir / "mymodel"
    model.save_pretrained(folder)
    # --8<-- [end:save]
    print(sorted(path.name for path in folder.iterdir()))
    print((folder / "config.json").read_text())

    # --8<-- [start:load]
    loaded = MyModel.from_pretrained(folder, strict=True)
    print("built on:", loaded.fc1.weight.device.type)  # cpu, from any saved device
    assert loaded.fc1.weight.device.type == "cpu"
    loaded = loaded.to(device)
    # --8<-- [end:load]
    print("fc1:", loaded.fc1)

    assert sorted(p.name for p in folder.iterdir()) == [
        "README.md",
        "config.json",
        "model.safetensors",
    ]
    assert loaded.fc1.weight.device == model.fc1.weight.device  # after .to(device)
    assert loaded.fc1.out_features == 32  # rebuilt from config.json
    assert not loaded.training  # from_pretrained returns the model in eval mode
    x = torch.randn(4, 10, device=device)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    assert connections == [], connections


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))

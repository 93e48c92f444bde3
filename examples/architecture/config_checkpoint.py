"""Store the constructor arguments beside the state_dict; rebuild the model from it."""

import argparse
import tempfile
from pathlib import Path

import torch
from torch import nn


# Your model, with its sizes as constructor arguments.
class MyModel(nn.Module):
    def __init__(self, in_features=10, hidden=5, out_features=1):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, out_features)

    def forward(self, x):
        return self.fc2(self.fc1(x))


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)

    # --8<-- [start:save]
    config = {"in_features": 10, "hidden": 32, "out_features": 1}
    model = MyModel(**config).to(device)
    # ... train the model ...
    path = out_dir / "mymodel.pt"
    torch.save({"config": config, "state_dict": model.state_dict()}, path)
    # --8<-- [end:save]

    # --8<-- [start:load]
    checkpoint = torch.load(path, weights_only=True, map_location=device)
    loaded = MyModel(**checkpoint["config"]).to(device)
    loaded.load_state_dict(checkpoint["state_dict"])
    loaded.eval()
    # --8<-- [end:load]
    print("config:", checkpoint["config"])
    print("fc1:", loaded.fc1)

    assert checkpoint["config"] == config
    assert loaded.fc1.out_features == 32  # not the default 5: no guessing needed
    x = torch.randn(4, 10, device=device)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))

    # Without the config, the defaults do not fit the saved weights.
    try:
        MyModel().load_state_dict(checkpoint["state_dict"])
    except RuntimeError as err:
        print(f"{type(err).__name__}: {err}")
        assert "size mismatch for fc1.weight" in str(err)
    else:
        raise AssertionError("the default sizes loaded weights of another size")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))

"""Fix "Unexpected key(s) in state_dict: "module.fc1.weight"": a model saved wrapped.

nn.DataParallel (and DistributedDataParallel) keep your model as `.module`, so the
wrapper's state_dict names every weight "module.<name>". A plain model rejects those
names. Save `model.module.state_dict()`, or strip the prefix when loading.
"""

import argparse
import tempfile
from pathlib import Path

import torch
from torch import nn
from torch.nn.modules.utils import consume_prefix_in_state_dict_if_present


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
    inputs = torch.randn(3, 10, device=device)

    # nn.DataParallel also runs on a machine without GPUs: it then calls the model.
    model = nn.DataParallel(MyModel().to(device))
    # ... train the model ...

    wrapped_path = out_dir / "mymodel_wrapped.pt"
    torch.save(model.state_dict(), wrapped_path)  # keys: "module.fc1.weight", ...

    new_model = MyModel().to(device)
    state_dict = torch.load(wrapped_path, map_location=device, weights_only=True)
    try:
        new_model.load_state_dict(state_dict)
    except RuntimeError as err:
        error = err
    else:
        raise AssertionError("load_state_dict accepted the prefixed keys")
    print(f"{type(error).__name__}: {error}")
    assert 'Missing key(s) in state_dict: "fc1.weight"' in str(error)
    assert 'Unexpected key(s) in state_dict: "module.fc1.weight"' in str(error)

    # --8<-- [start:fix]
    # Fix 1, when saving: save the model inside the wrapper.
    path = out_dir / "mymodel.pt"
    torch.save(model.module.state_dict(), path)
    new_model.load_state_dict(torch.load(path, map_location=device, weights_only=True))

    # Fix 2, for a file that already has the prefix: strip it, then load.
    state_dict = torch.load(wrapped_path, map_location=device, weights_only=True)
    consume_prefix_in_state_dict_if_present(state_dict, "module.")
    print("keys after stripping:", list(state_dict))
    stripped_model = MyModel().to(device)
    stripped_model.load_state_dict(state_dict)
    # --8<-- [end:fix]
    assert list(state_dict) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    with torch.no_grad():
        assert torch.equal(new_model(inputs), model(inputs))
        assert torch.equal(stripped_model(inputs), model(inputs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))

"""Fix "Unexpected key(s) in state_dict: "n_averaged", "module.fc1.weight"" (EMA).

torch.optim.swa_utils.AveragedModel (EMA, SWA) holds a copy of your model as
`.module` and counts its updates in a buffer, `n_averaged`. Its state_dict names
every weight "module.<name>" and holds "n_averaged" too, which a plain model
rejects. Save `averaged.module.state_dict()`, or drop "n_averaged" and the prefix.
"""

import argparse
import tempfile
from pathlib import Path

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn


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
    model = MyModel().to(device)
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.999))
    ema.update_parameters(model)  # ... training, an update after each step ...
    path = out_dir / "checkpoint.pt"
    torch.save({"model": model.state_dict(), "ema": ema.state_dict()}, path)
    inputs = torch.randn(3, 10, device=device)

    checkpoint = torch.load(path, map_location=device, weights_only=True)
    plain = MyModel().to(device)
    try:
        plain.load_state_dict(checkpoint["ema"])
    except RuntimeError as err:
        error = err
    else:
        raise AssertionError("load_state_dict accepted the AveragedModel's keys")
    print(f"{type(error).__name__}: {error}")
    assert 'Missing key(s) in state_dict: "fc1.weight"' in str(error)
    assert 'Unexpected key(s) in state_dict: "n_averaged", "module.fc1.weight"' in str(
        error
    )

    # --8<-- [start:fix]
    # Fix 1, when saving: save the model inside the AveragedModel.
    torch.save(ema.module.state_dict(), out_dir / "ema_weights.pt")
    plain.load_state_dict(
        torch.load(out_dir / "ema_weights.pt", map_location=device, weights_only=True)
    )

    # Fix 2, for a checkpoint that holds the AveragedModel's state_dict.
    weights = {
        name.removeprefix("module."): tensor
        for name, tensor in checkpoint["ema"].items()
        if name != "n_averaged"
    }
    print("keys kept:", list(weights))
    from_checkpoint = MyModel().to(device)
    from_checkpoint.load_state_dict(weights)
    # --8<-- [end:fix]
    with torch.no_grad():
        assert torch.equal(plain(inputs), ema(inputs))
        assert torch.equal(from_checkpoint(inputs), ema(inputs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))

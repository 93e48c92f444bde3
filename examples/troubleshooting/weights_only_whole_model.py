"""Fix "Weights only load failed ... Unsupported global: GLOBAL __main__.MyModel".

A file made with `torch.save(model)` holds the pickled model object, which
`torch.load(..., weights_only=True)`, the default, refuses to rebuild. Save the
state_dict instead; for a whole-model file you trust, allow its classes by name.
"""

import argparse
import pickle
import tempfile
from pathlib import Path

import torch
from torch import nn

# A whole model saved on a GPU by a training script, with torch.save(model):
# data/gpu-checkpoints/ in the site's repository, or wherever you downloaded it
# (--checkpoint).
CHECKPOINT = (
    Path(__file__).resolve().parent.parent.parent
    / "data/gpu-checkpoints/mymodel_entire_cuda.pt"
)
MISSING = (
    "Not found: {missing}. This script needs mymodel_entire_cuda.pt, a whole model "
    "saved on a GPU with torch.save(model). Download it from the page 'From GPU to CPU "
    "and back' of the guide to saving and loading PyTorch models "
    "(data/gpu-checkpoints/mymodel_entire_cuda.pt in its repository), then run "
    "`python {script} --checkpoint FOLDER/mymodel_entire_cuda.pt`."
)


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


def main(device="cpu", out_dir=None, checkpoint=CHECKPOINT):
    path = Path(checkpoint)
    if not path.is_file():
        raise SystemExit(MISSING.format(missing=path, script=Path(__file__).name))
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as err:
        error = err
    else:
        raise AssertionError("weights_only=True rebuilt a pickled model")
    print(f"{type(error).__name__}: {error}")
    assert "Unsupported global: GLOBAL __main__.MyModel" in str(error)

    # --8<-- [start:allow]
    # A file you trust: allow the classes it names. The file names the class
    # "__main__.MyModel" (the script that saved it defined it); map that name
    # to your class, wherever you define it.
    trusted = [(MyModel, "__main__.MyModel"), nn.Linear]
    with torch.serialization.safe_globals(trusted):
        model = torch.load(path, map_location=device, weights_only=True)
    # --8<-- [end:allow]
    assert isinstance(model, MyModel)
    assert model.fc1.weight.device.type == torch.device(device).type

    # --8<-- [start:resave]
    # Then keep the weights only: this file loads with no allowlist.
    state_dict_path = out_dir / "mymodel.pt"
    torch.save(model.state_dict(), state_dict_path)
    new_model = MyModel().to(device)
    state_dict = torch.load(state_dict_path, map_location=device, weights_only=True)
    new_model.load_state_dict(state_dict)
    # --8<-- [end:resave]
    inputs = torch.randn(3, 10, device=device)
    with torch.no_grad():
        assert torch.equal(new_model(inputs), model(inputs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    parser.add_argument(
        "--checkpoint",
        default=CHECKPOINT,
        help="a whole MyModel saved with torch.save(model)",
    )
    main(**vars(parser.parse_args()))

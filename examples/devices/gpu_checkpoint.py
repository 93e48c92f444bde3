"""Load a state_dict that was saved on a GPU, on any machine: map_location.

It reads a real file saved on a GPU, mymodel_state_dict_cuda.pt, and fixtures.json
beside it (the outputs that GPU computed): data/gpu-checkpoints/ in the site's
repository, or wherever you downloaded them (--checkpoint).
"""

import argparse
import json
from pathlib import Path

import torch
from torch import nn

CHECKPOINT = (
    Path(__file__).resolve().parent.parent.parent
    / "data/gpu-checkpoints/mymodel_state_dict_cuda.pt"
)
MISSING = (
    "Not found: {missing}. This script needs mymodel_state_dict_cuda.pt, a state_dict "
    "saved on a GPU, and fixtures.json (the outputs that GPU computed) in one folder. "
    "Download both from the page 'From GPU to CPU and back' of the guide to saving and "
    "loading PyTorch models (data/gpu-checkpoints/ in its repository), then run "
    "`python {script} --checkpoint FOLDER/mymodel_state_dict_cuda.pt`."
)


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


def main(device="cpu", out_dir=None, checkpoint=CHECKPOINT):
    # Writes nothing: out_dir is unused.
    checkpoint = Path(checkpoint)
    fixtures_file = checkpoint.with_name("fixtures.json")
    missing = [str(p) for p in (checkpoint, fixtures_file) if not p.is_file()]
    if missing:
        script = Path(__file__).name
        raise SystemExit(MISSING.format(missing=" and ".join(missing), script=script))
    fixtures = json.loads(fixtures_file.read_text())
    gpu_weights = {name: torch.tensor(w) for name, w in fixtures["state_dict"].items()}

    # --8<-- [start:tags]
    locations = []

    def record_location(storage, location):
        locations.append(location)
        return storage  # leave it on the CPU

    torch.load(checkpoint, map_location=record_location, weights_only=True)
    print("saved on:", sorted(set(locations)))
    # --8<-- [end:tags]
    assert locations == ["cuda:0"] * 4

    # --8<-- [start:error]
    if torch.cuda.is_available():
        state_dict = torch.load(checkpoint, weights_only=True)  # back onto cuda:0
        assert all(t.device == torch.device("cuda:0") for t in state_dict.values())
    else:
        try:
            torch.load(checkpoint, weights_only=True)
        except RuntimeError as err:
            print(f"{type(err).__name__}: {err}")
            assert "torch.cuda.is_available() is False" in str(err)
        else:
            raise AssertionError("a file saved on a GPU loaded without CUDA")
    # --8<-- [end:error]

    # --8<-- [start:forms]
    for map_location in [
        torch.device("cpu"),
        "cpu",
        {"cuda:0": "cpu"},
        lambda storage, location: storage,
    ]:
        state_dict = torch.load(
            checkpoint, map_location=map_location, weights_only=True
        )
        devices = {str(t.device) for t in state_dict.values()}
        print(f"{type(map_location).__name__:8} -> {devices}")
        # --8<-- [end:forms]
        assert devices == {"cpu"}
        assert all(torch.equal(state_dict[k], w) for k, w in gpu_weights.items())

    # --8<-- [start:load]
    state_dict = torch.load(checkpoint, map_location=device, weights_only=True)
    model = MyModel().to(device)
    model.load_state_dict(state_dict)
    model.eval()
    # --8<-- [end:load]
    assert all(t.device.type == torch.device(device).type for t in state_dict.values())
    assert all(p.device.type == torch.device(device).type for p in model.parameters())

    # --8<-- [start:compare]
    inputs = torch.tensor(fixtures["inputs"], device=device)
    gpu_outputs = torch.tensor(fixtures["outputs"], device=device)
    with torch.no_grad():
        outputs = model(inputs)
    close = torch.allclose(outputs, gpu_outputs, rtol=0, atol=1e-6)
    print("same outputs as on the GPU (within 1e-6):", close)
    # --8<-- [end:compare]
    assert close


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    parser.add_argument(
        "--checkpoint",
        default=CHECKPOINT,
        help="a state_dict saved on a GPU, with fixtures.json beside it",
    )
    main(**vars(parser.parse_args()))

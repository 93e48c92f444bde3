"""Resume training from a checkpoint saved on a GPU: model and optimizer state.

It reads a real file saved on a GPU, checkpoint_cuda.pt (epoch, model_state_dict,
optimizer_state_dict of Adam, loss): data/gpu-checkpoints/ in the site's
repository, or wherever you downloaded it (--checkpoint).
"""

import argparse
from pathlib import Path

import torch
from torch import nn

CHECKPOINT = (
    Path(__file__).resolve().parent.parent.parent
    / "data/gpu-checkpoints/checkpoint_cuda.pt"
)
MISSING = (
    "Not found: {missing}. This script needs checkpoint_cuda.pt, a training "
    "checkpoint (model and Adam optimizer) saved on a GPU. Download it from the page "
    "'From GPU to CPU and back' of the guide to saving and loading PyTorch models "
    "(data/gpu-checkpoints/checkpoint_cuda.pt in its repository), then run "
    "`python {script} --checkpoint FOLDER/checkpoint_cuda.pt`."
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
    path = Path(checkpoint)
    if not path.is_file():
        raise SystemExit(MISSING.format(missing=path, script=Path(__file__).name))

    # --8<-- [start:resume]
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model = MyModel()
    model.load_state_dict(checkpoint["model_state_dict"])
    model.to(device)  # 1. move the model to where it will train
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)  # 2. then the optimizer
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])  # 3. then its state
    epoch = checkpoint["epoch"]
    model.train()
    # --8<-- [end:resume]
    print(f"resuming after epoch {epoch}, loss {checkpoint['loss']:.4f}")
    assert epoch == 1

    # Adam's running averages followed the parameters to `device`;
    # its step counter stays a CPU tensor, as Adam keeps it.
    weight = model.fc1.weight
    state = optimizer.state[weight]
    print("fc1.weight:", weight.device.type, "| exp_avg:", state["exp_avg"].device.type)
    print("step:", state["step"].device.type, int(state["step"]))
    assert weight.device.type == torch.device(device).type
    assert state["step"].device.type == "cpu"
    for param in model.parameters():
        for key in ("exp_avg", "exp_avg_sq"):
            assert optimizer.state[param][key].device == param.device
    saved_avg = checkpoint["optimizer_state_dict"]["state"][0]["exp_avg"]
    assert torch.equal(state["exp_avg"].cpu(), saved_avg)

    # --8<-- [start:train]
    inputs = torch.randn(4, 10, device=device)
    targets = torch.randn(4, 1, device=device)
    loss = nn.functional.mse_loss(model(inputs), targets)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    # --8<-- [end:train]
    print("step after one more batch:", int(optimizer.state[weight]["step"]))
    assert int(optimizer.state[weight]["step"]) == 2


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    parser.add_argument(
        "--checkpoint", default=CHECKPOINT, help="a training checkpoint of MyModel"
    )
    main(**vars(parser.parse_args()))

"""Load a PyTorch Lightning checkpoint back with Lightning: load_from_checkpoint, and
resuming training with trainer.fit(..., ckpt_path=...).

Trains a tiny LightningModule for one epoch (Lightning writes the .ckpt), rebuilds it
from the file, then resumes for a second epoch and compares with an uninterrupted run.
"""

import argparse
import logging
import tempfile
from pathlib import Path

import lightning as L
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # no info lines


class MyModel(nn.Module):
    def __init__(self, hidden=5):
        super().__init__()
        self.fc1 = nn.Linear(10, hidden)
        self.fc2 = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


class LitModel(L.LightningModule):
    def __init__(self, hidden=5, lr=0.01):
        super().__init__()
        self.save_hyperparameters()
        self.model = MyModel(hidden)

    def forward(self, x):
        return self.model(x)

    def training_step(self, batch, batch_idx):
        inputs, targets = batch
        return nn.functional.mse_loss(self(inputs), targets)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)


# --8<-- [start:changed_classes]
# LitModel after two edits to its __init__: lr renamed, or lr removed.
class LitModelRenamed(L.LightningModule):
    def __init__(self, hidden=5, learning_rate=0.001):
        super().__init__()
        self.save_hyperparameters()
        self.model = MyModel(hidden)


class LitModelRemoved(L.LightningModule):
    def __init__(self, hidden=5):
        super().__init__()
        self.save_hyperparameters()
        self.model = MyModel(hidden)
        # --8<-- [end:changed_classes]


class LitModelRenamedNoDefault(L.LightningModule):
    def __init__(self, learning_rate, hidden=5):
        super().__init__()
        self.save_hyperparameters()
        self.model = MyModel(hidden)


class LitModelWithKwargs(L.LightningModule):
    def __init__(self, hidden=5, **kwargs):
        super().__init__()
        self.save_hyperparameters()
        self.model = MyModel(hidden)


def make_trainer(device, root_dir, max_epochs):
    return L.Trainer(
        accelerator="cpu" if device == "cpu" else "gpu",  # gpu: CUDA or MPS
        devices=1,
        max_epochs=max_epochs,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=root_dir,
    )


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    generator = torch.Generator().manual_seed(0)
    data = TensorDataset(
        torch.randn(16, 10, generator=generator),
        torch.randn(16, 1, generator=generator),
    )
    loader = DataLoader(data, batch_size=4)  # 4 steps an epoch

    torch.manual_seed(0)
    lit_model = LitModel(hidden=5, lr=0.01)
    trainer = make_trainer(device, out_dir / "run", max_epochs=1)
    trainer.fit(lit_model, loader)
    path = trainer.checkpoint_callback.best_model_path
    print("Lightning wrote", Path(path).name)

    # --8<-- [start:load]
    restored = LitModel.load_from_checkpoint(path, map_location=device)
    print(dict(restored.hparams), "| training mode:", restored.training)
    restored.eval()  # load_from_checkpoint returns the model in training mode
    # --8<-- [end:load]
    assert restored.hparams == {"hidden": 5, "lr": 0.01}
    assert restored.device.type == torch.device(device).type
    assert LitModel.load_from_checkpoint(path).training
    inputs = torch.randn(3, 10, device=device)
    lit_model.to(device).eval()
    with torch.no_grad():
        same = torch.equal(restored(inputs), lit_model(inputs))
    print("same outputs:", same)
    assert same

    # --8<-- [start:changed_init]
    print("in the file:", torch.load(path, weights_only=True)["hyper_parameters"])
    renamed = LitModelRenamed.load_from_checkpoint(path, map_location=device)
    print("lr renamed:", dict(renamed.hparams))  # learning_rate: its default
    removed = LitModelRemoved.load_from_checkpoint(path, map_location=device)
    print("lr removed:", dict(removed.hparams))  # lr: dropped without a word
    # --8<-- [end:changed_init]
    assert torch.load(path, weights_only=True)["hyper_parameters"]["lr"] == 0.01
    assert renamed.hparams == {"hidden": 5, "learning_rate": 0.001}
    assert removed.hparams == {"hidden": 5}
    # The weights load all the same: nothing but the hyperparameters tells.
    for restored_model in (renamed, removed):
        for name, tensor in lit_model.state_dict().items():
            assert torch.equal(restored_model.state_dict()[name], tensor)
    # An argument that __init__ does not name is dropped when you pass it too.
    dropped = LitModelRemoved.load_from_checkpoint(path, map_location=device, lr=0.5)
    assert dropped.hparams == {"hidden": 5}

    # --8<-- [start:changed_init_fix]
    recorded = torch.load(path, weights_only=True)["hyper_parameters"]
    renamed = LitModelRenamed.load_from_checkpoint(
        path, map_location=device, learning_rate=recorded["lr"]
    )
    print("lr passed under its new name:", dict(renamed.hparams))
    # --8<-- [end:changed_init_fix]
    assert renamed.hparams == {"hidden": 5, "learning_rate": 0.01}
    # A renamed argument without a default is missing: __init__ raises.
    try:
        LitModelRenamedNoDefault.load_from_checkpoint(path, map_location=device)
    except TypeError as err:
        assert "missing 1 required positional argument: 'learning_rate'" in str(err)
    else:
        raise AssertionError("loaded without the required argument")
    # With **kwargs in __init__, every recorded argument is passed.
    kept = LitModelWithKwargs.load_from_checkpoint(path, map_location=device)
    assert kept.hparams == {"hidden": 5, "lr": 0.01}

    # --8<-- [start:resume]
    model = LitModel(hidden=5, lr=0.01)  # its weights will come from the file
    trainer = make_trainer(
        device, out_dir / "run", max_epochs=2
    )  # 2 epochs in all: 1 more
    trainer.fit(model, loader, ckpt_path=path)
    print("resumed at step 4, now at step", trainer.global_step)
    # --8<-- [end:resume]
    assert torch.load(path, weights_only=True)["global_step"] == 4
    assert trainer.global_step == 8 and trainer.current_epoch == 2

    # The same two epochs without stopping give the same weights.
    torch.manual_seed(0)
    uninterrupted = LitModel(hidden=5, lr=0.01)
    make_trainer(device, out_dir / "uninterrupted", max_epochs=2).fit(
        uninterrupted, loader
    )
    # ModelCheckpoint's defaults keep only the latest file of a run.
    kept = sorted(p.name for p in (out_dir / "uninterrupted").rglob("*.ckpt"))
    assert kept == ["epoch=1-step=8.ckpt"], kept
    weights = uninterrupted.state_dict()
    same = all(torch.equal(t, weights[k]) for k, t in model.state_dict().items())
    print("same weights as two epochs without stopping:", same)
    assert same


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or mps")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))

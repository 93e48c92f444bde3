"""Your own classes in a checkpoint: allow them for weights_only=True, or save dicts."""

import argparse
import enum
import pickle
import tempfile
from dataclasses import asdict, dataclass
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


@dataclass
class TrainingConfig:
    learning_rate: float
    epochs: int


class Stage(enum.Enum):
    WARMUP = "warmup"
    MAIN = "main"


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    model = MyModel().to(device)
    config = TrainingConfig(learning_rate=0.01, epochs=10)

    # --8<-- [start:save]
    path = out_dir / "checkpoint.pt"
    checkpoint = {
        "state_dict": model.state_dict(),
        "config": config,
        "stage": Stage.MAIN,
    }
    torch.save(checkpoint, path)
    # --8<-- [end:save]

    # --8<-- [start:refused]
    try:
        torch.load(path, weights_only=True)
    except pickle.UnpicklingError as err:
        print(f"{type(err).__name__}: {err}")
        assert "Unsupported global" in str(err)
    else:
        raise AssertionError("weights_only=True loaded an unknown class")
    # --8<-- [end:refused]

    # --8<-- [start:list]
    print(sorted(torch.serialization.get_unsafe_globals_in_checkpoint(path)))
    # --8<-- [end:list]
    unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    assert sorted(name.rsplit(".", 1)[1] for name in unsafe) == [
        "Stage",
        "TrainingConfig",
    ]

    # --8<-- [start:allow]
    # For one load: allow these classes inside the `with` block only.
    with torch.serialization.safe_globals([TrainingConfig, Stage]):
        loaded = torch.load(path, weights_only=True, map_location=device)
    print(loaded["config"], loaded["stage"])
    # --8<-- [end:allow]
    assert TrainingConfig not in torch.serialization.get_safe_globals()

    # --8<-- [start:allow_all]
    # For every load in this process from now on:
    allowed_before = torch.serialization.get_safe_globals()
    torch.serialization.add_safe_globals([TrainingConfig, Stage])
    loaded_again = torch.load(path, weights_only=True, map_location=device)
    # To undo it, put the list back as it was. clear_safe_globals() alone would
    # also drop the entries that torch registers itself (nested tensors...).
    torch.serialization.clear_safe_globals()
    torch.serialization.add_safe_globals(allowed_before)
    # --8<-- [end:allow_all]
    assert TrainingConfig not in torch.serialization.get_safe_globals()
    assert set(torch.serialization.get_safe_globals()) == set(allowed_before)
    assert allowed_before, "torch registers some globals itself"
    for result in (loaded, loaded_again):
        assert result["config"] == config and result["stage"] is Stage.MAIN
        for name, tensor in model.state_dict().items():
            assert torch.equal(result["state_dict"][name], tensor)

    # --8<-- [start:plain]
    # Simpler: store plain values, which load with weights_only=True as they are.
    plain_path = out_dir / "checkpoint_plain.pt"
    torch.save(
        {
            "state_dict": model.state_dict(),
            "config": asdict(config),  # {'learning_rate': 0.01, 'epochs': 10}
            "stage": Stage.MAIN.value,  # 'main'
        },
        plain_path,
    )
    plain = torch.load(plain_path, weights_only=True, map_location=device)
    config_again = TrainingConfig(**plain["config"])
    stage_again = Stage(plain["stage"])
    # --8<-- [end:plain]
    assert torch.serialization.get_unsafe_globals_in_checkpoint(plain_path) == []
    assert config_again == config and stage_again is Stage.MAIN


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))

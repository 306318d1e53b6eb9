"""Put this folder first on PYTHONPATH to run Python as an install without torch: importing torch
(or the torch-based diffusers and transformers) fails as if they were not installed."""

import sys

BLOCKED = ("torch", "diffusers", "transformers", "torchvision")


class _BlockTorch:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked: torch-free test)", name=name)
        return None


sys.meta_path.insert(0, _BlockTorch())

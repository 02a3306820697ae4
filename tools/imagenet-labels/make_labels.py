"""Writes resources/labels/imagenet-1k.json: the 1000 ImageNet-1k class names in class-index order, as
torchvision's pretrained classifiers (and most ImageNet exports) number them. Run with Debian's
python3-torchvision; nothing at run or test time needs Python."""
import json
import pathlib

from torchvision.models import ResNet50_Weights

names = ResNet50_Weights.IMAGENET1K_V1.meta["categories"]
assert len(names) == 1000
out = pathlib.Path(__file__).resolve().parents[2] / "resources" / "labels" / "imagenet-1k.json"
out.write_text(json.dumps(names, indent=0, ensure_ascii=False) + "\n")
print(f"wrote {len(names)} names to {out}")

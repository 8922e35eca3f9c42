"""Reference fixtures for the image backbones, written by torchvision (Debian's python3-torchvision 0.14 is enough:
no pretrained weights, no network). The C# tests load them and must match within 1e-4.

  /usr/bin/python3 eng/parity/torchvision_fixtures.py                 # the committed fixtures (small)
  /usr/bin/python3 eng/parity/torchvision_fixtures.py --full /tmp/fx  # full-size EfficientNet-B0 and ResNet-18 too

Writes into test/fixtures/torchvision (or the --full folder):
  <name>.pt      the model's state_dict, BatchNorm statistics and affine parameters randomised so that eval-mode
                 BatchNorm is not the identity
  <name>-io.pt   {"input": [2,3,S,S], "features": [2,F]}: the pooled features in eval mode (the classifier is not used)
  shapes.json    for every catalog architecture: the count and SHA-256 of its sorted "key:shape" lines, without the
                 classifier, so the C# modules' state_dicts can be compared key by key
"""
import argparse, hashlib, json, os, sys

import torch
import torchvision
from torchvision.models import efficientnet as tv_efficientnet

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "test", "fixtures", "torchvision")

EFFICIENTNETS = {  # name: (width, depth), torchvision's table
    "efficientnet_b0": (1.0, 1.0), "efficientnet_b1": (1.0, 1.1), "efficientnet_b2": (1.1, 1.2),
    "efficientnet_b3": (1.2, 1.4), "efficientnet_b4": (1.4, 1.8), "efficientnet_b5": (1.6, 2.2),
    "efficientnet_b6": (1.8, 2.6), "efficientnet_b7": (2.0, 3.1),
}


def efficientnet(width, depth, classes=1000):
    setting, last = tv_efficientnet._efficientnet_conf("efficientnet_b0", width_mult=width, depth_mult=depth)
    return tv_efficientnet.EfficientNet(setting, 0.2, last_channel=last, num_classes=classes)


def randomise_batchnorm(model, generator):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=generator) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=generator) + 0.5)
                m.weight.copy_(torch.rand(m.weight.shape, generator=generator) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=generator) * 0.1)


def features(model, x):
    if hasattr(model, "features"):
        return torch.flatten(model.avgpool(model.features(x)), 1)
    model_fc = model.fc
    model.fc = torch.nn.Identity()
    try:
        return model(x)
    finally:
        model.fc = model_fc


def write_fixture(folder, name, model, size, seed):
    generator = torch.Generator().manual_seed(seed)
    randomise_batchnorm(model, generator)
    model.eval()
    x = torch.rand((2, 3, size, size), generator=generator) * 4 - 2
    with torch.no_grad():
        y = features(model, x)
    torch.save(model.state_dict(), os.path.join(folder, name + ".pt"))
    torch.save({"input": x, "features": y}, os.path.join(folder, name + "-io.pt"))
    print(f"{name}: {sum(p.numel() for p in model.parameters())} parameters, features {tuple(y.shape)}")


def shape_manifest(model, classifier_prefix):
    lines = sorted(f"{k}:{','.join(str(d) for d in v.shape)}" for k, v in model.state_dict().items()
                   if not k.startswith(classifier_prefix))
    return {"keys": len(lines), "sha256": hashlib.sha256("\n".join(lines).encode()).hexdigest()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", metavar="FOLDER", help="also write full-size EfficientNet-B0 and ResNet-18 fixtures there")
    args = parser.parse_args()
    torch.manual_seed(0)
    os.makedirs(FIXTURES, exist_ok=True)
    # 10 classes keep the (ignored) classifier small; 40 px is not a multiple of 32, so padding and pooling see odd sizes.
    write_fixture(FIXTURES, "efficientnet-w0.25-d0.25", efficientnet(0.25, 0.25, classes=10), 40, seed=1)

    shapes = {name: shape_manifest(efficientnet(w, d), "classifier.") for name, (w, d) in EFFICIENTNETS.items()}
    for name in ("resnet18", "resnet34", "resnet50"):
        shapes[name] = shape_manifest(getattr(torchvision.models, name)(), "fc.")
    with open(os.path.join(FIXTURES, "shapes.json"), "w") as f:
        json.dump({"torchvision": torchvision.__version__, "models": shapes}, f, indent=2)
        f.write("\n")

    if args.full:
        os.makedirs(args.full, exist_ok=True)
        write_fixture(args.full, "efficientnet_b0", efficientnet(1.0, 1.0), 224, seed=2)
        write_fixture(args.full, "resnet18", torchvision.models.resnet18(), 224, seed=3)
    return 0


if __name__ == "__main__":
    sys.exit(main())

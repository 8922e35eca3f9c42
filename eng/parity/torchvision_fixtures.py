"""Reference fixtures for the image backbones, written by torchvision (Debian's python3-torchvision 0.14 is enough:
no pretrained weights, no network). The C# tests load them and must match within 1e-4.

  /usr/bin/python3 eng/parity/torchvision_fixtures.py                 # the committed fixtures (small)
  /usr/bin/python3 eng/parity/torchvision_fixtures.py --full /tmp/fx  # full-size EfficientNet-B0, ResNet-18, ViT-B/16 too

Writes into test/fixtures/torchvision (or the --full folder):
  <name>.pt      the model's state_dict, BatchNorm statistics and affine parameters randomised so that eval-mode
                 BatchNorm is not the identity
  <name>-io.pt   {"input": [2,3,S,S], "features": [2,F]}: the pooled features in eval mode (the classifier is not used;
                 a ViT's features are its class token after encoder.ln)
  vit-tiny-48-io.pt  the tiny ViT's state_dict (a 32 px grid) resampled by torchvision's interpolate_embeddings to 48 px,
                 then run at 48 px: what the C# module must give after resampling the position table at load time
  shapes.json    for every catalog architecture: the count and SHA-256 of its sorted "key:shape" lines, without the
                 classifier, so the C# modules' state_dicts can be compared key by key
"""
import argparse, hashlib, json, os, sys

import torch
import torchvision
from torchvision.models import efficientnet as tv_efficientnet
from torchvision.models import vision_transformer as tv_vit

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "test", "fixtures", "torchvision")

EFFICIENTNETS = {  # name: (width, depth), torchvision's table
    "efficientnet_b0": (1.0, 1.0), "efficientnet_b1": (1.0, 1.1), "efficientnet_b2": (1.1, 1.2),
    "efficientnet_b3": (1.2, 1.4), "efficientnet_b4": (1.4, 1.8), "efficientnet_b5": (1.6, 2.2),
    "efficientnet_b6": (1.8, 2.6), "efficientnet_b7": (2.0, 3.1),
}

VITS = {  # name: (patch, layers, heads, hidden, mlp), torchvision's vit_* builders (all at 224 px)
    "vit_b_16": (16, 12, 12, 768, 3072), "vit_b_32": (32, 12, 12, 768, 3072),
    "vit_l_16": (16, 24, 16, 1024, 4096), "vit_l_32": (32, 24, 16, 1024, 4096),
}
# The committed tiny ViT: 32 px in 8 px patches (a 4x4 grid), 2 layers, 2 heads, hidden 32, MLP 64.
TINY_VIT = dict(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64)


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


def randomise_vit(model, generator):
    """torchvision starts LayerNorms at 1 and 0, the class token and the attention biases at 0: randomised so that a
    swapped scale and shift, or a missed bias, shows."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.startswith("heads."):
                continue
            if ".ln" in name:
                p.copy_(torch.rand(p.shape, generator=generator) + 0.5 if name.endswith("weight") else torch.randn(p.shape, generator=generator) * 0.1)
            elif name == "class_token" or name.endswith("in_proj_bias") or name.endswith("out_proj.bias"):
                p.copy_(torch.randn(p.shape, generator=generator) * 0.1)


def features(model, x):
    if isinstance(model, tv_vit.VisionTransformer):
        model_heads = model.heads
        model.heads = torch.nn.Identity()
        try:
            return model(x).contiguous()  # x[:, 0] is a view into all tokens: saved alone, not with their storage
        finally:
            model.heads = model_heads
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
    randomise_vit(model, generator)
    model.eval()
    x = torch.rand((2, 3, size, size), generator=generator) * 4 - 2
    with torch.no_grad():
        y = features(model, x)
    torch.save(model.state_dict(), os.path.join(folder, name + ".pt"))
    torch.save({"input": x, "features": y}, os.path.join(folder, name + "-io.pt"))
    print(f"{name}: {sum(p.numel() for p in model.parameters())} parameters, features {tuple(y.shape)}")
    return generator


def write_resampled_vit(folder, name, model, size, generator):
    """The trained model's state_dict carried to another image size the way torchvision documents (interpolate_embeddings:
    bicubic on the patch grid, align_corners=True, the class token's position kept), run at that size."""
    state = tv_vit.interpolate_embeddings(size, model.patch_size, model.state_dict())
    resized = tv_vit.VisionTransformer(**{**TINY_VIT, "image_size": size}, num_classes=model.num_classes)
    resized.load_state_dict(state)
    resized.eval()
    x = torch.rand((2, 3, size, size), generator=generator) * 4 - 2
    with torch.no_grad():
        y = features(resized, x)
    torch.save({"input": x, "features": y}, os.path.join(folder, name + "-io.pt"))
    print(f"{name}: position table {tuple(state['encoder.pos_embedding'].shape)}, features {tuple(y.shape)}")


def shape_manifest(model, classifier_prefix):
    lines = sorted(f"{k}:{','.join(str(d) for d in v.shape)}" for k, v in model.state_dict().items()
                   if not k.startswith(classifier_prefix))
    return {"keys": len(lines), "sha256": hashlib.sha256("\n".join(lines).encode()).hexdigest()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", metavar="FOLDER", help="also write full-size EfficientNet-B0, ResNet-18 and ViT-B/16 fixtures there")
    args = parser.parse_args()
    torch.manual_seed(0)
    os.makedirs(FIXTURES, exist_ok=True)
    # 10 classes keep the (ignored) classifier small; 40 px is not a multiple of 32, so padding and pooling see odd sizes.
    write_fixture(FIXTURES, "efficientnet-w0.25-d0.25", efficientnet(0.25, 0.25, classes=10), 40, seed=1)
    vit = tv_vit.VisionTransformer(**TINY_VIT, num_classes=10)
    generator = write_fixture(FIXTURES, "vit-tiny", vit, TINY_VIT["image_size"], seed=4)
    # 48 px: a 6x6 grid from the 4x4 one; not a power-of-two ratio, so the interpolation weights are not trivial.
    write_resampled_vit(FIXTURES, "vit-tiny-48", vit, 48, generator)

    shapes = {name: shape_manifest(efficientnet(w, d), "classifier.") for name, (w, d) in EFFICIENTNETS.items()}
    for name in ("resnet18", "resnet34", "resnet50"):
        shapes[name] = shape_manifest(getattr(torchvision.models, name)(), "fc.")
    for name in VITS:
        shapes[name] = shape_manifest(getattr(torchvision.models, name)(), "heads.")
    with open(os.path.join(FIXTURES, "shapes.json"), "w") as f:
        json.dump({"torchvision": torchvision.__version__, "models": shapes}, f, indent=2)
        f.write("\n")

    if args.full:
        os.makedirs(args.full, exist_ok=True)
        write_fixture(args.full, "efficientnet_b0", efficientnet(1.0, 1.0), 224, seed=2)
        write_fixture(args.full, "resnet18", torchvision.models.resnet18(), 224, seed=3)
        write_fixture(args.full, "vit_b_16", torchvision.models.vit_b_16(), 224, seed=5)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""MobileNetV2 (width 1.0) as torchvision builds it, with an attention slot in every inverted
residual: after the depthwise conv (BN, ReLU6), before the linear 1x1 projection, on the
expanded channels, as the coordinate attention paper's MobileNetV2 code places it."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

Attention = Callable[[int], nn.Module] | None

# expansion t, output channels c, repeats n, first stride s (torchvision's table)
SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
            (6, 160, 3, 2), (6, 320, 1, 1)]


def conv_bn(inp: int, oup: int, kernel: int = 3, stride: int = 1, groups: int = 1,
            act: bool = True) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(inp, oup, kernel, stride, (kernel - 1) // 2,
                                         groups=groups, bias=False), nn.BatchNorm2d(oup)]
    return layers + ([nn.ReLU6(inplace=True)] if act else [])


class InvertedResidual(nn.Module):
    def __init__(self, inp: int, oup: int, stride: int, expand: int,
                 attention: Attention = None) -> None:
        super().__init__()
        hidden = int(round(inp * expand))
        self.use_res_connect = stride == 1 and inp == oup
        layers: list[nn.Module] = []
        if expand != 1:
            layers += [nn.Sequential(*conv_bn(inp, hidden, kernel=1))]
        layers += [nn.Sequential(*conv_bn(hidden, hidden, stride=stride, groups=hidden))]
        if attention is not None:
            layers.append(attention(hidden))
        layers += [nn.Conv2d(hidden, oup, 1, bias=False), nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self, attention: Attention = None, num_classes: int = 1000) -> None:
        super().__init__()
        inp = 32
        features: list[nn.Module] = [nn.Sequential(*conv_bn(3, inp, stride=2))]
        for t, c, n, s in SETTINGS:
            for i in range(n):
                features.append(InvertedResidual(inp, c, s if i == 0 else 1, t, attention))
                inp = c
        features.append(nn.Sequential(*conv_bn(inp, 1280, kernel=1)))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


def mobilenet_v2(attention: Attention = None) -> MobileNetV2:
    return MobileNetV2(attention)

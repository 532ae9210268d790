"""ResNet-18/34/50/101 as torchvision builds them (v1.5: the stride is on the 3x3 conv of a
bottleneck), and ResNet-50 v1 (the stride on the first 1x1 conv, as in the original ResNet and
the SE, CBAM, BAM and ECA papers: the same parameters, 3.86 G MACs at 224 instead of 4.09 G),
with an attention slot after the last BN of each residual block, before the identity is added,
as the SE, CBAM and ECA papers place their blocks. Module names follow torchvision, so its
state dicts load (the slot is named ``attention``)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

Attention = Callable[[int], nn.Module] | None


def _slot(attention: Attention, channels: int) -> nn.Module:
    return attention(channels) if attention is not None else nn.Identity()


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None, attention: Attention = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.attention = _slot(attention, planes)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.attention(self.bn2(self.conv2(out)))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None, attention: Attention = None,
                 stride_on_1x1: bool = False) -> None:
        super().__init__()
        first, middle = (stride, 1) if stride_on_1x1 else (1, stride)
        self.conv1 = nn.Conv2d(inplanes, planes, 1, first, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, middle, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.attention = _slot(attention, planes * 4)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.attention(self.bn3(self.conv3(out)))
        return self.relu(out + identity)


class ResNet(nn.Module):
    def __init__(self, block: type[BasicBlock | Bottleneck], layers: list[int],
                 attention: Attention = None, num_classes: int = 1000,
                 stride_on_1x1: bool = False) -> None:
        super().__init__()
        self.inplanes = 64
        self._block_args = {"stride_on_1x1": True} if stride_on_1x1 else {}
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._stage(block, 64, layers[0], 1, attention)
        self.layer2 = self._stage(block, 128, layers[1], 2, attention)
        self.layer3 = self._stage(block, 256, layers[2], 2, attention)
        self.layer4 = self._stage(block, 512, layers[3], 2, attention)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512 * block.expansion, num_classes)

    def _stage(self, block, planes: int, blocks: int, stride: int,
               attention: Attention) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, attention, **self._block_args)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, attention=attention) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet18(attention: Attention = None) -> ResNet:
    return ResNet(BasicBlock, [2, 2, 2, 2], attention)


def resnet34(attention: Attention = None) -> ResNet:
    return ResNet(BasicBlock, [3, 4, 6, 3], attention)


def resnet50(attention: Attention = None) -> ResNet:
    return ResNet(Bottleneck, [3, 4, 6, 3], attention)


def resnet50_v1(attention: Attention = None) -> ResNet:
    """ResNet-50 v1: the stride of a stage's first bottleneck on its first 1x1 conv."""
    return ResNet(Bottleneck, [3, 4, 6, 3], attention, stride_on_1x1=True)


def resnet101(attention: Attention = None) -> ResNet:
    return ResNet(Bottleneck, [3, 4, 23, 3], attention)

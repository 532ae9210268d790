"""A straightforward transcription of the seed's math (the blog post attnprof started from),
used as the reference the built-in blocks must match: same parameter names, same outputs for
the same weights."""

import math

import torch
from torch import nn


class SeedSE(nn.Module):
    def __init__(self, in_channel, ratio=4, bias=False):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(output_size=1)
        self.fc1 = nn.Linear(in_channel, in_channel // ratio, bias=bias)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(in_channel // ratio, in_channel, bias=bias)
        self.sigmoid = nn.Sigmoid()

    def forward(self, inputs):
        b, c, h, w = inputs.shape
        x = self.avg_pool(inputs).view([b, c])
        x = self.sigmoid(self.fc2(self.relu(self.fc1(x))))
        return x.view([b, c, 1, 1]) * inputs


class SeedECA(nn.Module):
    def __init__(self, in_channel, b=1, gama=2):
        super().__init__()
        kernel_size = int(abs((math.log(in_channel, 2) + b) / gama))
        if kernel_size % 2 == 0:
            kernel_size = kernel_size + 1
        self.avg_pool = nn.AdaptiveAvgPool2d(output_size=1)
        self.conv = nn.Conv1d(1, 1, kernel_size=kernel_size, bias=False, padding=kernel_size // 2)
        self.sigmoid = nn.Sigmoid()

    def forward(self, inputs):
        b, c, h, w = inputs.shape
        x = self.avg_pool(inputs).view([b, 1, c])
        x = self.sigmoid(self.conv(x)).view([b, c, 1, 1])
        return x * inputs


class SeedChannelAttention(nn.Module):
    def __init__(self, in_channel, ratio=4, bias=False):
        super().__init__()
        self.max_pool = nn.AdaptiveMaxPool2d(output_size=1)
        self.avg_pool = nn.AdaptiveAvgPool2d(output_size=1)
        self.fc1 = nn.Linear(in_channel, in_channel // ratio, bias=bias)
        self.fc2 = nn.Linear(in_channel // ratio, in_channel, bias=bias)
        self.relu = nn.ReLU()
        self.sigmoid = nn.Sigmoid()

    def forward(self, inputs):
        b, c, h, w = inputs.shape
        max_pool = self.max_pool(inputs).view([b, c])
        avg_pool = self.avg_pool(inputs).view([b, c])
        x_maxpool = self.fc2(self.relu(self.fc1(max_pool)))
        x_avgpool = self.fc2(self.relu(self.fc1(avg_pool)))
        x = self.sigmoid(x_maxpool + x_avgpool).view([b, c, 1, 1])
        return inputs * x


class SeedSpatialAttention(nn.Module):
    def __init__(self, kernel_size=7):
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)
        self.sigmoid = nn.Sigmoid()

    def forward(self, inputs):
        x_maxpool, _ = torch.max(inputs, dim=1, keepdim=True)
        x_avgpool = torch.mean(inputs, dim=1, keepdim=True)
        x = self.sigmoid(self.conv(torch.cat([x_maxpool, x_avgpool], dim=1)))
        return inputs * x


class SeedCBAM(nn.Module):
    def __init__(self, in_channel, ratio=4, kernel_size=7, bias=False):
        super().__init__()
        self.channel_attention = SeedChannelAttention(in_channel, ratio, bias)
        self.spatial_attention = SeedSpatialAttention(kernel_size)

    def forward(self, inputs):
        return self.spatial_attention(self.channel_attention(inputs))


def seed_block(name, channels, **options):
    """The seed's module for a registered seed block name, with attnprof's option names."""
    if name == "se":
        return SeedSE(channels, options.get("ratio", 4), options.get("bias", False))
    if name == "eca":
        return SeedECA(channels, options.get("b", 1), options.get("gamma", 2))
    if name == "cbam":
        return SeedCBAM(channels, options.get("ratio", 4), options.get("kernel_size", 7),
                        options.get("bias", False))
    if name == "cbam_channel":
        return SeedChannelAttention(channels, options.get("ratio", 4), options.get("bias", False))
    if name == "cbam_spatial":
        return SeedSpatialAttention(options.get("kernel_size", 7))
    raise KeyError(name)


SEED_BLOCKS = ("se", "eca", "cbam", "cbam_channel", "cbam_spatial")

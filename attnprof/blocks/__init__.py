"""Built-in attention blocks.

``catalog`` says what each block is (torch-free, so ``list`` and ``show`` stay instant); the
family modules (``se``, ``eca``, ``cbam``) say how each computes and import torch.
"""

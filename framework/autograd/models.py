"""Models: layers that stand for a whole network (``Model``), ``Sequential``, ``MLP``.

Also the architectures of DeZero's ``models.py``: ``VGG16`` and ``ResNet`` (50/101/152).

A model is trained like this (DeZero step 45)::

    model = MLP((100, 10), activation=F.relu)
    optimizer = SGD(lr=0.1).setup(model)
    for x, t in batches:
        loss = F.softmax_cross_entropy(model(x), t)
        model.cleargrads()
        loss.backward()
        optimizer.update()
"""

from __future__ import annotations

import numpy as np

from . import utils
from .functions import average_pooling, dropout, pooling, relu, reshape, sigmoid
from .layers import BatchNorm, Conv2d, Layer, Linear
from .utils import plot_dot_graph

__all__ = [
    "Model",
    "Sequential",
    "MLP",
    "VGG16",
    "ResNet",
    "ResNet50",
    "ResNet101",
    "ResNet152",
    "BuildingBlock",
    "BottleneckA",
    "BottleneckB",
]


class Model(Layer):
    """A ``Layer`` that is a whole network; ``plot`` draws its graph."""

    def plot(self, *inputs, to_file: str = "model.png"):
        """Run the model on ``inputs`` and draw its graph into ``to_file`` (``plot_dot_graph``)."""
        y = self.forward(*inputs)
        return plot_dot_graph(y, verbose=True, to_file=to_file)


class Sequential(Model):
    """Layers (or any callables) applied one after the other: ``Sequential(l0, l1, ...)``.

    DeZero's signature: the layers are positional arguments and become attributes
    ``l0, l1, ...`` (so their parameters are found and saved as ``"l0/W"``).
    """

    def __init__(self, *layers):
        super().__init__()
        self.layers = []
        for i, layer in enumerate(layers):
            setattr(self, f"l{i}", layer)
            self.layers.append(layer)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class MLP(Model):
    """Fully connected network: ``Linear`` layers with ``activation`` between them.

    Parameters
    ----------
    fc_output_sizes : sequence of int
        Output size of each ``Linear`` (the input size is inferred on the first call);
        ``(100, 10)`` is 784-100-10 for MNIST.  The layers are attributes ``l0, l1, ...``.
    activation : callable, default ``F.sigmoid``
    rng : numpy.random.Generator, optional
        Shared by the layers to draw their weights; NumPy's global state when omitted.
    """

    def __init__(self, fc_output_sizes, activation=sigmoid, rng=None):
        super().__init__()
        self.activation = activation
        self.layers = []
        for i, out_size in enumerate(fc_output_sizes):
            layer = Linear(out_size, rng=rng)
            setattr(self, f"l{i}", layer)
            self.layers.append(layer)

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        return self.layers[-1](x)


def _load_pretrained(model: Model, name: str, url: str) -> None:
    """Load DeZero's pretrained weights into ``model``: ``utils.get_file``, ``load_weights``.

    The file is downloaded once into ``utils.cache_dir`` (DeZero's ``~/.dezero``)
    and found there afterwards.  Offline, or without pooch, the error says what was
    asked and how to get the file by hand.
    """
    try:
        path = utils.get_file(url)
    except (ConnectionError, ImportError) as err:
        raise type(err)(
            f"{name}(pretrained=True): cannot fetch the pretrained weights: {err}. Or build "
            f"the model with pretrained=False and call model.load_weights(path)"
        ) from err
    model.load_weights(path)


class VGG16(Model):
    """VGG-16 (Simonyan and Zisserman, 2014): 13 3x3 convolutions in 5 blocks, 3 Linear.

    Input (N, 3, 224, 224), BGR images minus the ImageNet mean (``preprocess``);
    output (N, 1000) class scores.  Layers ``conv1_1 ... conv5_3``, ``fc6, fc7,
    fc8``; each block ends in 2x2 max pooling, and ``fc6``/``fc7`` are followed by
    ReLU and dropout.  Input sizes are inferred on the first call.

    Parameters
    ----------
    pretrained : bool
        Load DeZero's trained weights, ``WEIGHTS_PATH`` (528 MB), downloaded once
        with ``utils.get_file``; ``ConnectionError`` when offline.
    """

    WEIGHTS_PATH = "https://github.com/koki0702/dezero-models/releases/download/v0.1/vgg16.npz"

    def __init__(self, pretrained: bool = False):
        super().__init__()
        blocks = [(1, 64, 2), (2, 128, 2), (3, 256, 3), (4, 512, 3), (5, 512, 3)]
        self.blocks = []
        for b, channels, n in blocks:
            names = [f"conv{b}_{i}" for i in range(1, n + 1)]
            for name in names:
                setattr(self, name, Conv2d(channels, kernel_size=3, stride=1, pad=1))
            self.blocks.append(names)
        self.fc6 = Linear(4096)
        self.fc7 = Linear(4096)
        self.fc8 = Linear(1000)
        if pretrained:
            _load_pretrained(self, "VGG16", VGG16.WEIGHTS_PATH)

    def forward(self, x):
        for names in self.blocks:
            for name in names:
                x = relu(getattr(self, name)(x))
            x = pooling(x, 2, 2)
        x = reshape(x, (x.shape[0], -1))
        x = dropout(relu(self.fc6(x)))
        x = dropout(relu(self.fc7(x)))
        return self.fc8(x)

    @staticmethod
    def preprocess(image, size=(224, 224), dtype=np.float32):
        """Turn a PIL image into a (3, H, W) array: resized, BGR, minus the ImageNet mean."""
        image = image.convert("RGB")
        if size:
            image = image.resize(size)
        image = np.asarray(image, dtype=dtype)[:, :, ::-1]
        image = image - np.array([103.939, 116.779, 123.68], dtype=dtype)
        return image.transpose((2, 0, 1))


class ResNet(Model):
    """ResNet (He et al., 2015) with bottleneck blocks: 50, 101 or 152 layers.

    ``conv1`` (7x7, stride 2) + ``bn1`` + ReLU + 3x3 max pooling (stride 2), then
    ``res2 ... res5`` (``BuildingBlock``s of 3/4/6/3, 3/4/23/3 or 3/8/36/3
    bottlenecks), global average pooling and ``fc6`` (1000 classes).

    Parameters
    ----------
    n_layers : {50, 101, 152}
    pretrained : bool
        Load DeZero's trained weights, ``WEIGHTS_PATH`` with the depth filled in,
        downloaded once with ``utils.get_file``; ``ConnectionError`` when offline.
    """

    WEIGHTS_PATH = "https://github.com/koki0702/dezero-models/releases/download/v0.1/resnet{}.npz"
    BLOCKS = {50: [3, 4, 6, 3], 101: [3, 4, 23, 3], 152: [3, 8, 36, 3]}

    def __init__(self, n_layers: int = 152, pretrained: bool = False):
        if n_layers not in ResNet.BLOCKS:
            raise ValueError(
                f"ResNet: the n_layers argument should be either 50, 101, or 152, but "
                f"{n_layers} was given"
            )
        super().__init__()
        block = ResNet.BLOCKS[n_layers]
        self.conv1 = Conv2d(64, 7, 2, 3)
        self.bn1 = BatchNorm()
        self.res2 = BuildingBlock(block[0], 64, 64, 256, 1)
        self.res3 = BuildingBlock(block[1], 256, 128, 512, 2)
        self.res4 = BuildingBlock(block[2], 512, 256, 1024, 2)
        self.res5 = BuildingBlock(block[3], 1024, 512, 2048, 2)
        self.fc6 = Linear(1000)
        if pretrained:
            _load_pretrained(self, f"ResNet{n_layers}", ResNet.WEIGHTS_PATH.format(n_layers))

    def forward(self, x):
        x = relu(self.bn1(self.conv1(x)))
        x = pooling(x, kernel_size=3, stride=2)
        x = self.res5(self.res4(self.res3(self.res2(x))))
        N, C, H, W = x.shape
        x = reshape(average_pooling(x, (H, W), stride=1), (N, C))  # global average pooling
        return self.fc6(x)


class ResNet50(ResNet):
    """``ResNet(50)``."""

    def __init__(self, pretrained: bool = False):
        super().__init__(50, pretrained)


class ResNet101(ResNet):
    """``ResNet(101)``."""

    def __init__(self, pretrained: bool = False):
        super().__init__(101, pretrained)


class ResNet152(ResNet):
    """``ResNet(152)``."""

    def __init__(self, pretrained: bool = False):
        super().__init__(152, pretrained)


class BuildingBlock(Layer):
    """One stage of ResNet: a ``BottleneckA`` (``a``) then ``n_layers - 1`` ``BottleneckB``s."""

    def __init__(
        self,
        n_layers=None,
        in_channels=None,
        mid_channels=None,
        out_channels=None,
        stride=None,
        downsample_fb=None,
    ):
        super().__init__()
        self.a = BottleneckA(in_channels, mid_channels, out_channels, stride, downsample_fb)
        self._forward = ["a"]
        for i in range(n_layers - 1):
            name = f"b{i + 1}"
            setattr(self, name, BottleneckB(out_channels, mid_channels))
            self._forward.append(name)

    def forward(self, x):
        for name in self._forward:
            x = getattr(self, name)(x)
        return x


class BottleneckA(Layer):
    """Bottleneck that changes the resolution: 1x1, 3x3, 1x1 convolutions + a 1x1 shortcut.

    ``y = relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + bn4(conv4(x)))``.
    ``downsample_fb``: True puts the stride on the 3x3 convolution (Facebook's
    ResNet), False on the first 1x1 (the original MSRA ResNet).
    """

    def __init__(self, in_channels, mid_channels, out_channels, stride=2, downsample_fb=False):
        super().__init__()
        stride_1x1, stride_3x3 = (1, stride) if downsample_fb else (stride, 1)
        self.conv1 = Conv2d(mid_channels, 1, stride_1x1, 0, nobias=True)
        self.bn1 = BatchNorm()
        self.conv2 = Conv2d(mid_channels, 3, stride_3x3, 1, nobias=True)
        self.bn2 = BatchNorm()
        self.conv3 = Conv2d(out_channels, 1, 1, 0, nobias=True)
        self.bn3 = BatchNorm()
        self.conv4 = Conv2d(out_channels, 1, stride, 0, nobias=True)
        self.bn4 = BatchNorm()

    def forward(self, x):
        h1 = relu(self.bn1(self.conv1(x)))
        h1 = relu(self.bn2(self.conv2(h1)))
        h1 = self.bn3(self.conv3(h1))
        h2 = self.bn4(self.conv4(x))
        return relu(h1 + h2)


class BottleneckB(Layer):
    """Bottleneck that keeps the resolution: 1x1, 3x3, 1x1 convolutions + identity shortcut."""

    def __init__(self, in_channels, mid_channels):
        super().__init__()
        self.conv1 = Conv2d(mid_channels, 1, 1, 0, nobias=True)
        self.bn1 = BatchNorm()
        self.conv2 = Conv2d(mid_channels, 3, 1, 1, nobias=True)
        self.bn2 = BatchNorm()
        self.conv3 = Conv2d(in_channels, 1, 1, 0, nobias=True)
        self.bn3 = BatchNorm()

    def forward(self, x):
        h = relu(self.bn1(self.conv1(x)))
        h = relu(self.bn2(self.conv2(h)))
        h = self.bn3(self.conv3(h))
        return relu(h + x)

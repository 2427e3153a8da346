"""pcavs_torch.py: the four PC-AVS inference networks in PyTorch, the reference the C engine is tested against.

Written for this project from reading the official code (Hangz-nju-cuhk/Talking-Face_PC-AVS:
models/networks/{generator,vision_network,FAN_feature_extractor,audio_network,encoder}.py,
models/av_model.py, torchvision's ResNet) and docs/model.md. The module tree (attribute
names, registration order, parameters, buffers) is the official one, so `state_dict()` has exactly
the keys, shapes and dtypes of the released checkpoints (checked against spec/keys/*.tsv by
`check_keys`), including the tensors inference never reads (G's style MLP, V's fc, E's
classifier/mouth_fc/headpose_fc/to_mouth, A_sync's fc, num_batches_tracked).

Forward functions compute what upstream inference computes (eval mode, float32):
  G: StyleGAN2 generator with the grouped "fused" modulated convolution, upfirdn2d_native blur,
     styles fed as latents, input map = id_map;                               `Generator.forward`
  V: ResNeXt50-32x4d -> id_feature (2048) and id_map (512x7x7);               `IdentityEncoder.encode`
  E: FAN_use (hourglass) -> 512 feature; heads to_headpose/headpose_embed/mouth_embed;
                                                                                `PoseEncoder.feature`
  A_sync: ResNetSE with SE blocks and self-attentive pooling -> 512;        `AudioSyncEncoder.feature`
Every forward takes an optional `taps` dict that receives named intermediate outputs (stage dumps).
"""
import math
import os

import torch
from torch import nn
from torch.nn import functional as F

NUM_CLASSES = 5830  # size of the (training-only) identity classifiers in the released checkpoints
STYLE_DIM = 2560  # 2048 id_feature + 512 pose feature
POSE_DIM = 12
CROP = 224


def _tap(taps, name, value):
    if taps is not None:
        taps[name] = value.detach().clone()


# ------------------------------------------------------------------------------------------------
# G: StyleGAN2-style generator (upstream models/networks/generator.py, rosinality's port)
# ------------------------------------------------------------------------------------------------

def upfirdn2d_native(x, kernel, up, down, pad0, pad1):
    """Upsample by zero insertion, pad (negative = crop), FIR filter with the flipped kernel, decimate.
    x: [B, C, H, W]; kernel: [kh, kw]. Same op sequence as upstream's upfirdn2d_native (square case)."""
    b, c, h, w = x.shape
    kh, kw = kernel.shape
    out = x.reshape(-1, c, h, 1, w, 1)
    out = F.pad(out, [0, up - 1, 0, 0, 0, up - 1, 0, 0])
    out = out.reshape(-1, c, h * up, w * up)
    out = F.pad(out, [max(pad0, 0), max(pad1, 0), max(pad0, 0), max(pad1, 0)])
    out = out[:, :, max(-pad0, 0):out.shape[2] - max(-pad1, 0), max(-pad0, 0):out.shape[3] - max(-pad1, 0)]
    hp, wp = h * up + pad0 + pad1, w * up + pad0 + pad1
    out = out.reshape(-1, 1, hp, wp)
    flipped = torch.flip(kernel, [0, 1]).view(1, 1, kh, kw)
    out = F.conv2d(out, flipped)
    out = out.reshape(-1, c, hp - kh + 1, wp - kw + 1)
    return out[:, :, ::down, ::down]


def blur_kernel_2d(taps1d, gain):
    """outer(k, k) / sum * gain: the 4x4 [1,3,3,1] kernel of Blur / Upsample."""
    k = torch.tensor(taps1d, dtype=torch.float32)
    k2 = k[None, :] * k[:, None]
    k2 = k2 / k2.sum()
    return k2 * gain


class PixelNorm(nn.Module):
    def forward(self, x):
        return x * torch.rsqrt(torch.mean(x * x, dim=1, keepdim=True) + 1e-8)


class EqualLinear(nn.Module):
    """Linear with runtime weight scale 1/sqrt(in) * lr_mul; optional fused leaky ReLU."""

    def __init__(self, in_dim, out_dim, bias_init=0.0, lr_mul=1.0, activation=None):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_dim,), float(bias_init)))
        self.activation = activation
        self.scale = lr_mul / math.sqrt(in_dim)
        self.lr_mul = lr_mul

    def forward(self, x):
        if self.activation:
            y = F.linear(x, self.weight * self.scale)
            return F.leaky_relu(y + self.bias * self.lr_mul, 0.2) * (2 ** 0.5)
        return F.linear(x, self.weight * self.scale, bias=self.bias * self.lr_mul)


class Blur(nn.Module):
    def __init__(self, pad, upsample_factor=1):
        super().__init__()
        self.register_buffer("kernel", blur_kernel_2d([1, 3, 3, 1], upsample_factor ** 2))
        self.pad = pad

    def forward(self, x):
        return upfirdn2d_native(x, self.kernel, 1, 1, self.pad[0], self.pad[1])


class Upsample(nn.Module):
    """ToRGB skip upsampling: upfirdn2d(up=2) with the 4x4 kernel * 4, pad (2, 1)."""

    def __init__(self, factor=2):
        super().__init__()
        self.factor = factor
        self.register_buffer("kernel", blur_kernel_2d([1, 3, 3, 1], factor ** 2))
        p = 4 - factor
        self.pad = ((p + 1) // 2 + factor - 1, p // 2)

    def forward(self, x):
        return upfirdn2d_native(x, self.kernel, self.factor, 1, self.pad[0], self.pad[1])


class ModulatedConv2d(nn.Module):
    """Per-sample modulated (and optionally demodulated) convolution, computed as upstream does:
    one grouped convolution over the batch (groups = B) with per-sample weights ("fused")."""

    def __init__(self, in_ch, out_ch, k, style_dim, demodulate=True, upsample=False):
        super().__init__()
        self.k, self.in_ch, self.out_ch = k, in_ch, out_ch
        self.upsample = upsample
        if upsample:
            p = (4 - 2) - (k - 1)
            self.blur = Blur(((p + 1) // 2 + 1, p // 2 + 1), upsample_factor=2)  # pad (1, 1) for k = 3
        self.scale = 1.0 / math.sqrt(in_ch * k * k)
        self.padding = k // 2
        self.weight = nn.Parameter(torch.randn(1, out_ch, in_ch, k, k))
        self.modulation = EqualLinear(style_dim, in_ch, bias_init=1.0)
        self.demodulate = demodulate

    def forward(self, x, style, taps=None, prefix=""):
        b, cin, h, w = x.shape  # x: [B, in, H, W]; style: [B, style_dim]
        s = self.modulation(style)  # [B, in]
        _tap(taps, prefix + "mod", s)
        wgt = self.scale * self.weight * s.view(b, 1, cin, 1, 1)  # [B, out, in, k, k]
        if self.demodulate:
            d = torch.rsqrt(wgt.pow(2).sum([2, 3, 4]) + 1e-8)  # [B, out]
            wgt = wgt * d.view(b, self.out_ch, 1, 1, 1)
        if self.upsample:
            wt = wgt.transpose(1, 2).reshape(b * cin, self.out_ch, self.k, self.k)  # [B*in, out, k, k]
            out = F.conv_transpose2d(x.reshape(1, b * cin, h, w), wt, padding=0, stride=2, groups=b)
            out = out.view(b, self.out_ch, out.shape[2], out.shape[3])
            out = self.blur(out)
        else:
            wf = wgt.view(b * self.out_ch, cin, self.k, self.k)
            out = F.conv2d(x.reshape(1, b * cin, h, w), wf, padding=self.padding, groups=b)
            out = out.view(b, self.out_ch, out.shape[2], out.shape[3])
        return out


class NoiseInjection(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x, noise=None):
        if noise is None:  # upstream randomize_noise=True: fresh N(0,1) per call
            noise = x.new_empty(x.shape[0], 1, x.shape[2], x.shape[3]).normal_()
        return x + self.weight * noise


class FusedLeakyReLU(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, ch, 1, 1))

    def forward(self, x):
        return F.leaky_relu(x + self.bias, 0.2) * (2 ** 0.5)


class ConstantInput(nn.Module):
    def __init__(self, ch, size):
        super().__init__()
        self.input = nn.Parameter(torch.randn(1, ch, size, size))


class StyledConv(nn.Module):
    def __init__(self, in_ch, out_ch, k, style_dim, upsample=False):
        super().__init__()
        self.conv = ModulatedConv2d(in_ch, out_ch, k, style_dim, demodulate=True, upsample=upsample)
        self.noise = NoiseInjection()
        self.activate = FusedLeakyReLU(out_ch)

    def forward(self, x, style, noise=None, taps=None, prefix=""):
        out = self.conv(x, style, taps, prefix)
        _tap(taps, prefix + "modconv", out)
        out = self.noise(out, noise)
        return self.activate(out)


class ToRGB(nn.Module):
    def __init__(self, in_ch, style_dim, upsample=True):
        super().__init__()
        if upsample:
            self.upsample = Upsample()
        self.conv = ModulatedConv2d(in_ch, 3, 1, style_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def forward(self, x, style, skip=None, taps=None, prefix=""):
        out = self.conv(x, style, taps, prefix) + self.bias
        if skip is not None:
            out = out + self.upsample(skip)
        return out


class Generator(nn.Module):
    """ModulateGenerator(opt) with crop_size 224, style_dim = feature_encoded_dim = 2560."""

    def __init__(self, size=CROP, style_dim=STYLE_DIM, n_mlp=8, lr_mlp=0.01):
        super().__init__()
        self.size, self.style_dim = size, style_dim
        self.style = nn.Sequential(PixelNorm(), *[EqualLinear(style_dim, style_dim, lr_mul=lr_mlp,
                                                              activation="fused_lrelu") for _ in range(n_mlp)])
        self.channels = {7: 512, 14: 512, 28: 512, 56: 512, 112: 256, 224: 128, 448: 64}
        self.init_size = 7
        c0 = self.channels[7]
        self.input = ConstantInput(c0, 7)
        self.conv1 = StyledConv(c0, c0, 3, style_dim)
        self.to_rgb1 = ToRGB(c0, style_dim, upsample=False)
        self.log_size = int(math.log(size // 7, 2))  # 5
        self.num_layers = self.log_size * 2 + 1  # 11 noise inputs
        self.convs = nn.ModuleList()
        self.upsamples = nn.ModuleList()  # empty, as upstream
        self.to_rgbs = nn.ModuleList()
        self.noises = nn.Module()
        for i in range(self.num_layers):
            r = 7 * 2 ** ((i + 1) // 2)
            self.noises.register_buffer(f"noise_{i}", torch.randn(1, 1, r, r))
        cin = c0
        for i in range(1, self.log_size + 1):
            cout = self.channels[7 * 2 ** i]
            self.convs.append(StyledConv(cin, cout, 3, style_dim, upsample=True))
            self.convs.append(StyledConv(cout, cout, 3, style_dim))
            self.to_rgbs.append(ToRGB(cout, style_dim))
            cin = cout
        self.n_latent = self.log_size * 2 + 2
        self.tanh = nn.Tanh()

    def noise_list(self, mode, batch=1):
        """mode 'fixed': the checkpoint's noises.noise_i buffers; 'none': zeros; 'random': fresh N(0,1)."""
        if mode == "random":
            return [None] * self.num_layers
        bufs = [getattr(self.noises, f"noise_{i}") for i in range(self.num_layers)]
        if mode == "fixed":
            return bufs
        if mode == "none":
            return [torch.zeros_like(n) for n in bufs]
        raise ValueError(f"unknown noise mode {mode!r}")

    def forward(self, style, id_map, noise="fixed", taps=None, prefix="G."):
        """style: [B, 2560] (used as the latent of every layer); id_map: [B, 512, 7, 7] (the input map).
        noise: a mode string (see noise_list) or a list of 11 tensors/None. Returns tanh image [B, 3, 224, 224]."""
        noise = self.noise_list(noise) if isinstance(noise, str) else noise
        out = self.conv1(id_map, style, noise[0], taps, prefix + "conv1.")
        _tap(taps, prefix + "conv1", out)
        skip = self.to_rgb1(out, style, None, taps, prefix + "to_rgb1.")
        _tap(taps, prefix + "skip_7", skip)
        for j, to_rgb in enumerate(self.to_rgbs):
            res = 7 * 2 ** (j + 1)
            out = self.convs[2 * j](out, style, noise[2 * j + 1], taps, prefix + f"convs.{2 * j}.")
            _tap(taps, prefix + f"convs.{2 * j}", out)
            out = self.convs[2 * j + 1](out, style, noise[2 * j + 2], taps, prefix + f"convs.{2 * j + 1}.")
            _tap(taps, prefix + f"convs.{2 * j + 1}", out)
            skip = to_rgb(out, style, skip, taps, prefix + f"to_rgbs.{j}.")
            _tap(taps, prefix + f"skip_{res}", skip)
        image = self.tanh(skip)
        _tap(taps, prefix + "image", image)
        return image


# ------------------------------------------------------------------------------------------------
# V: ResNeXt50-32x4d identity encoder (upstream vision_network.py over torchvision's ResNet)
# ------------------------------------------------------------------------------------------------

class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=32, base_width=4):
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + idt)


class ResNet(nn.Module):
    """torchvision.models.resnet.ResNet(Bottleneck, [3, 4, 6, 3], groups=32, width_per_group=4)."""

    def __init__(self, layers=(3, 4, 6, 3), num_classes=1000):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = self._make_layer(64, layers[0], 1)
        self.layer2 = self._make_layer(128, layers[1], 2)
        self.layer3 = self._make_layer(256, layers[2], 2)
        self.layer4 = self._make_layer(512, layers[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * 4, num_classes)

    def _make_layer(self, planes, blocks, stride):
        down = None
        if stride != 1 or self.inplanes != planes * 4:
            down = nn.Sequential(nn.Conv2d(self.inplanes, planes * 4, 1, stride=stride, bias=False),
                                 nn.BatchNorm2d(planes * 4))
        mods = [Bottleneck(self.inplanes, planes, stride, down)]
        self.inplanes = planes * 4
        mods += [Bottleneck(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*mods)


class IdentityEncoder(nn.Module):
    """ResNeXtEncoder / ResNeXt50 (netV)."""

    def __init__(self):
        super().__init__()
        self.model = ResNet()
        self.conv1x1 = nn.Conv2d(2048, 512, 1, padding=0)
        self.fc = nn.Linear(2048, NUM_CLASSES)

    def encode(self, img, taps=None, prefix="V."):
        """img: [N, 3, 224, 224] identity images. Returns id_feature [1, 2048], id_map [1, 512, 7, 7]
        (averaged over the N images, as netV.forward with num_inputs = N)."""
        m = self.model
        x = m.relu(m.bn1(m.conv1(img)))
        _tap(taps, prefix + "conv1", x)
        x = m.maxpool(x)
        _tap(taps, prefix + "stem", x)
        for name in ("layer1", "layer2", "layer3", "layer4"):
            x = getattr(m, name)(x)
            _tap(taps, prefix + name, x)
        net = torch.flatten(m.avgpool(x), 1)  # [N, 2048]
        y = self.conv1x1(x)  # [N, 512, 7, 7]
        _tap(taps, prefix + "conv1x1", y)
        y = F.adaptive_avg_pool2d(y, (7, 7))
        n = img.shape[0]
        id_feature = torch.mean(net.view(-1, n, 2048), 1)
        id_map = torch.mean(y.view(-1, n, 512, 7, 7), 1)
        _tap(taps, prefix + "id_feature", id_feature)
        _tap(taps, prefix + "id_map", id_map)
        return id_feature, id_map


# ------------------------------------------------------------------------------------------------
# E: FAN pose encoder + heads (upstream FAN_feature_extractor.py, encoder.py FanEncoder)
# ------------------------------------------------------------------------------------------------

def conv3x3(cin, cout):
    return nn.Conv2d(cin, cout, 3, stride=1, padding=1, bias=False)


class ConvBlock(nn.Module):
    """Pre-activation block: three 3x3 convs (out/2, out/4, out/4) concatenated + residual."""

    def __init__(self, cin, cout):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = conv3x3(cin, cout // 2)
        self.bn2 = nn.BatchNorm2d(cout // 2)
        self.conv2 = conv3x3(cout // 2, cout // 4)
        self.bn3 = nn.BatchNorm2d(cout // 4)
        self.conv3 = conv3x3(cout // 4, cout // 4)
        if cin != cout:
            self.downsample = nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(True), nn.Conv2d(cin, cout, 1, bias=False))
        else:
            self.downsample = None

    def forward(self, x):
        o1 = self.conv1(F.relu(self.bn1(x)))
        o2 = self.conv2(F.relu(self.bn2(o1)))
        o3 = self.conv3(F.relu(self.bn3(o2)))
        res = x if self.downsample is None else self.downsample(x)
        return torch.cat((o1, o2, o3), 1) + res


class HourGlass(nn.Module):
    def __init__(self, depth=4, features=256):
        super().__init__()
        self.depth = depth
        self.dropout = nn.Dropout(0.5)
        self._build(depth)

    def _build(self, level):
        self.add_module(f"b1_{level}", ConvBlock(256, 256))
        self.add_module(f"b2_{level}", ConvBlock(256, 256))
        if level > 1:
            self._build(level - 1)
        else:
            self.add_module(f"b2_plus_{level}", ConvBlock(256, 256))
        self.add_module(f"b3_{level}", ConvBlock(256, 256))

    def _level(self, level, x):
        up = self._modules[f"b1_{level}"](x)
        low = self._modules[f"b2_{level}"](F.max_pool2d(x, 2, stride=2))
        low = self._level(level - 1, low) if level > 1 else self._modules[f"b2_plus_{level}"](low)
        low = self._modules[f"b3_{level}"](low)
        return up + F.interpolate(low, size=(up.shape[2], up.shape[3]), mode="bilinear", align_corners=False)

    def forward(self, x):
        return self._level(self.depth, x)


class FAN(nn.Module):
    """FAN_use: stem, 3 ConvBlocks, one hourglass, landmark head, conv6 + fc -> 512 feature."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3)
        self.bn1 = nn.BatchNorm2d(64)
        self.conv2 = ConvBlock(64, 128)
        self.conv3 = ConvBlock(128, 128)
        self.conv4 = ConvBlock(128, 256)
        self.add_module("m0", HourGlass(4, 256))
        self.add_module("top_m_0", ConvBlock(256, 256))
        self.add_module("conv_last0", nn.Conv2d(256, 256, 1))
        self.add_module("l0", nn.Conv2d(256, 68, 1))
        self.add_module("bn_end0", nn.BatchNorm2d(256))
        self.avgpool = nn.MaxPool2d((2, 2), 2)  # unused (upstream name)
        self.conv6 = nn.Conv2d(68, 1, 3, 2, 1)
        self.fc = nn.Linear(28 * 28, 512)
        self.bn5 = nn.BatchNorm2d(68)
        self.relu = nn.ReLU(True)

    def forward(self, x, taps=None, prefix=""):
        x = F.relu(self.bn1(self.conv1(x)))
        _tap(taps, prefix + "stem", x)  # [B, 64, 112, 112]
        x = F.max_pool2d(self.conv2(x), 2)
        _tap(taps, prefix + "conv2", x)  # [B, 128, 56, 56]
        x = self.conv3(x)
        _tap(taps, prefix + "conv3", x)
        x = self.conv4(x)
        _tap(taps, prefix + "conv4", x)  # [B, 256, 56, 56]
        hg = self.m0(x)
        _tap(taps, prefix + "hourglass", hg)
        ll = self.top_m_0(hg)
        _tap(taps, prefix + "top_m_0", ll)
        ll = self.bn_end0(self.conv_last0(ll))
        tmp = self.l0(F.relu(ll))
        _tap(taps, prefix + "l0", tmp)  # [B, 68, 56, 56]
        net = self.conv6(self.relu(self.bn5(tmp)))
        _tap(taps, prefix + "conv6", net)  # [B, 1, 28, 28]
        net = self.fc(self.relu(net.view(-1, net.shape[-2] * net.shape[-1])))
        _tap(taps, prefix + "feature", net)  # [B, 512]
        return net


class PoseEncoder(nn.Module):
    """FanEncoder (netE) with pose_dim 12, clip_len 1, num_classes 5830."""

    def __init__(self):
        super().__init__()
        self.model = FAN()
        self.classifier = nn.Sequential(nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, NUM_CLASSES))
        self.to_mouth = nn.Sequential(nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 512))
        self.mouth_embed = nn.Sequential(nn.ReLU(), nn.Linear(512, 512 - POSE_DIM))
        self.mouth_fc = nn.Sequential(nn.ReLU(), nn.Linear(512, NUM_CLASSES))
        self.to_headpose = nn.Sequential(nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 512))
        self.headpose_embed = nn.Sequential(nn.ReLU(), nn.Linear(512, POSE_DIM))
        self.headpose_fc = nn.Sequential(nn.ReLU(), nn.Linear(POSE_DIM, NUM_CLASSES))

    def feature(self, img, taps=None, prefix="E."):
        """img: [B, 3, 224, 224] -> the 512 'no-identity' feature (netE.forward_feature)."""
        return self.model(img, taps, prefix)


# ------------------------------------------------------------------------------------------------
# A_sync: ResNetSE audio encoder (upstream audio_network.py, encoder.py ResSESyncEncoder)
# ------------------------------------------------------------------------------------------------

class SELayer(nn.Module):
    def __init__(self, ch, reduction=8):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Linear(ch, ch // reduction), nn.ReLU(inplace=True),
                                nn.Linear(ch // reduction, ch), nn.Sigmoid())

    def forward(self, x):
        b, c = x.shape[0], x.shape[1]
        y = self.fc(self.avg_pool(x).view(b, c)).view(b, c, 1, 1)
        return x * y


class SEBasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, reduction=8):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.se = SELayer(planes, reduction)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        out = self.bn1(self.relu(self.conv1(x)))  # conv -> ReLU -> BN (upstream order)
        out = self.se(self.bn2(self.conv2(out)))
        res = x if self.downsample is None else self.downsample(x)
        return self.relu(out + res)


class ResNetSE(nn.Module):
    def __init__(self, layers=(3, 4, 6, 3), filters=(32, 64, 128, 256), n_out=512, n_mels=80, n_mel_t=1):
        super().__init__()
        self.inplanes = filters[0]
        self.conv1 = nn.Conv2d(1, filters[0], 3, stride=1, padding=1)
        self.relu = nn.ReLU(inplace=True)
        self.bn1 = nn.BatchNorm2d(filters[0])
        self.layer1 = self._make_layer(filters[0], layers[0], 1)
        self.layer2 = self._make_layer(filters[1], layers[1], (2, 2))
        self.layer3 = self._make_layer(filters[2], layers[2], (2, 2))
        self.layer4 = self._make_layer(filters[3], layers[3], (2, 2))
        self.instancenorm = nn.InstanceNorm1d(n_mels)  # unused, no state
        d = filters[3] * int(n_mels * n_mel_t / 8)  # 2560
        self.attention = nn.Sequential(nn.Conv1d(d, 128, 1), nn.ReLU(), nn.BatchNorm1d(128),
                                       nn.Conv1d(128, d, 1), nn.Softmax(dim=2))
        self.fc = nn.Linear(d, n_out)

    def _make_layer(self, planes, blocks, stride):
        down = None
        if stride != 1 or self.inplanes != planes:
            down = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride=stride, bias=False),
                                 nn.BatchNorm2d(planes))
        mods = [SEBasicBlock(self.inplanes, planes, stride, down)]
        self.inplanes = planes
        mods += [SEBasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*mods)

    def forward(self, x, taps=None, prefix=""):
        x = self.bn1(self.relu(self.conv1(x)))
        _tap(taps, prefix + "conv1", x)  # [B, 32, 80, 20]
        for name in ("layer1", "layer2", "layer3", "layer4"):
            x = getattr(self, name)(x)
            _tap(taps, prefix + name, x)
        x = x.reshape(x.shape[0], -1, x.shape[-1])  # [B, 2560, 3]
        w = self.attention(x)
        _tap(taps, prefix + "attention", w)
        x = torch.sum(x * w, dim=2)
        _tap(taps, prefix + "pooled", x)  # [B, 2560]
        x = self.fc(x.view(x.shape[0], -1))
        _tap(taps, prefix + "embedding", x)  # [B, 512]
        return x


class AudioSyncEncoder(nn.Module):
    """ResSESyncEncoder (netA_sync): ResNetSE(SEBasicBlock, [3,4,6,3], nOut 512, n_mel_T 1) + fc."""

    def __init__(self):
        super().__init__()
        self.model = ResNetSE()
        self.fc = nn.Linear(512, NUM_CLASSES)

    def feature(self, mel, taps=None, prefix="A."):
        """mel: [B, 1, 80, 20] -> [B, 512] (netA_sync.forward_feature)."""
        return self.model(mel, taps, prefix)


# ------------------------------------------------------------------------------------------------
# Construction, key check, loading, the inference dataflow (docs/model.md §7, av_model.inference)
# ------------------------------------------------------------------------------------------------

NETS = {"G": Generator, "V": IdentityEncoder, "E": PoseEncoder, "A_sync": AudioSyncEncoder}
KEYS_DIR = os.environ.get("PCAVS_KEYS_DIR", "/work/shared/spec/keys")


def read_keys(net, keys_dir=KEYS_DIR):
    """[(name, shape tuple, dtype str)] from spec/keys/<net>.tsv, or None if the file is absent."""
    path = os.path.join(keys_dir, net + ".tsv")
    if not os.path.exists(path):
        return None
    rows = []
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            name, shape, dtype = line.rstrip("\n").split("\t")
            dims = () if shape == "scalar" else tuple(int(d) for d in shape.split("x"))
            rows.append((name, dims, dtype))
    return rows


def state_keys(sd):
    return [(k, tuple(v.shape), str(v.dtype).replace("torch.", "")) for k, v in sd.items()]


def check_keys(net, sd, keys_dir=KEYS_DIR):
    """Raises ValueError naming the first difference between sd and spec/keys/<net>.tsv (names,
    order, shapes, dtypes). Returns the number of keys checked, or 0 if the tsv is not available."""
    want = read_keys(net, keys_dir)
    if want is None:
        return 0
    got = state_keys(sd)
    gn, wn = [g[0] for g in got], [w[0] for w in want]
    if set(gn) != set(wn):
        raise ValueError(f"{net}: keys differ from {net}.tsv: missing {sorted(set(wn) - set(gn))[:5]}, "
                         f"unexpected {sorted(set(gn) - set(wn))[:5]}")
    for g, w in zip(got, want):
        if g != w:
            raise ValueError(f"{net}: state_dict entry {g} != {net}.tsv entry {w} (order, shape or dtype)")
    return len(want)


def build(net):
    return NETS[net]()


def load_nets(ckpt_dir, check=True):
    """Loads latest_net_{G,V,E,A_sync}.pth (legacy or zip) into eval-mode float32 CPU modules."""
    nets = {}
    for name in NETS:
        path = os.path.join(ckpt_dir, f"latest_net_{name}.pth")
        sd = torch.load(path, map_location="cpu")
        if check:
            check_keys(name, sd)
        m = build(name)
        m.load_state_dict(sd, strict=True)
        nets[name] = m.eval().float()
    return nets


@torch.no_grad()
def inference(nets, id_imgs, mels, pose_imgs, noise="fixed", mouth_feature_weight=1.2, taps=None, g_taps=None):
    """The upstream inference dataflow for one batch of output frames.
    id_imgs: [N, 3, 224, 224]; mels: [B, 1, 80, 20]; pose_imgs: [B, 3, 224, 224] or None.
    taps receives encoder and style stages; g_taps (dict of two dicts 'ref'/'driven', or None) G stages.
    Returns (frames with the reference pose [B, 3, 224, 224], frames with the driving pose or None)."""
    G, V, E, A = nets["G"], nets["V"], nets["E"], nets["A_sync"]
    B = mels.shape[0]
    id_feature, id_map = V.encode(id_imgs, taps)
    a = A.feature(mels, taps) * mouth_feature_weight  # [B, 512]
    _tap(taps, "A.mouth_feature", a)
    mouth = E.mouth_embed(a)  # [B, 500]
    _tap(taps, "E.mouth_embed", mouth)
    # Upstream repeats the reference feature per output frame before the heads (B identical rows;
    # kept so that the heads' GEMMs have the upstream shapes).
    ref = E.feature(id_imgs, taps, "E.ref.").mean(0, keepdim=True).expand(B, -1)  # [B, 512]
    ref_h = E.to_headpose(ref)
    _tap(taps, "E.ref.to_headpose", ref_h)
    ref_pose = E.headpose_embed(ref_h)  # [B, 12]
    _tap(taps, "E.ref.headpose_embed", ref_pose)
    idf = id_feature.expand(B, -1)
    idm = id_map.expand(B, -1, -1, -1).contiguous()
    style_ref = torch.cat([idf, torch.cat([mouth, ref_pose], 1)], 1)  # [B, 2560]
    _tap(taps, "style.ref", style_ref)
    out_ref = G(style_ref, idm, noise, None if g_taps is None else g_taps.get("ref"), "G.ref.")
    out_drv = None
    if pose_imgs is not None:
        h = E.to_headpose(E.feature(pose_imgs, taps, "E.pose."))
        _tap(taps, "E.pose.to_headpose", h)
        p = E.headpose_embed(h)
        _tap(taps, "E.pose.headpose_embed", p)
        style_drv = torch.cat([idf, torch.cat([mouth, p], 1)], 1)
        _tap(taps, "style.driven", style_drv)
        out_drv = G(style_drv, idm, noise, None if g_taps is None else g_taps.get("driven"), "G.driven.")
    return out_ref, out_drv


if __name__ == "__main__":
    for n in NETS:
        m = build(n)
        k = check_keys(n, m.state_dict())
        print(f"{n}: {k} keys match {n}.tsv, {sum(p.numel() for p in m.state_dict().values()) / 1e6:.2f} M values")

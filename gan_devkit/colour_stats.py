"""Colour statistics of (1, 3, H, W) images in [0, 1], for the "keep the photo's colours" tests."""
import torch

# RGB -> YUV: Y is the luminance, (U, V) the colour. AdaIN's result takes its contrast (the spread of
# Y) from the style's texture; "keep the photo's colours" is about the (U, V) part.
YUV = torch.tensor([[0.299, 0.587, 0.114], [-0.147, -0.289, 0.436], [0.615, -0.515, -0.100]], dtype=torch.double)


def colour_stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel RGB mean (3,) and covariance (3, 3) of a (1, 3, H, W) image."""
    v = x[0].reshape(3, -1).double()
    return v.mean(1), torch.cov(v, correction=0)


def colour_gaps(x: torch.Tensor, content: torch.Tensor) -> tuple[float, float]:
    """How far x's RGB mean and its colour (chroma, U and V) covariance are from the content's."""
    (mx, cx), (mc, cc) = colour_stats(x), colour_stats(content)

    def chroma(c):
        return (YUV @ c @ YUV.T)[1:, 1:]
    return float((mx - mc).norm()), float((chroma(cx) - chroma(cc)).norm())

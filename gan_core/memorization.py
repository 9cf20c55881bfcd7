"""Memorization check: is a generated digit new, or a copy of a training image?

For each sample we find its nearest training images by L2 distance in pixel space over all 60k
MNIST images. ||a-b||^2 = ||a||^2 - 2 a.b + ||b||^2 turns the search into one matmul per chunk,
so the whole set is searched in a fraction of a second without a (n, 60000, 784) difference tensor.
(||a||^2 is the same for every candidate of one query, so the ranking leaves it out.)
A distance far below what real test digits show to their nearest training image means copying.
"""
import torch


def nearest_images(queries: torch.Tensor, data: torch.Tensor, k: int = 3, chunk: int = 8192):
    """(distances (n,k), indices (n,k)) of the k training images closest to each query, nearest first.

    queries (n,C,H,W) and data (N,C,H,W) in the same range (the app uses [-1, 1]).
    """
    q = queries.reshape(len(queries), -1).float().cpu()
    best_d = torch.empty((len(q), 0))
    best_i = torch.zeros((len(q), 0), dtype=torch.long)
    for start in range(0, len(data), chunk):
        c = data[start:start + chunk].reshape(-1, q.shape[1]).float().cpu()
        d2 = (c * c).sum(1) - 2 * q @ c.T  # the squared distance, less the query's own norm
        d, i = d2.topk(min(k, len(c)), dim=1, largest=False)
        best_d, order = torch.cat([best_d, d], 1).topk(min(k, best_d.shape[1] + d.shape[1]), dim=1, largest=False)
        best_i = torch.cat([best_i, i + start], 1).gather(1, order)
    # The expansion loses precision near 0 (a copy shows as ~0.01, not 0): recompute the k winners exactly.
    exact = (data[best_i.flatten()].reshape(len(q), -1, q.shape[1]).float().cpu() - q[:, None]).norm(dim=2)
    return exact, best_i


def baseline_distance(test: torch.Tensor, data: torch.Tensor, n: int = 64) -> float:
    """Median distance from real test digits to their nearest training image: the 'new digit' yardstick."""
    d, _ = nearest_images(test[:n], data, k=1)
    return float(d.median())

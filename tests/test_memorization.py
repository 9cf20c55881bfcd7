"""Nearest training images by chunked L2 matmul agree with brute force."""
import pytest
import torch

from gan_core.memorization import baseline_distance, nearest_images


def test_matches_brute_force_across_chunks():
    g = torch.Generator().manual_seed(0)
    data = torch.rand(1000, 1, 28, 28, generator=g) * 2 - 1
    q = torch.cat([data[[17, 503]], torch.rand(3, 1, 28, 28, generator=g)])
    d, i = nearest_images(q, data, k=4, chunk=128)
    brute = (q.flatten(1)[:, None] - data.flatten(1)[None]).norm(dim=2)  # exact, no matmul shortcut
    bd, bi = brute.topk(4, dim=1, largest=False)
    assert torch.equal(i, bi)
    assert torch.allclose(d, bd, atol=1e-3)
    assert i[0, 0] == 17 and i[1, 0] == 503 and d[0, 0] == 0, "an exact copy is found at distance 0"


def test_baseline_is_positive_for_new_images():
    g = torch.Generator().manual_seed(1)
    data, test = torch.rand(300, 1, 28, 28, generator=g), torch.rand(10, 1, 28, 28, generator=g)
    assert baseline_distance(test, data, n=10) > 1


def test_the_first_and_last_images_are_searched_and_three_neighbours_are_the_default():
    g = torch.Generator().manual_seed(2)
    data = torch.rand(300, 1, 8, 8, generator=g)
    d, i = nearest_images(data[[0, 299]], data, chunk=100)
    assert d.shape == i.shape == (2, 3)
    assert i[:, 0].tolist() == [0, 299] and d[:, 0].tolist() == [0.0, 0.0]
    assert (d[:, 1:] > 0).all() and (d[:, :-1] <= d[:, 1:]).all()  # nearest first


def test_the_baseline_is_the_median_nearest_distance_of_the_first_64_test_images():
    g = torch.Generator().manual_seed(3)
    data, test = torch.rand(200, 1, 8, 8, generator=g), torch.rand(80, 1, 8, 8, generator=g)
    nearest = (test.flatten(1)[:, None] - data.flatten(1)[None]).norm(dim=2).min(1).values
    assert baseline_distance(test, data) == pytest.approx(float(nearest[:64].median()), abs=1e-5)
    assert baseline_distance(test, data, n=9) == pytest.approx(float(nearest[:9].median()), abs=1e-5)

"""bench/bench_classroom.py: the throughput target's reference is one session alone before and after the classes."""
from gan_devkit.bench_scripts import load

classroom = load("bench_classroom")


def test_each_class_is_judged_against_the_mean_of_the_lone_runs_around_the_classes():
    r = classroom.throughput_ratios([25.0, 20.0], before=20.0, after=30.0)
    assert r["ratio"] == 1.0 and r["ratio_each_class"] == [1.0, 0.8]
    # the figure every run before this one printed: the first class against the lone run before it
    assert r["ratio_vs_before"] == 1.25 and r["ratio_vs_before_each_class"] == [1.25, 1.0]


def test_a_lone_run_that_trained_nothing_gives_a_failing_ratio_not_a_crash():
    r = classroom.throughput_ratios([25.0], before=0.0, after=0.0)
    assert r["ratio"] == 0.0 and r["ratio_vs_before"] == 0.0 and r["ratio_each_class"] == [0.0]

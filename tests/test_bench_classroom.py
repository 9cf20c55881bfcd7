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


def test_throughput_counts_digits_so_steps_past_the_cut_count_as_the_work_they_are():
    """The default's batch grows at its cut (lr_cut_batch): a lone run's steps after it draw twice the digits of a
    class's steps before it, so the bench compares digits trained, not steps."""
    run = classroom.RUN
    assert run.lr_cut_at and run.lr_cut_batch == 2
    b, cut = run.batch_size, run.lr_cut_at
    assert classroom.digits(0, 10) == 10 * b
    assert classroom.digits(cut - 5, cut + 5) == 5 * b + 5 * 2 * b
    assert classroom.digits(cut, cut + 10) == 10 * 2 * b
    assert run.samples_in(cut + 3) == sum(run.batch_at(i) for i in range(cut + 3))

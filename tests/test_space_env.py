"""The Space's run-time environment read from the Dockerfile (gan_devkit.space): what the classroom bench,
the public-mode e2e test and scripts/check_space.sh run the server with."""
from gan_devkit.space import DOCKERFILE, dockerfile_env, loadable


def test_env_lines_with_continuations_quotes_and_comments(tmp_path):
    f = tmp_path / "Dockerfile"
    f.write_text('FROM python:3.11-slim\n'
                 'ENV A=1 \\\n    B="two words" \\\n    PIP_NO_CACHE_DIR=1\n'
                 '# ENV HIDDEN=1\n'
                 'RUN echo ENV=no\n'
                 'ENV HOME=/home/user PATH=/x:$PATH C=3\n'
                 'ENV A=4\n')
    assert dockerfile_env(f) == {"A": "4", "B": "two words", "C": "3"}  # the last ENV wins, as in Docker


def test_the_real_dockerfile_sets_the_classroom_environment():
    env = dockerfile_env(DOCKERFILE)
    assert env["GAN_PUBLIC"] == "1" and env["GOMP_SPINCOUNT"] == "10000" and env["MALLOC_ARENA_MAX"] == "2"
    assert dockerfile_env(DOCKERFILE, here=False)["LD_PRELOAD"] == "libjemalloc.so.2"  # the image installs it
    assert not any(k.startswith("PIP_") or k in ("HOME", "PATH") for k in env)


def test_a_preload_this_machine_lacks_is_left_out_and_one_it_has_kept(tmp_path, capsys):
    assert loadable("libc.so.6") and not loadable("libnot-a-library.so.9")
    f = tmp_path / "Dockerfile"
    f.write_text("ENV LD_PRELOAD=libnot-a-library.so.9 A=1\n")
    assert dockerfile_env(f) == {"A": "1"} and "libnot-a-library.so.9" in capsys.readouterr().err
    assert dockerfile_env(f, here=False) == {"LD_PRELOAD": "libnot-a-library.so.9", "A": "1"}
    f.write_text("ENV LD_PRELOAD=libc.so.6 A=1\n")
    assert dockerfile_env(f) == {"LD_PRELOAD": "libc.so.6", "A": "1"}

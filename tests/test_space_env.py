"""The Space's run-time environment read from the Dockerfile (gan_devkit.space): what the classroom bench,
the public-mode e2e test and scripts/check_space.sh run the server with."""
from gan_devkit.space import DOCKERFILE, dockerfile_env


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
    assert not any(k.startswith("PIP_") or k in ("HOME", "PATH") for k in env)

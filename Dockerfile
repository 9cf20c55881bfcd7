# Hugging Face Space (Docker SDK, free CPU tier: 2 vCPU, 16 GB). README front matter: sdk: docker, app_port: 8501.
# Test without a Docker engine: scripts/check_space.sh runs these same steps in a fresh venv.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Several students train at once in one process: idle OpenMP workers spin briefly, then sleep. libgomp's
# default (300k spins) made a DCGAN step 1.7 s on 2 busy cores; never spinning (OMP_WAIT_POLICY=PASSIVE)
# made one student alone train 37 instead of 52 steps/s; 10k spins keeps the 52, and a class of 30
# trains 37 steps/s in all either way (bench/bench_classroom.py --env, docs/benchmarks.md#a-full-class).
# Memory comes from jemalloc, not glibc's malloc (bench/bench_classroom.py, docs/benchmarks.md, 2-core
# AMD EPYC): a class of 30 peaks 1.04-1.05 GB against 1.09-1.14, and trains 12.1 steps/s in all against
# 10.4 (ten and eight classes, within the machine's spread); one student alone 17.3 against 15.9 steps/s
# (five runs each, alternating). Its background thread hands freed pages back to the system, and the
# app's idle sweeper purges its arenas after a class (gan_core.compute.give_back_memory). Should the
# preload ever be missing, glibc keeps 2 malloc arenas instead of 8 per core (4-session peak RSS 1.27
# vs 1.80 GB).
RUN apt-get update && apt-get install -y --no-install-recommends libjemalloc2 && rm -rf /var/lib/apt/lists/*
ENV GOMP_SPINCOUNT=10000 \
    LD_PRELOAD=libjemalloc.so.2 \
    MALLOC_CONF=background_thread:true \
    MALLOC_ARENA_MAX=2

# A public classroom, not a developer tool: visitors may name Hub repos but never server paths
# (GAN_PUBLIC, ui/runtime.py), see no Deploy button or developer menu, and no tracebacks.
ENV GAN_PUBLIC=1 \
    STREAMLIT_CLIENT_TOOLBAR_MODE=viewer \
    STREAMLIT_CLIENT_SHOW_ERROR_DETAILS=false

# The CPU wheel: the default PyPI torch drags in ~3 GB of CUDA libraries a CPU Space never uses.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

# Requirements before the code so that editing a page does not reinstall everything.
# The test and bench packages (pytest, playwright, opencv-python-headless) stay out of the image.
COPY requirements.txt /tmp/requirements.txt
RUN grep -vE '^(pytest|playwright|opencv-python-headless|matplotlib)\b' /tmp/requirements.txt > /tmp/requirements-space.txt \
 && pip install -r /tmp/requirements-space.txt

# Spaces run the container as uid 1000; the app must own its files.
RUN useradd -m -u 1000 user
USER user
ENV HOME=/home/user \
    PATH=/home/user/.local/bin:$PATH
WORKDIR /home/user/app

# What gets copied is whitelisted in .dockerignore: app.py, pages, ui, gan_core, locales, data,
# checkpoints, assets, .streamlit (bundled data and weights: the app never downloads at run time),
# and pyproject.toml with gan_devkit (a package it lists) for the install below.
COPY --chown=user . .
# The app's own packages, editable (pyproject.toml; the files stay here): gan_core, ui, `gan-core`
# on PATH. --no-deps: requirements are installed above.
RUN pip install --no-deps --user -e .

EXPOSE 8501
# enableXsrfProtection=false: the Space shows the app in an iframe on huggingface.co, where Streamlit's
# XSRF cookie is a third-party cookie; even as SameSite=None (server.xsrfCookieSameSite) browsers that
# block third-party cookies drop it and every upload fails with 403 (tests/e2e/test_xsrf_iframe.py).
# What that exposes and why it is acceptable: docs/deploy.md. Uploads are capped at 10 MB.
CMD ["python", "-m", "streamlit", "run", "app.py", "--server.address", "0.0.0.0", "--server.port", "8501", "--server.headless", "true", "--browser.gatherUsageStats", "false", "--server.maxUploadSize", "10", "--server.enableXsrfProtection", "false", "--server.fileWatcherType", "none"]

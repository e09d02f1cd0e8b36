# Shared by bin/serve and bin/test: a virtual environment with the pinned
# requirements, and the local environment variables. Sourced, not run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ensure_venv() {  # $1: requirements file
    if [ ! -x .venv/bin/python ]; then
        echo "==> Creating the virtual environment in .venv"
        python3 -m venv .venv
    fi
    echo "==> Installing $1"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$1"
}

ensure_static() {  # uPlot from its pinned npm package, then every static file, hashed
    echo "==> Installing front-end packages (npm ci) and collecting static files"
    npm ci --no-audit --no-fund --loglevel=error
    "$PY" manage.py collectstatic --noinput -v0
}

mkdir -p "${DATA_DIR:-data}"
export DJANGO_SETTINGS_MODULE=telemetry.settings
PY=.venv/bin/python

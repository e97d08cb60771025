#!/usr/bin/env bash
# Set up exactrelu on a fresh machine: system packages (libcdd-dev, libgmp-dev), a virtual
# environment in .venv, and the package with its extras.  Idempotent; run by `make setup`.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"

have_headers() {
  local inc
  for inc in /usr/include /usr/local/include /usr/include/x86_64-linux-gnu /usr/include/aarch64-linux-gnu; do
    [ -f "$inc/gmp.h" ] && { for d in cdd cddlib; do [ -f "/usr/include/$d/cdd.h" ] || [ -f "/usr/local/include/$d/cdd.h" ] && return 0; done; }
  done
  return 1
}

if ! have_headers; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing libcdd-dev and libgmp-dev (needed by pycddlib's exact interface)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libcdd-dev libgmp-dev >/dev/null
  else
    echo "setup: the headers of cddlib and GMP are missing; pycddlib needs them. Run:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y libcdd-dev libgmp-dev" >&2
    exit 1
  fi
fi

# pip, quietly: this machine's pip configuration may name local package folders that do not
# exist, and pip warns about each one; those lines say nothing about exactrelu.
pip_install() {
  "$VENV/bin/python" -m pip install -q "$@" 2> >(grep -v "^WARNING: Location '.*' is ignored" >&2)
}

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
pip_install --upgrade pip >/dev/null 2>&1 || true
pip_install -e ".[dev,onnx,plot,explain,dask]"
# The CPU build of torch; this machine's image carries it as a local wheel (see docs/user-guide.md).
if ! "$VENV/bin/python" -c "import torch" >/dev/null 2>&1; then
  pip_install "${EXACTRELU_TORCH:-torch==2.13.0}" \
    || echo "setup: torch could not be installed; the PyTorch loader tests will be skipped" >&2
fi
"$VENV/bin/python" -c "import cdd.gmp, flint, sympy, numpy" \
  || { echo "setup: the core dependencies do not import; see the messages above" >&2; exit 1; }
touch "$VENV/.installed"

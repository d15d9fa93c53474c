#!/usr/bin/env bash
# Installs the Debian packages the demo-model recipe needs (PyPI is not used).
# Run as root (or with sudo). The recipe runs with Debian's /usr/bin/python3.
set -euo pipefail
PKGS="python3-torch libopenblas0-pthread python3-regex python3-numpy python3-matplotlib"
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
if ! $SUDO apt-get install -y $PKGS; then
  $SUDO apt-get update
  $SUDO apt-get install -y $PKGS
fi
/usr/bin/python3 -c "import torch, regex, numpy, matplotlib; print('torch', torch.__version__)"

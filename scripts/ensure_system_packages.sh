#!/usr/bin/env bash
# Make sure the Debian packages FinParakeet needs are present: installs them when run as root,
# otherwise names what is missing and the command to install it.
set -euo pipefail

packages=(espeak-ng sox libsox-fmt-all fortunes fortunes-min wordnet)
missing=()
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
command -v sox >/dev/null || missing+=(sox libsox-fmt-all)
[ -e /usr/share/games/fortunes/fortunes ] || missing+=(fortunes fortunes-min)
[ -e /usr/share/wordnet/data.noun ] || missing+=(wordnet)

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
else
  echo "error: FinParakeet needs these system packages: ${missing[*]}" >&2
  echo "       install them with: sudo apt-get install -y ${packages[*]}" >&2
  exit 1
fi

#!/usr/bin/env bash
# Make sure the Debian packages FinParakeet needs are present: installs them when run as root,
# otherwise names what is missing and the command to install it.
set -euo pipefail

packages=(espeak-ng sox libsox-fmt-all fortunes fortunes-min wordnet flite festival festvox-kallpc16k festvox-kdlpc16k
          festvox-us-slt-hts chromium)
missing=()
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
command -v sox >/dev/null || missing+=(sox libsox-fmt-all)
[ -e /usr/share/games/fortunes/fortunes ] || missing+=(fortunes fortunes-min)
[ -e /usr/share/wordnet/data.noun ] || missing+=(wordnet)
command -v flite >/dev/null || missing+=(flite)
command -v text2wave >/dev/null || missing+=(festival)
[ -d /usr/share/festival/voices/english/kal_diphone ] || missing+=(festvox-kallpc16k)
[ -d /usr/share/festival/voices/english/ked_diphone ] || missing+=(festvox-kdlpc16k)
[ -d /usr/share/festival/voices/us/cmu_us_slt_arctic_hts ] || missing+=(festvox-us-slt-hts)
command -v chromium >/dev/null || missing+=(chromium)  # the headless check of the HTML report's page

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

# Sourced by the scripts that run a Python peer from PyPI (setup-mlflow.sh, setup-kserve.sh,
# check-openapi.sh): one way to make a virtualenv holding exactly the pinned packages.
#
#   pinned_venv WHO VENV PYTHON "PINS" [IMPORT_CHECK]
#
# Makes VENV with PYTHON and pip-installs PINS (space-separated name==version) unless VENV
# already holds exactly PINS (recorded in VENV/.pinned, with the Python version). IMPORT_CHECK,
# a Python statement, must then run. Messages go to stderr prefixed with WHO.
pinned_venv() {
  local who="$1" venv="$2" python="$3" pins="$4" check="${5:-}"
  local pinned
  pinned="$pins $("$python" -c 'import sys; print("python%d.%d.%d" % sys.version_info[:3])')"
  if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.pinned" 2>/dev/null)" = "$pinned" ]; then
    return 0
  fi
  "$python" -m venv --help >/dev/null 2>&1 || { echo "$who: $python with venv is needed (apt-get install python3-venv)" >&2; return 1; }
  echo "$who: creating $(basename "$venv")/ (first run; pip install from PyPI: $pins)" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv" >&2
  # shellcheck disable=SC2086 # one argument per pin
  PIP_ROOT_USER_ACTION=ignore "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input $pins >&2
  if [ -n "$check" ]; then "$venv/bin/python" -c "$check" >&2; fi
  echo "$pinned" > "$venv/.pinned"
}

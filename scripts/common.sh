# Shared by the scripts: installs missing Debian packages, or says how to.
# Usage: . scripts/common.sh; require_packages pkg...

require_packages() {
  missing=""
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing="$missing $pkg"
    fi
  done
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" -eq 0 ]; then
    echo "Installing missing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $missing >/dev/null ||
      { echo "error: apt-get install$missing failed" >&2; exit 2; }
  else
    echo "Missing Debian packages:$missing" >&2
    echo "Install them with:  sudo apt-get install$missing" >&2
    exit 2
  fi
}

# The packages every build needs.
BUILD_PACKAGES="cmake g++ make libeigen3-dev catch2 libbenchmark-dev zlib1g-dev libsqlite3-dev libpq-dev"

# Configures build/ (Release unless BUILD_TYPE says otherwise) with the given extra arguments.
configure() {
  cmake -S . -B build -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" "$@" >build.log 2>&1 ||
    { cat build.log >&2; echo "error: cmake configure failed (log above)" >&2; exit 1; }
  rm -f build.log
}

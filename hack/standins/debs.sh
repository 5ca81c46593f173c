# shellcheck shell=bash
# Helpers, sourced by the stand-in builders and hack/verify-nginx.sh, to take files out of Debian packages
# without installing them: installing Debian's nginx would also start it as a service on port 80.
# The .debs are fetched with apt-get download (the package registry's own client) and cached per version.

deb_cache=${PODPATHS_DEB_CACHE:-_output/standins/debs}

# Candidate versions already asked for, by package: one apt-cache call per batch, as each costs a second.
declare -A deb_versions=()

# deb_candidates PKG... looks up the versions apt would install, refreshing the package lists once if apt
# knows none, and prints them as PKG=VERSION lines.
deb_candidates() {
  local pkg listing missing=()
  for pkg in "$@"; do
    [[ -n ${deb_versions[$pkg]:-} ]] || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    listing=$(apt_candidates "${missing[@]}")
    if [[ $(wc -l <<<"$listing") -lt ${#missing[@]} || $listing == *"(none)"* ]]; then
      apt-get -oDPkg::Lock::Timeout=300 update >/dev/null
      listing=$(apt_candidates "${missing[@]}")
    fi
    while IFS='=' read -r pkg version; do
      [[ $version != "(none)" ]] && deb_versions[$pkg]=$version
    done <<<"$listing"
  fi
  for pkg in "$@"; do
    [[ -n ${deb_versions[$pkg]:-} ]] || { echo "debs: no Debian package $pkg available" >&2; return 1; }
    printf '%s=%s\n' "$pkg" "${deb_versions[$pkg]}"
  done
}

apt_candidates() {
  apt-cache policy "$@" 2>/dev/null | awk '/^[^ ]/ {pkg = $1; sub(/:$/, "", pkg)} $1 == "Candidate:" {print pkg "=" $2}'
}

# deb_candidate PKG prints the version apt would install.
deb_candidate() {
  local line
  line=$(deb_candidates "$1")
  printf '%s\n' "${line#*=}"
}

# deb_path PKG downloads the candidate .deb of PKG into the cache (once) and prints its path.
deb_path() {
  local pkg=$1 version dir debs
  version=$(deb_candidate "$pkg")
  dir=$deb_cache/$pkg/${version//:/_}
  debs=("$dir"/*.deb)
  if [[ ! -f ${debs[0]} ]]; then
    mkdir -p "$dir"
    # As root, apt drops to the _apt user to download, which cannot write to a private directory; the
    # sandbox only matters for untrusted sources, and the .deb is verified against the signed index anyway.
    (cd "$dir" && apt-get download -o APT::Sandbox::User="$(id -un)" "$pkg=$version" >/dev/null)
    debs=("$dir"/*.deb)
  fi
  printf '%s\n' "${debs[0]}"
}

# deb_extract PKG DIR unpacks the files of PKG's candidate .deb into DIR.
deb_extract() {
  local deb
  deb=$(deb_path "$1")
  mkdir -p "$2"
  dpkg-deb -x "$deb" "$2"
}

# The Debian packages with the shared libraries that nginx and envsubst link (nginx's Depends, without its
# non-library ones). Taking them from the same apt index as nginx, rather than from this host, keeps the
# image independent of what the host has installed; staged_libs fails if a binary needs anything else.
deb_lib_pkgs=(libc6 libcrypt1 libpcre2-8-0 libssl3 zlib1g)

# stage_debs DIR PKG... unpacks the packages into DIR, one tree, as they would be installed.
stage_debs() {
  local dir=$1 pkg
  shift
  deb_candidates "$@" >/dev/null
  for pkg in "$@"; do
    deb_extract "$pkg" "$dir"
  done
}

# staged_loader DIR prints the words that run a binary from DIR against DIR's libraries only (DIR's own
# glibc loader, no host library), e.g. "$(staged_loader "$dir")" "$dir/usr/sbin/nginx" -v.
staged_loader() {
  printf '%s\n' "$1/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path \
    "$1/lib/x86_64-linux-gnu:$1/usr/lib/x86_64-linux-gnu"
}

# staged_libs DIR BINARY prints "NAME PATH" for each library BINARY loads, PATH inside DIR, as resolved by
# DIR's loader; NAME is the soname, or the absolute interpreter path for the loader itself.
staged_libs() {
  local dir=$1 binary=$2 listing loader
  mapfile -t loader < <(staged_loader "$dir")
  listing=$("${loader[@]}" --list "$binary")
  if grep -q 'not found' <<<"$listing"; then
    printf 'debs: %s needs a library outside %s:\n%s\n' "$binary" "${deb_lib_pkgs[*]}" "$listing" >&2
    return 1
  fi
  awk -v dir="$dir/" '$2 == "=>" {
    if (index($3, dir) != 1) { print "debs: " $3 " is not from the staged packages" > "/dev/stderr"; exit 1 }
    print $1, $3
  }' <<<"$listing"
}

#!/bin/sh
# gdal-async's native binding, built against Debian's GDAL (libgdal-dev), never its bundled copy
# (~28 min to build, and a second GDAL beside python3-gdal's). npm does not run gdal-async's
# install script (package.json `allowScripts`: false): its flags used to live in .npmrc as keys
# npm 11 calls unknown project config. This script passes them to node-pre-gyp as its own
# command-line options instead: --build-from-source, and --shared_gdal=true, which node-gyp
# turns into binding.gyp's `shared_gdal` variable. Idempotent: a binding that already links
# Debian's libgdal is kept. Exits 4 with CUTOVER_ERR_GDAL_BINDING_INVALID when the binding is
# missing, bundles its own GDAL, or reports another GDAL version than gdal-config.
set -eu
cd "$(dirname "$0")/.."

package=node_modules/gdal-async
want=$(gdal-config --version)

# Prints nothing when the binding is right, else what is wrong with it.
binding_problem() {
  binding=$(find "$package/lib/binding" -name gdal.node 2>/dev/null | head -n 1)
  if [ -z "$binding" ]; then echo "no built binding under $package/lib/binding"; return; fi
  linked=$(ldd "$binding" 2>/dev/null | sed -n 's/^[[:space:]]*libgdal\.so[^ ]* => \([^ ]*\).*/\1/p' | head -n 1)
  case "$linked" in
    /usr/lib/*|/lib/*) ;;
    "") echo "$binding does not link a shared libgdal (bundled GDAL)"; return ;;
    *) echo "$binding links $linked, not Debian's libgdal"; return ;;
  esac
  node -e '
    let gdal;
    try { gdal = require("gdal-async"); } catch (error) { console.log(`require("gdal-async") fails: ${error.message.split("\n")[0]}`); process.exit(0); }
    if (gdal.bundled) console.log("gdal-async reports its bundled GDAL");
    else if (gdal.version !== process.argv[1]) console.log(`gdal-async reports GDAL ${gdal.version}, gdal-config ${process.argv[1]}`);
  ' "$want"
}

problem=$(binding_problem)
[ -z "$problem" ] && exit 0

# Node's own headers when it was installed with them (Debian, NodeSource): node-gyp would
# otherwise download them, which fails with no network.
prefix=$(dirname "$(dirname "$(node -p process.execPath)")")
nodedir=""
[ -f "$prefix/include/node/common.gypi" ] && nodedir="--nodedir=$prefix"

echo "setup: building gdal-async against Debian's GDAL $want ($problem); takes a few minutes" >&2
(
  cd "$package"
  pre_gyp=$(node -p 'require.resolve("@mapbox/node-pre-gyp/bin/node-pre-gyp", { paths: [process.cwd()] })')
  node "$pre_gyp" rebuild --build-from-source --shared_gdal=true --jobs=max $nodedir >&2
) || true

problem=$(binding_problem)
if [ -n "$problem" ]; then
  echo "setup: CUTOVER_ERR_GDAL_BINDING_INVALID: $problem" >&2
  echo "  gdal-async must be built against Debian's GDAL: apt-get install libgdal-dev build-essential, then sh scripts/gdal-binding.sh (its build log is above)" >&2
  exit 4
fi
echo "setup: gdal-async built against Debian's GDAL $want" >&2

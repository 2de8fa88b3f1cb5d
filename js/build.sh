#!/usr/bin/env bash
# Builds js/pkg: the engine for wasm32, bound by the wasm-bindgen CLI of exactly the
# crate's version (installed into target/tools when missing), shrunk by npm's wasm-opt.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' js/Cargo.toml)
tools="$PWD/target/tools"
if [ "$("$tools/bin/wasm-bindgen" --version 2>/dev/null)" != "wasm-bindgen $version" ]; then
  echo "installing wasm-bindgen-cli $version into $tools (once per machine)"
  cargo install wasm-bindgen-cli --version "$version" --root "$tools" --quiet
fi
[ -x js/node_modules/.bin/wasm-opt ] || (cd js && npm ci --no-audit --no-fund)
cargo build --quiet -p mdm-js --target wasm32-unknown-unknown --profile web
"$tools/bin/wasm-bindgen" --target web --out-dir js/pkg target/wasm32-unknown-unknown/web/mdm_js.wasm
js/node_modules/.bin/wasm-opt -Oz --converge --strip-debug --strip-producers --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
  --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue \
  js/pkg/mdm_js_bg.wasm -o js/pkg/mdm_js_bg.wasm
echo "js/pkg: $(wc -c < js/pkg/mdm_js_bg.wasm) bytes of wasm"

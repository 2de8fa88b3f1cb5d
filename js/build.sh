#!/usr/bin/env bash
# Builds js/pkg: the engine for wasm32, bound by the workspace's `js-bindgen` (wasm-bindgen
# of exactly the crate's version, tools/), shrunk by npm's wasm-opt.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x js/node_modules/.bin/wasm-opt ] || (cd js && npm install --no-audit --no-fund)
cargo build --quiet -p mdm-js --target wasm32-unknown-unknown --profile web
# Built with the whole workspace (`make build`), so its dependencies are compiled once.
cargo build --quiet --release --workspace --exclude mdm-component
target/release/js-bindgen target/wasm32-unknown-unknown/web/mdm_js.wasm js/pkg
js/node_modules/.bin/wasm-opt -Oz --converge --strip-debug --strip-producers --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
  --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue \
  js/pkg/mdm_js_bg.wasm -o js/pkg/mdm_js_bg.wasm
# The words for the engine's codes, from the catalogue the CLI reads too.
{ echo "// Made from schemas/messages.json by js/build.sh: what mdm-policy says for its codes."
  printf 'export const messages = '; cat schemas/messages.json; echo ';'; } > js/pkg/messages.mjs
echo "js/pkg: $(wc -c < js/pkg/mdm_js_bg.wasm) bytes of wasm"

//! `js-bindgen IN.wasm OUT_DIR`: the JS bindings of the wasm-bindgen module, for the
//! browser and Node (`--target web`). The same as the `wasm-bindgen` CLI of the crate's
//! exact version, built from the workspace rather than installed beside it.

use anyhow::{Context, Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, out_dir] = args.as_slice() else {
        bail!("usage: js-bindgen IN.wasm OUT_DIR");
    };
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(input)
        .web(true)
        .context("choosing the web target")?
        .typescript(true)
        // The CLI's default, and the library's opposite: `init()` without arguments fetches
        // `mdm_js_bg.wasm` beside the JS file, which the browser entry relies on.
        .omit_default_module_path(false)
        .generate(out_dir)
        .with_context(|| format!("binding `{input}` into `{out_dir}`"))
}

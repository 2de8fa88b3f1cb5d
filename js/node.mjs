// The Node entry: the module is instantiated on import, synchronously, from the package.
import { readFileSync } from "node:fs";
import { initSync } from "./pkg/mdm_js.js";

initSync({ module: readFileSync(new URL("./pkg/mdm_js_bg.wasm", import.meta.url)) });

export * from "./pkg/mdm_js.js";
export { isMdmError } from "./errors.mjs";
export { messages } from "./pkg/messages.mjs";

/**
 * Node instantiates the module on import, so there is nothing to wait for; `init` is here
 * so that code written for the browser (`await init()`) runs unchanged in Node.
 */
export default async function init() {}
export { init };

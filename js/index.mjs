// The browser entry: call `await init()` (the default export) once; it fetches
// pkg/mdm_js_bg.wasm. Then use the exports.
export * from "./pkg/mdm_js.js";
export { isMdmError } from "./errors.mjs";
export { messages } from "./pkg/messages.mjs";
export { default, default as init, initSync } from "./pkg/mdm_js.js";

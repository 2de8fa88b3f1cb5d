// What both entries export beside the module's own functions.

/**
 * Whether `value` is an error the engine threw: an `Error` named `MdmError` with the
 * contract's `code` and a JSON Pointer. Anything else (a bug, a `RangeError` from a
 * browser) is not the document's fault and should fail closed.
 */
export function isMdmError(value) {
  return (
    value instanceof Error &&
    value.name === "MdmError" &&
    typeof value.code === "string" &&
    typeof value.pointer === "string"
  );
}

// The page's side of preview-worker.js: one request at a time is in flight per kind, each
// a promise; the progress bar shows while any is.
export function previewWorker(onStage) {
  const worker = new Worker(new URL("./preview-worker.js", import.meta.url), { type: "module" });
  const waiting = new Map();
  let next = 0;
  worker.onmessage = ({ data }) => {
    if (data.stage) {
      onStage(data.stage);
      return;
    }
    const done = waiting.get(data.id);
    waiting.delete(data.id);
    if (!waiting.size) onStage(null);
    if (data.error) done?.reject(Object.assign(new Error(data.error.message), data.error));
    else done?.resolve(data);
  };
  worker.onerror = (e) => {
    for (const w of waiting.values()) w.reject(new Error(e.message ?? "the preview worker failed"));
    waiting.clear();
    onStage(null);
  };
  return (message, transfer = []) =>
    new Promise((resolve, reject) => {
      const id = ++next;
      waiting.set(id, { resolve, reject });
      worker.postMessage({ ...message, id }, transfer);
    });
}

// A client of `mdm serve` generated from its OpenAPI document: the types are
// openapi-typescript's output for schemas/openapi.json (written beside this file by
// openapi.test.mjs), the calls openapi-fetch's. `tsc --strict` checks every call below
// against the document (its paths, methods, parameters and bodies) before the test runs
// it against a real server. `createClient` is passed in, so that the emitted module
// imports nothing.
import type createClientType from "openapi-fetch";
import type { paths } from "./openapi";

type Policy = paths["/v1/policy"]["put"]["requestBody"]["content"]["application/json"];
type Call = { method: string; path: string; status: number; contentType: string | null; body: unknown };

export async function everyRoute(
  createClient: typeof createClientType,
  baseUrl: string,
  tokens: { gateway: string; admin: string },
  receiver: { url: string; secret: string },
): Promise<Call[]> {
  const open = createClient<paths>({ baseUrl });
  const gateway = createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${tokens.gateway}` } });
  const admin = createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${tokens.admin}` } });
  const calls: Call[] = [];
  // The engine's event schema requires `at`; the service takes its own clock without it.
  const at = new Date().toISOString();
  const note = (method: string, path: string, r: { data?: unknown; error?: unknown; response: Response }) => {
    calls.push({
      method,
      path,
      status: r.response.status,
      contentType: r.response.headers.get("content-type"),
      body: r.data ?? r.error,
    });
    return r;
  };
  const device = { device_id: "A1", os_type: "ios", os_version: "17.2", pin_length: 6, encrypted: true } as const;
  const policy: Policy = {
    schema: "mdm.policy/v1",
    assignment: { groups: ["sales"] },
    assigned: { max_devices: 1, on_new_device: "approval", on_approve: "add" },
  };

  note("get", "/healthz", await open.GET("/healthz"));
  note("get", "/readyz", await open.GET("/readyz"));
  note("get", "/metrics", await open.GET("/metrics", { parseAs: "text" }));
  note("get", "/v1/openapi.json", await open.GET("/v1/openapi.json"));

  note("put", "/v1/webhooks", await admin.PUT("/v1/webhooks", {
    body: { endpoints: [{ id: "receiver", url: `${receiver.url}/hook`, secret: receiver.secret, events: ["device.registered"] }] },
  }));
  note("get", "/v1/webhooks", await admin.GET("/v1/webhooks"));

  note("post", "/v1/login", await gateway.POST("/v1/login", { body: { user: "alice", groups: ["sales"], device } }));
  note("post", "/v1/login", await gateway.POST("/v1/login", {
    body: { user: "alice", groups: ["sales"], device: { ...device, device_id: "A2" } },
  }));
  // Refused: no token (401), the other role's token (403).
  note("post", "/v1/login", await open.POST("/v1/login", { body: { user: "alice", groups: ["sales"], device } }));
  note("post", "/v1/login", await admin.POST("/v1/login", { body: { user: "alice", groups: ["sales"], device } }));

  note("get", "/v1/pending", await admin.GET("/v1/pending", { params: { query: { user: "alice", limit: 10 } } }));
  note("post", "/v1/events", await admin.POST("/v1/events", { body: { type: "approve", at, user: "alice", device_id: "A2" } }));
  note("post", "/v1/events", await admin.POST("/v1/events", { body: { type: "wipe", at, user: "alice", device_id: "A1" } }));
  // Refused by the engine: nothing pending. Without `at`, which the document lets out
  // (the server's clock stands for it).
  note("post", "/v1/events", await admin.POST("/v1/events", { body: { type: "reject", user: "alice", device_id: "A9" } }));
  note("get", "/v1/users/{user}", await admin.GET("/v1/users/{user}", { params: { path: { user: "alice" } } }));
  note("get", "/v1/users/{user}", await admin.GET("/v1/users/{user}", { params: { path: { user: "nobody" } } }));
  note("get", "/v1/decisions", await admin.GET("/v1/decisions", { params: { query: { limit: 5 } } }));
  note("get", "/v1/users", await admin.GET("/v1/users", { params: { query: { q: "al", limit: 10 } } }));
  note("get", "/v1/devices", await admin.GET("/v1/devices", {
    params: { query: { os_type: "ios", enrolled: false, registered_after: "2020-01-01T00:00:00Z", sort: "user", limit: 1 } },
  }));
  note("get", "/v1/devices", await admin.GET("/v1/devices", { params: { query: { os_type: "windows" } } }));
  note("get", "/v1/devices", await admin.GET("/v1/devices", { params: { query: { q: "A" } }, headers: { accept: "text/csv" }, parseAs: "text" }));

  note("get", "/v1/policy", await admin.GET("/v1/policy"));
  note("put", "/v1/policy", await admin.PUT("/v1/policy", { body: policy }));
  note("put", "/v1/policy", await admin.PUT("/v1/policy", { body: { ...policy, assignment: { groups: [] as string[], users: ["x"] }, extra: 1 } as never }));
  note("get", "/v1/policy/versions", await admin.GET("/v1/policy/versions", { params: { query: { limit: 10 } } }));
  note("get", "/v1/policy/shadow", await admin.GET("/v1/policy/shadow"));
  note("put", "/v1/policy/shadow", await admin.PUT("/v1/policy/shadow", { body: { ...policy, assignment: { organization: true } } }));
  note("post", "/v1/login", await gateway.POST("/v1/login", { body: { user: "bob", groups: [], device } }));
  note("get", "/v1/shadow/report", await admin.GET("/v1/shadow/report"));
  note("delete", "/v1/policy/shadow", await admin.DELETE("/v1/policy/shadow"));
  note("post", "/v1/preview", await admin.POST("/v1/preview", {
    body: { proposed: { ...policy, assignment: { organization: true } }, at: "2026-11-22T10:00:00Z" },
  }));

  const deliveries = note("get", "/v1/webhooks/deliveries", await admin.GET("/v1/webhooks/deliveries", {
    params: { query: { state: "pending", limit: 10 } },
  }));
  const all = await admin.GET("/v1/webhooks/deliveries");
  note("get", "/v1/webhooks/deliveries", all);
  const id = all.data?.deliveries[0]?.id ?? 0;
  note("post", "/v1/webhooks/deliveries/{id}/replay", await admin.POST("/v1/webhooks/deliveries/{id}/replay", {
    params: { path: { id } },
  }));
  note("post", "/v1/webhooks/deliveries/{id}/replay", await admin.POST("/v1/webhooks/deliveries/{id}/replay", {
    params: { path: { id: 999999 } },
  }));
  void deliveries;
  return calls;
}

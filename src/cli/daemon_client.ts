// How the CLI reaches a node service: the local one through its control socket under SAFEVAR (works
// before any cluster.xml exists), a remote one over HTTP on its cluster address, signed with the cluster key.
import { CliError } from "./cli_error.ts";

export type ApiResponse = { status: number; json?: unknown; bytes?: Uint8Array; contentType: string };

export interface ApiClient {
  readonly label: string;
  request(method: string, path: string, body?: Uint8Array | string | object): Promise<ApiResponse>;
}

export const DAEMON_NOT_RUNNING = "safeadmin administrator daemon not running";

export class LocalDaemonClient implements ApiClient {
  readonly label = "local";
  constructor(
    private readonly socketPath: string,
    private readonly command: string,
    private readonly user = "root",
  ) {}

  async request(method: string, path: string, body?: Uint8Array | string | object): Promise<ApiResponse> {
    let client: Deno.HttpClient;
    try {
      // deno-lint-ignore no-explicit-any
      client = Deno.createHttpClient({ proxy: { transport: "unix", path: this.socketPath } } as any);
    } catch {
      throw new CliError(DAEMON_NOT_RUNNING);
    }
    try {
      const { payload, contentType } = encodeBody(body);
      const headers: Record<string, string> = {
        "x-safekit-command": this.command,
        "x-safekit-user": this.user,
      };
      if (contentType) headers["content-type"] = contentType;
      let res: Response;
      try {
        res = await fetch(`http://safeadmin${path}`, {
          method,
          body: payload as BodyInit | undefined,
          headers,
          client,
        });
      } catch {
        throw new CliError(DAEMON_NOT_RUNNING);
      }
      return await decodeResponse(res);
    } finally {
      client.close();
    }
  }
}

export function encodeBody(
  body?: Uint8Array | string | object,
): { payload?: Uint8Array; contentType?: string } {
  if (body === undefined) return {};
  if (body instanceof Uint8Array) return { payload: body, contentType: "application/octet-stream" };
  if (typeof body === "string") return { payload: new TextEncoder().encode(body), contentType: "text/plain" };
  return { payload: new TextEncoder().encode(JSON.stringify(body)), contentType: "application/json" };
}

export async function decodeResponse(res: Response): Promise<ApiResponse> {
  const contentType = res.headers.get("content-type") ?? "";
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (contentType.includes("application/json")) {
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      json = { error: "invalid JSON from the node service" };
    }
    return { status: res.status, json, contentType };
  }
  return { status: res.status, bytes, contentType };
}

/** Returns the JSON body of a successful response, or throws the node's own error message. */
export function expectOk<T = unknown>(r: ApiResponse): T {
  if (r.status >= 200 && r.status < 300) return r.json as T;
  const msg = (r.json as { error?: string } | undefined)?.error ??
    (r.bytes ? new TextDecoder().decode(r.bytes).slice(0, 300) : `HTTP ${r.status}`);
  throw new CliError(msg);
}

// A client for another node's API over HTTP, every request signed with the cluster key.
import { PEER_AUTH_HEADER, signPeerRequest } from "../web/peer_auth.ts";
import { CliError } from "./cli_error.ts";
import { type ApiClient, type ApiResponse, decodeResponse, encodeBody } from "./daemon_client.ts";

export class RemoteNodeClient implements ApiClient {
  constructor(
    readonly label: string,
    private readonly baseUrl: string,
    private readonly key: Uint8Array,
    private readonly localNode: string,
    private readonly command: string,
    private readonly timeoutMs = 30_000,
    /** HTTPS mode: a client that trusts the cluster's CA (SAFE/web/conf/cacert.crt). */
    private readonly httpClient?: Deno.HttpClient,
  ) {}

  async request(method: string, path: string, body?: Uint8Array | string | object): Promise<ApiResponse> {
    const { payload, contentType } = encodeBody(body);
    const sig = await signPeerRequest(
      this.key,
      this.localNode,
      method,
      path,
      payload ?? new Uint8Array(),
      Date.now(),
    );
    const headers: Record<string, string> = { [PEER_AUTH_HEADER]: sig, "x-safekit-command": this.command };
    if (contentType) headers["content-type"] = contentType;
    try {
      const res = await fetch(this.baseUrl + path, {
        method,
        headers,
        body: payload as BodyInit | undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
        client: this.httpClient,
      });
      return await decodeResponse(res);
    } catch (e) {
      throw new CliError(`cannot reach ${this.baseUrl}: ${(e as Error).message}`);
    }
  }
}

export function parseKeyFile(text: string): Uint8Array {
  const hex = text.trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new CliError("the cluster key file is damaged (expected 64 hex digits)");
  }
  return Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
}

/** A fetch client trusting the cluster's CA, for https:// node URLs (null when there is no CA file). */
export async function clusterCaClient(cacertPath: string): Promise<Deno.HttpClient | undefined> {
  try {
    return Deno.createHttpClient({ caCerts: [await Deno.readTextFile(cacertPath)] });
  } catch {
    return undefined;
  }
}

// One signed request from this node service to another node's API (cluster key, HTTP or HTTPS as this node
// serves): what the verifiers and fan-out views use to ask a peer about its side of a module.
import type { ApiResponse } from "../cli/daemon_client.ts";
import { RemoteNodeClient } from "../cli/remote_client.ts";
import { NodeError } from "./node_error.ts";
import type { NodeService } from "./node_service.ts";

export async function peerRequest(
  s: NodeService,
  node: string,
  method: string,
  path: string,
  opts: { body?: object; command: string; timeoutMs: number },
): Promise<ApiResponse> {
  const a = s.cluster.active;
  const url = s.peerUrl(node);
  if (!a || !url || !s.cluster.key) {
    throw new NodeError(`node '${node}' has no address or there is no cluster key`);
  }
  const client = new RemoteNodeClient(
    node,
    url,
    s.cluster.key,
    a.localNode,
    opts.command,
    opts.timeoutMs,
    s.peerHttpClient,
  );
  return await client.request(method, path, opts.body);
}

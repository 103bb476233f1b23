// The real DatagramTransport: one node:dgram socket bound to the node's own address on one lan (IPv4 or
// IPv6), so several nodes can share a host on 127.0.0.2, 127.0.0.3, ... exactly as on separate servers.
import dgram from "node:dgram";
import {
  bareAddress,
  type DatagramTransport,
  type Endpoint,
  isIPv6,
  type ReceiveHandler,
} from "./transport.ts";

export type UdpTransportOptions = {
  /** Called when the OS refuses a send (e.g. no route); sends stay best effort. */
  readonly onSendError?: (to: Endpoint, error: Error) => void;
};

/** Binds `addr:port` (port 0 = ephemeral). Rejects with the OS error (EADDRNOTAVAIL, EADDRINUSE, ...). */
export function openUdpTransport(bind: Endpoint, options: UdpTransportOptions = {}): Promise<UdpTransport> {
  const addr = bareAddress(bind.addr);
  const socket = dgram.createSocket({ type: isIPv6(addr) ? "udp6" : "udp4", reuseAddr: false });
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      socket.close();
      reject(error);
    };
    socket.once("error", onError);
    socket.bind(bind.port, addr, () => {
      socket.off("error", onError);
      resolve(new UdpTransport(socket, { addr, port: socket.address().port }, options));
    });
  });
}

export class UdpTransport implements DatagramTransport {
  #handler: ReceiveHandler = () => {};
  #closed: Promise<void> | null = null;

  constructor(
    private readonly socket: dgram.Socket,
    readonly local: Endpoint,
    private readonly options: UdpTransportOptions,
  ) {
    socket.on("message", (message: Uint8Array, rinfo: dgram.RemoteInfo) => {
      if (this.#closed) return;
      this.#handler({ addr: rinfo.address, port: rinfo.port }, new Uint8Array(message));
    });
    // A UDP socket reports ICMP errors asynchronously; they must not crash the node.
    socket.on("error", () => {});
  }

  send(to: Endpoint, bytes: Uint8Array): void {
    if (this.#closed) return;
    try {
      // Copied because dgram sends after a tick, and callers may reuse their buffer.
      this.socket.send(bytes.slice(), to.port, bareAddress(to.addr), (error) => {
        if (error) this.options.onSendError?.(to, error);
      });
    } catch (error) {
      this.options.onSendError?.(to, error as Error);
    }
  }

  onReceive(handler: ReceiveHandler): void {
    this.#handler = handler;
  }

  close(): Promise<void> {
    this.#closed ??= new Promise((resolve) => this.socket.close(() => resolve()));
    return this.#closed;
  }
}

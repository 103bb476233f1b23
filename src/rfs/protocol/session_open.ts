// Runs the handshake of handshake.ts over a fresh byte stream, for each side, and returns the channel
// switched to the session keys.

import { poly1305FrameAuth } from "./frame_auth.ts";
import { FRAME_VERSION, FrameError } from "./frame_codec.ts";
import { LEGACY_FRAME_VERSION, legacyRefusalFrame } from "./legacy_refusal.ts";
import { type ByteStream, ChannelClosedError, FrameChannel } from "./frame_channel.ts";
import {
  checkClusterKey,
  handshakeKey,
  newNonce,
  proofMatches,
  serverProof,
  sessionKeys,
} from "./handshake.ts";
import { encodeMessage, type Message } from "./messages.ts";

export class HandshakeError extends Error {
  override name = "HandshakeError";
}

export type HelloInfo = {
  readonly node: string;
  readonly module: string;
  readonly dirCount: number;
};
export type ReadyInfo = { readonly async: "second" | "none"; readonly dropped: boolean };

async function withTimeout<T>(ch: FrameChannel, ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ch.close(`${what}: no answer within ${ms} ms`);
      reject(new HandshakeError(`${what}: no answer within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

async function expect<T extends Message["type"]>(
  ch: FrameChannel,
  type: T,
  who: string,
): Promise<Extract<Message, { type: T }>> {
  let m: Message | null;
  try {
    m = await ch.receive();
  } catch (e) {
    if (e instanceof FrameError && e.code === "bad_mac") {
      throw new HandshakeError(
        `handshake with the ${who} failed: its proof does not verify (a different cluster key, or a replayed session)`,
      );
    }
    if (e instanceof FrameError || e instanceof ChannelClosedError) {
      throw new HandshakeError(`handshake with the ${who} failed: ${e.message}`, { cause: e });
    }
    throw e;
  }
  if (m === null) {
    throw new HandshakeError(
      `handshake with the ${who} failed: it closed the connection (a different cluster key, a node of an older release, or not a replication port?)`,
    );
  }
  if (m.type === "error") throw new HandshakeError(`the ${who} refused the connection: ${m.reason}`);
  if (m.type !== type) {
    ch.close(`handshake: ${type} expected, ${m.type} received`);
    throw new HandshakeError(`handshake with the ${who} failed: ${type} expected, ${m.type} received`);
  }
  return m as Extract<Message, { type: T }>;
}

/** Primary side: authenticates the secondary and proves itself. Closes the stream on failure. */
export async function openClientSession(
  stream: ByteStream,
  clusterKey: Uint8Array,
  hello: HelloInfo,
  ready: ReadyInfo,
  timeoutMs: number,
): Promise<FrameChannel> {
  checkClusterKey(clusterKey);
  const hk = handshakeKey(clusterKey);
  const ch = new FrameChannel(stream, hk, hk);
  try {
    return await withTimeout(
      ch,
      timeoutMs,
      "replication handshake",
      (async () => {
        const helloMsg: Message = { type: "hello", nonce: newNonce(), ...hello };
        ch.send(helloMsg);
        const challenge = await expect(ch, "challenge", "secondary");
        const keys = sessionKeys(clusterKey, (helloMsg as { nonce: Uint8Array }).nonce, challenge.nonce);
        if (!proofMatches(serverProof(keys, encodeMessage(helloMsg).payload), challenge.proof)) {
          ch.close("secondary proof mismatch");
          throw new HandshakeError(
            "handshake with the secondary failed: its proof does not verify (a different cluster key, or a replayed session)",
          );
        }
        ch.rekey(poly1305FrameAuth(keys.c2s), poly1305FrameAuth(keys.s2c));
        ch.send({ type: "ready", ...ready });
        await expect(ch, "welcome", "secondary");
        return ch;
      })(),
    );
  } catch (e) {
    ch.close((e as Error).message);
    throw e;
  }
}

/**
 * Secondary side. `admit` sees the authenticated-yet-unproven hello only after the client proved the key
 * (it is called once `ready` verified) and returns a refusal reason or null.
 */
export async function acceptServerSession(
  stream: ByteStream,
  clusterKey: Uint8Array,
  admit: (hello: HelloInfo, ready: ReadyInfo) => string | null,
  timeoutMs: number,
): Promise<{ channel: FrameChannel; hello: HelloInfo; ready: ReadyInfo }> {
  checkClusterKey(clusterKey);
  const hk = handshakeKey(clusterKey);
  // Until the handshake is over, closing the channel leaves the socket open: a primary of the previous
  // protocol version is then told why in its own format (legacy_refusal.ts).
  let holdClose = true;
  const held: ByteStream = {
    read: (p) => stream.read(p),
    write: (p) => stream.write(p),
    close: () => {
      if (!holdClose) stream.close();
    },
  };
  const ch = new FrameChannel(held, hk, hk);
  try {
    return await withTimeout(
      ch,
      timeoutMs,
      "replication handshake",
      (async () => {
        const hello = await expect(ch, "hello", "primary");
        const nonceS = newNonce();
        const keys = sessionKeys(clusterKey, hello.nonce, nonceS);
        ch.send({ type: "challenge", nonce: nonceS, proof: serverProof(keys, encodeMessage(hello).payload) });
        ch.rekey(poly1305FrameAuth(keys.s2c), poly1305FrameAuth(keys.c2s));
        const ready = await expect(ch, "ready", "primary");
        const info = { node: hello.node, module: hello.module, dirCount: hello.dirCount };
        const readyInfo = { async: ready.async, dropped: ready.dropped };
        const refusal = admit(info, readyInfo);
        if (refusal !== null) {
          await ch.abort(refusal);
          throw new HandshakeError(`replication connection refused: ${refusal}`);
        }
        ch.send({ type: "welcome" });
        holdClose = false;
        return { channel: ch, hello: info, ready: readyInfo };
      })(),
    );
  } catch (e) {
    ch.close((e as Error).message);
    const cause = (e as Error).cause;
    if (cause instanceof FrameError && cause.peerVersion === LEGACY_FRAME_VERSION) {
      const reason = `this secondary speaks replication protocol version ${FRAME_VERSION}, the primary ` +
        `version ${LEGACY_FRAME_VERSION}: upgrade the primary (both nodes must run the same release)`;
      await writeWithin(stream, legacyRefusalFrame(clusterKey, reason), 1000);
    }
    holdClose = false;
    try {
      stream.close();
    } catch { /* already closed */ }
    throw e;
  }
}

/** Best effort: the bytes go out unless the peer stops reading for `ms`. */
async function writeWithin(stream: ByteStream, bytes: Uint8Array, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const write = (async () => {
    let done = 0;
    while (done < bytes.length) done += await stream.write(bytes.subarray(done));
  })();
  try {
    await Promise.race([write, new Promise((r) => (timer = setTimeout(r, ms)))]);
  } catch {
    /* the peer is gone */
  } finally {
    clearTimeout(timer);
    write.catch(() => {});
  }
}

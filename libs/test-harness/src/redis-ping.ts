import { connect } from "node:net";

const TIMEOUT_MS = 1_000;

/**
 * True once Redis answers PING with PONG. A raw socket rather than a client library, so a
 * connection refused is just "not yet" and nothing retries or reconnects behind our back.
 * While Redis loads its AOF it answers -LOADING, which is also "not yet".
 */
export function redisAnswersPing(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let reply = "";
    const finish = (ready: boolean) => {
      socket.destroy();
      resolve(ready);
    };
    socket.setTimeout(TIMEOUT_MS, () => finish(false));
    socket.on("error", () => finish(false));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString("latin1");
      if (reply.includes("\r\n")) finish(reply.startsWith("+PONG"));
    });
  });
}

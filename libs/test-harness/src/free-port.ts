import { once } from "node:events";
import { type AddressInfo, createServer } from "node:net";

/**
 * A loopback port free right now. Another process may take it before the server binds it, so
 * callers retry with a new one when the bind fails.
 */
export async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as AddressInfo;
  probe.close();
  await once(probe, "close");
  return port;
}

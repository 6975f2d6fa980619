import { webcrypto } from "node:crypto";
import { installReflectMetadataShim } from "./reflect-metadata-shim.js";

installReflectMetadataShim();

/**
 * @peculiar/x509 checks for Reflect metadata while it loads, so it is imported only after the
 * shim is installed; every module of this library reaches it through here.
 */
export const x509 = await import("@peculiar/x509");

x509.cryptoProvider.set(webcrypto);

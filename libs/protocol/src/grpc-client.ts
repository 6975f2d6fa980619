import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import * as grpc from "@grpc/grpc-js";
import { methodDefinition, type RequestInitOf, type ResponseOf } from "./grpc-service.js";

/** Per-call metadata and options (deadline, etc.). */
export interface CallOptions {
  metadata?: grpc.Metadata;
  options?: grpc.CallOptions;
}

/**
 * A typed client keyed by the method's localName. Unary calls return a
 * promise; streaming calls return grpc-js streams, which are async-iterable.
 */
export type ServiceClient<T extends GenServiceMethods> = {
  [K in keyof T]: T[K]["methodKind"] extends "unary"
    ? (request: RequestInitOf<T[K]>, call?: CallOptions) => Promise<ResponseOf<T[K]>>
    : T[K]["methodKind"] extends "server_streaming"
      ? (request: RequestInitOf<T[K]>, call?: CallOptions) => grpc.ClientReadableStream<ResponseOf<T[K]>>
      : T[K]["methodKind"] extends "client_streaming"
        ? (call?: CallOptions) => {
            stream: grpc.ClientWritableStream<RequestInitOf<T[K]>>;
            response: Promise<ResponseOf<T[K]>>;
          }
        : (call?: CallOptions) => grpc.ClientDuplexStream<RequestInitOf<T[K]>, ResponseOf<T[K]>>;
} & {
  /** The underlying channel owner; call `close()` on it when done. */
  readonly grpcClient: grpc.Client;
};

type Method = ReturnType<typeof methodDefinition>;

function bindMethod(raw: grpc.Client, kind: string, d: Method): unknown {
  const metadata = (c?: CallOptions) => c?.metadata ?? new grpc.Metadata();
  const options = (c?: CallOptions) => c?.options ?? {};
  const ser = d.requestSerialize;
  const de = d.responseDeserialize;
  switch (kind) {
    case "unary":
      return (req: unknown, c?: CallOptions) =>
        new Promise((resolve, reject) => {
          raw.makeUnaryRequest(d.path, ser, de, req, metadata(c), options(c), (err, res) =>
            err ? reject(err) : resolve(res),
          );
        });
    case "server_streaming":
      return (req: unknown, c?: CallOptions) =>
        raw.makeServerStreamRequest(d.path, ser, de, req, metadata(c), options(c));
    case "client_streaming":
      return (c?: CallOptions) => {
        let stream: grpc.ClientWritableStream<unknown> | undefined;
        const response = new Promise((resolve, reject) => {
          stream = raw.makeClientStreamRequest(d.path, ser, de, metadata(c), options(c), (err, res) =>
            err ? reject(err) : resolve(res),
          );
        });
        return { stream, response };
      };
    default:
      return (c?: CallOptions) => raw.makeBidiStreamRequest(d.path, ser, de, metadata(c), options(c));
  }
}

/** Creates a typed client for a generated service on one channel. */
export function createClient<T extends GenServiceMethods>(
  service: GenService<T>,
  address: string,
  credentials: grpc.ChannelCredentials,
  channelOptions: grpc.ChannelOptions = {},
): ServiceClient<T> {
  const raw = new grpc.Client(address, credentials, channelOptions);
  const client: Record<string, unknown> = { grpcClient: raw };
  for (const method of (service as GenService<GenServiceMethods>).methods) {
    client[method.localName] = bindMethod(raw, method.methodKind, methodDefinition(service, method));
  }
  return client as ServiceClient<T>;
}

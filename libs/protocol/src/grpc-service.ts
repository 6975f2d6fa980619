import {
  create,
  type DescMessage,
  type DescMethod,
  fromBinary,
  isMessage,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import type * as grpc from "@grpc/grpc-js";

type InputOf<M> = M extends { input: infer I extends DescMessage } ? I : never;
type OutputOf<M> = M extends { output: infer O extends DescMessage } ? O : never;
/** A decoded request message of method M. */
export type RequestOf<M> = MessageShape<InputOf<M>>;
/** A decoded response message of method M. */
export type ResponseOf<M> = MessageShape<OutputOf<M>>;
/** What a caller may pass for a request: a message or its init shape. */
export type RequestInitOf<M> = MessageInitShape<InputOf<M>>;
/** What a handler may send: a message or its init shape. */
export type ResponseInitOf<M> = MessageInitShape<OutputOf<M>>;

/** Server handlers keyed by the method's localName (`enroll`, `session`). */
export type ServiceHandlers<T extends GenServiceMethods> = {
  [K in keyof T]: T[K]["methodKind"] extends "unary"
    ? grpc.handleUnaryCall<RequestOf<T[K]>, ResponseInitOf<T[K]>>
    : T[K]["methodKind"] extends "server_streaming"
      ? grpc.handleServerStreamingCall<RequestOf<T[K]>, ResponseInitOf<T[K]>>
      : T[K]["methodKind"] extends "client_streaming"
        ? grpc.handleClientStreamingCall<RequestOf<T[K]>, ResponseInitOf<T[K]>>
        : grpc.handleBidiStreamingCall<RequestOf<T[K]>, ResponseInitOf<T[K]>>;
};

// grpc-js wants Buffers; a view over the same memory avoids a copy per message.
function bufferView(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function serializer<D extends DescMessage>(schema: D): (value: unknown) => Buffer {
  return (value) => {
    const message = isMessage(value, schema) ? value : create(schema, value as MessageInitShape<D>);
    return bufferView(toBinary(schema, message));
  };
}

function deserializer<D extends DescMessage>(schema: D): (bytes: Buffer) => MessageShape<D> {
  return (bytes) => fromBinary(schema, bytes);
}

/** The grpc-js definition of one protobuf-es method; the path is `/<package.Service>/<Method>`. */
export function methodDefinition(
  service: { typeName: string },
  method: DescMethod,
): grpc.MethodDefinition<unknown, unknown> {
  return {
    path: `/${service.typeName}/${method.name}`,
    originalName: method.localName,
    requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
    responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
    requestSerialize: serializer(method.input),
    requestDeserialize: deserializer(method.input),
    responseSerialize: serializer(method.output),
    responseDeserialize: deserializer(method.output),
  };
}

/** Maps a generated protobuf-es service to a grpc-js service definition. */
export function serviceDefinition(service: GenService<GenServiceMethods>): grpc.ServiceDefinition {
  return Object.fromEntries(service.methods.map((m) => [m.localName, methodDefinition(service, m)]));
}

/** Registers typed handlers for a generated service on a grpc-js server. */
export function addService<T extends GenServiceMethods>(
  server: grpc.Server,
  service: GenService<T>,
  handlers: ServiceHandlers<T>,
): void {
  server.addService(
    serviceDefinition(service as GenService<GenServiceMethods>),
    handlers as unknown as grpc.UntypedServiceImplementation,
  );
}

/** Handlers for a generated service value: `ServiceImplementation<typeof AgentSessionService>`. */
export type ServiceImplementation<S> = S extends GenService<infer T> ? ServiceHandlers<T> : never;

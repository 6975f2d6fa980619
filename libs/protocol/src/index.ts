// The agent <-> controller contract: types generated from /proto (pwdr.v1)
// and a typed grpc-js adapter with mutual-TLS helpers.
// Glossary: Session = the agent's one bidirectional stream; Enroll = token -> certificate.

export {
  generateEnrollmentToken,
  hashTokenSecret,
  InvalidEnrollmentTokenError,
  type ParsedEnrollmentToken,
  parseEnrollmentToken,
  sameFingerprint,
} from "./enrollment-token.js";
export * from "./gen/pwdr/v1/enrollment_pb.js";
export * from "./gen/pwdr/v1/host_pb.js";
export * from "./gen/pwdr/v1/job_pb.js";
export * from "./gen/pwdr/v1/policy_pb.js";
export * from "./gen/pwdr/v1/session_pb.js";
export * from "./gen/pwdr/v1/storage_pb.js";
export { type CallOptions, createClient, type ServiceClient } from "./grpc-client.js";
export {
  addService,
  methodDefinition,
  type RequestInitOf,
  type RequestOf,
  type ResponseInitOf,
  type ResponseOf,
  type ServiceHandlers,
  type ServiceImplementation,
  serviceDefinition,
} from "./grpc-service.js";
export {
  CONTROLLER_TLS_NAME,
  certificateFingerprint,
  certificateIdentity,
  clientCredentials,
  controllerChannelOptions,
  type PeerIdentity,
  peerIdentity,
  serverCredentials,
  type TlsIdentity,
} from "./tls-credentials.js";

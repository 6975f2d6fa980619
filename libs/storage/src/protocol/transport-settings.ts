/**
 * HTTP/2 flow control for bulk transfers, both sides. The 64 KiB default
 * window stalls a pack upload once the round trip grows (a Pi on a remote
 * link); 8 MiB per stream keeps a 16 MiB pack to two window updates.
 */
export const TRANSPORT_SETTINGS = {
  settings: { initialWindowSize: 8 * 1024 * 1024, maxFrameSize: 1024 * 1024 },
  connectionWindow: 32 * 1024 * 1024,
  /** MiB of buffered frames per session before nghttp2 refuses new streams. */
  maxSessionMemory: 64,
} as const;

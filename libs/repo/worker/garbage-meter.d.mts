/** Types of garbage-meter.mjs (plain JavaScript shared with the worker threads). */
export declare class GarbageMeter {
  constructor(every: number);
  readonly every: number;
  readonly collections: number;
  add(bytes: number): void;
}

/** Types of fastcdc.mjs (plain JavaScript shared with the worker threads). */
export interface CutterParams {
  minSize: number;
  avgSize: number;
  maxSize: number;
  gearSeed: string;
}

export declare function gearTable(seedHex: string): Int32Array;

export declare class Cutter {
  constructor(params: CutterParams);
  readonly min: number;
  readonly avg: number;
  readonly max: number;
  cut(buf: Uint8Array, start: number, end: number): number;
}

export declare class ChunkStream {
  constructor(cutter: Cutter);
  push(buf: Buffer): Buffer[];
  end(): Buffer[];
  close(): void;
}

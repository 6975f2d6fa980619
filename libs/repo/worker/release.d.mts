/** Types of release.mjs (plain JavaScript shared with the worker threads). */
export declare function release(views: readonly Uint8Array[]): void;

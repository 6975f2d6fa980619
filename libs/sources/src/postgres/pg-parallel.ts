/**
 * Runs `fn` over `items` with at most `limit` at once. After the first
 * failure no new item starts; that failure is thrown once the running ones end.
 */
export function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  return forEachWithFollowUps(items, limit, async (item) => {
    await fn(item);
    return [];
  });
}

/**
 * forEachLimited where `fn` returns follow-up items, which run before the
 * items still waiting (a table's indexes right after its rows).
 */
export function forEachWithFollowUps<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<readonly T[]>,
): Promise<void> {
  const queue = [...items];
  let running = 0;
  let failure: { error: unknown } | undefined;
  return new Promise<void>((resolve, reject) => {
    const settleIfIdle = () => {
      if (running > 0 || (!failure && queue.length > 0)) return;
      if (failure) reject(failure.error);
      else resolve();
    };
    const startNext = () => {
      while (!failure && running < Math.max(1, limit) && queue.length > 0) {
        const item = queue.shift() as T;
        running++;
        Promise.resolve(item)
          .then(fn)
          .then(
            (more) => {
              if (more) queue.unshift(...more);
            },
            (error: unknown) => {
              failure ??= { error };
            },
          )
          .finally(() => {
            running--;
            startNext();
            settleIfIdle();
          });
      }
    };
    startNext();
    settleIfIdle();
  });
}

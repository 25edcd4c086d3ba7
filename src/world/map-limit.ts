// Many independent store operations at once, but never more than `limit` in flight (a run may land thousands
// of outputs; each write holds a file descriptor until its fsync returns).

/** Like `Promise.all(items.map(fn))`, with at most `limit` calls of `fn` running; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

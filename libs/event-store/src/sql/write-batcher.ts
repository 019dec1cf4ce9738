/**
 * Coalesces concurrent one-row writes (or reads) into one statement (group commit). Concurrency: at most one
 * flush is in flight; writes submitted meanwhile queue up and the next flush takes them all (up to
 * `maxBatch`). So under load a statement carries as many rows as arrived during one round trip,
 * and a lone write waits only for its own. A flush starts on `setImmediate`, after the I/O
 * callbacks of the current loop turn, so answers that arrived together are written together.
 *
 * A failed batch is retried one row at a time, so one bad row fails only its own caller; with
 * `splitOn`, only for the errors it accepts (others fail every caller of the batch).
 *
 * With `keysOf`, rows that share a key never go in one batch: a later one waits for the next
 * batch, and so does every row after it sharing a key with it, so each key's rows are written in
 * the order they were submitted, one batch apart.
 */
export class WriteBatcher<In, Out> {
  private queue: { item: In; resolve: (out: Out) => void; reject: (err: unknown) => void }[] = [];
  private draining = false;

  constructor(
    /** Writes the rows in one statement; answers in the order of `items`. */
    private readonly write: (items: In[]) => Promise<Out[]>,
    private readonly maxBatch = 500,
    private readonly splitOn: (err: unknown) => boolean = () => true,
    private readonly keysOf?: (item: In) => readonly string[],
  ) {}

  submit(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.draining) return;
      this.draining = true;
      setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      const batch = this.nextBatch();
      try {
        const out = await this.write(batch.map((b) => b.item));
        batch.forEach((b, i) => b.resolve(out[i]!));
      } catch (err) {
        if (batch.length === 1 || !this.splitOn(err)) batch.forEach((b) => b.reject(err));
        else await Promise.all(batch.map((b) => this.write([b.item]).then((out) => b.resolve(out[0]!), b.reject)));
      }
    }
    this.draining = false;
  }

  private nextBatch(): typeof this.queue {
    if (!this.keysOf) return this.queue.splice(0, this.maxBatch);
    const batch: typeof this.queue = [];
    const waiting: typeof this.queue = [];
    const seen = new Set<string>();
    for (const entry of this.queue) {
      const keys = this.keysOf(entry.item);
      if (batch.length < this.maxBatch && !keys.some((k) => seen.has(k))) batch.push(entry);
      else waiting.push(entry);
      for (const k of keys) seen.add(k);
    }
    this.queue = waiting;
    return batch;
  }
}

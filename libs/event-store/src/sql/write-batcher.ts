/**
 * Coalesces concurrent one-row writes (or reads) into one statement (group commit). Concurrency: at most one
 * flush is in flight; writes submitted meanwhile queue up and the next flush takes them all (up to
 * `maxBatch`). So under load a statement carries as many rows as arrived during one round trip,
 * and a lone write waits only for its own. A flush starts on `setImmediate`, after the I/O
 * callbacks of the current loop turn, so answers that arrived together are written together.
 *
 * A failed batch is retried one row per statement (a few at a time), so one bad row fails only its own caller; with
 * `splitOn`, only for the errors it accepts (others fail every caller of the batch).
 *
 * With `keysOf`, rows that share a key never go in one batch: a later one waits for the next
 * batch, and so does every row after it sharing a key with it, so each key's rows are written in
 * the order they were submitted, one batch apart.
 */
/** Statements at once when a failed batch is written row by row. */
const SPLIT_CONCURRENCY = 4;

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

  /** Never throws: a throw here would leave `draining` set, and every later submit queued for ever. */
  private async drain(): Promise<void> {
    while (this.queue.length) {
      const batch = this.nextBatch();
      try {
        const out = await this.write(batch.map((b) => b.item));
        batch.forEach((b, i) => b.resolve(out[i]!));
      } catch (err) {
        if (batch.length > 1 && this.splits(err)) await this.oneByOne(batch);
        else batch.forEach((b) => b.reject(err));
      }
    }
    this.draining = false;
  }

  private splits(err: unknown): boolean {
    try {
      return this.splitOn(err);
    } catch {
      return false;
    }
  }

  /**
   * The rows of a failed batch, each in a statement of its own, a few at a time: all at once, a
   * batch of hundreds would queue for the pool's connections beside the process's other work, and
   * callers whose rows were fine would fail on the pool's wait.
   */
  private async oneByOne(batch: typeof this.queue): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < batch.length) {
        const b = batch[next++]!;
        try {
          b.resolve((await this.write([b.item]))[0]!);
        } catch (err) {
          b.reject(err);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(SPLIT_CONCURRENCY, batch.length) }, worker));
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

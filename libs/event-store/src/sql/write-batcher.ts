/**
 * Coalesces concurrent one-row writes (or reads) into one statement (group commit). Concurrency: at most one
 * flush is in flight; writes submitted meanwhile queue up and the next flush takes them all (up to
 * `maxBatch`). So under load a statement carries as many rows as arrived during one round trip,
 * and a lone write waits only for its own. A flush starts on `setImmediate`, after the I/O
 * callbacks of the current loop turn, so answers that arrived together are written together.
 *
 * A failed batch is retried one row at a time, so one bad row fails only its own caller; with
 * `splitOn`, only for the errors it accepts (others fail every caller of the batch).
 */
export class WriteBatcher<In, Out> {
  private queue: { item: In; resolve: (out: Out) => void; reject: (err: unknown) => void }[] = [];
  private draining = false;

  constructor(
    /** Writes the rows in one statement; answers in the order of `items`. */
    private readonly write: (items: In[]) => Promise<Out[]>,
    private readonly maxBatch = 500,
    private readonly splitOn: (err: unknown) => boolean = () => true,
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
      const batch = this.queue.splice(0, this.maxBatch);
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
}

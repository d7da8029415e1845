/** The FIFO the simulated queues are made of. */

/** FIFO of arrival chunks (time, amount). */
export class ChunkQueue {
  private times: number[] = [];
  private amounts: number[] = [];
  private head = 0;
  total = 0;

  push(t: number, amount: number): void {
    if (amount <= 0) return;
    this.times.push(t);
    this.amounts.push(amount);
    this.total += amount;
  }

  /** Serve up to `capacity` from the head; returns what was served. */
  serve(capacity: number): number {
    let left = capacity;
    while (left > 0 && this.head < this.amounts.length) {
      const a = this.amounts[this.head] as number;
      if (a <= left + 1e-9) {
        left -= a;
        this.head++;
      } else {
        this.amounts[this.head] = a - left;
        left = 0;
      }
    }
    const served = capacity - Math.max(0, left);
    this.total = Math.max(0, this.total - served);
    if (this.head === this.amounts.length) this.total = 0;
    this.compact();
    return Math.min(served, capacity);
  }

  /** Drop the newest requests beyond `cap`; returns how many. */
  trimTo(cap: number): number {
    let over = this.total - cap;
    if (over <= 0) return 0;
    const dropped = over;
    while (over > 0 && this.amounts.length > this.head) {
      const i = this.amounts.length - 1;
      const a = this.amounts[i] as number;
      if (a <= over) {
        over -= a;
        this.amounts.pop();
        this.times.pop();
      } else {
        this.amounts[i] = a - over;
        over = 0;
      }
    }
    this.total = cap;
    return dropped;
  }

  /** An independent copy (a pod leaving with what it holds). */
  clone(): ChunkQueue {
    const c = new ChunkQueue();
    c.times = this.times.slice(this.head);
    c.amounts = this.amounts.slice(this.head);
    c.total = this.total;
    return c;
  }

  /** Arrival time of the oldest waiting request, if any. */
  headTime(): number | undefined {
    return this.head < this.times.length ? this.times[this.head] : undefined;
  }

  /** Amount waiting that arrived before `t`. */
  olderThan(t: number): number {
    let sum = 0;
    for (let i = this.head; i < this.times.length && (this.times[i] as number) < t; i++)
      sum += this.amounts[i] as number;
    return sum;
  }

  private compact(): void {
    if (this.head > 4096 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.amounts = this.amounts.slice(this.head);
      this.head = 0;
    }
  }
}

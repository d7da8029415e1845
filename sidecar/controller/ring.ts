/** A bounded list that keeps the newest `capacity` items: the controller's decision log. */
export class Ring<T> {
  readonly #items: T[] = [];
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  push(item: T): void {
    this.#items.push(item);
    if (this.#items.length > this.#capacity) this.#items.shift();
  }

  /** Newest first. */
  newest(n = this.#capacity): T[] {
    return this.#items.slice(-n).reverse();
  }

  get last(): T | undefined {
    return this.#items.at(-1);
  }
}

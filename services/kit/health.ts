/** Readiness of a program: 503 on /readyz unless "ready". */
export type Readiness = "starting" | "ready" | "draining";

/**
 * The readiness state machine: starting → ready → draining. Draining is final: a program that
 * started to shut down never becomes ready again.
 */
export class Health {
  #state: Readiness = "starting";

  get state(): Readiness {
    return this.#state;
  }

  get ready(): boolean {
    return this.#state === "ready";
  }

  markReady(): void {
    if (this.#state === "starting") this.#state = "ready";
  }

  markDraining(): void {
    this.#state = "draining";
  }
}

/**
 * What the real-network helpers need from their caller: somewhere to register what must be undone. A tap test
 * is one (`t.teardown`); the `realchain` command collects them and runs them, newest first, when it stops.
 */
export interface Teardown { teardown: (fn: () => unknown) => void }

export class Teardowns implements Teardown {
  readonly #fns: Array<() => unknown> = []

  teardown (fn: () => unknown): void {
    this.#fns.push(fn)
  }

  /** Runs every registered function once, newest first; one failing does not stop the others. */
  async run (): Promise<void> {
    for (const fn of this.#fns.splice(0).reverse()) {
      try {
        await fn()
      } catch {}
    }
  }
}

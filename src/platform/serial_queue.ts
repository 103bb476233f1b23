// Runs async operations one at a time, in arrival order: configuration changes of a node (install,
// config, cluster apply) touch the same folders and must never interleave.
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(op: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(op, op);
    this.#tail = result.catch(() => {});
    return result;
  }
}

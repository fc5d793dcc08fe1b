/** How many threads the hardware runs at once: os.availableParallelism in Node, hardwareConcurrency in browsers. */
export function availableCores(): number {
  const process = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const os = process?.getBuiltinModule?.('node:os') as { availableParallelism(): number } | undefined;
  if (os) return os.availableParallelism();
  return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
}

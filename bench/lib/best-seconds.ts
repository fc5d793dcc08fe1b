/** The fastest of `repeats` timed runs of `f`, in seconds, after one untimed warm-up run. */
export function bestSeconds(f: () => void, repeats: number): number {
  f();
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    f();
    best = Math.min(best, (performance.now() - start) / 1000);
  }
  return best;
}

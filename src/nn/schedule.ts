import { math } from '../tensor/index.js';

export type WarmupCosineConfig = {
  /** Steps of linear warmup; 0 starts at the peak. */
  warmup: number;
  /** The step at which the cosine reaches the floor (and stays there). */
  total: number;
  peak: number;
  /** The last rate, often peak / 10 (nanoGPT's min_lr). */
  floor: number;
};

const f32 = Math.fround;

/**
 * Learning rate for a step (0-based), in float32 so every machine gets the same bits:
 *   step < warmup:          peak * ((step + 1) / warmup)              reaches the peak at step warmup-1
 *   warmup <= step < total: floor + (0.5 * (1 + cospi(progress))) * (peak - floor),
 *                           progress = (step - warmup) / (total - warmup)
 *   step >= total:          floor
 * cospi is the runtime's deterministic cos(pi x) (Math.cos differs between engines).
 */
export function warmupCosine({ warmup, total, peak, floor }: WarmupCosineConfig): (step: number) => number {
  const [peak32, floor32] = [f32(peak), f32(floor)];
  const span = f32(peak32 - floor32);
  return (step) => {
    if (step < warmup) return f32(peak32 * f32((step + 1) / warmup));
    if (step >= total) return floor32;
    const progress = f32((step - warmup) / (total - warmup));
    const cosine = f32(0.5 * f32(1 + math.cospi(progress)));
    return f32(floor32 + f32(cosine * span));
  };
}

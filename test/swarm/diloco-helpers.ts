// A DiLoCo run small enough for tests: 4 worker slots, 2 inner steps per round, 3 rounds of a 1-layer GPT.
import { buildProgram } from '../../src/train/index.js';
import { DILOCO_OUTER } from '../../src/train/outer.js';
import type { DilocoMode } from '../../src/train/diloco-program.js';
import type { SimOptions } from '../../src/swarm/diloco-sim.js';
import { microSpec } from '../train/helpers.js';

export function microRun(mode: DilocoMode, overrides: Partial<SimOptions> = {}): SimOptions {
  const program = buildProgram(microSpec({ steps: 6 }));
  return { program, batch: program.batch, mode, innerSteps: 2, slots: 4, rounds: 3, hyper: DILOCO_OUTER, seed: program.spec.seed, ...overrides };
}

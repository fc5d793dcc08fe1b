/**
 * safetensors both ways between mycel and PyTorch, through the anchor's own CharGPT: a state_dict
 * written by torch loads here and gives the same logits and gradients, and mycel's params load into torch with
 * load_state_dict(strict=True) and give the same logits. Needs /usr/bin/python3 with torch
 * (apt-get install python3-torch) and ../shared/anchors/torch_anchor.py; skipped, saying which is
 * missing, otherwise. The format itself is checked without Python in safetensors.test.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng, crossEntropy, type Tensor } from '../../src/tensor/index.js';
import { gpt, loadSafetensors, saveSafetensors, valueAndGrad, type GptConfig, type Params } from '../../src/nn/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3';
const SCRIPT = join(here, 'fixtures', 'torch_interop.py');
const ANCHOR = resolve(here, '../../../shared/anchors/torch_anchor.py');

function missing(): string | undefined {
  if (!existsSync(ANCHOR)) return `the anchor ${ANCHOR} is not there`;
  const probe = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) return `${PYTHON} cannot import torch (apt-get install -y python3-torch)`;
  return undefined;
}

const reason = missing();
if (reason) console.warn(`test/nn/interop.test.ts skipped: ${reason}`);

/** float32 computations with other summation orders: equal to a few ulps of the values' scale. */
function expectClose(ours: Tensor, theirs: Tensor, tolerance = 2e-5, what = ''): void {
  expect(ours.shape, what).toEqual(theirs.shape);
  let worst = 0;
  ours.data.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - theirs.data[i]))));
  expect(worst, what).toBeLessThan(tolerance);
}

describe.skipIf(reason !== undefined)(`safetensors interop with PyTorch${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mycel-interop-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a state_dict that torch wrote and computes the anchor\'s logits, loss and gradients', () => {
    const path = join(dir, 'from-torch.safetensors');
    execFileSync(PYTHON, [SCRIPT, ANCHOR, 'write', path]);
    const { params: all, metadata } = loadSafetensors(readFileSync(path));
    const config = JSON.parse(metadata.config) as GptConfig;
    const model = gpt(config);
    const params: Params = Object.fromEntries(Object.entries(all).filter(([name]) => !/^(input|output|grad)\./.test(name)));
    expect(Object.keys(params)).toEqual(Object.keys(model.init(new Rng(0)))); // same names, same order
    const logits = model.apply(params, all['input.ids']);
    expectClose(logits, all['output.logits']);
    expect(crossEntropy(logits, all['input.targets']).item()).toBeCloseTo(all['output.loss'].item(), 5);
    const lossAndGrads = valueAndGrad((p: Params) => crossEntropy(model.apply(p, all['input.ids']), all['input.targets']));
    const { grads } = lossAndGrads(params);
    for (const [name, g] of Object.entries(grads)) expectClose(g, all[`grad.${name}`], 1e-5, name);
  });

  it('writes params that torch loads with load_state_dict(strict=True), giving the same logits', () => {
    const config: GptConfig = { vocabSize: 13, contextLength: 8, dModel: 16, layers: 2, heads: 4, mlpHidden: 24 };
    const model = gpt(config);
    const params = model.init(new Rng(9));
    const data = new Rng(9, 1);
    const [ids, targets] = [data.integers([3, 6], 0, 13), data.integers([3, 6], 0, 13)];
    const [input, output] = [join(dir, 'to-torch.safetensors'), join(dir, 'torch-out.safetensors')];
    writeFileSync(input, saveSafetensors({ ...params, 'input.ids': ids, 'input.targets': targets }, { config: JSON.stringify(config) }));
    execFileSync(PYTHON, [SCRIPT, ANCHOR, 'read', input, output]);
    const theirs = loadSafetensors(readFileSync(output)).params;
    const logits = model.apply(params, ids);
    expectClose(logits, theirs['output.logits']);
    expect(crossEntropy(logits, targets).item()).toBeCloseTo(theirs['output.loss'].item(), 5);
  });
});

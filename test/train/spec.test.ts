import { describe, expect, it } from 'vitest';
import { PRESETS, SpecError, canonicalJson, jobId, parseJobSpec } from '../../src/train/index.js';

describe('job specs', () => {
  it('accept every preset and fill defaults', () => {
    for (const preset of Object.values(PRESETS)) expect(() => parseJobSpec(preset)).not.toThrow();
    const spec = parseJobSpec({ ...PRESETS.quick, optimizer: { kind: 'adamw', lr: 0.001 } });
    expect(spec.optimizer).toMatchObject({ beta1: 0.9, beta2: 0.95, weightDecay: 0.1 });
  });

  it('name every wrong field and what was expected', () => {
    const bad = { ...PRESETS.quick, model: { ...PRESETS.quick.model, dModel: 'big' }, steps: -1, extra: 1, data: { kind: 'task', task: 'adition' } };
    let error: SpecError | undefined;
    try {
      parseJobSpec(bad);
    } catch (e) {
      error = e as SpecError;
    }
    expect(error).toBeInstanceOf(SpecError);
    const text = error!.message;
    expect(text).toMatch(/model\.dModel: .*number/);
    expect(text).toMatch(/steps: .*>=\s*1/);
    expect(text).toMatch(/extra/);
    expect(text).toMatch(/data\.task: .*addition/);
    expect(text).toMatch(/--print-spec/);
    expect(() => parseJobSpec('not an object')).toThrow(SpecError);
  });

  it('name model.heads when it does not divide dModel', () => {
    expect(() => parseJobSpec({ ...PRESETS.quick, model: { ...PRESETS.quick.model, heads: 5 } })).toThrow(
      /model\.heads: must divide dModel \(48\) .* 5 does not \(try 1, 2, 3, 4, 6, 8, 12, 16\)/,
    );
  });

  it('hash to a job id that ignores key order and a text file\'s local path', () => {
    const a = parseJobSpec(PRESETS.quick);
    const reordered = parseJobSpec(JSON.parse(canonicalJson(PRESETS.quick)));
    expect(jobId(reordered)).toBe(jobId(a));
    expect(jobId(parseJobSpec({ ...PRESETS.quick, seed: 2 }))).not.toBe(jobId(a));
    const text = (path: string) => parseJobSpec({ ...PRESETS.text, data: { ...PRESETS.text.data, path, sha256: 'ab'.repeat(32) } });
    expect(jobId(text('/a/b.txt'))).toBe(jobId(text('/c/d.txt')));
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
  });
});

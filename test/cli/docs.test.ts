// The configuration document names every key the config file accepts, and every flag it cites exists
// on one of the commands it documents (node start, node run, swarm start).
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CONFIG_SCHEMA } from '../../src/p2p/config.js';
import { nodeRun } from '../../src/cli/commands/node-run.js';
import { nodeStart } from '../../src/cli/commands/node-start.js';
import { swarmStart } from '../../src/cli/commands/swarm-start.js';

describe('docs/configuration.md', () => {
  it('documents every config.json key, and only flags the commands have', async () => {
    const doc = await readFile(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    for (const key of Object.keys(CONFIG_SCHEMA.shape)) expect(doc).toContain(`| \`${key}\` |`);
    const flags = new Set([nodeStart, nodeRun, swarmStart].flatMap((command) => Object.keys(command.flags!)).concat('data-dir'));
    for (const [, flag] of doc.matchAll(/`--([a-z-]+)/g)) expect(flags, `--${flag}`).toContain(flag);
  });
});

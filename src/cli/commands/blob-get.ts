import { basename, resolve } from 'node:path';
import { UsageError } from '../../platform/errors.js';
import { intFlag, type Command } from '../command.js';
import { callControl } from '../../p2p/control.js';
import { DATA_DIR_FLAGS, dataDirOf, mb } from './p2p-flags.js';

export const blobGet: Command = {
  name: 'blob get',
  summary: 'fetch a blob by CID from the network, verified chunk by chunk',
  usage: '<CID>',
  description: 'Resumes an interrupted transfer. The output file appears only once every chunk is verified.',
  flags: {
    ...DATA_DIR_FLAGS,
    out: { type: 'string', short: 'o', value: 'FILE', description: 'Where to write it. Default: ./<CID>' },
    timeout: { type: 'string', value: 'SECONDS', description: 'Give up after this long without any provider. Default 15' },
  },
  async run({ args, flags, out }) {
    if (args.length !== 1) throw new UsageError('blob get takes one CID.', { metaMessages: ['Example: mycel blob get bafkrei... -o model.bin'] });
    const target = resolve((flags.out as string | undefined) ?? basename(args[0]));
    const timeoutMs = intFlag(flags, 'timeout', 15, 1, 86_400) * 1000;
    let bar: ReturnType<typeof out.progress> | undefined;
    const started = performance.now();
    const result = await callControl<{ cid: string; providersUsed: string[]; resumedBytes: number }>(
      dataDirOf(flags),
      '/blob/get',
      { cid: args[0], out: target, timeoutMs },
      (done, total) => {
        bar ??= out.progress('fetching', total);
        bar.update(done, mb(done));
      },
    );
    bar?.done();
    const seconds = (performance.now() - started) / 1000;
    out.result({ ...result, out: target, seconds }, `${target} (from ${result.providersUsed.length} provider(s), ${seconds.toFixed(1)} s)`);
  },
};

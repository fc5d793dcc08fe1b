import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError } from '../../platform/errors.js';
import type { Command } from '../command.js';
import { callControl } from '../../p2p/control.js';
import { DATA_DIR_FLAGS, dataDirOf, mb } from './p2p-flags.js';

export const blobPut: Command = {
  name: 'blob put',
  summary: 'add a file to the running node and announce it; prints its CID',
  usage: '<FILE>',
  flags: { ...DATA_DIR_FLAGS },
  async run({ args, flags, out }) {
    if (args.length !== 1) throw new UsageError('blob put takes one FILE.', { metaMessages: ['Example: mycel blob put model.safetensors'] });
    const path = resolve(args[0]);
    await access(path).catch((error: unknown) => {
      throw new UsageError(`Cannot read ${path}.`, { cause: error, metaMessages: ['Check the path and its permissions.'] });
    });
    let bar: ReturnType<typeof out.progress> | undefined;
    const result = await callControl<{ cid: string; size: number; chunks: number }>(dataDirOf(flags), '/blob/put', { path }, (done, total) => {
      bar ??= out.progress('hashing', total);
      bar.update(done, mb(done));
    });
    bar?.done();
    out.result(result, result.cid);
  },
};

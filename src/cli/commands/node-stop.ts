import { UsageError } from '../../platform/errors.js';
import type { Command } from '../command.js';
import { stopDetached } from '../service.js';
import { DATA_DIR_FLAGS, dataDirOf } from './p2p-flags.js';

export const nodeStop: Command = {
  name: 'node stop',
  summary: 'stop the node started with mycel node start --detach (same --data-dir)',
  description: 'Sends it SIGTERM (it closes its streams and saves transfer state) and waits for it to exit.',
  flags: { ...DATA_DIR_FLAGS },
  async run({ args, flags, out }) {
    if (args.length > 0) throw new UsageError('node stop takes no arguments.');
    const dataDir = dataDirOf(flags);
    const pid = await stopDetached(dataDir);
    out.result({ stopped: pid !== undefined, pid: pid ?? null, data_dir: dataDir }, pid === undefined ? `No node is running from ${dataDir}.` : `Stopped the node (pid ${pid}).`);
  },
};

import { UsageError } from '../../platform/errors.js';
import { callControl } from '../../p2p/control.js';
import type { PeerInfoView } from '../../p2p/node.js';
import type { Command } from '../command.js';
import { consoleFile, logFile, runningPid } from '../service.js';
import { DATA_DIR_FLAGS, dataDirOf } from './p2p-flags.js';

export const nodeStatus: Command = {
  name: 'node status',
  summary: 'whether a node runs from this data dir: its pid, peers and log',
  flags: { ...DATA_DIR_FLAGS },
  async run({ args, flags, out }) {
    if (args.length > 0) throw new UsageError('node status takes no arguments.');
    const dataDir = dataDirOf(flags);
    const pid = await runningPid(dataDir);
    const peers = await callControl<PeerInfoView[]>(dataDir, '/peers').catch(() => undefined);
    const running = pid !== undefined || peers !== undefined;
    out.result(
      { running, pid: pid ?? null, peers: peers?.length ?? null, data_dir: dataDir, log: logFile(dataDir), console: consoleFile(dataDir) },
      running
        ? `running${pid === undefined ? ' (in the foreground of another shell)' : ` (pid ${pid})`}; ${peers === undefined ? 'control endpoint not answering' : `${peers.length} peer(s)`}; log ${logFile(dataDir)} (console output of a detached node: ${consoleFile(dataDir)})`
        : `No node is running from ${dataDir}. Start one: mycel node start --detach`,
    );
  },
};

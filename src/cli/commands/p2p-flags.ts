import type { FlagSpec, Flags } from '../command.js';
import { defaultDataDir } from '../../p2p/config.js';

/** Flags shared by the p2p commands: where the node keeps its key, blobs and control file. */
export const DATA_DIR_FLAGS: Record<string, FlagSpec> = {
  'data-dir': { type: 'string', value: 'DIR', description: 'Node data directory (key, blobs, config.json, control file). Default: $MYCEL_HOME or ~/.mycel' },
};

export function dataDirOf(flags: Flags): string {
  return (flags['data-dir'] as string | undefined) ?? defaultDataDir();
}

/** Formats bytes for progress lines. */
export function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

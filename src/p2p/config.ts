/**
 * Node configuration: defaults, then `<dataDir>/config.json` (or --config FILE), then flags. Unknown keys
 * and wrong types are errors that name the key, so a typo never silently falls back to a default.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_TCP_PORT, DEFAULT_WS_PORT, KEY_FILE } from './constants.js';
import { ConfigError } from './errors.js';
import { parseMultiaddr } from './host.js';

const port = z.number().int().min(-1).max(65535);
export const CONFIG_SCHEMA = z
  .object({
    host: z.string().default('0.0.0.0'),
    tcpPort: port.default(DEFAULT_TCP_PORT),
    /** -1 disables WebSockets. */
    wsPort: port.default(DEFAULT_WS_PORT),
    bootstrap: z.array(z.string()).default([]),
    keyFile: z.string().optional(),
    /** Serve as a circuit relay v2 server for peers behind NAT. */
    relay: z.boolean().default(true),
    /** Reserve a slot on a relay and advertise a /p2p-circuit address (for a node behind NAT). */
    relayListen: z.boolean().default(false),
  })
  .strict();

export type NodeConfig = z.output<typeof CONFIG_SCHEMA> & { dataDir: string; keyFile: string };

export function defaultDataDir(): string {
  return process.env.MYCEL_HOME ?? join(homedir(), '.mycel');
}

export async function loadConfig({ dataDir, configFile, overrides = {} }: { dataDir?: string; configFile?: string; overrides?: Record<string, unknown> }): Promise<NodeConfig> {
  const dir = resolve(dataDir ?? defaultDataDir());
  const path = configFile ? resolve(configFile) : join(dir, 'config.json');
  let fromFile: unknown = {};
  try {
    fromFile = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    if (!missing || configFile) {
      throw new ConfigError(`Cannot read the config file ${path}: ${missing ? 'it does not exist' : (error as Error).message}.`, {
        metaMessages: ['Fix the JSON (keys: host, tcpPort, wsPort, bootstrap, keyFile, relay, relayListen) or remove the file to use defaults.'],
      });
    }
  }
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const parsed = CONFIG_SCHEMA.safeParse({ ...(fromFile as object), ...defined });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`Bad configuration at "${issue.path.join('.') || '(root)'}": ${issue.message}.`, {
      metaMessages: [`Check ${path} and the flags (ports are whole numbers 0-65535, bootstrap is a list of multiaddrs).`],
    });
  }
  for (const addr of parsed.data.bootstrap) parseMultiaddr(addr, { needPeerId: true });
  return { ...parsed.data, dataDir: dir, keyFile: resolve(dir, parsed.data.keyFile ?? KEY_FILE) };
}

import type { Command } from '../command.js';
import { demo } from './demo.js';
import { blobGet } from './blob-get.js';
import { blobPut } from './blob-put.js';
import { nodePeers } from './node-peers.js';
import { nodeStart } from './node-start.js';

/** Every `mycel` command, in the order `mycel --help` lists them. One file per command. */
export const COMMANDS: readonly Command[] = [demo, nodeStart, nodePeers, blobPut, blobGet];

import type { Command } from '../command.js';
import { demo } from './demo.js';

/** Every `mycel` command, in the order `mycel --help` lists them. One file per command. */
export const COMMANDS: readonly Command[] = [demo];

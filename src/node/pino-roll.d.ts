// pino-roll 4 ships no types: the part of its API that log.ts uses (a SonicBoom stream that pino writes to).
declare module 'pino-roll' {
  import type { SonicBoom } from 'sonic-boom';
  export default function pinoRoll(options: {
    file: string;
    size?: string | number;
    frequency?: string | number;
    extension?: string;
    limit?: { count?: number; removeOtherLogFiles?: boolean };
    symlink?: boolean;
    mkdir?: boolean;
  }): Promise<SonicBoom>;
}

// What an engines entry calls with its result (see ./engines.ts): one call, same code in every engine.
// Node: the string goes to stdout; an error goes to stderr with exit code 1.
// Browser: the string is published as globalThis.__mycelResult, an error as globalThis.__mycelError,
// which runInChromium() polls for.

declare global {
  // eslint-disable-next-line no-var
  var __mycelResult: string | undefined;
  // eslint-disable-next-line no-var
  var __mycelError: string | undefined;
}

const inNode = typeof globalThis.process?.versions?.node === 'string';

export function report(result: string | Promise<string>): void {
  Promise.resolve(result).then(
    (value) => {
      if (typeof value !== 'string') throw new TypeError(`report() needs a string, got ${typeof value}`);
      if (inNode) {
        // Writes to a pipe are synchronous on Linux, so exiting right away loses nothing; exiting at all
        // keeps a runtime's idle worker pool from holding the process open until runInNode's timeout.
        process.stdout.write(value + '\n');
        process.exit(0);
      } else {
        globalThis.__mycelResult = value;
      }
    },
  ).catch((e: unknown) => {
    const text = e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e);
    if (inNode) {
      process.stderr.write(text + '\n');
      // exit() rather than exitCode: a program that failed may still hold workers or timers open.
      process.exit(1);
    } else {
      globalThis.__mycelError = text;
    }
  });
}

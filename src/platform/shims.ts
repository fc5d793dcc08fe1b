/**
 * Node/browser differences in one place. libp2p v3 calls `Promise.withResolvers` and expects a global
 * `WebSocket`; Node 20 has neither (Node 22+ has both). Each is installed only where missing, so browsers
 * and newer Node keep their native versions. Import this module before creating a libp2p node.
 */

type Resolvers<T> = { promise: Promise<T>; resolve: (value: T | PromiseLike<T>) => void; reject: (reason?: unknown) => void };

export async function installShims(): Promise<void> {
  const P = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };
  if (typeof P.withResolvers !== 'function') {
    P.withResolvers = function withResolvers<T>(): Resolvers<T> {
      let resolve!: Resolvers<T>['resolve'];
      let reject!: Resolvers<T>['reject'];
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    };
  }
  const g = globalThis as { WebSocket?: unknown };
  if (typeof g.WebSocket === 'undefined') {
    // A variable specifier keeps bundlers from pulling `ws` into browser builds, where it is never needed.
    const specifier = 'ws';
    const ws = (await import(specifier)) as { WebSocket?: unknown; default?: unknown };
    g.WebSocket = ws.WebSocket ?? ws.default;
  }
}

await installShims();

/**
 * A child process of the scale simulation holding some of its nodes (scale-host.ts childShard): each IPC message
 * {id, method, args} is a ScaleHost call, answered {id, result} or {id, error}; probe receipts and log lines go back
 * as {event}. It ends when the parent closes the channel (or dies: the channel closes with it).
 */
import { ScaleHost, type ShardMethods } from './scale-host.js';

const send = (m: unknown) => {
  if (process.connected) process.send!(m);
};
const host = new ScaleHost((event) => send({ event }));

process.on('message', (m: { id: number; method: keyof ShardMethods; args: unknown[] }) => {
  void (async () => {
    try {
      const result = await (host[m.method] as (...a: unknown[]) => unknown)(...m.args);
      send({ id: m.id, result });
    } catch (error) {
      send({ id: m.id, error: (error as Error).message.split('\n')[0] });
    }
  })();
});
process.on('disconnect', () => {
  void host.close().finally(() => process.exit(0));
});

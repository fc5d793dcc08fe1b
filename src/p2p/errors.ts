/** The p2p layer's errors: one small class per failure, each naming the fix (after viem / js-libp2p). */
import { MycelError } from '../platform/errors.js';

export class BadMultiaddrError extends MycelError {
  override name = 'BadMultiaddrError';
  constructor(addr: string, cause?: unknown) {
    super(`"${addr}" is not a valid multiaddr.`, {
      cause,
      metaMessages: ['Write it like /ip4/127.0.0.1/tcp/4001/p2p/<PeerId> (bootstrap peers need the /p2p/ part).'],
    });
  }
}

export class PortInUseError extends MycelError {
  override name = 'PortInUseError';
  constructor(addr: string, cause?: unknown) {
    super(`Cannot listen on ${addr}: the port is in use.`, {
      cause,
      metaMessages: ['Stop the other program, pick another port with --port / --ws-port, or use 0 for any free port.'],
    });
  }
}

export class KeyFileError extends MycelError {
  override name = 'KeyFileError';
  constructor(path: string, problem: string, cause?: unknown) {
    super(`Cannot use the key file ${path}: ${problem}.`, {
      cause,
      metaMessages: [
        'Check the path and its permissions (the file should be mode 0600 and owned by you),',
        'or pass --key with another file, or remove it to create a new identity.',
      ],
    });
  }
}

export class NoProvidersError extends MycelError {
  override name = 'NoProvidersError';
  constructor(cid: string, timeoutMs: number, failures: Record<string, string> = {}) {
    const tried = Object.keys(failures).length;
    super(`No peer provides ${cid} (searched for ${Math.round(timeoutMs / 1000)} s${tried ? `, ${tried} provider(s) failed` : ''}).`, {
      details: tried ? Object.entries(failures).map(([peer, why]) => `${peer}: ${why}`).join('; ') : undefined,
      metaMessages: ['Check the CID, make sure a node that holds the blob is online, and that both share a bootstrap peer.'],
    });
  }
}

export class BadCidError extends MycelError {
  override name = 'BadCidError';
  constructor(cid: string, cause?: unknown) {
    super(`"${cid}" is not a mycel blob CID.`, { cause, metaMessages: ['Use the CID printed by `mycel blob put`.'] });
  }
}

export class NodeNotRunningError extends MycelError {
  override name = 'NodeNotRunningError';
  constructor(dataDir: string, cause?: unknown) {
    super(`No running mycel node found for data directory ${dataDir}.`, {
      cause,
      metaMessages: ['Start one with `mycel node start` (same --data-dir), or pass --data-dir of the running node.'],
    });
  }
}

/** A call on a MycelNode that has been stopped (or a fetch under way when it was). */
export class NodeStoppedError extends MycelError {
  override name = 'NodeStoppedError';
  constructor(what: string) {
    super(`Cannot ${what}: this node has been stopped.`, { metaMessages: ['Start the node again, then retry.'] });
  }
}

export class MalformedMessageError extends MycelError {
  override name = 'MalformedMessageError';
}

export class ConfigError extends MycelError {
  override name = 'ConfigError';
}

export class BlobTooLargeError extends MycelError {
  override name = 'BlobTooLargeError';
  constructor(cid: string, size: number, maxBytes: number) {
    super(`${cid} is ${size} bytes, over the ${maxBytes}-byte limit for what it should be; it was not downloaded.`, {
      metaMessages: ['The sender announced a blob larger than its kind allows: it is refused, nothing to do on this side.'],
    });
  }
}

export class BlobIntegrityError extends MycelError {
  override name = 'BlobIntegrityError';
  constructor(cid: string) {
    super(`The downloaded copy of ${cid} failed its final check; nothing was saved as complete.`, {
      metaMessages: ['Run the command again: the damaged chunks are fetched anew, the good ones are kept.'],
    });
  }
}

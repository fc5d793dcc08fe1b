/**
 * The counter-RNG stream of each kind of data, in one table so no two collide. Values start with
 * 0xda7a ("data") to stay clear of the small stream numbers other layers (init, dropout) use.
 */
export const DATA_STREAMS = {
  addition: 0xda7a_0001,
  multiplication: 0xda7a_0002,
  sorting: 0xda7a_0003,
  reversal: 0xda7a_0004,
  copying: 0xda7a_0005,
  parity: 0xda7a_0006,
  brackets: 0xda7a_0007,
  modular: 0xda7a_0008,
  counting: 0xda7a_0009,
  radix: 0xda7a_000a,
  arithmetic: 0xda7a_000b,
  mix: 0xda7a_000c,
  textWindows: 0xda7a_0100,
} as const;

/** Prints one benchmark row: a JSON line with --json, otherwise an aligned human line. */
export function makeReporter(args: readonly string[]): (row: Record<string, unknown>) => void {
  const json = args.includes('--json');
  return (row) => {
    if (json) {
      console.log(JSON.stringify(row));
      return;
    }
    console.log(
      Object.entries(row)
        .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(4) : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
        .join('  '),
    );
  };
}

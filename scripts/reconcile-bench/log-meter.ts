/**
 * Counts the bytes the functions log (what CloudWatch Logs would ingest) and keeps them off the
 * terminal: Powertools loggers write one JSON line per entry, naming their `service`, to stdout or
 * stderr (a worker thread's output reaches them through its pipe to this thread's). Lines of the
 * local platform's own logger (`dmp-local`) and anything else pass through.
 */
const PLATFORM_SERVICE = 'dmp-local';
const SERVICE = /^\{.*"service":"([^"]+)"/;

type Write = typeof process.stdout.write;

export class LogMeter {
  private bytes = 0;
  private lines = 0;
  private readonly restores: (() => void)[] = [];

  install(): void {
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write.bind(stream) as (chunk: string, callback?: (error?: Error | null) => void) => boolean;
      const counting = (chunk: unknown, ...rest: unknown[]): boolean => {
        const callback = rest.find((argument): argument is (error?: Error | null) => void => typeof argument === 'function');
        const text =
          typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) || chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : String(chunk);
        const passed: string[] = [];
        for (const line of text.split(/(?<=\n)/)) {
          const service = SERVICE.exec(line)?.[1];
          if (service === undefined || service === PLATFORM_SERVICE) passed.push(line);
          else {
            this.bytes += Buffer.byteLength(line);
            this.lines += 1;
          }
        }
        if (passed.length > 0) return original(passed.join(''), callback);
        callback?.();
        return true;
      };
      stream.write = counting as Write;
      this.restores.push(() => {
        stream.write = original as Write;
      });
    }
  }

  /** Bytes and lines logged by the functions so far. */
  totals(): { readonly bytes: number; readonly lines: number } {
    return { bytes: this.bytes, lines: this.lines };
  }

  restore(): void {
    for (const restore of this.restores.splice(0)) restore();
  }
}

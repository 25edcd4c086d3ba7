// The one way worldloop builds a logger (docs/architecture.md §9): pino, one JSON line per record, context bound
// through child loggers, and redaction at the serialisation boundary.
//
// Why `hooks.streamWrite` and not pino's `redact` paths or `formatters.log`: `redact` needs the paths
// of secrets in advance, and `formatters.log` sees only the merge object — not the message, not the
// bindings of child loggers (serialised once, at child() time, possibly before a secret was
// registered), and not what the `err` serializer adds (stack with causes). streamWrite receives the
// finished line, so whatever pino assembled from wherever is checked against the registry as it is
// at write time. tests/unit/log-redaction.test.ts proves each position.
import { pino, type Logger as PinoLogger } from 'pino';
import { WorldloopError } from '../contracts/errors';
import { defaultRedactor, type Redactor } from './redactor';

export type Logger = PinoLogger;

/** The context every record of an execution carries (docs/architecture.md §9). */
export interface LogContext {
  execution_id: string;
  processor_ref: string;
  adapter: string;
  mode: string;
  version: string;
}

export interface CreateLoggerOptions {
  /** A pino level name; default `info`. Config.logLevel carries WORLDLOOP_LOG_LEVEL. */
  level?: string;
  /** Bound on every record of this logger and of its children. */
  context?: Partial<LogContext>;
  /** Defaults to the process-wide redactor the secret resolver registers into. */
  redactor?: Redactor;
  /** Where lines go; default stderr, written synchronously so the last lines survive a crash or exit. */
  destination?: NodeJS.WritableStream;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  if (!(LEVELS as readonly string[]).includes(level)) {
    throw new WorldloopError(
      'ERR_CONFIG_INVALID',
      `log level ${JSON.stringify(level)} is not one of ${LEVELS.join(', ')}`,
    );
  }
  const redactor = options.redactor ?? defaultRedactor;
  const destination = options.destination ?? pino.destination({ fd: 2, sync: true });
  return pino(
    {
      level,
      // No pid/hostname: records are about executions, and the context fields identify them.
      base: { ...options.context },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      hooks: { streamWrite: (line) => redactor.redactLine(line) },
    },
    destination,
  );
}

/** A child logger with execution context bound; every record it (and its children) writes carries it. */
export function withContext(logger: Logger, context: Partial<LogContext>): Logger {
  return logger.child(context);
}

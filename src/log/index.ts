export { LIFECYCLE_EVENTS, isLifecycleEvent, logEvent, type LifecycleEvent } from './events';
export { createLogger, withContext, type CreateLoggerOptions, type LogContext, type Logger } from './logger';
export {
  CREDENTIAL_PATTERNS,
  REDACTED,
  isSensitiveKey,
  redactCredentialPatterns,
  type CredentialPattern,
} from './patterns';
export { MIN_SECRET_LENGTH, Redactor, defaultRedactor } from './redactor';

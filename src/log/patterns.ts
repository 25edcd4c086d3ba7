// Credential shapes that are redacted even when no resolver ever handed the value out (a token pasted
// into an error message by a library, a URL with user-info in a stack trace). Each pattern keeps enough
// context to debug ("Bearer [REDACTED]", "https://[REDACTED]@host") and nothing of the credential.
//
// What is deliberately NOT matched: bare hex runs and `sha256:<hex>` / `blake3:<hex>` digests. Digests
// are how operators identify images and artifacts (docs/architecture.md §9: "image digests are not secrets"), so
// there is no generic high-entropy rule here; only shapes that announce themselves as credentials.

export const REDACTED = '[REDACTED]';

export interface CredentialPattern {
  readonly name: string;
  readonly pattern: RegExp;
  readonly replacement: string;
}

// Keys whose values are credentials when they appear as `key=value` or `key: value` in free text.
// `token` must be followed directly by the separator, so `prompt_tokens=12` and `max_tokens: 5` survive.
const CREDENTIAL_KEY = String.raw`[A-Za-z0-9_.-]*?(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)`;

export const CREDENTIAL_PATTERNS: readonly CredentialPattern[] = [
  {
    // An Authorization header written as JSON text inside a string: "authorization":"Basic …".
    name: 'authorization-json',
    pattern: /\b((?:proxy-)?authorization["']\s*:\s*["'])[^"']+/gi,
    replacement: `$1${REDACTED}`,
  },
  {
    // A header line: everything to the end of the line goes, because schemes such as Digest carry
    // several quoted fields after the scheme name.
    name: 'authorization-header',
    pattern: /\b((?:proxy-)?authorization\s*[:=]\s*)[^\r\n]+/gi,
    replacement: `$1${REDACTED}`,
  },
  {
    name: 'bearer-token',
    pattern: /\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*/gi,
    replacement: `$1${REDACTED}`,
  },
  {
    // URL user-info: https://user:pass@host, https://token@host, postgres://u:p@db/…
    name: 'url-userinfo',
    pattern: /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]+@/gi,
    replacement: `$1${REDACTED}@`,
  },
  {
    // password=…, token=…, api_key=…, apikey=…, client_secret=… in query strings and plain text,
    // and the `key: value` / "key":"value" forms of the same names.
    name: 'credential-pair',
    pattern: new RegExp(String.raw`\b(${CREDENTIAL_KEY}["']?\s*[:=]\s*["']?)(?!\[REDACTED\])[^\s"'&,;]+`, 'gi'),
    replacement: `$1${REDACTED}`,
  },
  {
    // OpenAI-style keys (sk-…, sk-proj-…), long enough not to catch prose like "sk-learn".
    name: 'sk-key',
    pattern: /\bsk-[A-Za-z0-9_-]{16,}/g,
    replacement: REDACTED,
  },
  {
    name: 'stripe-key',
    pattern: /\b[rs]k_(?:live|test)_[A-Za-z0-9]{10,}/g,
    replacement: REDACTED,
  },
  {
    name: 'github-token',
    pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})/g,
    replacement: REDACTED,
  },
  {
    name: 'aws-access-key-id',
    pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
    replacement: REDACTED,
  },
  {
    name: 'slack-token',
    pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}/g,
    replacement: REDACTED,
  },
  {
    // JSON Web Tokens: header.payload.signature, header always starts with base64url `{"`.
    name: 'jwt',
    pattern: /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g,
    replacement: REDACTED,
  },
];

// One pass that rejects the common case (no pattern can match) before the patterns run one by one;
// case-insensitive, so it matches a superset of what the individual patterns match.
const ANY_PATTERN = new RegExp(CREDENTIAL_PATTERNS.map(({ pattern }) => `(?:${pattern.source})`).join('|'), 'i');

/** Applies every credential pattern to one decoded string. */
export function redactCredentialPatterns(text: string): string {
  if (!ANY_PATTERN.test(text)) return text;
  let out = text;
  for (const { pattern, replacement } of CREDENTIAL_PATTERNS) {
    pattern.lastIndex = 0;
    out = out.replace(pattern, replacement);
  }
  return out;
}

// Structured fields whose names say "credential": their values are dropped whole, whatever they contain.
// Names are compared with case, `_` and `-` removed, by suffix, so apiKey, api_key, OPENAI_API_KEY,
// accessToken and client-secret all match, while max_tokens, secret_name and secretsDir do not.
const SENSITIVE_KEY_SUFFIXES = [
  'password',
  'passwd',
  'secret',
  'token',
  'apikey',
  'accesskey',
  'privatekey',
  'authorization',
  'cookie',
  'credential',
  'credentials',
] as const;

export function isSensitiveKey(key: string): boolean {
  const folded = key.toLowerCase().replace(/[_-]/g, '');
  return SENSITIVE_KEY_SUFFIXES.some((suffix) => folded.endsWith(suffix));
}

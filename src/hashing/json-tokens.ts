// The JSON (RFC 8259) tokens both of our readers match: the strict parser (json-text.ts) and the payload
// scan (json-number-scan.ts). Sticky, so a reader sets lastIndex and matches exactly at its position.
export const JSON_WS = /[ \t\n\r]*/y;
export const JSON_NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
// JSON forbids raw control characters inside strings, so the class must name them.
// eslint-disable-next-line no-control-regex
export const JSON_STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

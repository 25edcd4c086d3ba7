// Token counting and prices for llm/chat@1.
//
// Mock token rule (documented in the README): a text costs ceil(UTF-8 bytes / 4) tokens — OpenAI's own
// rule of thumb — and each message adds 4 tokens of framing. Real mode uses the provider's usage figures.
//
// Prices are list prices in micro-dollars per million tokens, so cost_micro is integer arithmetic:
// ceil((prompt × input + completion × output) / 1e6). A model missing from the table is priced as the
// most expensive one, so the registry's reserve_micro stays an upper bound whatever model is asked for.

export interface Price {
  /** Micro-dollars per 1M prompt tokens. */
  readonly input: number;
  /** Micro-dollars per 1M completion tokens. */
  readonly output: number;
}

export const PRICES: Readonly<Record<string, Price>> = {
  'gpt-4o': { input: 2_500_000, output: 10_000_000 },
  'gpt-4o-mini': { input: 150_000, output: 600_000 },
  'gpt-4.1': { input: 2_000_000, output: 8_000_000 },
  'gpt-4.1-mini': { input: 400_000, output: 1_600_000 },
  'gpt-4.1-nano': { input: 100_000, output: 400_000 },
};

export const FALLBACK_PRICE: Price = {
  input: Math.max(...Object.values(PRICES).map((p) => p.input)),
  output: Math.max(...Object.values(PRICES).map((p) => p.output)),
};

/** The table entry for a model: exact name, else the longest name it extends with `-…` (dated snapshots). */
export function priceFor(model: string): { price: Price; priced_as: string } {
  const exact = PRICES[model];
  if (exact) return { price: exact, priced_as: model };
  let best: string | undefined;
  for (const name of Object.keys(PRICES)) {
    if (model.startsWith(`${name}-`) && (best === undefined || name.length > best.length)) best = name;
  }
  return best ? { price: PRICES[best]!, priced_as: best } : { price: FALLBACK_PRICE, priced_as: 'fallback' };
}

export function costMicro(model: string, promptTokens: number, completionTokens: number): number {
  const { price } = priceFor(model);
  return Math.ceil((promptTokens * price.input + completionTokens * price.output) / 1_000_000);
}

export function countTokens(text: string): number {
  return Math.ceil(new TextEncoder().encode(text).byteLength / 4);
}

export const MESSAGE_FRAMING_TOKENS = 4;

export function countPromptTokens(messages: readonly { content: string }[]): number {
  return messages.reduce((n, m) => n + MESSAGE_FRAMING_TOKENS + countTokens(m.content), 0);
}

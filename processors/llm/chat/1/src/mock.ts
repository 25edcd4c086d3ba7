// Mock mode: no network, no secret. The completion is a pure function of the inputs_hash, so the same
// inputs always give the same bytes (and different inputs, with overwhelming likelihood, different ones).
import { countPromptTokens, countTokens } from './pricing';
import { DEFAULT_MAX_TOKENS, type ChatInputs, type Completion } from './types';

const WORDS = [
  'amber',
  'basil',
  'cedar',
  'delta',
  'ember',
  'fable',
  'grove',
  'harbor',
  'iris',
  'juniper',
  'kestrel',
  'lumen',
  'meadow',
  'nectar',
  'orbit',
  'pebble',
  'quartz',
  'raven',
  'sable',
  'tundra',
  'umber',
  'violet',
  'willow',
  'xenon',
  'yarrow',
  'zephyr',
  'atlas',
  'beacon',
  'cobalt',
  'dune',
  'echo',
  'fjord',
] as const;

export function mockCompletion(inputs: ChatInputs, inputsHashHex: string): Completion {
  const bytes = inputsHashHex.match(/../g)!.map((h) => parseInt(h, 16));
  const wordCount = 8 + (bytes[0]! % 24);
  const words: string[] = [];
  for (let i = 0; i < wordCount; i++) words.push(WORDS[bytes[(i + 1) % bytes.length]! % WORDS.length]!);
  const limit = inputs.max_tokens ?? DEFAULT_MAX_TOKENS;
  let content = `Mock reply ${inputsHashHex.slice(0, 12)}: ${words.join(' ')}.`;
  let finish = 'stop';
  // Honour max_tokens the way a provider does: stop early and say so. The text is ASCII, so 4 characters
  // are exactly one token under the counting rule.
  if (countTokens(content) > limit) {
    content = content.slice(0, limit * 4);
    finish = 'length';
  }
  return {
    model: inputs.model,
    content,
    finish_reason: finish,
    prompt_tokens: countPromptTokens(inputs.messages),
    completion_tokens: countTokens(content),
    response_id: null,
  };
}

// llm/chat@1's provider runner: the mode decides where the completion comes from; everything after that
// (usage, cost, output files) is the same code for both, so mock runs exercise the real output path.
import { assertNever, WorldloopError } from '../../../../../src/contracts/errors';
import type { ProcessorResult, RunnerConfig } from '../../../../../src/processor-kit';
import { mockCompletion } from './mock';
import { checkBaseUrl, chatCompletion, DEFAULT_BASE_URL, DEFAULT_TIMEOUT_MS } from './openai';
import { costMicro, priceFor } from './pricing';
import type { ChatInputs, Completion } from './types';

export const COMPLETION_SCHEMA = 'worldloop.llm-chat/v1';
export const SECRET_NAME = 'OPENAI_API_KEY';

function timeoutFrom(settings: Readonly<Record<string, unknown>>): number {
  const raw = settings.OPENAI_TIMEOUT_MS;
  if (raw === undefined) return DEFAULT_TIMEOUT_MS;
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < 1 || raw > 3_600_000) {
    throw new WorldloopError('ERR_CONFIG_INVALID', 'OPENAI_TIMEOUT_MS must be an integer number of ms (1–3600000)');
  }
  return raw;
}

function organizationFrom(settings: Readonly<Record<string, unknown>>): string | undefined {
  const raw = settings.OPENAI_ORGANIZATION;
  if (raw === undefined) return undefined;
  // Header-safe: it goes into OpenAI-Organization as it is.
  if (typeof raw !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(raw)) {
    throw new WorldloopError('ERR_CONFIG_INVALID', 'OPENAI_ORGANIZATION must be 1–64 of A-Z a-z 0-9 _ -');
  }
  return raw;
}

async function complete(
  config: RunnerConfig,
  inputs: ChatInputs,
): Promise<{ completion: Completion; provider: string }> {
  switch (config.mode) {
    case 'mock':
      return { completion: mockCompletion(inputs, config.inputsHash.value), provider: 'mock' };
    case 'real': {
      const apiKey = config.secrets[SECRET_NAME];
      if (!apiKey) throw new WorldloopError('ERR_MISSING_SECRET', `secret ${SECRET_NAME} was not provided`);
      const baseUrl = checkBaseUrl(config.settings.OPENAI_BASE_URL ?? DEFAULT_BASE_URL);
      const organization = organizationFrom(config.settings);
      const completion = await chatCompletion(
        { apiKey, baseUrl, timeoutMs: timeoutFrom(config.settings), organization, log: config.log },
        inputs,
      );
      return { completion, provider: `openai-compatible ${new URL(baseUrl).host}` };
    }
    default:
      return assertNever(config.mode);
  }
}

export function makeRunner(config: RunnerConfig): (inputs: ChatInputs) => Promise<ProcessorResult> {
  return async (inputs) => {
    const { completion, provider } = await complete(config, inputs);
    const cost = costMicro(inputs.model, completion.prompt_tokens, completion.completion_tokens);
    const total = completion.prompt_tokens + completion.completion_tokens;
    const document = {
      schema: COMPLETION_SCHEMA,
      model: completion.model,
      message: { role: 'assistant', content: completion.content },
      finish_reason: completion.finish_reason,
      usage: {
        prompt_tokens: completion.prompt_tokens,
        completion_tokens: completion.completion_tokens,
        total_tokens: total,
      },
      response_id: completion.response_id,
    };
    return {
      outputs: [
        {
          relpath: 'outputs/completion.json',
          bytes: `${JSON.stringify(document, null, 2)}\n`,
          mime: 'application/json',
        },
        { relpath: 'outputs/completion.txt', bytes: completion.content, mime: 'text/plain; charset=utf-8' },
      ],
      usage: {
        model: completion.model,
        prompt_tokens: completion.prompt_tokens,
        completion_tokens: completion.completion_tokens,
        total_tokens: total,
        finish_reason: completion.finish_reason,
      },
      cost_micro: cost,
      processor_info: {
        provider,
        priced_as: priceFor(inputs.model).priced_as,
        response_id: completion.response_id,
      },
    };
  };
}

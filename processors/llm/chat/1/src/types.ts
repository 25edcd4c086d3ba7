export type Role = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  readonly role: Role;
  readonly content: string;
}

export interface ChatInputs {
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly max_tokens?: number;
  readonly temperature?: number;
}

/** What both modes produce; written to outputs/completion.json. */
export interface Completion {
  readonly model: string;
  readonly content: string;
  readonly finish_reason: string;
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly response_id: string | null;
}

/** Sent when the inputs give no max_tokens, so a real call stays inside the reservation. */
export const DEFAULT_MAX_TOKENS = 1024;

// worldloop's Temporal search attributes (docs/architecture.md §2, issue 3 item 2). Pure: workflows import the typed
// keys to upsert them, and the dev-server launcher registers the same list, so the two cannot drift.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// The SDK does not export its key type from the package root.
type AnyKey = ReturnType<typeof defineSearchAttributeKey<SearchAttributeType>>;

export const SA_PROCESSOR_REF = defineSearchAttributeKey('WorldloopProcessorRef', SearchAttributeType.KEYWORD);
export const SA_MODE = defineSearchAttributeKey('WorldloopMode', SearchAttributeType.KEYWORD);
export const SA_PLAN = defineSearchAttributeKey('WorldloopPlan', SearchAttributeType.KEYWORD);
export const SA_INPUTS_HASH = defineSearchAttributeKey('WorldloopInputsHash', SearchAttributeType.KEYWORD);
export const SA_IMAGE_DIGEST = defineSearchAttributeKey('WorldloopImageDigest', SearchAttributeType.KEYWORD);
export const SA_STATUS = defineSearchAttributeKey('WorldloopStatus', SearchAttributeType.KEYWORD);
export const SA_CACHE_HIT = defineSearchAttributeKey('WorldloopCacheHit', SearchAttributeType.BOOL);
export const SA_EXECUTION_ID = defineSearchAttributeKey('WorldloopExecutionId', SearchAttributeType.KEYWORD);

/** The spelling `temporal server start-dev --search-attribute Name=Type` expects for each SDK type. */
const CLI_TYPE_NAMES = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
} as const satisfies Record<SearchAttributeType, string>;

export interface WorldloopSearchAttribute {
  readonly key: AnyKey;
  readonly name: string;
  readonly type: SearchAttributeType;
  /** `Name=Type` for the Temporal CLI's `--search-attribute`. */
  readonly cliSpec: string;
}

const describe = (key: AnyKey): WorldloopSearchAttribute => ({
  key,
  name: key.name,
  type: key.type,
  cliSpec: `${key.name}=${CLI_TYPE_NAMES[key.type]}`,
});

/** Every search attribute worldloop sets; the launcher registers exactly these. */
export const WORLDLOOP_SEARCH_ATTRIBUTES: readonly WorldloopSearchAttribute[] = [
  SA_PROCESSOR_REF,
  SA_MODE,
  SA_PLAN,
  SA_INPUTS_HASH,
  SA_IMAGE_DIGEST,
  SA_STATUS,
  SA_CACHE_HIT,
  SA_EXECUTION_ID,
].map(describe);

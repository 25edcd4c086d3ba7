// Entry point of the llm/chat@1 image: `node /app/main.js --inputs @/work/inputs.json …`.
import spec from 'worldloop-registry:llm/chat@1';
import { runProcessorMain } from '../../../../../src/processor-kit';
import { makeRunner } from './runner';
import type { ChatInputs } from './types';

runProcessorMain<ChatInputs>({ spec, version: '1.0.0', makeRunner });

// Entry point of the text/stats@1 image: `node /app/main.js --inputs @/work/inputs.json …`.
import spec from 'worldloop-registry:text/stats@1';
import { runProcessorMain } from '../../../../../src/processor-kit';
import { makeRunner, type TextStatsInputs } from './stats';

runProcessorMain<TextStatsInputs>({ spec, version: '1.0.0', makeRunner });

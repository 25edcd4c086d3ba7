// ESLint flat config. Its import fences are the layer table of docs/architecture.md §1 as rules: each
// layer's files may import only what the layer below offers, so a dependency pointing the wrong way fails
// lint instead of surfacing as a bundling error or a hidden I/O path. The workflow fence matters most:
// workflow code runs in Temporal's deterministic sandbox, so it may import values only from
// @temporalio/workflow and pure contract helpers; everything else must be `import type`.
// tests/unit/lint-fences.test.ts lints a forbidden and an allowed import against every fence.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

// Patterns match the import specifier. Relative specifiers are matched by folder segment, so the rules hold
// at any depth and survive the folder moves (src/adapters/docker/, src/oci/, src/build/, src/temporal/client.ts).
const layerSegments = (names) => `^\\.{1,2}/(?:.*/)?(?:${names.join('|')})(?:/|\\.ts$|$)`;
const UPPER_LAYERS = ['activities', 'workflows', 'cli', 'temporal'];
const temporalPackages = (message, allowTypeImports = false) => ({
  group: ['@temporalio/*'],
  allowTypeImports,
  message,
});
const controlPlanePackages = (message) => ({ group: ['dockerode', 'pino'], message });
const fence = (patterns) => ['error', { patterns }];
const supplyChainFence = (rightOf) => [
  temporalPackages('Registry, OCI and build code never imports Temporal.'),
  {
    regex: layerSegments([...UPPER_LAYERS, 'processor-kit', 'adapters', ...rightOf]),
    allowTypeImports: true,
    message: `This supply-chain folder never imports ${['the processor kit', 'adapters', 'the layers above', ...rightOf].join(', ')}.`,
  },
];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '.tools/**',
      '.state/**',
      'coverage/**',
      'processors/**/dist/**',
      'dist/**',
      '.dist-*/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // The CLI, benches and scripts talk to a terminal on purpose.
    files: ['src/cli/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'tests/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflows run in a deterministic sandbox.' })),
          patterns: [
            {
              regex: '^(?!@temporalio/workflow$|\\.\\./src/contracts/|\\./)',
              allowTypeImports: true,
              message: 'Workflows import values only from @temporalio/workflow and src/contracts; use `import type`.',
            },
            {
              // Ajv compiles with `new Function`, which has no place in the deterministic sandbox.
              regex: '(?:^|/)src/contracts/inputs-schema$',
              allowTypeImports: true,
              message: 'Workflows never load the JSON Schema compiler (src/contracts/inputs-schema.ts).',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'Workflows may not read the environment.' },
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Use the workflow-deterministic random.' },
        { object: 'Date', property: 'now', message: 'Workflow time comes from the SDK.' },
      ],
    },
  },
  {
    // contracts: zod schemas, the catalogue and pure helpers; everything else builds on them.
    files: ['src/contracts/**/*.ts'],
    rules: {
      'no-restricted-imports': fence([
        { regex: '^(?!zod$|\\./)', message: 'src/contracts imports only zod and its own modules (the bottom layer).' },
      ]),
    },
  },
  {
    // The exceptions: the code → ApplicationFailure helper and the typed search-attribute keys need the SDK's
    // @temporalio/common, its pure failure and payload model (the workflow package re-exports it), so
    // workflows may still import both files.
    files: ['src/contracts/failure.ts', 'src/contracts/search-attributes.ts'],
    rules: {
      'no-restricted-imports': fence([
        {
          regex: '^(?!zod$|@temporalio/common$|\\./)',
          message: 'This contracts module imports only zod, @temporalio/common and contracts.',
        },
      ]),
    },
  },
  {
    // Input validation against a processor's JSON Schema is a contract too (docs/adr/0004): Ajv is pure
    // (no I/O) but compiles with `new Function`, so this module is kept out of src/contracts/index.ts and
    // the workflow fence forbids it.
    // Its regexes run on RE2 (re2js, linear time: docs/adr/0007), so src/contracts/linear-regexp.ts shares
    // the exception.
    files: ['src/contracts/inputs-schema.ts', 'src/contracts/linear-regexp.ts'],
    rules: {
      'no-restricted-imports': fence([
        {
          regex: '^(?!zod$|ajv$|ajv/dist/2020\\.js$|ajv/dist/types/index\\.js$|ajv-formats$|re2js$|\\./)',
          message: 'The JSON Schema compiler imports only zod, Ajv, re2js and contracts.',
        },
      ]),
    },
  },
  {
    // The linear-time regex engine those schemas compile with on the worker and in registry validation
    // (docs/adr/0007): pure JavaScript RE2, no I/O.
    files: ['src/contracts/linear-regexp.ts'],
    rules: {
      'no-restricted-imports': fence([
        { regex: '^(?!ajv$|re2js$|\\./)', message: 'src/contracts/linear-regexp.ts imports only Ajv types and re2js.' },
      ]),
    },
  },
  {
    files: ['src/hashing/**/*.ts'],
    rules: {
      'no-restricted-imports': fence([
        {
          regex: '^\\.\\./(?!contracts(?:/|$))',
          message: 'src/hashing imports only src/contracts (and npm hash libraries).',
        },
        temporalPackages('src/hashing never imports Temporal.'),
        controlPlanePackages('src/hashing never imports the control plane.'),
      ]),
    },
  },
  {
    // world: WorldPath, store, ledger, leases. Types of the config may be named (openWorld takes a Config);
    // writeFileAtomic is a Node-builtins-only utility every I/O layer shares.
    files: ['src/world/**/*.ts'],
    rules: {
      'no-restricted-imports': fence([
        {
          regex: '^\\.\\./(?!contracts(?:/|$)|hashing(?:/|$)|write-file-atomic$)',
          allowTypeImports: true,
          message: 'src/world imports only src/contracts, src/hashing and src/write-file-atomic (types of others).',
        },
        temporalPackages('src/world never imports Temporal.'),
        controlPlanePackages('src/world never imports the control plane.'),
      ]),
    },
  },
  {
    // secrets, log and config are one layer (one row of the table): they may use each other and contracts.
    files: ['src/secrets/**/*.ts', 'src/log/**/*.ts'],
    rules: {
      'no-restricted-imports': fence([
        {
          regex: '^\\.\\./(?!contracts(?:/|$)|log(?:/|$)|secrets(?:/|$)|config$)',
          message: 'src/secrets and src/log import only src/contracts and each other.',
        },
        temporalPackages('Secrets and logs never import Temporal.'),
      ]),
    },
  },
  {
    files: ['src/config.ts', 'src/version.ts'],
    rules: {
      'no-restricted-imports': fence([
        { regex: '^\\./(?!contracts(?:/|$))', message: 'src/config.ts and src/version.ts import only src/contracts.' },
        temporalPackages('Configuration never imports Temporal.'),
      ]),
    },
  },
  {
    // Shared file utilities: Node built-ins only, so any layer that does I/O may use them.
    files: ['src/lock-file.ts', 'src/write-file-atomic.ts'],
    rules: {
      'no-restricted-imports': fence([{ regex: '^\\.', message: 'Shared file utilities use Node built-ins only.' }]),
    },
  },
  {
    // adapters (docker, modal): the activity context and clients are handed in through createActivities(deps),
    // so no Temporal value import and nothing from the layers that drive them.
    files: ['src/adapters/**/*.ts'],
    rules: {
      'no-restricted-imports': fence([
        temporalPackages('Adapters get the activity context handed in; no Temporal value imports.', true),
        {
          regex: layerSegments([...UPPER_LAYERS, 'processor-kit']),
          allowTypeImports: true,
          message: 'Adapters never import activities, workflows, the CLI, Temporal plumbing or the processor kit.',
        },
      ]),
    },
  },
  {
    // registry (specs, pins, drift), oci (distribution client, tar, loopback server), build (images): no
    // Temporal, and no processor kit values — the kit is what runs inside a container (types only: the build
    // writes the embedded spec the kit reads). Leaf first, oci → registry → build (docs/adr/0004): no folder
    // imports one to its right.
    files: ['src/registry/**/*.ts', 'src/oci/**/*.ts', 'src/build/**/*.ts'],
    rules: { 'no-restricted-imports': fence(supplyChainFence([])) },
  },
  {
    files: ['src/registry/**/*.ts'],
    rules: { 'no-restricted-imports': fence(supplyChainFence(['build'])) },
  },
  {
    files: ['src/oci/**/*.ts'],
    rules: { 'no-restricted-imports': fence(supplyChainFence(['registry', 'build'])) },
  },
  {
    // The processor kit is bundled into every processor image, so it takes only pure code: contracts, hashing
    // and the pure WorldPath grammar (path, path-decode, path-fold, path-duplicates: no I/O, no Node built-ins),
    // which outputs must be checked with exactly as Settle checks them; and src/log/secret-forms (pure: the
    // encoded spellings of a secret), so the kit's own log lines hide a key in every encoding the control
    // plane's redactor does. The world store, the ledger and pino stay out.
    files: ['src/processor-kit/**/*.ts'],
    rules: {
      'no-restricted-imports': fence([
        {
          regex:
            '^\\.\\./(?!contracts(?:/|$)|hashing(?:/|$)|world/path(?:-decode|-fold|-duplicates)?$|log/secret-forms$)',
          message:
            'The processor kit imports only src/contracts, src/hashing, the pure src/world/path* modules and src/log/secret-forms.',
        },
        temporalPackages('Processors never import the control plane.'),
        controlPlanePackages('Processors never import the control plane.'),
      ]),
    },
  },
  {
    // A processor never imports the control plane (docs/architecture.md §7).
    files: ['processors/**/*.ts'],
    rules: {
      'no-restricted-imports': fence([
        {
          // Besides the kit, the pure layers it is built on (bundled into the image with it).
          regex: '(?:^|/)src/(?!processor-kit(?:/|$)|contracts(?:/|$)|hashing(?:/|$))',
          message:
            'A processor imports worldloop only through src/processor-kit (and pure src/contracts, src/hashing).',
        },
        temporalPackages('Processors never import the control plane.'),
        controlPlanePackages('Processors never import the control plane.'),
      ]),
    },
  },
  {
    // provenance (statements, DSSE, signing keys, verify checks): contracts, hashing, world and the shared file
    // utilities; adapters as types only (re-execution is handed an adapter). Never Temporal: the history facts
    // come in as data (src/temporal/verify-history.ts), so the checks run the same in tests and in the CLI.
    files: ['src/provenance/**/*.ts'],
    rules: {
      'no-restricted-imports': fence([
        {
          regex: '^\\.\\./(?!contracts(?:/|$)|hashing(?:/|$)|world(?:/|$)|write-file-atomic$)',
          allowTypeImports: true,
          message:
            'src/provenance imports only src/contracts, src/hashing, src/world and src/write-file-atomic (types of others).',
        },
        temporalPackages('src/provenance never imports Temporal.'),
        controlPlanePackages('src/provenance never imports the control plane.'),
      ]),
    },
  },
  {
    // activities: everything in src/, but never the workflow sandbox's package or the CLI.
    files: ['activities/**/*.ts'],
    rules: {
      'no-restricted-imports': fence([
        { group: ['@temporalio/workflow'], message: 'Activities run on the worker, not in the workflow sandbox.' },
        {
          regex: layerSegments(['cli', 'workflows']),
          allowTypeImports: true,
          message: 'Activities never import the CLI or workflow code.',
        },
      ]),
    },
  },
  {
    // github: a thin REST client of the few endpoints the lanes use (pull requests, Actions secrets). It knows
    // nothing of worldloop beyond the contracts, so it never imports Temporal or any other folder.
    files: ['src/github/**/*.ts'],
    rules: {
      'no-restricted-imports': fence([
        temporalPackages('The GitHub client never imports Temporal.'),
        {
          regex: layerSegments([...UPPER_LAYERS, 'lanes', 'adapters', 'world', 'registry', 'build', 'processor-kit']),
          allowTypeImports: true,
          message: 'src/github imports only src/contracts (it is a leaf client).',
        },
      ]),
    },
  },
  {
    // lanes: the delivery lanes' logic (pins PR, secret sync, deploy, docs, guards) over the layers below; the
    // CLI and scripts call it. No Temporal values (replay lives in src/temporal), never the CLI or activities.
    files: ['src/lanes/**/*.ts'],
    rules: {
      'no-restricted-imports': fence([
        temporalPackages('Lane logic never imports Temporal values; Temporal roles live in src/temporal.', true),
        {
          regex: layerSegments(UPPER_LAYERS),
          allowTypeImports: true,
          message: 'src/lanes never imports activities, workflows, the CLI or Temporal plumbing.',
        },
      ]),
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { ...globals.node } },
  },
);

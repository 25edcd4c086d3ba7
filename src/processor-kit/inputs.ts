// The kit validates inputs with the contract's compiler (src/contracts/inputs-schema.ts), so a container and
// Admit refuse exactly the same inputs.
export { compileInputsSchema, type InputsValidator } from '../contracts/inputs-schema';
